"""Ranked candidates for a request, and picking one for the relationship owner to ask."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.accounts.models import Role
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError
from portal.forms import Form
from portal.i18n import _
from portal.web import require_roles, show_error
from references import matching
from references.models import ReferenceRequest

bp = Blueprint("matching", __name__, url_prefix="/references")
require_roles(bp, Role.MANAGER, Role.ADMIN)

PAGE_CANDIDATES = 50  # the full page shows more than the request page's top 25


class PickForm(Form):
    """The pick button: nothing to fill in but its CSRF token."""


def _reference(session, reference_id: int) -> ReferenceRequest:
    reference = session.get(ReferenceRequest, reference_id)
    if reference is None:
        abort(404)
    return reference


def _candidates_page(session, reference: ReferenceRequest):
    return render_template(
        "references/candidates.html",
        reference=reference,
        candidates=matching.rank_candidates(session, reference, limit=PAGE_CANDIDATES),
        ready=matching.ready_by_level(session),
        left_out=matching.left_out(session, reference),
    )


@bp.get("/<int:reference_id>/candidates")
def candidates(reference_id: int):
    session = get_session()
    return _candidates_page(session, _reference(session, reference_id))


@bp.post("/<int:reference_id>/candidates/<int:advocate_id>/pick")
def propose(reference_id: int, advocate_id: int):
    session = get_session()
    reference = _reference(session, reference_id)
    form = PickForm()
    if not form.validate_on_submit():
        flash(_("The page had expired: pick again."), "warning")
        return redirect(url_for("matching.candidates", reference_id=reference.id))
    try:
        ask = matching.propose(session, settings(), current_user, reference.id, advocate_id)
    except DomainError as error:
        session.rollback()
        show_error(None, error)  # flashed; the page answers 409 (a lost race) or 422
        return _candidates_page(session, _reference(session, reference_id))
    session.commit()
    name = ask.advocate.display_name
    if ask.owner_id == current_user.id:
        flash(_("Picked %(name)s: you make the ask (see your asks).", name=name), "success")
    else:
        owner = ask.owner.display_name
        flash(
            _("Picked %(name)s: %(owner)s is asked to make the ask.", name=name, owner=owner),
            "success",
        )
    return redirect(url_for("requests.detail", reference_id=reference.id))
