"""Submissions and their review: the only code that changes them.

Limits and caps are kept by the database: a submission takes a limit slot under a unique
key, a place under the challenge's cap by a conditional update of `taken`, and every
review is a conditional update from `pending`, so a lost race is a clear refusal, not a
second award.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from challenges.authoring import program_settings
from challenges.badges import APPROVAL, award_earned
from challenges.events import send_rsvp
from challenges.limits import free_slot, limit_reached_message
from challenges.models import (
    ACTIVE,
    Challenge,
    ChallengeStatus,
    Submission,
    SubmissionStatus,
    group_members,
)
from challenges.thanks import owe_thanks
from challenges.types import challenge_type
from points.feed import add_to_feed
from points.levels import record_reached
from points.models import EntrySource, FeedKind
from points.services import allowance, award
from portal import uploads as files
from portal.accounts.choosable import why_not_choosable
from portal.accounts.models import Account, Role, User
from portal.accounts.services import record_audit
from portal.config import Settings
from portal.db import get_or_refuse, refuse_duplicates, utcnow
from portal.errors import AlreadyHandled, DomainError, NotFound
from portal.i18n import _, _l, lazy_number
from portal.notifications.models import Topic
from portal.notifications.services import add_notification, notify


class LimitReached(DomainError):
    pass


class ChallengeClosed(DomainError):
    pass


class AlreadyReviewed(AlreadyHandled):
    pass


def is_open(challenge: Challenge, now: datetime) -> bool:
    return (
        challenge.status == ChallengeStatus.PUBLISHED
        and challenge.starts_at <= now
        and (challenge.ends_at is None or challenge.ends_at > now)
    )


def named_in(session: Session, advocate: User) -> set[int]:
    """The groups that name this advocate as a member."""
    rows = select(group_members.c.group_id).where(group_members.c.user_id == advocate.id)
    return set(session.scalars(rows))


def targets(challenge: Challenge, advocate: User, member_of: set[int]) -> bool:
    return not challenge.groups or any(
        group.includes(advocate, member_of) for group in challenge.groups
    )


def active_slots(session: Session, advocate_id: int, challenge_id: int) -> set[str]:
    return set(
        session.scalars(
            select(Submission.slot).where(
                Submission.advocate_id == advocate_id,
                Submission.challenge_id == challenge_id,
                Submission.slot.is_not(None),
            )
        )
    )


# --- high-effort asks ---------------------------------------------------------------------


@dataclass(frozen=True)
class AskCount:
    advocate: int
    account: int
    advocate_cap: int
    account_cap: int
    window_days: int

    @property
    def capped(self) -> bool:
        return self.advocate >= self.advocate_cap or self.account >= self.account_cap


def high_effort_asks(session: Session, advocate: User, now: datetime) -> AskCount:
    """Big asks (pending or approved, or logged by staff) in the rolling window."""
    settings = program_settings(session)
    since = now - timedelta(days=settings.high_effort_window_days)
    counted = select(func.count()).where(
        Submission.high_effort,
        Submission.status.in_(ACTIVE),
        Submission.created_at >= since,
    )
    return AskCount(
        advocate=session.scalar(counted.where(Submission.advocate_id == advocate.id)),
        account=session.scalar(counted.where(Submission.account_id == advocate.account_id)),
        advocate_cap=settings.high_effort_per_advocate,
        account_cap=settings.high_effort_per_account,
        window_days=settings.high_effort_window_days,
    )


def _check_high_effort_cap(session: Session, advocate: User, now: datetime) -> None:
    # The account row lock serialises big asks across the account's advocates (PostgreSQL;
    # SQLite's BEGIN IMMEDIATE already serialises every write transaction).
    session.execute(select(Account.id).where(Account.id == advocate.account_id).with_for_update())
    asks = high_effort_asks(session, advocate, now)
    if asks.advocate >= asks.advocate_cap:
        raise LimitReached(
            _(
                "You have already helped with %(count)s big asks in the last %(days)s days. "
                "Thank you! We won't ask for more just now.",
                count=asks.advocate,
                days=asks.window_days,
            )
        )
    if asks.account >= asks.account_cap:
        raise LimitReached(
            _(
                "Your company has helped with %(count)s big asks in the last %(days)s days, "
                "the most we ask of one customer.",
                count=asks.account,
                days=asks.window_days,
            )
        )


def check_high_effort_cap(session: Session, advocate: User, now: datetime) -> None:
    """Refuse (LimitReached, with the reason) a big ask beyond the advocate's or their
    account's cap, under the account's lock: for big asks made outside `submit` (a
    reference call accepted from an ask)."""
    _check_high_effort_cap(session, advocate, now)


# --- submitting ---------------------------------------------------------------------------


def submit(
    session: Session,
    settings: Settings,
    advocate: User,
    challenge_id: int,
    evidence: dict,
    upload: files.Upload | None = None,
    now: datetime | None = None,
) -> Submission:
    """Complete a challenge; auto-approved types are approved (and awarded) at once."""
    now = now or utcnow()
    challenge = session.get(Challenge, challenge_id)
    if challenge is None or challenge.status == ChallengeStatus.DRAFT:
        raise NotFound(_("There is no such challenge."))
    if not is_open(challenge, now):
        raise ChallengeClosed(_("“%(title)s” is closed.", title=challenge.title))
    if advocate.role != Role.ADVOCATE or not advocate.opted_in:
        raise DomainError(_("Only members of the hub can complete challenges."))
    if not targets(challenge, advocate, named_in(session, advocate)):
        raise ChallengeClosed(_("“%(title)s” is not open to you.", title=challenge.title))
    kind = challenge.kind
    cleaned = kind.clean_evidence(
        challenge, {**evidence, "own_company": advocate.account.name}, upload is not None
    )
    if upload is not None:
        files.check_upload(settings, upload)
    high_effort = kind.is_high_effort(challenge.config)
    if high_effort:
        _check_high_effort_cap(session, advocate, now)
    slot = free_slot(challenge, active_slots(session, advocate.id, challenge.id), now)
    if slot is None:
        raise LimitReached(limit_reached_message(challenge))
    _take_place(session, challenge)

    submission = Submission(
        challenge_id=challenge.id,
        advocate_id=advocate.id,
        account_id=advocate.account_id,
        type=challenge.type,
        high_effort=high_effort,
        slot=slot,
        evidence=cleaned,
        created_at=now,
    )
    with refuse_duplicates(session, LimitReached(limit_reached_message(challenge))):
        session.add(submission)
        session.flush()
    if upload is not None:
        stored = files.store(session, settings, upload)
        submission.file_key, submission.file_name = stored.key, stored.name
        submission.file_type = stored.content_type
    if kind.auto_approves(challenge, cleaned):
        approve(session, settings, None, submission.id)
    if kind.is_event:
        send_rsvp(session, settings, advocate, challenge)
    return submission


def _take_place(session: Session, challenge: Challenge) -> None:
    taken = session.execute(
        update(Challenge)
        .where(
            Challenge.id == challenge.id,
            Challenge.status == ChallengeStatus.PUBLISHED,
            (Challenge.cap.is_(None)) | (Challenge.taken < Challenge.cap),
        )
        .values(taken=Challenge.taken + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        raise ChallengeClosed(
            _(
                "All %(cap)s places on “%(title)s” have been taken.",
                cap=challenge.cap,
                title=challenge.title,
            )
            if challenge.cap
            else _("“%(title)s” is closed.", title=challenge.title)
        )


def _give_back_place(session: Session, submission: Submission) -> None:
    if submission.challenge_id is not None:
        session.execute(
            update(Challenge)
            .where(Challenge.id == submission.challenge_id, Challenge.taken > 0)
            .values(taken=Challenge.taken - 1)
            .execution_options(synchronize_session=False)
        )


def own_submission(session: Session, advocate: User, submission_id: int) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None or submission.advocate_id != advocate.id:
        raise NotFound(_("There is no such submission of yours."))
    return submission


def withdraw(session: Session, advocate: User, submission_id: int) -> Submission:
    submission = own_submission(session, advocate, submission_id)
    _leave_pending(session, submission, SubmissionStatus.WITHDRAWN, reviewer=None, reason="")
    _give_back_place(session, submission)
    return submission


def confirm_attendance(
    session: Session, settings: Settings, advocate: User, submission_id: int, code: str
) -> Submission:
    """An RSVP'd advocate enters the code announced at the event: confirmed at once."""
    submission = own_submission(session, advocate, submission_id)
    challenge = submission.challenge
    if challenge is None or submission.type != "webinar":
        raise DomainError(_("Only event RSVPs take an attendance code."))
    if submission.status != SubmissionStatus.PENDING:
        raise AlreadyReviewed(_("This RSVP has already been reviewed."))
    evidence = challenge.kind.clean_evidence(challenge, {"attendance_code": code}, False)
    if "attendance_code" not in evidence:
        raise DomainError(_("Enter the attendance code."), "attendance_code")
    submission.evidence = evidence
    return approve(session, settings, None, submission.id)


# --- review -------------------------------------------------------------------------------


def _leave_pending(
    session: Session,
    submission: Submission,
    to: SubmissionStatus,
    reviewer: User | None,
    reason: str,
    points: int | None = None,
) -> None:
    values = {
        "status": to,
        "reviewer_id": reviewer.id if reviewer else None,
        "reviewed_at": utcnow(),
        "reason": reason,
    }
    if to == SubmissionStatus.APPROVED:
        values["points_awarded"] = points
    else:
        values["slot"] = None  # give the advocate's limit slot back
    moved = session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.status == SubmissionStatus.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(submission)
    if not moved:
        status = _STATUS_WORDS.get(submission.status, submission.status)
        if submission.reviewer:
            raise AlreadyReviewed(
                _(
                    "Already reviewed: this submission was %(status)s by %(name)s.",
                    status=status,
                    name=submission.reviewer.display_name,
                )
            )
        raise AlreadyReviewed(_("Already reviewed: this submission was %(status)s.", status=status))


_STATUS_WORDS = {
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "withdrawn": _l("withdrawn"),
}


# in a challenge's config: a reference call arranged through a sales request, which its
# requester confirms on the request page (references.follow_up), never a reviewer
CONFIRMED_ON_REQUEST = "confirmed_on_request"


def _refuse_if_confirmed_on_request(submission: Submission) -> None:
    if submission.challenge is not None and submission.challenge.config.get(CONFIRMED_ON_REQUEST):
        raise DomainError(
            _(
                "This reference call is confirmed on its reference request, by the person who "
                "arranged it."
            )
        )


def approve(
    session: Session,
    settings: Settings,
    reviewer: User | None,
    submission_id: int,
    note: str = "",
    on_request: bool = False,
) -> Submission:
    """Approve, award the challenge's current points once, and owe the advocate a thank-you.
    `on_request`: the call's requester confirmed it (the only way to approve such a call)."""
    submission = get_or_refuse(
        session, Submission, submission_id, _("There is no such submission.")
    )
    if not on_request:
        _refuse_if_confirmed_on_request(submission)
    wanted = submission.challenge.points if submission.challenge else 0
    allowed = allowance(session, submission.advocate, wanted, utcnow())
    if allowed.capped:
        note = f"{note}\n\n{allowed.explain()}".strip()
    _leave_pending(session, submission, SubmissionStatus.APPROVED, reviewer, note, allowed.points)
    _reward(session, settings, submission, reviewer)
    return submission


def _reward(
    session: Session, settings: Settings, submission: Submission, reviewer: User | None
) -> None:
    if submission.points_awarded:
        award(
            session,
            submission.advocate,
            submission.points_awarded,
            key=f"submission:{submission.id}",
            source=EntrySource.SUBMISSION,
            source_id=submission.id,
            note=submission.title,
            actor=reviewer,
        )
    owe_thanks(session, submission.id)
    advocate = submission.advocate
    session.execute(  # in SQL, so two approvals at once both count
        update(User).where(User.id == advocate.id).values(completions=User.completions + 1)
    )
    add_to_feed(session, advocate.id, FeedKind.COMPLETION, submission.title)
    record_reached(session, settings, advocate, f"{settings.public_url}/hub/")
    award_earned(session, advocate, APPROVAL)
    how = f"by {reviewer.display_name}" if reviewer else "automatically"
    record_audit(
        session,
        reviewer,
        "submission.approve",
        submission,
        f"Approved {submission.advocate.display_name}'s “{submission.title}” {how}",
        points=submission.points_awarded or 0,
    )
    link = f"{settings.public_url}/hub/submissions"
    if submission.logged_by_id is None:
        notify(
            session,
            settings,
            submission.advocate,
            Topic.RESULTS,
            "submission_approved",
            _l("Approved: %(title)s", title=submission.title),
            link=link,
            name=submission.advocate.display_name,
            title=submission.title,
            points=submission.points_awarded or 0,
            note=submission.reason,
        )
    elif submission.points_awarded:  # logged for them by a manager: shown, not emailed
        add_notification(
            session,
            advocate,
            Topic.RESULTS,
            _l(
                "%(points)s points for %(title)s",
                points=lazy_number(submission.points_awarded),
                title=submission.title,
            ),
            link,
        )


def reject(
    session: Session, settings: Settings, reviewer: User, submission_id: int, reason: str
) -> Submission:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why, so the advocate knows what to change."), "reason")
    submission = get_or_refuse(
        session, Submission, submission_id, _("There is no such submission.")
    )
    _refuse_if_confirmed_on_request(submission)
    _leave_pending(session, submission, SubmissionStatus.REJECTED, reviewer, reason)
    _give_back_place(session, submission)
    record_audit(
        session,
        reviewer,
        "submission.reject",
        submission,
        f"Rejected {submission.advocate.display_name}'s “{submission.title}”",
        reason=reason,
    )
    notify(
        session,
        settings,
        submission.advocate,
        Topic.RESULTS,
        "submission_rejected",
        _l("Not approved: %(title)s", title=submission.title),
        link=f"{settings.public_url}/hub/submissions",
        name=submission.advocate.display_name,
        title=submission.title,
        reason=reason,
    )
    return submission


@dataclass
class ReviewOutcome:
    done: int = 0
    skipped: list[str] = field(default_factory=list)


def review_many(
    session: Session,
    settings: Settings,
    reviewer: User,
    submission_ids: list[int],
    decision: str,
    reason: str = "",
) -> ReviewOutcome:
    """Approve or reject several; ones already reviewed are skipped and reported.

    Each decision is committed on its own, exactly like a single review: one long
    transaction would hold the locks of its early decisions while taking later ones, and
    deadlock against a colleague reviewing one of the same submissions.
    """
    if decision == "reject" and not reason.strip():
        raise DomainError(_("Say why, so the advocates know what to change."), "reason")
    decide = approve if decision == "approve" else reject
    outcome = ReviewOutcome()
    for submission_id in sorted(set(submission_ids)):
        try:
            decide(session, settings, reviewer, submission_id, reason)
        except DomainError as error:
            session.rollback()
            outcome.skipped.append(f"#{submission_id}: {error.message}")
        else:
            session.commit()
            outcome.done += 1
    return outcome


# --- activities staff log -----------------------------------------------------------------


def log_activity(
    session: Session,
    settings: Settings,
    staff: User,
    advocate_id: int,
    type_key: str,
    description: str,
    occurred_on: datetime,
    points: int = 0,
    big_ask: bool = False,
) -> Submission:
    """Record something an advocate did outside the hub: it counts toward the cap and is
    owed a thank-you; it earns points only when the manager gives some."""
    advocate = session.get(User, advocate_id)
    if advocate is None or advocate.role != Role.ADVOCATE:
        raise NotFound(_("There is no such advocate."), "advocate_id")
    if problem := why_not_choosable(advocate):  # never joined, left, or deactivated
        raise DomainError(problem, "advocate_id")
    kind = challenge_type(type_key)
    if not description.strip():
        raise DomainError(_("Say what they did."), "description")
    if points < 0:
        raise DomainError(_("Points can't be negative."), "points")
    if occurred_on > utcnow():
        raise DomainError(_("That date is in the future."), "occurred_on")
    allowed = allowance(session, advocate, points, utcnow())
    submission = Submission(
        challenge_id=None,
        advocate_id=advocate.id,
        account_id=advocate.account_id,
        type=kind.key,
        high_effort=kind.high_effort or big_ask,
        status=SubmissionStatus.APPROVED,
        reviewer_id=staff.id,
        reviewed_at=utcnow(),
        logged_by_id=staff.id,
        description=description.strip(),
        points_awarded=allowed.points,
        reason=allowed.explain() if allowed.capped else "",
        created_at=occurred_on,
    )
    session.add(submission)
    session.flush()
    _reward(session, settings, submission, staff)
    return submission


def evidence_file(session: Session, viewer: User, submission_id: int) -> Submission:
    """The submission whose file the viewer may download: its owner, or staff."""
    submission = session.get(Submission, submission_id)
    allowed = submission is not None and (viewer.is_staff or submission.advocate_id == viewer.id)
    if not allowed or not submission.file_key:
        raise NotFound(_("There is no such file."))
    return submission
