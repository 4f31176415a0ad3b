"""After the yes: introductions, confirmed calls, deal outcomes, time to coordinate, points."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.models import Role
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError, NotFound
from portal.i18n import _
from portal.pagination import PageRequest
from portal.web import require_roles, show_error
from references import follow_up
from references.follow_up_forms import (
    ConfirmCallForm,
    FellThroughForm,
    IntroducedForm,
    OutcomeForm,
    ask_prefix,
)
from references.models import ReferenceAsk, ReferenceRequest, SalesAction

bp = Blueprint("follow_up", __name__, url_prefix="/references")
require_roles(bp, Role.SALES, Role.MANAGER, Role.ADMIN)


@dataclass
class AskForms:
    introduced: IntroducedForm
    confirm: ConfirmCallForm
    fell_through: FellThroughForm


def ask_forms(ask: ReferenceAsk, posted: object = None) -> AskForms:
    """One ask's forms, under its prefix; `posted` is the one just refused (with its errors)."""
    forms = AskForms(
        IntroducedForm(prefix=ask_prefix(ask.id), formdata=None),
        ConfirmCallForm(prefix=ask_prefix(ask.id), formdata=None),
        FellThroughForm(prefix=ask_prefix(ask.id), formdata=None),
    )
    for name in ("introduced", "confirm", "fell_through"):
        if isinstance(posted, type(getattr(forms, name))):
            setattr(forms, name, posted)
    return forms


@bp.app_template_global("follow_up_forms")
def follow_up_forms(ask: ReferenceAsk) -> AskForms:
    """For templates/references/_follow_up.html, included on the request page."""
    return ask_forms(ask)


@bp.app_template_global("outcome_form")
def outcome_form() -> OutcomeForm:
    return OutcomeForm(formdata=None)


@bp.app_template_global("may_follow_up")
def may_follow_up(reference: ReferenceRequest) -> bool:
    return follow_up.may_follow_up(current_user, reference)


def _ask_or_404(session, ask_id: int) -> ReferenceAsk:
    ask = session.get(ReferenceAsk, ask_id)
    if ask is None or not follow_up.may_follow_up(current_user, ask.request):
        abort(404)
    return ask


def _act_on_ask(ask_id: int, form_class, action, done: str):
    """Validate the ask's form, run the service, commit and go back to the request; refused,
    the ask's own page shows why beside the field (422; 409 for a lost race)."""
    session = get_session()
    ask = _ask_or_404(session, ask_id)
    form = form_class(prefix=ask_prefix(ask.id))
    if form.validate_on_submit():
        try:
            action(session, ask, form)
        except NotFound:
            session.rollback()
            abort(404)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(done % {"advocate": ask.advocate.display_name}, "success")
            return redirect(url_for("requests.detail", reference_id=ask.request_id) + "#follow-up")
    ask = _ask_or_404(session, ask_id)
    return render_template(
        "references/confirm.html", ask=ask, reference=ask.request, forms=ask_forms(ask, form)
    )


@bp.post("/asks/<int:ask_id>/introduce")
def introduce(ask_id: int):
    return _act_on_ask(
        ask_id,
        IntroducedForm,
        lambda session, ask, form: follow_up.mark_introduced(session, current_user, ask.id),
        _("Noted: you introduced %(advocate)s."),
    )


@bp.post("/asks/<int:ask_id>/confirm")
def confirm(ask_id: int):
    return _act_on_ask(
        ask_id,
        ConfirmCallForm,
        lambda session, ask, form: follow_up.confirm_call(
            session, settings(), current_user, ask.id, form.call_on.data
        ),
        _("Confirmed: %(advocate)s's reference call. Thank you for keeping the record true."),
    )


@bp.post("/asks/<int:ask_id>/fell-through")
def fell_through(ask_id: int):
    return _act_on_ask(
        ask_id,
        FellThroughForm,
        lambda session, ask, form: follow_up.call_fell_through(
            session, current_user, ask.id, form.reason.data
        ),
        _("The ask of %(advocate)s is withdrawn: a manager can pick another candidate."),
    )


@bp.post("/<int:reference_id>/outcome")
def outcome(reference_id: int):
    session = get_session()
    reference = session.get(ReferenceRequest, reference_id)
    if reference is None or not follow_up.may_follow_up(current_user, reference):
        abort(404)
    form = OutcomeForm()
    if form.validate_on_submit():
        try:
            follow_up.record_outcome(
                session,
                current_user,
                reference.id,
                form.outcome.data,
                form.amount.data,
                form.closed_on.data,
            )
        except NotFound:
            session.rollback()
            abort(404)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(_("The deal's outcome is recorded."), "success")
            return redirect(url_for("requests.detail", reference_id=reference.id) + "#follow-up")
    reference = session.get(ReferenceRequest, reference_id)
    return render_template("references/outcome.html", reference=reference, form=form)


# --- time to coordinate, the sales board -------------------------------------------------------


@bp.get("/timing")
def timing():
    if not current_user.is_staff:
        abort(403)  # sales users see their own requests' times on each request
    session = get_session()
    return render_template(
        "references/timing.html",
        owners=follow_up.coordination_by_owner(session),
        page=follow_up.requests_timing_page(session, PageRequest.from_args(request.args)),
        hours_between=follow_up.hours_between,
        now=follow_up.utcnow(),
    )


@bp.get("/leaderboard")
def leaderboard():
    session = get_session()
    period = request.args.get("period", "all")
    if period not in follow_up.BOARD_PERIODS:
        period = "all"
    return render_template(
        "references/leaderboard.html",
        period=period,
        periods=follow_up.BOARD_PERIODS,
        page=follow_up.sales_board(session, period, PageRequest.from_args(request.args)),
        own=follow_up.own_credits(session, current_user, period) if current_user.is_sales else None,
        SalesAction=SalesAction,
    )
