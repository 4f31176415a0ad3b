"""Program managers: the review queue, thank-yous, activities logged for advocates, leads."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from challenges import queries, services, thanks
from challenges.authoring import program_settings
from challenges.forms import (
    BulkReviewForm,
    LogActivityForm,
    MarkThankedForm,
    QueueFilterForm,
    ReviewForm,
    ThankYouForm,
)
from challenges.models import Submission
from challenges.views import send_evidence
from portal.accounts.models import Role
from portal.accounts.queries import account_choices, advocate_choices
from portal.config import settings
from portal.db import get_session
from portal.errors import DomainError, NotFound
from portal.ids import parse_row_id
from portal.web import require_roles, show_error

bp = Blueprint("review", __name__, url_prefix="/manage")
require_roles(bp, Role.MANAGER, Role.ADMIN)


@bp.get("/review")
def queue():
    session = get_session()
    filters = QueueFilterForm(request.args)
    filters.challenge_id.choices = [(0, "All challenges")] + [
        (challenge.id, challenge.title)
        for challenge, _p, _a in queries.challenges_for_staff(session)
    ]
    filters.account_id.choices = [(0, "All accounts"), *account_choices(session)]
    wanted = queries.QueueFilter()
    if filters.validate():
        wanted = queries.QueueFilter(
            challenge_id=filters.challenge_id.data or None,
            type=filters.type.data or "",
            account_id=filters.account_id.data or None,
            older_than_days=filters.older_than_days.data,
        )
    return render_template(
        "challenges/queue.html",
        filters=filters,
        submissions=queries.review_queue(session, wanted),
        bulk=BulkReviewForm(),
        now=datetime.now(UTC),
    )


@bp.route("/review/<int:submission_id>", methods=["GET", "POST"])
def submission(submission_id: int):
    session = get_session()
    item = session.get(Submission, submission_id)
    if item is None:
        abort(404)
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
            item = session.get(Submission, submission_id)
            return render_template("challenges/review.html", submission=item, form=form), status
        else:
            session.commit()
            verb = "Rejected" if form.reject.data else "Approved"
            flash(f"{verb}: {item.advocate.display_name}'s “{item.title}”.", "success")
            return redirect(url_for("review.queue"))
    return render_template("challenges/review.html", submission=item, form=form)


@bp.post("/review/bulk")
def bulk():
    session = get_session()
    form = BulkReviewForm()
    if not form.validate_on_submit():
        flash("Select at least one submission.", "warning")
        return redirect(url_for("review.queue"))
    decision = "reject" if form.reject.data else "approve"
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
        return redirect(url_for("review.queue"))
    session.commit()
    verb = "Rejected" if decision == "reject" else "Approved"
    flash(f"{verb} {outcome.done}.", "success")
    for skipped in outcome.skipped:
        flash(f"Skipped {skipped}", "warning")
    return redirect(url_for("review.queue"))


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
        items=queries.open_thank_yous(session),
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
        form.subject.data = "Thank you from the advocate program"
        form.message.data = thanks.draft_message(template, item, current_user)
    if form.submit.data and form.validate_on_submit():
        return _close(
            session,
            form,
            lambda: thanks.send_thank_you(
                session, current_user, item.id, form.subject.data, form.message.data
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
        show_error(form, error)
        flash(error.message, "warning")
        return redirect(url_for("review.thank_yous"))
    session.commit()
    flash(f"Thanked {item.submission.advocate.display_name}.", "success")
    return redirect(url_for("review.thank_yous"))


# --- activities and leads -----------------------------------------------------------------


@bp.route("/activities/new", methods=["GET", "POST"])
def log_activity():
    session = get_session()
    form = LogActivityForm()
    form.advocate_id.choices = advocate_choices(session)
    if request.method == "GET":
        form.advocate_id.data = parse_row_id(request.args.get("advocate_id"))
    if form.validate_on_submit():
        occurred = datetime.combine(form.occurred_on.data, datetime.min.time(), UTC)
        try:
            logged = services.log_activity(
                session,
                settings(),
                current_user,
                form.advocate_id.data,
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
            points = f" and awarded {logged.points_awarded} points" if logged.points_awarded else ""
            flash(
                f"Logged for {logged.advocate.display_name}{points}. It is on the thank-you list.",
                "success",
            )
            return redirect(url_for("review.thank_yous"))
    return render_template("challenges/log_activity.html", form=form)


@bp.get("/leads")
def leads():
    return render_template("challenges/leads.html", leads=queries.referral_leads(get_session()))
