"""The only code that moves points: an entry and its balance change in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from points.leaderboard import add_to_totals, total_in
from points.models import EntrySource, LedgerEntry, PointsBalance
from points.program import game_settings, period_keys
from portal.accounts.models import User
from portal.accounts.services import record_audit
from portal.db import refuse_duplicates, utcnow
from portal.errors import AlreadyHandled, DomainError
from portal.i18n import _l
from portal.notifications.models import Topic
from portal.notifications.services import add_notification


class AlreadyBooked(AlreadyHandled):
    """The idempotency key is taken: this event was booked before."""


class InsufficientPoints(DomainError):
    pass


def award(
    session: Session,
    advocate: User,
    amount: int,
    key: str,
    source: EntrySource,
    source_id: int | None = None,
    note: str = "",
    actor: User | None = None,
) -> LedgerEntry:
    """Credit earned points once per `key`; a second call with the same key raises AlreadyBooked."""
    if amount <= 0:
        raise DomainError("An award must be a positive number of points.", "points")
    entry = _book(session, advocate.id, amount, 0, key, source, source_id, note, actor)
    _ensure_balance_row(session, advocate.id)
    _change_balance(session, advocate.id, balance=amount, earned=amount)
    add_to_totals(session, advocate, amount, entry.created_at)
    return entry


@dataclass(frozen=True)
class Allowance:
    """What an award may be under the program's cap on points earned per period."""

    points: int
    wanted: int
    cap: int | None
    period: str

    @property
    def capped(self) -> bool:
        return self.points < self.wanted

    def explain(self) -> str:
        return (
            f"{self.points:,} of {self.wanted:,} points were awarded: the program caps what "
            f"one advocate earns at {self.cap:,} points a {self.period}."
        )


def allowance(session: Session, advocate: User, wanted: int, now: datetime) -> Allowance:
    """The points an award may give under the earning cap.

    The advocate's balance row is locked first (PostgreSQL), so two approvals racing past
    the cap are counted one after the other; SQLite serialises every write anyway."""
    rules = game_settings(session)
    if rules.earn_cap is None or wanted <= 0:
        return Allowance(wanted, wanted, rules.earn_cap, rules.earn_cap_period)
    _ensure_balance_row(session, advocate.id)
    session.execute(
        select(PointsBalance.advocate_id)
        .where(PointsBalance.advocate_id == advocate.id)
        .with_for_update()
    )
    period = period_keys(now, rules.time_zone)[rules.earn_cap_period]
    room = max(0, rules.earn_cap - total_in(session, advocate.id, period))
    return Allowance(min(wanted, room), wanted, rules.earn_cap, rules.earn_cap_period)


def hold(
    session: Session, advocate_id: int, amount: int, key: str, source_id: int, note: str = ""
) -> LedgerEntry:
    """Set points aside for a redemption, if the advocate has that many not already held."""
    changed = _change_balance(
        session,
        advocate_id,
        held=amount,
        where=PointsBalance.balance - PointsBalance.held >= amount,
    )
    if not changed:
        available = balance_of(session, advocate_id).available
        raise InsufficientPoints(
            f"This costs {amount:,} points and you have {available:,} available.", "reward_id"
        )
    return _book(
        session, advocate_id, 0, amount, key, EntrySource.REDEMPTION_HOLD, source_id, note, None
    )


def settle(
    session: Session,
    advocate_id: int,
    amount: int,
    key: str,
    source_id: int,
    spend: bool,
    actor: User | None,
    note: str = "",
) -> LedgerEntry:
    """Resolve a hold once (the key is shared by both outcomes): spend it, or give it back."""
    source = EntrySource.REDEMPTION_POST if spend else EntrySource.REDEMPTION_VOID
    entry = _book(
        session, advocate_id, -amount if spend else 0, -amount, key, source, source_id, note, actor
    )
    changed = _change_balance(
        session,
        advocate_id,
        balance=-amount if spend else 0,
        held=-amount,
        where=PointsBalance.held >= amount,
    )
    if not changed:  # the books disagree: never settle a hold that is not there
        raise AlreadyHandled("There is no such hold to settle.")
    return entry


def refund(
    session: Session,
    advocate_id: int,
    amount: int,
    key: str,
    source_id: int,
    actor: User,
    note: str,
) -> LedgerEntry:
    """Give back points spent on a fulfilled redemption: a new, reversing entry."""
    entry = _book(session, advocate_id, amount, 0, key, EntrySource.REFUND, source_id, note, actor)
    _change_balance(session, advocate_id, balance=amount)
    return entry


def adjust(
    session: Session, admin: User, advocate: User, amount: int, reason: str, key: str
) -> LedgerEntry:
    """A manual correction; a negative one can never take the balance below what is held."""
    if not amount:
        raise DomainError("Enter a number of points other than zero.", "amount")
    if not reason.strip():
        raise DomainError("Say why the balance is changing.", "reason")
    if advocate.role != "advocate":
        raise DomainError("Only advocates have points.")
    _ensure_balance_row(session, advocate.id)
    changed = _change_balance(
        session,
        advocate.id,
        balance=amount,
        where=PointsBalance.balance + amount >= PointsBalance.held,
    )
    if not changed:
        current = balance_of(session, advocate.id)
        raise InsufficientPoints(
            f"{advocate.display_name} has {current.balance:,} points, {current.held:,} of them "
            f"held for rewards: the balance can go down by at most {current.available:,}.",
            "amount",
        )
    entry = _book(
        session, advocate.id, amount, 0, key, EntrySource.ADJUSTMENT, None, reason.strip(), admin
    )
    add_to_totals(session, advocate, amount, entry.created_at)
    record_audit(
        session,
        admin,
        "points.adjust",
        advocate,
        f"Adjusted {advocate.display_name}'s points by {amount:+,}",
        reason=reason.strip(),
    )
    change = f"{amount:+,}"
    said = _l(
        "Your points were adjusted by %(change)s: %(reason)s", change=change, reason=reason.strip()
    )
    add_notification(session, advocate, Topic.REWARDS, said, "/hub/rewards")  # listed, not emailed
    return entry


def _book(
    session: Session,
    advocate_id: int,
    amount: int,
    hold_change: int,
    key: str,
    source: EntrySource,
    source_id: int | None,
    note: str,
    actor: User | None,
) -> LedgerEntry:
    entry = LedgerEntry(
        advocate_id=advocate_id,
        amount=amount,
        hold_change=hold_change,
        source=source,
        source_id=source_id,
        idempotency_key=key,
        note=note,
        actor_id=actor.id if actor else None,
    )
    with refuse_duplicates(session, AlreadyBooked("This was already booked.")):
        session.add(entry)
        session.flush()
    return entry


def _change_balance(
    session: Session, advocate_id: int, balance: int = 0, held: int = 0, earned: int = 0, where=None
) -> bool:
    """One conditional UPDATE of the balance row; False when the condition did not hold."""
    statement = (
        update(PointsBalance)
        .where(PointsBalance.advocate_id == advocate_id)
        .values(
            balance=PointsBalance.balance + balance,
            held=PointsBalance.held + held,
            lifetime_earned=PointsBalance.lifetime_earned + earned,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if where is not None:
        statement = statement.where(where)
    return bool(session.execute(statement).rowcount)


def _ensure_balance_row(session: Session, advocate_id: int) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(PointsBalance)
        .values(advocate_id=advocate_id, balance=0, held=0, lifetime_earned=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["advocate_id"])
    )


def balance_of(session: Session, advocate_id: int) -> PointsBalance:
    """The advocate's balance (a zero balance when they have never earned anything)."""
    row = session.scalar(select(PointsBalance).where(PointsBalance.advocate_id == advocate_id))
    return row or PointsBalance(advocate_id=advocate_id, balance=0, held=0, lifetime_earned=0)


@dataclass(frozen=True)
class Discrepancy:
    advocate_id: int
    field: str
    recorded: int
    from_ledger: int


def reconcile(session: Session) -> list[Discrepancy]:
    """Every balance row checked against the sums of its ledger entries."""
    ledger = {
        advocate_id: (balance, held, earned)
        for advocate_id, balance, held, earned in session.execute(
            select(
                LedgerEntry.advocate_id,
                func.sum(LedgerEntry.amount),
                func.sum(LedgerEntry.hold_change),
                func.sum(
                    case(
                        (LedgerEntry.source == EntrySource.SUBMISSION, LedgerEntry.amount), else_=0
                    )
                ),
            ).group_by(LedgerEntry.advocate_id)
        )
    }
    recorded = {
        row.advocate_id: (row.balance, row.held, row.lifetime_earned)
        for row in session.execute(select(PointsBalance.__table__))
    }
    found = []
    for advocate_id in sorted(ledger.keys() | recorded.keys()):
        mine, theirs = recorded.get(advocate_id, (0, 0, 0)), ledger.get(advocate_id, (0, 0, 0))
        for name, kept, summed in zip(
            ("balance", "held", "lifetime_earned"), mine, theirs, strict=True
        ):
            if (kept or 0) != (summed or 0):
                found.append(Discrepancy(advocate_id, name, kept or 0, summed or 0))
    return found
