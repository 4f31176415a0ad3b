"""An advocate's reference asks: what they were asked, and their yes, no or not now."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.accounts.models import Role
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError, NotFound
from portal.forms import Form
from portal.i18n import _, _l
from portal.pagination import PageRequest, paginate_by_key
from portal.web import require_membership, require_roles, show_error
from references import asks as services
from references.models import ReferenceAsk, ReferenceRequest

bp = Blueprint("hub_asks", __name__, url_prefix="/hub/references")
require_roles(bp, Role.ADVOCATE)
require_membership(bp)

JUST_THIS_ONE = "once"


class AcceptForm(Form):
    availability = TextAreaField(
        _l("When are you available?"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("A few days and times that suit you, with your time zone."),
        render_kw={"rows": 3},
    )
    notes = TextAreaField(
        _l("Anything we should know (optional)"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 2},
    )
    accept = SubmitField(_l("Yes, I'll take the call"))


class DeclineForm(Form):
    reason = TextAreaField(
        _l("Why not (optional)"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 2},
    )
    not_now = SelectField(
        _l("Ask me again"),
        choices=[
            (JUST_THIS_ONE, _l("Any time: just not this one")),
            ("30", _l("Not for 30 days")),
            ("90", _l("Not for 90 days")),
            ("180", _l("Not for 180 days")),
        ],
        validators=[DataRequired()],
    )
    decline = SubmitField(_l("Decline"))

    @property
    def days(self) -> int | None:
        return None if self.not_now.data == JUST_THIS_ONE else int(self.not_now.data)


@bp.get("/", endpoint="list")
def asks_of_mine():
    session = get_session()
    statement = (
        select(ReferenceAsk)
        .options(
            joinedload(ReferenceAsk.request).joinedload(ReferenceRequest.requester),
            joinedload(ReferenceAsk.asked_by),
        )
        .where(ReferenceAsk.advocate_id == current_user.id, ReferenceAsk.asked_at.is_not(None))
    )
    page = paginate_by_key(
        session,
        statement,
        (ReferenceAsk.created_at, ReferenceAsk.id),
        PageRequest.from_args(request.args),
        newest_first=True,
    )
    return render_template("hub/references.html", page=page)


def _own(session, ask_id: int) -> ReferenceAsk:
    try:
        return services.own_ask(session, current_user, ask_id)
    except NotFound:
        abort(404)


def _show(ask: ReferenceAsk, accept_form=None, decline_form=None):
    return render_template(
        "hub/references_ask.html",
        ask=ask,
        reference=ask.request,
        accept_form=accept_form or AcceptForm(),
        decline_form=decline_form or DeclineForm(),
    )


@bp.get("/<int:ask_id>")
def ask(ask_id: int):
    return _show(_own(get_session(), ask_id))


@bp.post("/<int:ask_id>/accept")
def accept(ask_id: int):
    session = get_session()
    item = _own(session, ask_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        return _show(item, accept_form=form)
    try:
        services.accept(
            session, settings(), current_user, item.id, form.availability.data, form.notes.data
        )
    except DomainError as error:
        session.rollback()
        show_error(form, error)
        return _show(_own(session, ask_id), accept_form=form)
    session.commit()
    flash(
        _(
            "Thank you! We'll introduce you to %(prospect)s.",
            prospect=item.request.prospect_company,
        ),
        "success",
    )
    return redirect(url_for("hub_asks.ask", ask_id=item.id))


@bp.post("/<int:ask_id>/decline")
def decline(ask_id: int):
    session = get_session()
    item = _own(session, ask_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _show(item, decline_form=form)
    try:
        services.decline(session, settings(), current_user, item.id, form.reason.data, form.days)
    except DomainError as error:
        session.rollback()
        show_error(form, error, {"not_now": "not_now"})
        return _show(_own(session, ask_id), decline_form=form)
    session.commit()
    flash(_("Thanks for letting us know. No hard feelings!"), "success")
    return redirect(url_for("hub_asks.ask", ask_id=item.id))
