"""The only code that moves points: an entry and its balance change in one transaction."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from points.models import EntrySource, LedgerEntry, PointsBalance
from portal.accounts.models import User
from portal.db import refuse_duplicates, utcnow
from portal.errors import AlreadyHandled, DomainError


class AlreadyBooked(AlreadyHandled):
    """The idempotency key is taken: this event was booked before."""


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
    entry = LedgerEntry(
        advocate_id=advocate.id,
        amount=amount,
        source=source,
        source_id=source_id,
        idempotency_key=key,
        note=note,
        actor_id=actor.id if actor else None,
    )
    with refuse_duplicates(session, AlreadyBooked("These points were already awarded.")):
        session.add(entry)
        session.flush()
    _ensure_balance_row(session, advocate.id)
    session.execute(
        update(PointsBalance)
        .where(PointsBalance.advocate_id == advocate.id)
        .values(
            balance=PointsBalance.balance + amount,
            lifetime_earned=PointsBalance.lifetime_earned + amount,
            updated_at=utcnow(),
        )
    )
    return entry


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


def entries_of(session: Session, advocate_id: int, limit: int = 50) -> list[LedgerEntry]:
    return list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.advocate_id == advocate_id)
            .order_by(LedgerEntry.id.desc())
            .limit(limit)
        )
    )
