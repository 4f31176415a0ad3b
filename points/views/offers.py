"""Program managers: thank an advocate with a gift, offered first, sent only if accepted."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from points import queries
from points.forms import OfferForm
from points.redemptions import offer_gift
from portal.accounts.models import Role
from portal.accounts.queries import advocate_choices
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError
from portal.ids import parse_row_id
from portal.web import require_roles, show_error

bp = Blueprint("offers", __name__, url_prefix="/manage")
require_roles(bp, Role.MANAGER, Role.ADMIN)


@bp.route("/offers", methods=["GET", "POST"])
def offers():
    session = get_session()
    form = OfferForm()
    form.advocate_id.choices = advocate_choices(session)
    form.reward_id.choices = queries.reward_choices(session)
    if request.method == "GET":
        form.advocate_id.data = parse_row_id(request.args.get("advocate_id"))
    if form.validate_on_submit():
        try:
            offer = offer_gift(
                session,
                settings(),
                current_user,
                form.advocate_id.data,
                form.reward_id.data,
                form.message.data or "",
            )
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(
                f"Offered {offer.reward.name} to {offer.advocate.display_name}: "
                "nothing is sent unless they accept.",
                "success",
            )
            return redirect(url_for("offers.offers"))
    return render_template(
        "points/offers.html", form=form, offers=queries.recent_offers(session)
    ), (422 if form.errors else 200)
