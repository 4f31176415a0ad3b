"""The weekly digest: what is new for one advocate (challenges they can take, rewards they
can now afford) with their points and rank, sent once a week through the outbox.

`send_digests` is safe to run twice, and concurrently: the row in digests_sent (UNIQUE
user_id, week) is written in the same transaction as the queued message, so a second
sender's insert fails and it moves on. Advocates are read in keyset batches by id, one
transaction each, so a program of 100k advocates is never loaded at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, defer, joinedload, sessionmaker

from challenges.authoring import program_settings
from challenges.models import Challenge, DigestSent
from challenges.queries import _live, available_challenges
from points import leaderboard
from points.models import GameSettings, LedgerEntry, PointsBalance, Reward
from points.program import game_settings, zone
from points.queries import affordable_rewards
from points.services import balance_of
from portal.accounts.models import Role, User
from portal.config import Settings
from portal.db import utcnow
from portal.i18n import _l
from portal.notifications.models import Topic
from portal.notifications.services import may_email, notify

log = logging.getLogger(__name__)
BATCH = 200  # advocates read per query; each is then written in its own transaction
NEW_WINDOW = timedelta(days=7)  # "new" for someone who never had a digest
SHOWN = 5  # challenges and rewards listed; the rest are one click away
REWARDS_READ = 50  # affordable rewards read to find the newly affordable among them


@dataclass
class Digest:
    """One advocate's week: what is new to them, and where they stand."""

    challenges: list[Challenge]
    more_challenges: int  # new ones beyond those listed
    rewards: list[Reward]
    balance: PointsBalance
    rank: int | None  # this month's place on the board; None when not ranked or not shown
    show_points: bool

    @property
    def has_news(self) -> bool:
        return bool(self.challenges or self.rewards)


@dataclass
class DigestReport:
    week: str | None  # None: this week's digest time has not come yet
    sent: int = 0
    nothing_new: int = 0
    already_sent: int = 0  # another run sent theirs first
    failed: int = 0  # an error while building theirs (logged); retried on the next run


def digest_week(now: datetime, zone_name: str) -> str:
    """The ISO week `now` falls in on the program's calendar, e.g. "2026-W49"."""
    year, week, _day = now.astimezone(zone(zone_name)).isocalendar()
    return f"{year}-W{week:02d}"


def sending_time(now: datetime, zone_name: str, weekday: int, hour: int) -> datetime:
    """When this ISO week's digest is due: the program's weekday and hour, program time."""
    tz = zone(zone_name)
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday + timedelta(days=weekday), time(hour), tzinfo=tz)


def due_week(session: Session, now: datetime) -> str | None:
    """This week's key once its digest time has passed, else None."""
    rules = program_settings(session)
    zone_name = game_settings(session).time_zone
    when = sending_time(now, zone_name, rules.digest_weekday, rules.digest_hour)
    return digest_week(now, zone_name) if now >= when else None


def last_digest_at(session: Session, advocate_id: int) -> datetime | None:
    return session.scalar(
        select(func.max(DigestSent.created_at)).where(DigestSent.user_id == advocate_id)
    )


def build_digest(
    session: Session,
    advocate: User,
    since: datetime,
    now: datetime,
    published: dict[int, datetime] | None = None,
    rules: GameSettings | None = None,
) -> Digest:
    """What is new for `advocate` since `since`: live challenges published since then that
    they can take now (the hub's own availability rules), and rewards they can afford now
    but could not then, or that came into the catalog since. `published`: the live
    challenges' publication times, and `rules` the game settings, each read once per run."""
    if published is None:
        published = live_challenges(session, now)
    fresh = {cid for cid, at in published.items() if at is not None and at > since}
    new_ids: list[int] = []
    if fresh:  # the availability rules are asked only when something was published
        new_ids = [
            row.id for row in available_challenges(session, advocate, now=now) if row.id in fresh
        ]
    balance = balance_of(session, advocate.id)
    rules = rules or game_settings(session)
    return Digest(
        challenges=_cards(session, new_ids[:SHOWN]),
        more_challenges=max(len(new_ids) - SHOWN, 0),
        rewards=newly_affordable(session, advocate, balance, since, now)[:SHOWN],
        balance=balance,
        rank=_rank(session, advocate, now) if rules.show_leaderboards else None,
        show_points=rules.show_points,
    )


def live_challenges(session: Session, now: datetime) -> dict[int, datetime]:
    """Every live challenge's publication time (a program runs a few hundred)."""
    rows = session.execute(select(Challenge.id, Challenge.published_at).where(*_live(now)))
    return dict(rows.all())


def newly_affordable(
    session: Session, advocate: User, balance: PointsBalance, since: datetime, now: datetime
) -> list[Reward]:
    """Rewards the catalog offers the advocate that they can afford now and could not at
    `since` (their available points then: now's less what moved since), or that became
    available since; cheapest first."""
    moved = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount - LedgerEntry.hold_change), 0)).where(
            LedgerEntry.advocate_id == advocate.id, LedgerEntry.created_at > since
        )
    )
    available_then = balance.available - int(moved)
    return [
        reward
        for reward in affordable_rewards(session, advocate, balance.available, REWARDS_READ, now)
        if reward.cost > available_then
        or reward.created_at > since
        or (reward.starts_at is not None and reward.starts_at > since)
    ]


def _cards(session: Session, ids: list[int]) -> list[Challenge]:
    if not ids:
        return []
    found = {
        challenge.id: challenge
        for challenge in session.scalars(
            select(Challenge).where(Challenge.id.in_(ids)).options(defer(Challenge.body))
        )
    }
    return [found[i] for i in ids if i in found]


def _rank(session: Session, advocate: User, now: datetime) -> int | None:
    if not leaderboard.is_listed(advocate):
        return None
    month = leaderboard.current_periods(session, now)["month"]
    return leaderboard.standing(session, advocate.id, month).rank


def send_digests(
    sessions: sessionmaker,
    settings: Settings,
    now: datetime | None = None,
    batch: int = BATCH,
) -> DigestReport:
    """Queue this week's digest for every advocate who may get one and has news; nothing
    before the program's digest time. Safe to run again: each advocate gets one a week."""
    now = now or utcnow()
    with sessions() as session:
        week = due_week(session, now)
        if week is None:
            return DigestReport(week=None)
        published = live_challenges(session, now)
        rules = game_settings(session)  # read once: not again for each advocate
    report = DigestReport(week=week)
    after = 0
    while True:
        with sessions() as session:
            ids = list(session.scalars(_waiting(week, after, batch)))
        if not ids:
            return report
        after = ids[-1]
        for advocate_id in ids:
            try:
                _send_one(sessions, settings, advocate_id, week, now, published, rules, report)
            except Exception:  # noqa: BLE001 - one advocate's bad data must not stop the rest
                log.exception("digest for advocate %s not sent", advocate_id)
                report.failed += 1


def _waiting(week: str, after: int, batch: int):
    """The next batch of advocates, by id, who may want this week's digest and lack it."""
    had_it = (
        select(DigestSent.id).where(DigestSent.user_id == User.id, DigestSent.week == week).exists()
    )
    return (
        select(User.id)
        .where(
            User.id > after,
            User.role == Role.ADVOCATE,
            User.active,
            User.in_program,
            User.email_digests,
            User.email_unreachable_at.is_(None),
            User.left_company_at.is_(None),
            ~had_it,
        )
        .order_by(User.id)
        .limit(batch)
    )


def _send_one(
    sessions: sessionmaker,
    settings: Settings,
    advocate_id: int,
    week: str,
    now: datetime,
    published: dict[int, datetime],
    rules: GameSettings,
    report: DigestReport,
) -> None:
    """One advocate's digest in one transaction: the digests_sent row and the message."""
    with sessions() as session, session.begin():
        advocate = session.scalar(
            select(User).where(User.id == advocate_id).options(joinedload(User.account))
        )
        if advocate is None or not may_email(advocate, Topic.DIGESTS):
            return
        since = last_digest_at(session, advocate.id) or now - NEW_WINDOW
        digest = build_digest(session, advocate, since, now, published, rules)
        if not digest.has_news:
            report.nothing_new += 1
            return
        _commit_without_waiting(session)
        if not _record_sent(session, advocate.id, week, now):  # another run got there first
            report.already_sent += 1
            return
        hub = f"{settings.public_url}/hub/"
        notify(
            session,
            settings,
            advocate,
            Topic.DIGESTS,
            "digest",
            _l("Your week in the advocate hub"),
            link=hub,
            name=advocate.name or advocate.email,
            digest=digest,
            hub_url=hub,
            challenges_url=f"{settings.public_url}/hub/challenges",
            rewards_url=f"{settings.public_url}/hub/rewards",
            challenge_url=f"{settings.public_url}/hub/challenges/",
            reward_url=f"{settings.public_url}/hub/rewards/",
        )
    report.sent += 1


def _record_sent(session: Session, advocate_id: int, week: str, now: datetime) -> bool:
    """The week's digests_sent row, inserted first: False when another run has it (the
    UNIQUE user_id, week; a run still sending waits for it to commit). One statement, no
    savepoint."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    recorded = session.execute(
        insert(DigestSent)
        .values(user_id=advocate_id, week=week, created_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "week"])
        .returning(DigestSent.id)
    ).scalar()
    return recorded is not None


def _commit_without_waiting(session: Session) -> None:
    """On PostgreSQL, this transaction's COMMIT does not wait for its WAL to reach the disk
    (one fsync per advocate was a third of a pass). Safe: the digests_sent row, the message
    and the notification commit together or not at all, so a crash can only lose whole
    digests of its last moment, which the next run then sends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
