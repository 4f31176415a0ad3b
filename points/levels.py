"""Levels: an advocate's level comes from lifetime earned points, which redeeming never
lowers. Reaching a level is recorded once (a unique key), shown on the hub once and
emailed once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from points.feed import add_to_feed
from points.models import FeedKind, Level, LevelReached, PointsBalance
from portal.accounts.models import User
from portal.accounts.services import record_audit
from portal.config import Settings
from portal.db import refuse_duplicates, utcnow
from portal.errors import AlreadyHandled, DomainError
from portal.i18n import _, _l, number
from portal.notifications.models import Topic
from portal.notifications.services import notify

DEFAULT_LEVELS = (
    ("Insider", 0, "Early news of the roadmap and the community newsletter."),
    ("Contributor", 500, "A seat in quarterly product feedback sessions."),
    ("Champion", 2_000, "Invitations to the customer advisory board and the annual summit."),
    ("Legend", 10_000, "A named spot on the Wall of Legends and a call with our founders."),
)


def all_levels(session: Session) -> list[Level]:
    """The levels, lowest first (read once per session: every hub page shows one)."""
    kept = session.info.get("levels")
    if kept is None or any(level not in session for level in kept):
        kept = list(session.scalars(select(Level).order_by(Level.threshold)))
        session.info["levels"] = kept
    return kept


def _forget(session: Session) -> None:
    session.info.pop("levels", None)


@dataclass(frozen=True)
class Progress:
    level: Level | None
    next_level: Level | None
    lifetime: int

    @property
    def to_next(self) -> int | None:
        return None if self.next_level is None else self.next_level.threshold - self.lifetime

    @property
    def percent(self) -> int:
        """How far from this level's threshold to the next one."""
        if self.next_level is None:
            return 100
        start = self.level.threshold if self.level else 0
        span = self.next_level.threshold - start
        return max(0, min(100, (self.lifetime - start) * 100 // span)) if span > 0 else 100


def progress(levels: list[Level], lifetime: int) -> Progress:
    reached = [level for level in levels if level.threshold <= lifetime]
    ahead = [level for level in levels if level.threshold > lifetime]
    return Progress(reached[-1] if reached else None, ahead[0] if ahead else None, lifetime)


def record_reached(session: Session, settings: Settings, advocate: User, link: str) -> list[Level]:
    """Record (and announce) each level the advocate's lifetime points now reach for the
    first time. Called in the transaction that earned the points."""
    lifetime = session.scalar(
        select(PointsBalance.lifetime_earned).where(PointsBalance.advocate_id == advocate.id)
    )
    due = [level for level in all_levels(session) if 0 < level.threshold <= (lifetime or 0)]
    if not due:
        return []
    had = set(
        session.scalars(
            select(LevelReached.level_id).where(LevelReached.advocate_id == advocate.id)
        )
    )
    reached = []
    for level in due:
        if level.id in had:
            continue
        try:
            with refuse_duplicates(session, AlreadyHandled("")):
                session.add(LevelReached(advocate_id=advocate.id, level_id=level.id))
                session.flush()
        except AlreadyHandled:  # a concurrent award recorded it first
            continue
        reached.append(level)
    if reached:
        highest = reached[-1]
        for level in reached:
            add_to_feed(session, advocate.id, FeedKind.LEVEL, level.name)
        notify(
            session,
            settings,
            advocate,
            Topic.GAME,
            "level_reached",
            _l("You are now a %(level)s", level=highest.name),
            link=link,
            name=advocate.display_name,
            level=highest.name,
            perk=highest.perk,
        )
    return reached


def unseen(session: Session, advocate_id: int) -> list[LevelReached]:
    """Levels reached since the hub last showed them (then marked seen by `mark_seen`)."""
    return list(
        session.scalars(
            select(LevelReached)
            .where(LevelReached.advocate_id == advocate_id, LevelReached.seen_at.is_(None))
            .join(LevelReached.level)
            .order_by(Level.threshold)
        )
    )


def mark_seen(session: Session, advocate_id: int) -> None:
    session.execute(
        update(LevelReached)
        .where(LevelReached.advocate_id == advocate_id, LevelReached.seen_at.is_(None))
        .values(seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )


# --- admins define the levels ----------------------------------------------------------


def _check(session: Session, name: str, threshold: int, level_id: int | None) -> str:
    name = name.strip()
    if not name:
        raise DomainError(_("Give the level a name."), "name")
    if not 0 <= threshold <= 1_000_000_000:
        raise DomainError(
            _("The threshold is a number of points from 0 to 1,000,000,000."), "threshold"
        )
    for other in all_levels(session):
        if other.id == level_id:
            continue
        if other.name.casefold() == name.casefold():
            raise DomainError(
                _("There is already a level called “%(name)s”.", name=other.name), "name"
            )
        if other.threshold == threshold:
            raise DomainError(
                _(
                    "“%(name)s” already starts at %(threshold)s points.",
                    name=other.name,
                    threshold=number(threshold),
                ),
                "threshold",
            )
    return name


def save_level(
    session: Session,
    admin: User,
    name: str,
    threshold: int,
    perk: str,
    level: Level | None = None,
) -> Level:
    """Add or change a level, then re-level everyone on the new thresholds."""
    name = _check(session, name, threshold, level.id if level else None)
    if level is None:
        level = Level(name=name, threshold=threshold, perk=perk.strip())
        session.add(level)
        what = f"Added the level “{name}” at {threshold:,} points"
    else:
        what = f"Changed the level “{level.name}” to “{name}” at {threshold:,} points"
        level.name, level.threshold, level.perk = name, threshold, perk.strip()
    # a colleague saving the same name or threshold at the same moment
    taken = DomainError(_("Another level has just taken that name or threshold."), "name")
    with refuse_duplicates(session, taken):
        session.flush()
    _forget(session)
    added = relevel(session)
    record_audit(session, admin, "level.save", None, what, relevelled=added)
    return level


def delete_level(session: Session, admin: User, level: Level) -> None:
    session.delete(level)
    session.flush()
    _forget(session)
    record_audit(session, admin, "level.delete", None, f"Removed the level “{level.name}”")


def relevel(session: Session) -> int:
    """Make the levels recorded match the current thresholds (a statement each, whatever
    the program's size): a level whose threshold moved above an advocate is no longer
    theirs (reaching it later is recorded and emailed then), and every level now reached
    that is not yet recorded is. Advocates see it on their next visit; no email is sent for
    a change of thresholds. Returns how many were recorded."""
    table = LevelReached.__table__
    no_longer = (
        select(LevelReached.id)
        .join(Level, Level.id == LevelReached.level_id)
        .outerjoin(PointsBalance, PointsBalance.advocate_id == LevelReached.advocate_id)
        .where(
            or_(
                Level.threshold == 0,
                func.coalesce(PointsBalance.lifetime_earned, 0) < Level.threshold,
            )
        )
    )
    session.execute(delete(table).where(table.c.id.in_(no_longer)))
    qualifying = (
        select(PointsBalance.advocate_id, Level.id, literal(utcnow(), table.c.reached_at.type))
        .join(Level, and_(Level.threshold > 0, Level.threshold <= PointsBalance.lifetime_earned))
        .where(
            ~exists().where(
                LevelReached.advocate_id == PointsBalance.advocate_id,
                LevelReached.level_id == Level.id,
            )
        )
    )
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = session.execute(
        insert(table)
        .from_select(["advocate_id", "level_id", "reached_at"], qualifying)
        # an approval recording one of them meanwhile is not an error
        .on_conflict_do_nothing(index_elements=["advocate_id", "level_id"])
    )
    return max(result.rowcount or 0, 0)


def ensure_default_levels(session: Session) -> None:
    """The defaults (Insider 0 ... Legend 10,000), when the program has no levels yet."""
    if session.scalar(select(func.count()).select_from(Level)):
        return
    for name, threshold, perk in DEFAULT_LEVELS:
        session.add(Level(name=name, threshold=threshold, perk=perk))
    session.flush()
    _forget(session)
