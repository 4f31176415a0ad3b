"""Reference requests: filing one (within the program's boundaries), the lists, one request."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.models import JobLevel, Role
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError, NotFound
from portal.i18n import _
from portal.pagination import PageRequest
from portal.web import clean_query, require_roles, show_error
from references import requests as services
from references.forms import BoundariesForm, CancelForm, RequestFilterForm, RequestForm
from references.matching import rank_candidates
from references.services import reference_settings

bp = Blueprint("requests", __name__, url_prefix="/references")
require_roles(bp, Role.SALES, Role.MANAGER, Role.ADMIN)


@bp.get("/")
def home():
    """A sales user's own requests (what they owe first, then the open ones with their next
    step, then all of them); for managers and admins, every request, filtered."""
    session = get_session()
    filters = RequestFilterForm(request.args)
    if current_user.is_staff:
        filters.requester_id.choices = [
            ("", _("Anyone")),
            *services.requester_choices(session),
        ]
    else:
        del filters.requester_id
    status, q, requester_id = "", "", None
    if filters.validate():
        status, q = filters.status.data or "", clean_query(filters.q.data)
        requester_id = filters.requester_id.data if current_user.is_staff else None
    page = services.requests_page(
        session, current_user, PageRequest.from_args(request.args), status, q, requester_id
    )
    mine = not current_user.is_staff
    return render_template(
        "references/home.html",
        filters=filters,
        page=page,
        owed=services.owed_by(session, current_user) if mine else [],
        open_requests=services.open_requests(session, current_user) if mine else [],
        filtered=bool(status or q or requester_id),
        next_step=services.next_step,
        status_label=services.status_label,
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    session = get_session()
    form = RequestForm()
    if current_user.is_staff:
        form.requester_id.choices = [("", _("Myself")), *services.requester_choices(session)]
    else:
        del form.requester_id
        del form.override_reason
    if form.validate_on_submit():
        staff = current_user.is_staff
        try:
            made = services.file_request(
                session,
                current_user,
                _fields_from(form),
                override_reason=(form.override_reason.data or "") if staff else "",
                requester_id=form.requester_id.data if staff else None,
                config=settings(),
            )
        except services.OutsideBoundaries as refusal:
            session.rollback()
            for name, message in refusal.problems.items():
                show_error(form, DomainError(message, field=name))
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            if made.override_reason:
                flash(_("Request filed, as an exception to the boundaries."), "success")
            else:
                flash(_("Request filed. The program managers have been told."), "success")
            return redirect(url_for("requests.detail", reference_id=made.id))
    return render_template(
        "references/new.html",
        form=form,
        boundaries=services.boundaries_text(reference_settings(session)),
        traits=services.known_traits(session),
    )


def _fields_from(form: RequestForm) -> services.RequestFields:
    return services.RequestFields(
        **{
            name: form[name].data if form[name].data is not None else ""
            for name in (
                "opportunity_name",
                "prospect_company",
                "deal_stage",
                "conversation_level",
                "crm_id",
                "prospect_industry",
                "prospect_contact",
                "talking_points",
                "desired_industry",
                "desired_segment",
                "desired_region",
                "desired_product_use",
                "customers_in_mind",
            )
        },
        deal_size=form.deal_size.data,
        needed_by=form.needed_by.data,
        references_needed=form.references_needed.data,
        desired_job_level=form.desired_job_level.data or None,
    )


def _visible(session, reference_id: int):
    try:
        return services.visible_request(session, current_user, reference_id)
    except NotFound:
        abort(404)


def _show(session, reference, cancel_form=None):
    context = {}
    if current_user.is_staff:
        context["candidates"] = rank_candidates(session, reference)
    return render_template(
        "references/detail.html",
        reference=reference,
        cancel_form=cancel_form or CancelForm(),
        can_cancel=reference.status == "open"
        and (current_user.is_staff or reference.requester_id == current_user.id),
        next_step=services.next_step(reference),
        timing=services.time_to_coordinate(reference),
        status_label=services.status_label,
        deal_money=services.deal_money,
        job_level_label=lambda value: JobLevel(value).label,
        **context,
    )


@bp.get("/<int:reference_id>")
def detail(reference_id: int):
    session = get_session()
    return _show(session, _visible(session, reference_id))


@bp.post("/<int:reference_id>/cancel")
def cancel(reference_id: int):
    session = get_session()
    reference = _visible(session, reference_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_request(session, current_user, reference.id, form.reason.data)
        except NotFound:
            session.rollback()
            abort(404)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(_("Request cancelled; anyone already asked has been told."), "success")
            return redirect(url_for("requests.detail", reference_id=reference.id))
    return _show(session, _visible(session, reference_id), cancel_form=form)


@bp.route("/settings", methods=["GET", "POST"], endpoint="settings")
def boundaries():
    if not current_user.is_staff:
        abort(403)
    session = get_session()
    row = reference_settings(session)
    form = BoundariesForm(obj=row)
    if form.validate_on_submit():
        try:
            services.update_settings(
                session,
                current_user,
                form.earliest_stage.data,
                form.min_deal_size.data,
                form.call_points.data,
            )
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(_("Reference boundaries saved."), "success")
            return redirect(url_for("requests.settings"))
    return render_template("references/settings.html", form=form)
