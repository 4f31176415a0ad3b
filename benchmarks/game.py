"""The game, for bench-data: levels reached, badges, leaderboard totals and the activity
feed, derived in SQL from the rows the loader wrote, with the dates they would have had
live.

- Levels: each advocate's submission awards walked in time order; a level is reached at
  the award that took lifetime points past its threshold: the rows `points.levels.relevel`
  would record, with their dates. Those older than a few days have been seen.
- Badges: the holders are exactly those of `challenges.badges.recompute` (each rule's own
  query), dated when they qualified: the first (or Nth) approved submission, the Nth type
  tried, a year after opting in. A few manual badges with a manager's reason.
- Period totals: `points.leaderboard.rebuild_totals`, one statement per kind of period.
- The feed: the newest FEED_COMPLETIONS completions and every level and badge since.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import click
from sqlalchemy import Interval, Select, and_, case, exists, func, insert, literal, select, text
from sqlalchemy.orm import Session

from benchmarks.plans import DAY, MEMBER, Program
from challenges.badges import (
    Completions,
    FirstCompletion,
    FirstOfType,
    TypesTried,
    YearInProgram,
    ensure_default_badges,
    rule_of,
)
from challenges.models import Challenge, Submission, SubmissionStatus
from challenges.types import REGISTRY
from points.leaderboard import rebuild_totals
from points.levels import ensure_default_levels
from points.models import (
    Badge,
    BadgeAward,
    EntrySource,
    FeedEvent,
    FeedKind,
    LedgerEntry,
    Level,
    LevelReached,
)
from points.program import game_settings
from portal.accounts.models import ConsentRecord, Role, User
from portal.db import Base, UTCDateTime

FEED_COMPLETIONS = 50_000  # the newest completions in the feed, with the levels and badges since
UNSEEN_FOR = 3 * DAY  # levels reached this recently are still to be shown on the hub
MANUAL_SHARE = 0.005  # of members, given the manual badge by a manager
MANUAL_REASONS = (
    "Hosted our user group in their city.",
    "Gave the keynote customer talk at the summit.",
    "Helped three new customers get started in the community.",
    "Spoke to the press about their results with us.",
)


def load_game(program: Program, connection) -> dict[str, float]:
    """Every phase in the loader's transaction; returns the seconds each took."""
    steps: tuple[tuple[str, str, Callable[[Program, Session], object]], ...] = (
        ("levels reached", "levels_reached", record_levels),
        ("badges", "badge_awards", award_badges),
        ("period totals", "period_totals", lambda _program, session: rebuild_totals(session)),
        ("feed", "feed_events", fill_feed),
    )
    took = {}
    with Session(connection) as session:
        game_settings(session)  # as a program that has saved its settings has it
        ensure_default_levels(session)  # the migration seeds both; an old database may not
        ensure_default_badges(session)
        session.flush()
        with click.progressbar(steps, label="game       ") as bar:
            for name, table, step in bar:
                started = time.perf_counter()
                planner_statistics(session)
                before = rows_in(session, table)
                step(program, session)
                program.writer.counts[table] += rows_in(session, table) - before
                took[name] = time.perf_counter() - started
        session.flush()
    click.echo("game: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in took.items()))
    return took


READ_TABLES = (
    "users",
    "consent_records",
    "challenges",
    "submissions",
    "ledger_entries",
    "points_balances",
    "levels",
    "badges",
    "levels_reached",
    "badge_awards",
)


def planner_statistics(session: Session) -> None:
    """PostgreSQL: statistics on the rows loaded so far (ANALYZE samples this transaction's
    own rows), so the joins below are planned for their real sizes, not for empty tables
    (a nested loop over a window of every submission took 10 minutes at 10k advocates)."""
    if session.get_bind().dialect.name == "postgresql":
        for table in READ_TABLES:
            session.execute(text(f'ANALYZE "{table}"'))


def rows_in(session: Session, table: str) -> int:
    return session.scalar(select(func.count()).select_from(Base.metadata.tables[table]))


def _the_batch(program: Program, column):
    """The condition that a row belongs to this load's advocates (ids run in one range)."""
    if not program.advocates:
        return literal(False)
    return column.between(program.advocates[0].id, program.advocates[-1].id)


# --- levels -----------------------------------------------------------------------------


def record_levels(program: Program, session: Session) -> None:
    earned = (
        select(
            LedgerEntry.advocate_id,
            LedgerEntry.created_at,
            func.sum(LedgerEntry.amount)
            .over(
                partition_by=LedgerEntry.advocate_id,
                order_by=(LedgerEntry.created_at, LedgerEntry.id),
            )
            .label("earned"),
        )
        .where(LedgerEntry.source == EntrySource.SUBMISSION)
        .subquery()
    )
    reached_at = func.min(earned.c.created_at)
    seen_before = program.now - UNSEEN_FOR
    crossings = (
        select(
            earned.c.advocate_id,
            Level.id,
            reached_at,
            case((reached_at < seen_before, reached_at), else_=None),
        )
        .join(Level, and_(Level.threshold > 0, Level.threshold <= earned.c.earned))
        .where(
            ~exists().where(
                LevelReached.advocate_id == earned.c.advocate_id,
                LevelReached.level_id == Level.id,
            )
        )
        .group_by(earned.c.advocate_id, Level.id)
    )
    columns = ["advocate_id", "level_id", "reached_at", "seen_at"]
    session.execute(LevelReached.__table__.insert().from_select(columns, crossings))


# --- badges -----------------------------------------------------------------------------


def award_badges(program: Program, session: Session) -> None:
    for badge in session.scalars(select(Badge).where(Badge.enabled).order_by(Badge.id)):
        rule = rule_of(badge)
        if rule is None:
            continue
        if not rule.automatic:
            give_manual_badges(program, session, badge)
            continue
        query = rule.qualifying(badge, program.now)
        if query is None:
            continue
        holder = query.selected_columns[0]
        holders = query.where(
            holder.in_(select(User.id).where(User.role == Role.ADVOCATE)),
            ~exists().where(BadgeAward.badge_id == badge.id, BadgeAward.advocate_id == holder),
        ).subquery()
        holder_id = list(holders.c)[0]
        awarded_at = literal(program.now, UTCDateTime())
        source = holders
        dates = qualified_at(rule, badge, session.get_bind().dialect.name)
        if dates is not None:
            dated = dates.subquery()
            source = holders.outerjoin(dated, dated.c.advocate_id == holder_id)
            awarded_at = func.coalesce(dated.c.earned_at, awarded_at)
        rows = select(holder_id, literal(badge.id), awarded_at).select_from(source)
        columns = ["advocate_id", "badge_id", "awarded_at"]
        session.execute(BadgeAward.__table__.insert().from_select(columns, rows))


def _approved_at():
    return func.coalesce(Submission.reviewed_at, Submission.created_at)


def _nth(rows, nth: int) -> Select:
    """(advocate_id, earned_at) of each advocate's Nth row of (advocate_id, at), by time."""
    ranked = rows.add_columns(
        func.row_number()
        .over(partition_by=rows.selected_columns[0], order_by=rows.selected_columns[1])
        .label("n")
    ).subquery()
    return select(ranked.c.advocate_id, ranked.c.at.label("earned_at")).where(ranked.c.n == nth)


def qualified_at(rule, badge: Badge, dialect: str) -> Select | None:
    """When each holder qualified, for the rules whose moment the rows show (else: now)."""
    approved = select(Submission.advocate_id, _approved_at().label("at")).where(
        Submission.status == SubmissionStatus.APPROVED
    )
    if isinstance(rule, FirstOfType):
        return _nth(approved.where(Submission.type == rule.type_key), 1)
    if isinstance(rule, FirstCompletion):
        return _nth(approved, 1)
    if isinstance(rule, Completions):
        return _nth(approved, badge.threshold or 1)
    if isinstance(rule, TypesTried):
        firsts = (
            select(Submission.advocate_id, func.min(_approved_at()).label("at"))
            .where(Submission.status == SubmissionStatus.APPROVED)
            .group_by(Submission.advocate_id, Submission.type)
            .subquery()
        )
        return _nth(select(firsts.c.advocate_id, firsts.c.at), badge.threshold or 1)
    if isinstance(rule, YearInProgram):
        opted_in = ConsentRecord.opted_in_at
        a_year_on = (
            func.datetime(opted_in, "+365 days", type_=UTCDateTime())
            if dialect == "sqlite"
            else opted_in + literal(timedelta(days=365), Interval())
        )
        return select(
            ConsentRecord.user_id.label("advocate_id"), a_year_on.label("earned_at")
        ).where(ConsentRecord.opted_out_at.is_(None))
    return None


def give_manual_badges(program: Program, session: Session, badge: Badge) -> None:
    """A manager's recognition for a few members (advocate1 among them), with a reason."""
    rng = program.rng
    chosen = [
        advocate
        for advocate in program.advocates
        if advocate.status == MEMBER and (advocate.is_advocate1 or rng.random() < MANUAL_SHARE)
    ]
    held = set(
        session.scalars(
            select(BadgeAward.advocate_id).where(
                BadgeAward.badge_id == badge.id,
                BadgeAward.advocate_id.in_([advocate.id for advocate in chosen]),
            )
        )
    )
    rows = [
        {
            "advocate_id": advocate.id,
            "badge_id": badge.id,
            "awarded_at": program.between(advocate.joined_at + DAY, program.now),
            "reason": rng.choice(MANUAL_REASONS),
            "awarded_by_id": program.manager().id,
        }
        for advocate in chosen
        if advocate.id not in held
    ]
    if rows:
        session.execute(insert(BadgeAward), rows)


# --- the feed ---------------------------------------------------------------------------


def fill_feed(program: Program, session: Session) -> None:
    approved = and_(
        Submission.status == SubmissionStatus.APPROVED,
        _the_batch(program, Submission.advocate_id),
    )
    since = session.scalar(
        select(_approved_at())
        .where(approved)
        .order_by(_approved_at().desc())
        .offset(FEED_COMPLETIONS - 1)
        .limit(1)
    )
    logged = case(
        *(
            (Submission.type == key, f"{kind.label} (logged by staff)")
            for key, kind in REGISTRY.items()
        ),
        else_="Logged activity",
    )
    completions = (
        select(
            Submission.advocate_id,
            literal(FeedKind.COMPLETION.value),
            func.coalesce(Challenge.title, logged),
            _approved_at(),
        )
        .outerjoin(Challenge, Challenge.id == Submission.challenge_id)
        .where(approved)
    )
    levels = (
        select(
            LevelReached.advocate_id,
            literal(FeedKind.LEVEL.value),
            Level.name,
            LevelReached.reached_at,
        )
        .join(Level, Level.id == LevelReached.level_id)
        .where(_the_batch(program, LevelReached.advocate_id))
    )
    badges = (
        select(
            BadgeAward.advocate_id,
            literal(FeedKind.BADGE.value),
            Badge.name,
            BadgeAward.awarded_at,
        )
        .join(Badge, Badge.id == BadgeAward.badge_id)
        .where(_the_batch(program, BadgeAward.advocate_id))
    )
    if since is not None:
        completions = completions.where(_approved_at() >= since)
        levels = levels.where(LevelReached.reached_at >= since)
        badges = badges.where(BadgeAward.awarded_at >= since)
    columns = ["advocate_id", "kind", "subject", "created_at"]
    for rows in (completions, levels, badges):
        session.execute(FeedEvent.__table__.insert().from_select(columns, rows))
