"""Advocates: open a challenge, complete it, follow their submissions."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from challenges import events, queries, services
from challenges.authoring import get_challenge
from challenges.forms import AttendanceForm, evidence_data, evidence_form
from challenges.models import ChallengeStatus
from challenges.types import REGISTRY
from challenges.views import send_evidence
from points.services import balance_of
from portal import uploads as files
from portal.accounts.models import Role
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError, NotFound
from portal.extensions import limit_from_config, per_user
from portal.i18n import _
from portal.pagination import PageRequest
from portal.web import require_membership, require_roles, send_stored_image, show_error

bp = Blueprint("play", __name__, url_prefix="/hub")
# covers are shown to staff too (the form, the preview): that route checks its own viewer
COVER = "play.challenge_cover"
require_roles(bp, Role.ADVOCATE, exempt=(COVER,))
require_membership(bp, open_to_all=(COVER,))


@bp.get("/challenges")
def challenges():
    """Every challenge open to the advocate, a page at a time (the hub shows a dozen)."""
    session = get_session()
    type_key = request.args.get("type", "")
    type_key = type_key if type_key in REGISTRY else ""
    return render_template(
        "challenges/available.html",
        page=queries.available_page(
            session, current_user, PageRequest.from_args(request.args), type_key
        ),
        type_key=type_key,
        type_choices=queries.type_filter_choices(),
    )


@bp.route("/challenges/<int:challenge_id>", methods=["GET", "POST"])
@limit_from_config("SUBMISSION_LIMIT_PER_USER", key_func=per_user)
def challenge(challenge_id: int):
    session = get_session()
    try:
        item = get_challenge(session, challenge_id)
    except NotFound:
        abort(404)
    if not queries.visible_to(session, current_user, item):
        abort(404)
    availability = queries.availability_of(session, current_user, item)
    form = evidence_form(item)
    if form.validate_on_submit():
        upload = _upload(form)
        try:
            services.submit(session, settings(), current_user, item.id, evidence_data(form), upload)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(_thanks_for(item), "success")
            return redirect(url_for("play.submissions"))
        availability = queries.availability_of(session, current_user, item)
    return render_template(
        "challenges/challenge.html",
        challenge=item,
        availability=availability,
        form=form,
        rsvped=item.kind.is_event and events.has_rsvped(session, current_user.id, item.id),
    )


@bp.get("/challenges/<int:challenge_id>/event.ics")
def event_invite(challenge_id: int):
    """The event for a calendar; the join link only for those who RSVP'd."""
    session = get_session()
    try:
        item = get_challenge(session, challenge_id)
    except NotFound:
        abort(404)
    if item.event_at is None or not queries.visible_to(session, current_user, item):
        abort(404)
    rsvped = events.has_rsvped(session, current_user.id, item.id)
    return Response(
        events.invite(settings(), item, rsvped),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="event-{item.id}.ics"'},
    )


def _upload(form) -> files.Upload | None:
    storage = form.data.get("file")
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return files.Upload(filename=storage.filename, content=storage.read())


def _thanks_for(challenge) -> str:
    if challenge.type == "webinar":
        return _("You're on the list. After the event, enter the attendance code here.")
    if challenge.approval == "auto":
        return _("Thank you! That's done.")
    return _("Thank you! A program manager will review it soon.")


@bp.get("/challenges/<int:challenge_id>/cover")
def challenge_cover(challenge_id: int):
    """A challenge's cover image: for staff, and for advocates once it is published. Its
    links carry the file's key (`?v=`), so it is cached a day and a new cover a new URL."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    session = get_session()
    try:
        item = get_challenge(session, challenge_id)
    except NotFound:
        abort(404)
    staff = current_user.role in (Role.MANAGER, Role.ADMIN)
    if not staff and (
        item.status == ChallengeStatus.DRAFT
        or not current_user.opted_in
        or not queries.visible_to(session, current_user, item)  # aimed at other groups
    ):
        abort(404)
    return send_stored_image(item.cover_image_key)


@bp.get("/submissions")
def submissions():
    session = get_session()
    return render_template(
        "challenges/submissions.html",
        page=queries.submissions_page(
            session, current_user.id, PageRequest.from_args(request.args)
        ),
        balance=balance_of(session, current_user.id),
    )


def _back_to_submissions():
    """The page of submissions the form was posted from (its links carry `?page=`)."""
    number = PageRequest.from_args(request.args).number
    return redirect(url_for("play.submissions", page=number if number > 1 else None))


@bp.post("/submissions/<int:submission_id>/withdraw")
def withdraw(submission_id: int):
    session = get_session()
    try:
        services.withdraw(session, current_user, submission_id)
    except DomainError as error:
        session.rollback()
        flash(error.message, "warning")
    else:
        session.commit()
        flash(_("Withdrawn. You can submit again while the challenge is open."), "info")
    return _back_to_submissions()


@bp.post("/submissions/<int:submission_id>/attendance")
def attendance(submission_id: int):
    session = get_session()
    form = AttendanceForm()
    if not form.validate_on_submit():
        flash(
            " ".join(map(str, form.attendance_code.errors)) or _("Enter the attendance code."),
            "danger",
        )
        return _back_to_submissions()
    try:
        services.confirm_attendance(
            session, settings(), current_user, submission_id, form.attendance_code.data
        )
    except DomainError as error:
        session.rollback()
        flash(error.message, "danger")
    else:
        session.commit()
        flash(_("Attendance confirmed. Thank you for coming!"), "success")
    return _back_to_submissions()


@bp.get("/submissions/<int:submission_id>/file")
def evidence_file(submission_id: int):
    session = get_session()
    try:
        submission = services.evidence_file(session, current_user, submission_id)
    except NotFound:
        abort(404)
    return send_evidence(submission)
