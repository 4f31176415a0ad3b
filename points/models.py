"""The ledger (append-only, integer entries) and one balance row per advocate."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.db import Base, utcnow


class EntrySource(StrEnum):
    SUBMISSION = "submission"
    ADJUSTMENT = "adjustment"
    REDEMPTION_HOLD = "redemption_hold"
    REDEMPTION_POST = "redemption_post"
    REDEMPTION_VOID = "redemption_void"
    REFUND = "refund"
    EXPIRY = "expiry"


class LedgerEntry(Base):
    """One movement of points. Never updated or deleted (a trigger refuses both)."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int]
    source: Mapped[str] = mapped_column(String(30))
    source_id: Mapped[int | None]
    # e.g. "submission:42": the same event can never be booked twice
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    advocate: Mapped[User] = relationship(foreign_keys=[advocate_id])


class PointsBalance(Base):
    """An advocate's points, changed only by conditional updates beside a ledger entry."""

    __tablename__ = "points_balances"
    __table_args__ = (
        CheckConstraint("held >= 0", name="held_not_negative"),
        CheckConstraint("balance >= held", name="balance_covers_held"),
        CheckConstraint("lifetime_earned >= 0", name="lifetime_not_negative"),
    )

    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(default=0)
    held: Mapped[int] = mapped_column(default=0)
    lifetime_earned: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def available(self) -> int:
        return self.balance - self.held
