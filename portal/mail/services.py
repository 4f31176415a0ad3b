"""Queue email in the caller's transaction; deliver it later with retries and backoff."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import css_inline
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.accounts.models import User
from portal.config import PROJECT_ROOT
from portal.db import utcnow
from portal.i18n import day, get_translations, moment, money, number, whole_money
from portal.mail.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)

_templates = Environment(
    loader=FileSystemLoader(PROJECT_ROOT / "templates" / "mail"),
    autoescape=select_autoescape(enabled_extensions=("html",)),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    extensions=["jinja2.ext.i18n"],
)
# the strings follow the language of the moment (portal.i18n.speaking_as the recipient)
_templates.install_gettext_callables(
    gettext=lambda text: get_translations().ugettext(text),
    ngettext=lambda one, many, n: get_translations().ungettext(one, many, n),
    newstyle=True,
)
_templates.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
_templates.filters.update(
    moment=moment, day=day, number=number, money=money, whole_money=whole_money
)


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    body: str


def queue_email(
    session: Session,
    to: str,
    kind: str,
    subject: str,
    headers: dict[str, str] | None = None,
    attachment: Attachment | None = None,
    topic: str | None = None,
    **context,
) -> OutboxMessage:
    """Write the message to the outbox; it is sent only if the caller's transaction commits.

    The plain text comes from templates/mail/<kind>.txt; the HTML part, when the kind has
    one, from <kind>.html (which extends _layout.html), its CSS inlined for mail clients.
    """
    subject = " ".join(str(subject).split())  # one header line, whatever it was built from
    body = _templates.get_template(f"{kind}.txt").render(subject=subject, **context)
    try:
        html = _templates.get_template(f"{kind}.html").render(subject=subject, **context)
    except TemplateNotFound:
        html = ""
    message = OutboxMessage(
        to_email=to,
        subject=subject,
        body_text=body,
        body_html=css_inline.inline(html) if html else "",
        kind=kind,
        topic=topic,
        headers=headers or {},
    )
    if attachment is not None:
        message.attachment_name = attachment.name
        message.attachment_type = attachment.content_type
        message.attachment_body = attachment.body
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
    bounced: int = 0
    withheld: int = 0


class PermanentFailure(Exception):
    """The mail server refused the recipient for good (a 5xx answer): retrying cannot help."""


def deliver_due(
    sessions: sessionmaker,
    send: Callable[[OutboxMessage], None],
    limit: int = 100,
    still_wanted: Callable[[Session, OutboxMessage], bool] | None = None,
) -> DeliveryReport:
    """Send due messages one per transaction; a failure stays queued with its error.

    Each message is locked (skipping ones another sender holds), sent, and its outcome
    committed before the next, so two senders never send one message twice. A message
    `still_wanted` says no to (the gate asked again at sending time) is withheld, never sent.
    """
    report = DeliveryReport()
    for _ in range(limit):
        with sessions() as session, session.begin():
            message = session.scalar(
                select(OutboxMessage)
                .where(
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.bounced_at.is_(None),
                    OutboxMessage.withheld_at.is_(None),
                    OutboxMessage.next_attempt_at <= utcnow(),
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if message is None:
                break
            if still_wanted is not None and not still_wanted(session, message):
                message.withheld_at = utcnow()
                report.withheld += 1
                continue
            message.attempts += 1
            try:
                send(message)
            except PermanentFailure as error:
                message.last_error = str(error)[:2000]
                message.bounced_at = utcnow()
                mark_unreachable(session, message.to_email, message.last_error)
                report.bounced += 1
                log.warning("outbox message %s bounced: %s", message.id, message.last_error)
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


def mark_unreachable(session: Session, address: str, reason: str) -> None:
    """No more non-essential mail to an address its server refuses (portal.notifications
    reads the mark); managers see the list per account."""
    session.execute(
        update(User)
        .where(User.email == address, User.email_unreachable_at.is_(None))
        .values(email_unreachable_at=utcnow(), email_unreachable_reason=reason[:500])
    )


def print_to_console(message: OutboxMessage) -> None:
    print(
        f"\n----- email to {message.to_email} -----\nSubject: {message.subject}\n\n"
        f"{message.body_text}\n----- end of email -----",
        file=sys.stdout,
        flush=True,
    )
