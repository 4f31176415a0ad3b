"""Program managers: write, target, publish, archive and copy challenges; groups; settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_login import current_user

from challenges import authoring, queries
from challenges.forms import (
    ChallengeForm,
    GroupForm,
    ProgramSettingsForm,
    config_field_names,
    evidence_form,
)
from challenges.limits import describe_limit
from challenges.models import ChallengeStatus
from challenges.queries import Availability
from challenges.types import REGISTRY
from portal.accounts.models import Role
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError, NotFound
from portal.i18n import _
from portal.pagination import Page, PageRequest
from portal.uploads import Upload
from portal.web import require_roles, show_error

bp = Blueprint("authoring", __name__, url_prefix="/manage")
require_roles(bp, Role.MANAGER, Role.ADMIN)


def _load(challenge_id: int):
    try:
        return authoring.get_challenge(get_session(), challenge_id)
    except NotFound:
        abort(404)


@bp.get("/challenges")
def challenges():
    status = request.args.get("status", "")
    if status not in ("", *ChallengeStatus):
        status = ""
    page = queries.challenges_for_staff(get_session(), PageRequest.from_args(request.args), status)
    return render_template("challenges/manage_list.html", page=page, status=status)


@bp.route("/challenges/new", methods=["GET", "POST"])
def new_challenge():
    session = get_session()
    form = _challenge_form(session)
    if request.method == "GET":
        form.type.data = request.args.get("type", "review")
    if form.validate_on_submit():
        try:
            challenge = authoring.create_challenge(session, current_user, _fields(form))
            _save_cover(session, form, challenge)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(_("Draft saved. Preview it, then publish it when it's ready."), "success")
            return redirect(url_for("authoring.challenge", challenge_id=challenge.id))
    return render_template("challenges/form.html", form=form, challenge=None, **_form_context())


@bp.route("/challenges/<int:challenge_id>/edit", methods=["GET", "POST"])
def edit_challenge(challenge_id: int):
    session = get_session()
    challenge = _load(challenge_id)
    form = _challenge_form(session, None if request.method == "POST" else _form_data(challenge))
    if form.validate_on_submit():
        try:
            authoring.update_challenge(session, current_user, challenge.id, _fields(form))
            _save_cover(session, form, challenge)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(
                _("Saved. Submissions already approved keep the points they were given."), "success"
            )
            return redirect(url_for("authoring.challenge", challenge_id=challenge.id))
    return render_template(
        "challenges/form.html", form=form, challenge=challenge, **_form_context()
    )


def _save_cover(session, form: ChallengeForm, challenge) -> None:
    """A new cover replaces the old one; ticking "remove" without a file removes it."""
    image = form.cover.data
    if image is not None and getattr(image, "filename", ""):
        authoring.set_cover_image(
            session, settings(), challenge, Upload(image.filename, image.read())
        )
    elif form.remove_cover.data:
        authoring.remove_cover_image(session, settings(), challenge)


def _form_context() -> dict:
    approvals = {key: [mode.value for mode in kind.approvals] for key, kind in REGISTRY.items()}
    return {"types": REGISTRY, "approvals": approvals}


def _challenge_form(session, data: dict | None = None) -> ChallengeForm:
    form = ChallengeForm(data=data) if data is not None else ChallengeForm()
    form.group_ids.choices = queries.group_choices(session)
    return form


def _naive(moment: datetime | None) -> datetime | None:
    """A stored moment as the author's wall clock, for a datetime-local input."""
    return moment.astimezone(get_timezone()).replace(tzinfo=None) if moment else None


def _aware(moment: datetime | None) -> datetime | None:
    """A datetime-local input read in the author's time zone, as UTC."""
    return get_timezone().localize(moment).astimezone(UTC) if moment else None


def _form_data(challenge) -> dict:
    data = {
        name: getattr(challenge, name)
        for name in (
            "type",
            "title",
            "body",
            "points",
            "limit_kind",
            "limit_count",
            "limit_period",
            "cap",
            "approval",
            "evidence_required",
            "points_visible",
            "starter",
            "event_minutes",
            "join_url",
        )
    }
    data.update(challenge.config)
    data["starts_at"], data["ends_at"] = _naive(challenge.starts_at), _naive(challenge.ends_at)
    data["event_at"] = _naive(challenge.event_at)
    data["group_ids"] = [group.id for group in challenge.groups]
    return data


def _fields(form: ChallengeForm) -> authoring.ChallengeFields:
    type_key = form.type.data if form.type.data in REGISTRY else "review"
    return authoring.ChallengeFields(
        type=form.type.data,
        title=form.title.data,
        body=form.body.data or "",
        points=form.points.data,
        starts_at=_aware(form.starts_at.data),
        ends_at=_aware(form.ends_at.data),
        limit_kind=form.limit_kind.data,
        limit_count=form.limit_count.data or 1,
        limit_period=form.limit_period.data,
        cap=form.cap.data,
        approval=form.approval.data,
        evidence_required=form.evidence_required.data,
        points_visible=form.points_visible.data,
        starter=form.starter.data,
        event_at=_aware(form.event_at.data),
        event_minutes=form.event_minutes.data,
        join_url=form.join_url.data or "",
        config={name: form[name].data for name in config_field_names(type_key)},
        group_ids=form.group_ids.data or [],
    )


@bp.get("/challenges/<int:challenge_id>")
def challenge(challenge_id: int):
    item = _load(challenge_id)
    return render_template(
        "challenges/manage_detail.html", challenge=item, limit_text=describe_limit(item)
    )


@bp.get("/challenges/<int:challenge_id>/preview")
def preview(challenge_id: int):
    item = _load(challenge_id)
    return render_template(
        "challenges/challenge.html",
        challenge=item,
        availability=Availability(item, True),
        form=evidence_form(item),
        preview=True,
    )


def _transition(challenge_id: int, change, done: str):
    session = get_session()
    try:
        item = change(session, current_user, challenge_id)
    except NotFound:
        abort(404)
    except DomainError as error:
        session.rollback()
        flash(error.message, "warning")
        return redirect(url_for("authoring.challenge", challenge_id=challenge_id))
    session.commit()
    flash(done % {"title": item.title}, "success")
    return redirect(url_for("authoring.challenge", challenge_id=item.id))


@bp.post("/challenges/<int:challenge_id>/publish")
def publish(challenge_id: int):
    return _transition(
        challenge_id,
        authoring.publish_challenge,
        _("“%(title)s” is live for the advocates it targets."),
    )


@bp.post("/challenges/<int:challenge_id>/archive")
def archive(challenge_id: int):
    return _transition(
        challenge_id,
        authoring.archive_challenge,
        _("“%(title)s” is archived: advocates no longer see it."),
    )


@bp.post("/challenges/<int:challenge_id>/duplicate")
def duplicate(challenge_id: int):
    return _transition(
        challenge_id,
        authoring.duplicate_challenge,
        _("Copied to a new draft, “%(title)s”. Edit it, then publish."),
    )


# --- groups -------------------------------------------------------------------------------


@bp.get("/groups")
def groups():
    page = queries.group_list(get_session(), PageRequest.from_args(request.args))
    return render_template("challenges/groups.html", page=page)


@bp.route("/groups/new", methods=["GET", "POST"])
@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group(group_id: int | None = None):
    session = get_session()
    item = None
    if group_id is not None:
        try:
            item = authoring.get_group(session, group_id)
        except NotFound:
            abort(404)
    form = GroupForm(obj=item) if request.method == "GET" else GroupForm()
    if item is not None and request.method == "GET":
        form.member_emails.data = "\n".join(member.email for member in item.members)
    if form.validate_on_submit():
        fields = authoring.GroupFields(
            name=form.name.data,
            description=form.description.data or "",
            segment=form.segment.data or "",
            industry=form.industry.data or "",
            region=form.region.data or "",
            job_level=form.job_level.data or "",
            member_emails=form.member_emails.data or "",
        )
        try:
            saved = authoring.save_group(session, current_user, fields, group_id)
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(_("Group “%(name)s” saved.", name=saved.name), "success")
            return redirect(url_for("authoring.group", group_id=saved.id))
    members = reach = None
    if item is not None:
        members = _paged_by(
            "members_page", lambda wanted: queries.named_members(session, item, wanted)
        )
        reach = _paged_by("reach_page", lambda wanted: queries.advocates_in(session, item, wanted))
    return render_template(
        "challenges/group_form.html", form=form, group=item, members=members, reach=reach
    )


def _paged_by(argument: str, page_of) -> Page:
    """A page of one of two lists on one page, each paged by its own query argument."""
    page = page_of(PageRequest.from_args({"page": request.args.get(argument, "")}))

    def renamed(args):
        return {argument: args["page"]} if args else None

    return replace(page, next_args=renamed(page.next_args), prev_args=renamed(page.prev_args))


# --- program settings ---------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
def program_settings():
    session = get_session()
    current = authoring.program_settings(session)
    form = ProgramSettingsForm(obj=current)
    if form.validate_on_submit():
        try:
            authoring.update_program_settings(
                session,
                current_user,
                form.high_effort_per_advocate.data,
                form.high_effort_per_account.data,
                form.high_effort_window_days.data,
                form.thank_you_template.data or "",
                digest_weekday=form.digest_weekday.data,
                digest_hour=form.digest_hour.data,
            )
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            flash(_("Program settings saved."), "success")
            return redirect(url_for("authoring.program_settings"))
    return render_template(
        "challenges/settings.html",
        form=form,
        near_cap=queries.advocates_near_cap(session, limit=10),
        accounts_near_cap=queries.accounts_near_cap(session, limit=10),
    )
