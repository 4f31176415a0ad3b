"""Thank-yous: every approved completion is owed one, and the program measures how fast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from challenges.models import ThankYou
from portal.accounts.models import User
from portal.accounts.services import record_audit
from portal.db import get_or_refuse, utcnow
from portal.errors import AlreadyHandled, DomainError
from portal.mail.services import queue_email

PROMPT_DAYS = 7
SHARE_WINDOW_DAYS = 90


def get_thank_you(session: Session, thank_you_id: int) -> ThankYou:
    return get_or_refuse(session, ThankYou, thank_you_id, "There is no such thank-you.")


def draft_message(template: str, item: ThankYou, sender: User) -> str:
    submission = item.submission
    what = (
        f"“{submission.challenge.title}”" if submission.challenge else submission.description[:120]
    )
    values = {"name": submission.advocate.display_name, "what": what, "sender": sender.display_name}
    # only these three placeholders: a hand-edited template is text, never format() code
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def _close(session: Session, staff: User, item: ThankYou, method: str, note: str) -> None:
    closed = session.execute(
        update(ThankYou)
        .where(ThankYou.id == item.id, ThankYou.thanked_at.is_(None))
        .values(thanked_at=utcnow(), thanked_by_id=staff.id, method=method, note=note)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(item)
    if not closed:
        by = item.thanked_by.display_name if item.thanked_by else "someone"
        raise AlreadyHandled(f"{by} already thanked {item.submission.advocate.display_name}.")


def send_thank_you(
    session: Session, staff: User, thank_you_id: int, subject: str, message: str
) -> ThankYou:
    if not message.strip():
        raise DomainError("Write the message.", "message")
    if not subject.strip():
        raise DomainError("Give the email a subject.", "subject")
    item = get_thank_you(session, thank_you_id)
    _close(session, staff, item, "email", "")
    advocate = item.submission.advocate
    queue_email(session, advocate.email, "thank_you", subject.strip(), message=message.strip())
    record_audit(
        session, staff, "thanks.email", advocate, f"Thanked {advocate.display_name} by email"
    )
    return item


def mark_thanked(session: Session, staff: User, thank_you_id: int, note: str) -> ThankYou:
    if not note.strip():
        raise DomainError("Say how you thanked them (a call, a handwritten card…).", "note")
    item = get_thank_you(session, thank_you_id)
    _close(session, staff, item, "other", note.strip())
    advocate = item.submission.advocate
    record_audit(
        session,
        staff,
        "thanks.other",
        advocate,
        f"Thanked {advocate.display_name}: {note.strip()}",
    )
    return item


@dataclass(frozen=True)
class ThanksShare:
    on_time: int
    due: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.on_time / self.due) if self.due else None


def thanked_within_a_week(session: Session, now: datetime | None = None) -> ThanksShare:
    """Of the last 90 days' thank-yous whose week is over (or that were said), how many
    were said within 7 days."""
    now = now or utcnow()
    week = timedelta(days=PROMPT_DAYS)
    rows = session.execute(
        select(ThankYou.created_at, ThankYou.thanked_at).where(
            ThankYou.created_at >= now - timedelta(days=SHARE_WINDOW_DAYS),
            (ThankYou.thanked_at.is_not(None)) | (ThankYou.created_at <= now - week),
        )
    ).all()
    on_time = sum(1 for made, said in rows if said is not None and said - made <= week)
    return ThanksShare(on_time=on_time, due=len(rows))


def open_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(ThankYou.thanked_at.is_(None)))
