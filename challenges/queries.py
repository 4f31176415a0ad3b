"""Read-only queries for the challenge pages, loading what each template needs in one go."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from challenges.authoring import program_settings
from challenges.limits import free_slot
from challenges.models import (
    ACTIVE,
    AdvocateGroup,
    Challenge,
    ChallengeStatus,
    Submission,
    SubmissionStatus,
    ThankYou,
    group_members,
)
from challenges.services import active_slots, high_effort_asks, is_open, named_in, targets
from challenges.types import REGISTRY
from points.models import LedgerEntry, PointsBalance
from portal.accounts.models import Account, Role, User
from portal.db import utcnow
from portal.pagination import Page, PageRequest, paginate


@dataclass(frozen=True)
class Availability:
    """A challenge as one advocate sees it now."""

    challenge: Challenge
    available: bool
    why_not: str = ""


def available_challenges(
    session: Session, advocate: User, type_key: str = "", now: datetime | None = None
) -> list[Availability]:
    """Challenges open to this advocate now, newest first: published, in window, targeted at
    them, with a place left, within their limit and their high-effort cap."""
    now = now or utcnow()
    query = (
        select(Challenge)
        .where(Challenge.status == ChallengeStatus.PUBLISHED, Challenge.starts_at <= now)
        .where((Challenge.ends_at.is_(None)) | (Challenge.ends_at > now))
        .options(selectinload(Challenge.groups))
        .order_by(Challenge.published_at.desc(), Challenge.id.desc())
    )
    if type_key:
        query = query.where(Challenge.type == type_key)
    member_of = named_in(session, advocate)
    challenges = [c for c in session.scalars(query) if targets(c, advocate, member_of)]
    slots = _my_slots(session, advocate.id)
    capped = high_effort_asks(session, advocate, now).capped
    available = []
    for challenge in challenges:
        if challenge.cap is not None and challenge.taken >= challenge.cap:
            continue
        if challenge.high_effort and capped:
            continue
        if free_slot(challenge, slots.get(challenge.id, set()), now) is None:
            continue
        available.append(Availability(challenge, True))
    return available


def _my_slots(session: Session, advocate_id: int) -> dict[int, set[str]]:
    slots: dict[int, set[str]] = {}
    rows = session.execute(
        select(Submission.challenge_id, Submission.slot).where(
            Submission.advocate_id == advocate_id, Submission.slot.is_not(None)
        )
    )
    for challenge_id, slot in rows:
        slots.setdefault(challenge_id, set()).add(slot)
    return slots


def visible_to(session: Session, advocate: User, challenge: Challenge) -> bool:
    """An advocate sees a published challenge meant for them, or one they have taken part in."""
    published = challenge.status == ChallengeStatus.PUBLISHED
    if published and targets(challenge, advocate, named_in(session, advocate)):
        return True
    mine = select(Submission.id).where(
        Submission.challenge_id == challenge.id, Submission.advocate_id == advocate.id
    )
    return session.scalar(mine.limit(1)) is not None


def availability_of(session: Session, advocate: User, challenge: Challenge) -> Availability:
    """Whether this advocate may complete this challenge now, and if not, why not."""
    now = utcnow()
    if not is_open(challenge, now):
        return Availability(challenge, False, "This challenge is closed.")
    if not targets(challenge, advocate, named_in(session, advocate)):
        return Availability(challenge, False, "This challenge is not open to you.")
    if challenge.cap is not None and challenge.taken >= challenge.cap:
        return Availability(challenge, False, f"All {challenge.cap} places have been taken.")
    if challenge.high_effort and high_effort_asks(session, advocate, now).capped:
        return Availability(
            challenge, False, "You have helped with plenty of big asks lately. Thank you!"
        )
    if free_slot(challenge, active_slots(session, advocate.id, challenge.id), now) is None:
        waiting = session.scalar(
            select(func.count()).where(
                Submission.advocate_id == advocate.id,
                Submission.challenge_id == challenge.id,
                Submission.status == SubmissionStatus.PENDING,
            )
        )
        if waiting:
            return Availability(challenge, False, "Your submission is waiting for review.")
        return Availability(challenge, False, "You have done this challenge as often as it allows.")
    return Availability(challenge, True)


def submissions_of(session: Session, advocate_id: int) -> list[Submission]:
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.advocate_id == advocate_id)
            .options(joinedload(Submission.challenge), joinedload(Submission.reviewer))
            .order_by(Submission.created_at.desc(), Submission.id.desc())
        )
    )


def export_for(session: Session, advocate_id: int) -> dict:
    """The advocate's submissions and points, for their data download."""
    balance = session.scalar(select(PointsBalance).where(PointsBalance.advocate_id == advocate_id))
    entries = session.scalars(
        select(LedgerEntry).where(LedgerEntry.advocate_id == advocate_id).order_by(LedgerEntry.id)
    )
    return {
        "submissions": [
            {
                "challenge": submission.title,
                "type": submission.type,
                "status": submission.status,
                "evidence": submission.evidence,
                "file": submission.file_name,
                "points_awarded": submission.points_awarded,
                "reason": submission.reason or None,
                "submitted_at": submission.created_at.isoformat(),
                "reviewed_at": submission.reviewed_at.isoformat()
                if submission.reviewed_at
                else None,
            }
            for submission in submissions_of(session, advocate_id)
        ],
        "points": {
            "balance": balance.balance if balance else 0,
            "lifetime_earned": balance.lifetime_earned if balance else 0,
            "entries": [
                {
                    "amount": e.amount,
                    "source": e.source,
                    "note": e.note,
                    "at": e.created_at.isoformat(),
                }
                for e in entries
            ],
        },
    }


def challenges_for_staff(session: Session, status: str = "") -> list[tuple[Challenge, int, int]]:
    """Every challenge with its pending and approved counts."""
    pending = func.count(Submission.id).filter(Submission.status == SubmissionStatus.PENDING)
    approved = func.count(Submission.id).filter(Submission.status == SubmissionStatus.APPROVED)
    query = (
        select(Challenge, pending, approved)
        .outerjoin(Submission, Submission.challenge_id == Challenge.id)
        .group_by(Challenge.id)
        .order_by(Challenge.created_at.desc(), Challenge.id.desc())
    )
    if status:
        query = query.where(Challenge.status == status)
    return [(challenge, p, a) for challenge, p, a in session.execute(query)]


@dataclass
class QueueFilter:
    challenge_id: int | None = None
    type: str = ""
    account_id: int | None = None
    older_than_days: int | None = None


def review_queue(session: Session, filters: QueueFilter, limit: int = 200) -> list[Submission]:
    """Pending submissions, oldest first."""
    query = (
        select(Submission)
        .where(Submission.status == SubmissionStatus.PENDING)
        .options(
            joinedload(Submission.challenge),
            joinedload(Submission.advocate),
            joinedload(Submission.account),
        )
        .order_by(Submission.created_at, Submission.id)
        .limit(limit)
    )
    if filters.challenge_id:
        query = query.where(Submission.challenge_id == filters.challenge_id)
    if filters.type:
        query = query.where(Submission.type == filters.type)
    if filters.account_id:
        query = query.where(Submission.account_id == filters.account_id)
    if filters.older_than_days:
        query = query.where(
            Submission.created_at <= utcnow() - timedelta(days=filters.older_than_days)
        )
    return list(session.scalars(query))


def pending_count(session: Session, advocate_id: int | None = None) -> int:
    """Submissions waiting for review: everyone's, or one advocate's."""
    query = select(func.count()).where(Submission.status == SubmissionStatus.PENDING)
    if advocate_id is not None:
        query = query.where(Submission.advocate_id == advocate_id)
    return session.scalar(query)


def live_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(Challenge.status == ChallengeStatus.PUBLISHED))


def open_thank_yous(session: Session, limit: int = 200) -> list[ThankYou]:
    """Completions not yet thanked, oldest first."""
    return list(
        session.scalars(
            select(ThankYou)
            .where(ThankYou.thanked_at.is_(None))
            .options(
                joinedload(ThankYou.submission).joinedload(Submission.advocate),
                joinedload(ThankYou.submission).joinedload(Submission.challenge),
                joinedload(ThankYou.submission).joinedload(Submission.account),
            )
            .order_by(ThankYou.created_at, ThankYou.id)
            .limit(limit)
        )
    )


def recently_thanked(session: Session, limit: int = 20) -> list[ThankYou]:
    return list(
        session.scalars(
            select(ThankYou)
            .where(ThankYou.thanked_at.is_not(None))
            .options(joinedload(ThankYou.submission).joinedload(Submission.advocate))
            .order_by(ThankYou.thanked_at.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class NearCap:
    who: User | Account
    asks: int
    cap: int


def advocates_near_cap(session: Session, limit: int, now: datetime | None = None) -> list[NearCap]:
    """Advocates one big ask from their cap, or at it, in the rolling window: the most asked."""
    statement = _near_cap(session, User, now).limit(limit)
    return [NearCap(*row) for row in session.execute(statement)]


def accounts_near_cap(session: Session, limit: int, now: datetime | None = None) -> list[NearCap]:
    """Accounts one big ask from their cap, or at it, in the rolling window: the most asked."""
    statement = _near_cap(session, Account, now).limit(limit)
    return [NearCap(*row) for row in session.execute(statement)]


def near_cap_page(session: Session, wanted: PageRequest, now: datetime | None = None) -> Page:
    """Every advocate near the cap, a page at a time."""
    page = paginate(session, _near_cap(session, User, now), wanted)
    return replace(page, items=[NearCap(*row) for row in page.items])


def _near_cap(session: Session, model: type[User] | type[Account], now: datetime | None):
    """Who has at least cap - 1 big asks in the window (read from the index of big asks)."""
    settings = program_settings(session)
    if model is User:
        key, cap = Submission.advocate_id, settings.high_effort_per_advocate
    else:
        key, cap = Submission.account_id, settings.high_effort_per_account
    since = (now or utcnow()) - timedelta(days=settings.high_effort_window_days)
    asks = (
        select(key.label("who_id"), func.count().label("asks"))
        .where(
            Submission.high_effort, Submission.status.in_(ACTIVE), Submission.created_at >= since
        )
        .group_by(key)
        .having(func.count() >= max(cap - 1, 1))
        .subquery()
    )
    statement = (
        select(model, asks.c.asks, literal(cap))
        .join(asks, asks.c.who_id == model.id)
        .order_by(asks.c.asks.desc(), model.id)
    )
    return statement.options(joinedload(User.account)) if model is User else statement


def referral_leads(session: Session) -> list[Submission]:
    """Every referral advocates made, newest first, whatever its review status."""
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.type == "referral", Submission.challenge_id.is_not(None))
            .options(joinedload(Submission.advocate), joinedload(Submission.account))
            .order_by(Submission.created_at.desc())
        )
    )


def group_list(session: Session) -> list[AdvocateGroup]:
    return list(
        session.scalars(
            select(AdvocateGroup)
            .options(selectinload(AdvocateGroup.members))
            .order_by(AdvocateGroup.name)
        )
    )


def group_choices(session: Session) -> list[tuple[int, str]]:
    return [(g.id, g.name) for g in session.scalars(select(AdvocateGroup).order_by("name"))]


def advocates_in(session: Session, group: AdvocateGroup, limit: int = 500) -> list[User]:
    """Who the group reaches now: explicit members plus everyone its rules match."""
    members = select(group_members.c.user_id).where(group_members.c.group_id == group.id)
    reach = User.id.in_(members)
    if group.rules:
        matches = [
            User.job_level == wanted
            if name == "job_level"
            else func.lower(getattr(Account, name)) == wanted.lower()
            for name, wanted in group.rules.items()
        ]
        reach = or_(reach, and_(*matches))
    return list(
        session.scalars(
            select(User)
            .join(Account, User.account_id == Account.id)
            .where(User.role == Role.ADVOCATE, User.active, reach)
            .options(joinedload(User.account))
            .order_by(User.email)
            .limit(limit)
        )
    )


def type_filter_choices() -> list[tuple[str, str]]:
    return [("", "All types")] + [(key, kind.label) for key, kind in REGISTRY.items()]
