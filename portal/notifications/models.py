"""What the hub tells a person (the notifications list), and the kinds of news they may
choose to receive by email."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.accounts.models import _in
from portal.db import Base, DerivedText, utcnow


class Topic(StrEnum):
    """A kind of non-essential news; each has its own email switch on the profile
    (the `email_<topic>` column on users). Must-send mail (password reset, invitation)
    has no topic and no switch."""

    RESULTS = "results"  # challenge results: approvals and rejections
    REWARDS = "rewards"  # redemption updates, points about to expire
    THANKS = "thanks"  # thank-yous and gift offers
    GAME = "game"  # levels and badges
    EVENTS = "events"  # event invitations and day-before reminders
    DIGESTS = "digests"  # the weekly digest

    @property
    def column(self) -> str:
        return f"email_{self.value}"


class Notification(Base):
    """One line in a person's notifications list; unread until they open the list."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(_in("topic", Topic), name="topic_known"),
        Index("ix_notifications_user", "user_id", "id"),
        Index(
            "ix_notifications_unread",
            "user_id",
            sqlite_where=text("read_at IS NULL"),
            postgresql_where=text("read_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    topic: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(DerivedText(300))
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
