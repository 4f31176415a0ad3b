"""Queue email in the caller's transaction; deliver it later with retries and backoff."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from portal.config import PROJECT_ROOT
from portal.db import utcnow
from portal.mail.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)

_templates = Environment(
    loader=FileSystemLoader(PROJECT_ROOT / "templates" / "mail"),
    autoescape=select_autoescape(enabled_extensions=("html",)),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def queue_email(session: Session, to: str, kind: str, subject: str, **context) -> OutboxMessage:
    """Write the message to the outbox; it is sent only if the caller's transaction commits."""
    subject = " ".join(subject.split())  # one header line, whatever text it was built from
    body = _templates.get_template(f"{kind}.txt").render(subject=subject, **context)
    message = OutboxMessage(to_email=to, subject=subject, body_text=body, kind=kind)
    session.add(message)
    return message


def message_id(message: OutboxMessage, domain: str) -> str:
    """The same Message-ID on every attempt: a message sent again after an unclear failure
    (the database lost before its sending was recorded) is recognisably one email."""
    return f"<outbox.{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain or 'vouch.invalid'}>"


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** (attempts - 1)), MAX_BACKOFF)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0


def deliver_due(
    sessions: sessionmaker,
    send: Callable[[OutboxMessage], None],
    limit: int = 100,
) -> DeliveryReport:
    """Send due messages one per transaction; a failure stays queued with its error.

    Each message is locked (skipping ones another sender holds), sent, and its outcome
    committed before the next, so two senders never send one message twice.
    """
    report = DeliveryReport()
    for _ in range(limit):
        with sessions() as session, session.begin():
            message = session.scalar(
                select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= utcnow())
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if message is None:
                break
            message.attempts += 1
            try:
                send(message)
            except Exception as error:  # noqa: BLE001 - any failure to send leaves it queued
                message.last_error = f"{type(error).__name__}: {error}"[:2000]
                message.next_attempt_at = utcnow() + backoff(message.attempts)
                report.failed += 1
                log.warning("outbox message %s not sent: %s", message.id, message.last_error)
            else:
                message.sent_at = utcnow()
                message.last_error = ""
                report.sent += 1
    return report


def print_to_console(message: OutboxMessage) -> None:
    print(
        f"\n----- email to {message.to_email} -----\nSubject: {message.subject}\n\n"
        f"{message.body_text}\n----- end of email -----",
        file=sys.stdout,
        flush=True,
    )
