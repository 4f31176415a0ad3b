from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, DerivedText, utcnow


class OutboxMessage(Base):
    """An email waiting to be delivered (or delivered: rows are kept as a record)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(DerivedText(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    # extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post (RFC 8058)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    # one optional attachment, e.g. an event's .ics invite
    attachment_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    attachment_type: Mapped[str] = mapped_column(String(100), default="", server_default="")
    attachment_body: Mapped[str] = mapped_column(Text, default="", server_default="")
    kind: Mapped[str] = mapped_column(String(40))
    # the kind of news (portal.notifications.Topic) for non-essential mail; NULL: must-send
    topic: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]
    # set when the server refused the recipient for good (a 5xx answer): never retried
    bounced_at: Mapped[datetime | None]
    # set when, at sending time, the gate said no (the person left, turned the kind off or
    # bounced since the message was queued): never sent
    withheld_at: Mapped[datetime | None]
