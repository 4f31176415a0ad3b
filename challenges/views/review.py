"""Program managers: the review queue, thank-yous, activities logged for advocates, leads."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from challenges import queries, services, thanks
from challenges.authoring import program_settings
from challenges.badges import give_manual_badge
from challenges.forms import (
    BulkReviewForm,
    GiveBadgeForm,
    LogActivityForm,
    MarkThankedForm,
    QueueFilterForm,
    ReviewForm,
    ThankYouForm,
)
from challenges.models import Challenge, Submission
from challenges.views import send_evidence
from points.badges import badges_of
from points.levels import all_levels, progress
from points.models import Badge
from points.services import balance_of
from portal.accounts.choosable import why_not_choosable
from portal.accounts.models import Role, User
from portal.config import settings
from portal.db import get_session, utcnow
from portal.errors import DomainError, NotFound
from portal.i18n import _, number
from portal.ids import parse_row_id
from portal.pagination import PageRequest
from portal.web import advocate_named_in, clean_query, require_roles, show_error

bp = Blueprint("review", __name__, url_prefix="/manage")
require_roles(bp, Role.MANAGER, Role.ADMIN)

# what a reviewer comes back to after deciding: the queue's filters and the page they were on
QUEUE_ARGS = ("challenge_id", "type", "account", "older_than_days", "after", "before")
THANKS_ARGS = ("after", "before")


def _kept(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.args[name][:100] for name in names if request.args.get(name)}


@bp.get("/review")
def queue():
    session = get_session()
    filters = QueueFilterForm(request.args)
    filters.challenge_id.choices = [(0, _("All challenges")), *queries.challenge_choices(session)]
    wanted = queries.QueueFilter()
    if filters.validate():
        wanted = queries.QueueFilter(
            challenge_id=filters.challenge_id.data or None,
            type=filters.type.data or "",
            account=clean_query(filters.account.data),
            older_than_days=filters.older_than_days.data,
        )
    return render_template(
        "challenges/queue.html",
        filters=filters,
        page=queries.review_queue(session, wanted, PageRequest.from_args(request.args)),
        back=_kept(QUEUE_ARGS),
        bulk=BulkReviewForm(),
        now=datetime.now(UTC),
    )


def _submission(session, submission_id: int) -> Submission:
    item = queries.submission_for_review(session, submission_id)
    if item is None:
        abort(404)
    return item


@bp.route("/review/<int:submission_id>", methods=["GET", "POST"])
def submission(submission_id: int):
    session = get_session()
    item = _submission(session, submission_id)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            if form.reject.data:
                services.reject(session, settings(), current_user, item.id, form.reason.data)
            else:
                services.approve(session, settings(), current_user, item.id, form.reason.data or "")
        except DomainError as error:
            session.rollback()
            show_error(form, error)
            status = 409 if isinstance(error, services.AlreadyReviewed) else 422
            item = _submission(session, submission_id)
            return render_template("challenges/review.html", submission=item, form=form), status
        else:
            session.commit()
            done = (
                _("Rejected: %(name)s's “%(title)s”.")
                if form.reject.data
                else _("Approved: %(name)s's “%(title)s”.")
            )
            flash(done % {"name": item.advocate.display_name, "title": item.title}, "success")
            if not form.reject.data and (capped := _cap_note(item)):
                flash(capped, "warning")
            return redirect(url_for("review.queue", **_kept(QUEUE_ARGS)))
    return render_template("challenges/review.html", submission=item, form=form)


@bp.post("/review/bulk")
def bulk():
    session = get_session()
    form = BulkReviewForm()
    if not form.validate_on_submit():
        # the queue has no field beside which to say it: every refusal, in one message
        said = [str(message) for messages in form.errors.values() for message in messages]
        flash(" ".join(said) or _("Select at least one submission."), "warning")
        return redirect(url_for("review.queue", **_kept(QUEUE_ARGS)))
    decision = "reject" if form.reject.data else "approve"
    started = utcnow()
    try:
        outcome = services.review_many(
            session,
            settings(),
            current_user,
            form.submission_ids.data,
            decision,
            form.reason.data or "",
        )
    except DomainError as error:
        session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("review.queue", **_kept(QUEUE_ARGS)))
    session.commit()
    done = _("Rejected %(count)s.") if decision == "reject" else _("Approved %(count)s.")
    flash(done % {"count": outcome.done}, "success")
    for skipped in outcome.skipped:
        flash(_("Skipped %(skipped)s", skipped=skipped), "warning")
    if decision == "approve":
        for item in _capped_since(session, form.submission_ids.data, started):
            flash(_cap_note(item), "warning")
    return redirect(url_for("review.queue", **_kept(QUEUE_ARGS)))


def _cap_note(item: Submission) -> str:
    """What the reviewer is told when the earning cap cut an approval's points (the
    allowance's explanation, which the approval added to the submission's reason)."""
    wanted = item.challenge.points if item.challenge else 0
    if item.status != "approved" or (item.points_awarded or 0) >= wanted:
        return ""
    explained = item.reason.rsplit("\n\n", 1)[-1]
    return _(
        "Capped: %(name)s's “%(title)s”: %(explained)s",
        name=item.advocate.display_name,
        title=item.title,
        explained=explained,
    )


def _capped_since(session, ids: list[int], started) -> list[Submission]:
    """The submissions this reviewer just approved whose points the earning cap cut."""
    return list(
        session.scalars(
            select(Submission)
            .join(Submission.challenge)
            .where(
                Submission.id.in_(ids),
                Submission.status == "approved",
                Submission.reviewer_id == current_user.id,
                Submission.reviewed_at >= started,
                Submission.points_awarded < Challenge.points,
            )
            .order_by(Submission.id)
        )
    )


@bp.get("/submissions/<int:submission_id>/file")
def evidence_file(submission_id: int):
    try:
        item = services.evidence_file(get_session(), current_user, submission_id)
    except NotFound:
        abort(404)
    return send_evidence(item)


# --- thank-yous ---------------------------------------------------------------------------


@bp.get("/thanks")
def thank_yous():
    session = get_session()
    return render_template(
        "challenges/thanks.html",
        page=queries.open_thank_yous(session, PageRequest.from_args(request.args)),
        back=_kept(THANKS_ARGS),
        recent=queries.recently_thanked(session),
        share=thanks.thanked_within_a_week(session),
        now=datetime.now(UTC),
    )


@bp.route("/thanks/<int:thank_you_id>", methods=["GET", "POST"])
def thank(thank_you_id: int):
    session = get_session()
    try:
        item = thanks.get_thank_you(session, thank_you_id)
    except NotFound:
        abort(404)
    form, other = ThankYouForm(), MarkThankedForm()
    if request.method == "GET":
        template = program_settings(session).thank_you_template
        form.subject.data = _("Thank you from the advocate program")
        form.message.data = thanks.draft_message(template, item, current_user)
    if form.submit.data and form.validate_on_submit():
        return _close(
            session,
            form,
            lambda: thanks.send_thank_you(
                session, settings(), current_user, item.id, form.subject.data, form.message.data
            ),
        )
    if other.submit.data and other.validate_on_submit():
        return _close(
            session,
            other,
            lambda: thanks.mark_thanked(session, current_user, item.id, other.note.data),
        )
    return render_template("challenges/thank_you.html", item=item, form=form, other=other)


def _close(session, form, action):
    try:
        item = action()
    except DomainError as error:
        session.rollback()
        flash(error.message, "warning")  # once: the list it goes back to has no form
        return redirect(url_for("review.thank_yous", **_kept(THANKS_ARGS)))
    session.commit()
    flash(_("Thanked %(name)s.", name=item.submission.advocate.display_name), "success")
    return redirect(url_for("review.thank_yous", **_kept(THANKS_ARGS)))


# --- activities and leads -----------------------------------------------------------------


@bp.route("/activities/new", methods=["GET", "POST"])
def log_activity():
    session = get_session()
    form = LogActivityForm()
    if request.method == "GET" and (chosen := parse_row_id(request.args.get("advocate_id"))):
        advocate = session.get(User, chosen)
        if why_not_choosable(advocate) is None:  # only a current member is filled in
            form.advocate_email.data = advocate.email
    if form.validate_on_submit() and (
        advocate := advocate_named_in(get_session(), form.advocate_email)
    ):
        occurred = datetime.combine(form.occurred_on.data, datetime.min.time(), UTC)
        try:
            logged = services.log_activity(
                session,
                settings(),
                current_user,
                advocate.id,
                form.type.data,
                form.description.data,
                occurred,
                form.points.data,
                form.big_ask.data,
            )
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            session.commit()
            if logged.points_awarded:
                done = _(
                    "Logged for %(name)s and awarded %(points)s points. "
                    "It is on the thank-you list.",
                    name=logged.advocate.display_name,
                    points=number(logged.points_awarded),
                )
            else:
                done = _(
                    "Logged for %(name)s. It is on the thank-you list.",
                    name=logged.advocate.display_name,
                )
            flash(done, "success")
            return redirect(url_for("review.thank_yous"))
    return render_template("challenges/log_activity.html", form=form)


@bp.get("/leads")
def leads():
    page = queries.referral_leads(get_session(), PageRequest.from_args(request.args))
    return render_template("challenges/leads.html", page=page)


# --- one advocate: their level and badges, and a badge given by hand ----------------------


def manual_badge_choices(session) -> list[tuple[int, str]]:
    """The switched-on badges a manager gives by hand."""
    badges = session.scalars(
        select(Badge).where(Badge.rule == "manual", Badge.enabled).order_by(Badge.name)
    )
    return [(badge.id, badge.name) for badge in badges]


def game_of(session, advocate: User) -> dict:
    """What the staff pages show of an advocate's game: level, progress and badges."""
    lifetime = balance_of(session, advocate.id).lifetime_earned
    return {
        "progress": progress(all_levels(session), lifetime),
        "badges": badges_of(session, advocate.id),
    }


def badge_form(session, form: GiveBadgeForm | None = None) -> GiveBadgeForm:
    form = form or GiveBadgeForm()
    form.badge_id.choices = manual_badge_choices(session)
    return form


def _advocate_or_404(session, user_id: int) -> User:
    advocate = session.get(User, user_id)
    if advocate is None or advocate.role != Role.ADVOCATE:
        abort(404)
    return advocate


@bp.get("/advocates/<int:user_id>")
def advocate(user_id: int, form: GiveBadgeForm | None = None):
    session = get_session()
    person = _advocate_or_404(session, user_id)
    return render_template(
        "challenges/advocate.html",
        advocate=person,
        not_choosable=why_not_choosable(person),
        badge_form=badge_form(session, form),
        **game_of(session, person),
    ), (422 if form is not None else 200)


def give_badge_by_form(session, person: User) -> tuple[GiveBadgeForm, bool]:
    """Give the manual badge the posted form names (the manager's and the admin's page
    share it); True once it is committed and flashed, else the form carries the errors."""
    form = badge_form(session, GiveBadgeForm())
    if not form.validate_on_submit():
        return form, False
    try:
        badge = give_manual_badge(
            session, current_user, person, form.badge_id.data, form.reason.data
        )
    except DomainError as error:
        session.rollback()
        show_error(form, error)
        return form, False
    session.commit()
    flash(
        _("Gave %(name)s the “%(badge)s” badge.", name=person.display_name, badge=badge.name),
        "success",
    )
    return form, True


@bp.post("/advocates/<int:user_id>/badges")
def give_badge(user_id: int):
    session = get_session()
    person = _advocate_or_404(session, user_id)
    form, given = give_badge_by_form(session, person)
    if given:
        return redirect(url_for("review.advocate", user_id=person.id))
    return advocate(person.id, form=form)
