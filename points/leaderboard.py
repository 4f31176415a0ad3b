"""Leaderboards from stored per-period totals.

Every ledger entry that counts toward a score (an award for a submission, a staff
adjustment either way) adds to the advocate's "all", month and quarter totals in its own
transaction. A rank is then a count over one index range, never a scan of the ledger.
Redeeming, refunds of redemptions and expiry never change a score: they move points an
advocate already earned. Ties go to whoever reached the score first (`reached_at`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    event,
    func,
    inspect,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload, load_only

from points.models import EntrySource, LedgerEntry, PeriodTotal, PointsBalance, ScoreCount
from points.program import game_settings, month_starts, period_keys
from portal.accounts.models import Account, Role, User
from portal.db import utcnow

SCORED = (EntrySource.SUBMISSION, EntrySource.ADJUSTMENT)
# what decides whether an advocate shows on boards (and in the activity feed)
LISTING_FIELDS = ("in_program", "hide_from_leaderboard", "active", "role")


def is_listed(user: User) -> bool:
    return (
        user.role == Role.ADVOCATE
        and user.active
        and user.in_program
        and not user.hide_from_leaderboard
    )


def add_to_totals(session: Session, advocate: User, amount: int, when: datetime) -> None:
    """Add a scored entry to its periods' totals and their score counts (call after the
    balance row is updated, so every writer takes the balance row's lock first)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    keys = period_keys(when, game_settings(session).time_zone)
    moves = []
    for period in keys.values():
        statement = insert(PeriodTotal).values(
            advocate_id=advocate.id,
            period=period,
            points=amount,
            reached_at=when,
            # from the users row as committed now, not the caller's copy: a "hide me" saved
            # while this award waited for the balance lock is already there
            listed=_listed_now(advocate.id),
        )
        points, listed = session.execute(
            statement.on_conflict_do_update(
                index_elements=["advocate_id", "period"],
                set_={
                    "points": PeriodTotal.points + amount,
                    # the latest entry's time, as a rebuild from the ledger has it, even when
                    # an earlier-stamped entry commits second
                    "reached_at": case(
                        (PeriodTotal.reached_at > when, PeriodTotal.reached_at),
                        else_=literal(when, PeriodTotal.reached_at.type),
                    ),
                },
            ).returning(PeriodTotal.points, PeriodTotal.listed)
        ).one()
        if listed:
            moves += [(period, points - amount, -1), (period, points, +1)]
    _count_scores(session.connection(), moves)


def _listed_now(advocate_id: int):
    return (
        select(
            and_(
                User.role == Role.ADVOCATE,
                User.active,
                User.in_program,
                User.hide_from_leaderboard.is_(False),
            )
        )
        .where(User.id == advocate_id)
        .scalar_subquery()
    )


def _count_scores(connection, moves: list[tuple[str, int, int]]) -> None:
    """Move advocates between scores (only scores above 0 are counted), in one order for
    every writer, so two awards never wait on each other's rows in a circle."""
    table = ScoreCount.__table__
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for period, points, change in sorted(moves):
        if points <= 0 or not change:
            continue
        if change < 0:  # a score someone held is counted already
            connection.execute(
                update(table)
                .where(table.c.period == period, table.c.points == points)
                .values(advocates=table.c.advocates + change)
            )
            continue
        connection.execute(
            insert(table)
            .values(period=period, points=points, advocates=change)
            .on_conflict_do_update(
                index_elements=["period", "points"],
                set_={"advocates": table.c.advocates + change},
            )
        )


def total_in(session: Session, advocate_id: int, period: str) -> int:
    # read from the database, never the identity map: totals change by Core upserts, so a
    # row loaded earlier in a long session (a bulk review) would be stale
    points = session.scalar(
        select(PeriodTotal.points).where(
            PeriodTotal.advocate_id == advocate_id, PeriodTotal.period == period
        )
    )
    return points or 0


def _lock_balance(connection, advocate_id: int) -> None:
    """Take the advocate's balance row lock (PostgreSQL), the lock every writer of their
    period totals takes first, so two writers never wait on each other's totals."""
    connection.execute(
        select(PointsBalance.advocate_id)
        .where(PointsBalance.advocate_id == advocate_id)
        .with_for_update()
    )


@event.listens_for(Session, "after_flush")
def _relist(session: Session, _context) -> None:
    """Whoever hides, leaves, rejoins or is deactivated is (un)listed on every board at once,
    whichever code path changed them."""
    for user in session.dirty:
        if not isinstance(user, User):
            continue
        state = inspect(user)
        if any(state.attrs[name].history.has_changes() for name in LISTING_FIELDS):
            connection = session.connection()
            _lock_balance(connection, user.id)
            table, listed = PeriodTotal.__table__, is_listed(user)
            flipping = connection.execute(
                select(table.c.period, table.c.points).where(
                    table.c.advocate_id == user.id, table.c.listed != listed
                )
            ).all()
            connection.execute(
                update(table).where(table.c.advocate_id == user.id).values(listed=listed)
            )
            change = 1 if listed else -1
            _count_scores(connection, [(period, points, change) for period, points in flipping])


# --- reading the boards ---------------------------------------------------------------


def current_periods(session: Session, now: datetime | None = None) -> dict[str, str]:
    """This month's and quarter's keys (and "all"), on the program's calendar."""
    return period_keys(now or utcnow(), game_settings(session).time_zone)


def segment_advocates(segment: str):
    """The advocates whose account is in a segment: a condition for `among`."""
    accounts = select(Account.id).where(func.lower(Account.segment) == segment.casefold())
    return User.id.in_(select(User.id).where(User.account_id.in_(accounts)))


@dataclass(frozen=True)
class Place:
    rank: int
    advocate: User
    points: int
    reached_at: datetime


def _listed(period: str, among=None):
    condition = and_(PeriodTotal.period == period, PeriodTotal.listed, PeriodTotal.points > 0)
    if among is not None:
        condition = and_(condition, PeriodTotal.advocate_id.in_(_ids(among)))
    return condition


def _ids(among):
    """`among` is a condition on User; as a set of ids it can filter totals."""
    return select(User.id).where(among)


def _best_first():
    return (PeriodTotal.points.desc(), PeriodTotal.reached_at, PeriodTotal.advocate_id)


def top(
    session: Session,
    period: str,
    limit: int = 10,
    offset: int = 0,
    among=None,
    after: Place | None = None,
) -> list[Place]:
    """The board's places `offset + 1` to `offset + limit`, with the advocates' accounts;
    or, given `after`, the `limit` places that follow it (an export reads a whole board so,
    in keyset pages: no place read twice or skipped however far down it goes)."""
    statement = (
        select(PeriodTotal.advocate_id, PeriodTotal.points, PeriodTotal.reached_at)
        .where(_listed(period, among))
        .order_by(*_best_first())
        .limit(limit)
    )
    if after is not None:
        offset = after.rank
        statement = statement.where(
            PeriodTotal.points <= after.points,
            or_(
                PeriodTotal.points < after.points,
                PeriodTotal.reached_at > after.reached_at,
                and_(
                    PeriodTotal.reached_at == after.reached_at,
                    PeriodTotal.advocate_id > after.advocate.id,
                ),
            ),
        )
    else:
        statement = statement.offset(offset)
    rows = session.execute(statement).all()
    people = {
        user.id: user
        for user in session.scalars(
            select(User)
            .where(User.id.in_([row.advocate_id for row in rows]))
            .options(
                # no raiseload: these objects are the session's own (the viewer's account
                # may be among them), and other columns must still load when asked for
                load_only(User.name, User.email, User.account_id),
                joinedload(User.account).load_only(Account.name, Account.segment),
            )
        )
    }
    return [
        Place(offset + number, people[row.advocate_id], row.points, row.reached_at)
        for number, row in enumerate(rows, start=1)
        if row.advocate_id in people
    ]


def listed_count(session: Session, period: str, among=None) -> int:
    return session.scalar(
        select(func.count()).select_from(PeriodTotal).where(_listed(period, among))
    )


@dataclass(frozen=True)
class Standing:
    """Where one advocate stands on a board; `rank` is None until they score."""

    points: int
    rank: int | None
    ahead_points: int | None  # the score of the place just above, if any
    listed: bool

    @property
    def to_move_up(self) -> int | None:
        """Points that would take them past the place above (ties go to who was first)."""
        return None if self.ahead_points is None else self.ahead_points - self.points + 1


def standing(session: Session, advocate_id: int, period: str, among=None) -> Standing:
    """Rank among listed advocates; a hidden advocate sees where they would stand."""
    mine = session.execute(
        select(PeriodTotal.points, PeriodTotal.reached_at, PeriodTotal.listed).where(
            PeriodTotal.advocate_id == advocate_id, PeriodTotal.period == period
        )
    ).first()
    if mine is None or mine.points <= 0:
        lowest = session.scalar(select(func.min(PeriodTotal.points)).where(_listed(period, among)))
        if mine is not None:
            listed = bool(mine.listed)
        else:  # no total yet: whether they would be shown is the advocate's own setting
            advocate = session.get(User, advocate_id)
            listed = advocate is not None and is_listed(advocate)
        return Standing(0, None, lowest, listed)
    # level on points but there first: ahead (ties go to whoever reached the score first)
    level_ahead = and_(
        _listed(period, among),
        PeriodTotal.points == mine.points,
        or_(
            PeriodTotal.reached_at < mine.reached_at,
            and_(
                PeriodTotal.reached_at == mine.reached_at,
                PeriodTotal.advocate_id < advocate_id,
            ),
        ),
    )
    ties = select(func.count()).select_from(PeriodTotal).where(level_ahead).scalar_subquery()
    if among is None:  # the whole board: sum the score counts above, not the advocates
        higher = and_(
            ScoreCount.period == period, ScoreCount.points > mine.points, ScoreCount.advocates > 0
        )
        above_count = select(func.coalesce(func.sum(ScoreCount.advocates), 0)).where(higher)
        above_points = select(func.min(ScoreCount.points)).where(higher)
    else:
        higher = and_(_listed(period, among), PeriodTotal.points > mine.points)
        above_count = select(func.count()).select_from(PeriodTotal).where(higher)
        above_points = select(func.min(PeriodTotal.points)).where(higher)
    level, higher_count, lowest_higher = session.execute(
        select(ties, above_count.scalar_subquery(), above_points.scalar_subquery())
    ).one()
    # the place just above: someone level with me who got there first, else the lowest
    # score above mine
    above = mine.points if level else lowest_higher
    return Standing(mine.points, int(higher_count) + level + 1, above, mine.listed)


# --- rebuilding and checking the totals from the ledger --------------------------------


def _month_of_entry(session: Session):
    """A CASE mapping an entry's time to its local month key, built for the ledger's span."""
    first, last = session.execute(
        select(func.min(LedgerEntry.created_at), func.max(LedgerEntry.created_at)).where(
            LedgerEntry.source.in_(SCORED)
        )
    ).one()
    if first is None:
        return None
    zone_name = game_settings(session).time_zone
    starts = month_starts(first, last, zone_name)
    whens = [
        (LedgerEntry.created_at < end, period_keys(start, zone_name)["month"])
        for start, end in zip(starts, starts[1:], strict=False)
    ]
    return case(*whens, else_=period_keys(starts[-1], zone_name)["month"])


def _month_sums(session: Session):
    """Scored points per advocate and local month (and when the last of them was booked)."""
    month = _month_of_entry(session)
    if month is None:
        return None
    entries = (
        select(
            LedgerEntry.advocate_id,
            month.label("period"),
            LedgerEntry.amount,
            LedgerEntry.created_at,
        )
        .where(LedgerEntry.source.in_(SCORED))
        .subquery()
    )
    return select(
        entries.c.advocate_id,
        entries.c.period,
        func.sum(entries.c.amount),
        func.max(entries.c.created_at),
    ).group_by(entries.c.advocate_id, entries.c.period)


def expected_totals(session: Session) -> dict[tuple[int, str], int]:
    """Every (advocate, period) score the ledger implies, for months, quarters and all."""
    sums = _month_sums(session)
    expected: dict[tuple[int, str], int] = {}
    if sums is None:
        return expected
    for advocate_id, month, points, _reached in session.execute(sums):
        year, number = month.split("-")
        quarter = f"{year}-Q{(int(number) - 1) // 3 + 1}"
        for period in (month, quarter, "all"):
            expected[advocate_id, period] = expected.get((advocate_id, period), 0) + points
    return expected


def rebuild_totals(session: Session) -> int:
    """Recompute every period total from the ledger (after a change of time zone, or in a
    migration); returns the number of rows written."""
    table = PeriodTotal.__table__
    if session.get_bind().dialect.name == "postgresql":
        # awards wait (holding only their balance row) until the totals are rebuilt; SQLite
        # serialises every write transaction anyway
        session.execute(text("LOCK TABLE period_totals IN SHARE ROW EXCLUSIVE MODE"))
    session.execute(delete(PeriodTotal).execution_options(synchronize_session=False))
    session.execute(delete(ScoreCount).execution_options(synchronize_session=False))
    sums = _month_sums(session)
    if sums is None:
        return 0
    columns = ["advocate_id", "period", "points", "reached_at"]
    session.execute(table.insert().from_select(columns, sums))
    # the month rows only ("2026-12"; a quarter's "2026-Q4" has the same length)
    months = (
        select(table)
        .where(table.c.period.like("____-__"), table.c.period.not_like("%Q%"))
        .subquery()
    )
    number = cast(func.substr(months.c.period, 6, 2), Integer)
    quarter = select(
        months.c.advocate_id,
        (
            func.substr(months.c.period, 1, 4, type_=String)
            + "-Q"
            + cast((number + 2) // 3, String)  # integer division (/ is true division)
        ).label("period"),
        months.c.points,
        months.c.reached_at,
    ).subquery()
    everything = select(
        months.c.advocate_id,
        literal("all", String).label("period"),
        months.c.points,
        months.c.reached_at,
    ).subquery()
    for rows in (quarter, everything):
        session.execute(
            table.insert().from_select(
                columns,
                select(
                    rows.c.advocate_id,
                    rows.c.period,
                    func.sum(rows.c.points),
                    func.max(rows.c.reached_at),
                ).group_by(rows.c.advocate_id, rows.c.period),
            )
        )
    unlisted = select(User.id).where(
        ~and_(
            User.role == Role.ADVOCATE,
            User.active,
            User.in_program,
            User.hide_from_leaderboard.is_(False),
        )
    )
    session.execute(update(table).where(table.c.advocate_id.in_(unlisted)).values(listed=False))
    session.execute(
        ScoreCount.__table__.insert().from_select(["period", "points", "advocates"], _scores())
    )
    return session.scalar(select(func.count()).select_from(table))


def _scores():
    """How many listed advocates hold each score above 0, from the totals themselves."""
    return (
        select(PeriodTotal.period, PeriodTotal.points, func.count())
        .where(PeriodTotal.listed, PeriodTotal.points > 0)
        .group_by(PeriodTotal.period, PeriodTotal.points)
    )


def score_count_differences(session: Session) -> list[str]:
    """Score counts that disagree with the totals they count (reconcile)."""
    expected = {(period, points): n for period, points, n in session.execute(_scores())}
    recorded = {
        (row.period, row.points): row.advocates
        for row in session.execute(select(ScoreCount.__table__)).all()
        if row.advocates
    }
    return [
        f"score counts: {recorded.get(key, 0)} listed advocates at {key[1]:,} points on the "
        f"{key[0]} board, the totals say {expected.get(key, 0)}"
        for key in sorted(expected.keys() | recorded.keys())
        if recorded.get(key, 0) != expected.get(key, 0)
    ]


@dataclass(frozen=True)
class TotalDifference:
    advocate_id: int
    period: str
    recorded: int
    from_ledger: int


def totals_differences(session: Session) -> list[TotalDifference]:
    """Period totals that disagree with the ledger's sums (a missing row counts as 0)."""
    expected = expected_totals(session)
    recorded = {
        (row.advocate_id, row.period): row.points
        for row in session.execute(
            select(PeriodTotal.advocate_id, PeriodTotal.period, PeriodTotal.points)
        )
    }
    found = []
    for key in sorted(expected.keys() | recorded.keys()):
        kept, summed = recorded.get(key, 0), expected.get(key, 0)
        if kept != summed:
            found.append(TotalDifference(key[0], key[1], kept, summed))
    return found
