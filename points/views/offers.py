"""Program managers: thank an advocate with a gift, offered first, sent only if accepted."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from points import queries
from points.forms import OfferForm
from points.redemptions import offer_gift
from portal.accounts.choosable import why_not_choosable
from portal.accounts.models import Role, User
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError
from portal.i18n import _
from portal.ids import parse_row_id
from portal.pagination import PageRequest
from portal.web import advocate_named_in, require_roles, show_error

bp = Blueprint("offers", __name__, url_prefix="/manage")
require_roles(bp, Role.MANAGER, Role.ADMIN)


@bp.route("/offers", methods=["GET", "POST"])
def offers():
    session = get_session()
    form = OfferForm()
    form.reward_id.choices = queries.reward_choices(session)
    if request.method == "GET":
        _open_for(form, _advocate_by_id(session, request.args.get("advocate_id")))
    if (
        form.validate_on_submit()
        and (advocate := advocate_named_in(session, form.advocate_email)) is not None
    ):
        try:
            offer = offer_gift(
                session,
                settings(),
                current_user,
                advocate.id,
                form.reward_id.data,
                form.message.data or "",
            )
        except DomainError as error:
            session.rollback()
            if error.field == "advocate_id":  # the person is chosen by their email here
                error = DomainError(error.message, "advocate_email")
            show_error(form, error)
        else:
            session.commit()
            flash(
                _(
                    "Offered %(reward)s to %(name)s: nothing is sent unless they accept.",
                    reward=offer.reward.name,
                    name=offer.advocate.display_name,
                ),
                "success",
            )
            return redirect(url_for("offers.offers"))
    return render_template(
        "points/offers.html",
        form=form,
        page=queries.offers_page(session, PageRequest.from_args(request.args)),
    )  # a refusal answers 422, a duplicate offer 409 (portal.web.answer_refusals)


def _advocate_by_id(session, text: str | None) -> User | None:
    advocate_id = parse_row_id(text)
    advocate = session.get(User, advocate_id) if advocate_id else None
    return _if_active_advocate(advocate)


def _if_active_advocate(user: User | None) -> User | None:
    return user if why_not_choosable(user) is None else None


def _open_for(form: OfferForm, advocate: User | None) -> None:
    """The page opened for one advocate (?advocate_id=) starts with their email filled in."""
    if advocate is not None:
        form.advocate_email.data = advocate.email
