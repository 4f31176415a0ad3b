"""The relationship owner's asks: to make, made, answered."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.accounts.models import JobLevel, Role
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError
from portal.forms import Form
from portal.i18n import _, _l
from portal.pagination import PageRequest, paginate_by_key
from portal.web import require_roles, show_error
from references import asks as services
from references.models import AskStatus, ReferenceAsk, ReferenceRequest

bp = Blueprint("asks", __name__, url_prefix="/references/asks")
require_roles(bp, Role.MANAGER, Role.ADMIN)

# the owner's list, one tab per step: the asks to make, those waiting, those accepted
TABS = {
    "to_make": (AskStatus.PROPOSED,),
    "waiting": (AskStatus.ASKED,),
    "accepted": (AskStatus.ACCEPTED,),
    "closed": (AskStatus.DECLINED, AskStatus.WITHDRAWN, AskStatus.CONFIRMED),
}
TAB_LABELS = {
    "to_make": _l("To make"),
    "waiting": _l("Waiting for an answer"),
    "accepted": _l("Accepted"),
    "closed": _l("Closed"),
}


class SendAskForm(Form):
    message = TextAreaField(
        _l("Your message"),
        validators=[DataRequired(), Length(max=services.MESSAGE_LIMIT)],
        description=_l("Sent from you, by email: their reply comes straight to you."),
        render_kw={"rows": 12},
    )
    send = SubmitField(_l("Send the ask"))


class WithdrawAskForm(Form):
    reason = TextAreaField(
        _l("Why you are withdrawing it"),
        validators=[DataRequired(), Length(max=2000)],
        render_kw={"rows": 2},
    )
    withdraw = SubmitField(_l("Withdraw the ask"))


class AskFilterForm(Form):
    class Meta:
        csrf = False

    whose = SelectField(
        _l("Whose asks"),
        choices=[("mine", _l("Mine")), ("all", _l("Everyone's"))],
        default="mine",
    )


@bp.get("/")
def mine():
    session = get_session()
    filters = AskFilterForm(request.args)
    whose = filters.whose.data if filters.validate() else "mine"
    tab = request.args.get("tab", "to_make")
    tab = tab if tab in TABS else "to_make"
    statement = (
        select(ReferenceAsk)
        .join(ReferenceAsk.request)
        .options(
            joinedload(ReferenceAsk.request).joinedload(ReferenceRequest.requester),
            joinedload(ReferenceAsk.advocate),
            joinedload(ReferenceAsk.account),
            joinedload(ReferenceAsk.owner),
            joinedload(ReferenceAsk.asked_by),
        )
        .where(ReferenceAsk.status.in_(TABS[tab]))
    )
    if whose == "mine":  # theirs, and the ones nobody owns that they picked
        statement = statement.where(
            or_(
                ReferenceAsk.owner_id == current_user.id,
                (ReferenceAsk.owner_id.is_(None))
                & (ReferenceAsk.proposed_by_id == current_user.id),
            )
        )
    page = paginate_by_key(
        session,
        statement,
        (ReferenceAsk.created_at, ReferenceAsk.id),
        PageRequest.from_args(request.args),
        newest_first=tab == "closed",
    )
    return render_template(
        "references/asks.html",
        page=page,
        filters=filters,
        whose=whose,
        tab=tab,
        tabs=TAB_LABELS,
    )


def _ask(session, ask_id: int) -> ReferenceAsk:
    ask = session.get(ReferenceAsk, ask_id)
    if ask is None:
        abort(404)
    return ask


def _show(ask: ReferenceAsk, form: SendAskForm | None = None, withdraw=None):
    if form is None:
        form = SendAskForm()
        if ask.status == AskStatus.PROPOSED:
            form.message.data = services.default_message(ask, current_user)
    return render_template(
        "references/asks_one.html",
        ask=ask,
        reference=ask.request,
        form=form,
        withdraw_form=withdraw or WithdrawAskForm(),
        may_send=services.may_send(current_user, ask),
        withdrawable=ask.status in services.WITHDRAWABLE,
        job_level=JobLevel(ask.advocate.job_level).label if ask.advocate.job_level else "",
    )


@bp.route("/<int:ask_id>", methods=["GET", "POST"])
def ask(ask_id: int):
    session = get_session()
    item = _ask(session, ask_id)
    form = SendAskForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.send_ask(session, settings(), current_user, item.id, form.message.data)
            except DomainError as error:
                session.rollback()
                show_error(form, error)
                return _show(_ask(session, ask_id), form)
            session.commit()
            flash(
                _(
                    "Sent: %(name)s has your ask in their inbox.",
                    name=item.advocate.display_name,
                ),
                "success",
            )
            return redirect(url_for("asks.ask", ask_id=item.id))
        return _show(item, form)
    return _show(item)


@bp.post("/<int:ask_id>/withdraw")
def withdraw(ask_id: int):
    session = get_session()
    item = _ask(session, ask_id)
    form = WithdrawAskForm()
    if not form.validate_on_submit():
        return _show(item, withdraw=form)
    try:
        services.withdraw_ask(session, current_user, item.id, form.reason.data)
    except DomainError as error:
        session.rollback()
        show_error(form, error)
        return _show(_ask(session, ask_id), withdraw=form)
    session.commit()
    flash(_("Withdrawn: %(name)s's ask.", name=item.advocate.display_name), "success")
    return redirect(url_for("asks.ask", ask_id=item.id))
