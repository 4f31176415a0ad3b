"""Thank-yous: every approved completion is owed one, and the program measures how fast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Interval, delete, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from challenges.models import ThanksByDay, ThankYou
from portal.accounts.models import User
from portal.accounts.services import record_audit
from portal.config import Settings
from portal.db import get_or_refuse, utcnow
from portal.errors import AlreadyHandled, DomainError
from portal.i18n import _
from portal.notifications.models import Topic
from portal.notifications.services import notify

PROMPT_DAYS = 7
SHARE_WINDOW_DAYS = 90


def owe_thanks(session: Session, submission_id: int) -> None:
    """An approved completion is owed a thank-you; the day's count goes up with it."""
    item = ThankYou(submission_id=submission_id, created_at=utcnow())
    session.add(item)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ThanksByDay.__table__
    session.execute(
        dialect.insert(table)
        .values(day=_day(item.created_at), owed=1, thanked=0, on_time=0)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"owed": table.c.owed + 1})
    )


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def get_thank_you(session: Session, thank_you_id: int) -> ThankYou:
    return get_or_refuse(session, ThankYou, thank_you_id, _("There is no such thank-you."))


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
        by = item.thanked_by.display_name if item.thanked_by else _("someone")
        raise AlreadyHandled(
            _("%(by)s already thanked %(name)s.", by=by, name=item.submission.advocate.display_name)
        )
    on_time = item.thanked_at - item.created_at <= timedelta(days=PROMPT_DAYS)
    counted = session.execute(
        update(ThanksByDay)
        .where(ThanksByDay.day == _day(item.created_at))
        .values(thanked=ThanksByDay.thanked + 1, on_time=ThanksByDay.on_time + int(on_time))
    ).rowcount
    if not counted:  # the day was never counted (dates set by hand): count them all again
        recount_thanks_by_day(session)


def send_thank_you(
    session: Session,
    settings: Settings,
    staff: User,
    thank_you_id: int,
    subject: str,
    message: str,
) -> ThankYou:
    if not message.strip():
        raise DomainError(_("Write the message."), "message")
    if not subject.strip():
        raise DomainError(_("Give the email a subject."), "subject")
    item = get_thank_you(session, thank_you_id)
    _close(session, staff, item, "email", "")
    advocate = item.submission.advocate
    # written by staff, so sent as written (not translated)
    notify(
        session,
        settings,
        advocate,
        Topic.THANKS,
        "thank_you",
        subject.strip(),
        link=f"{settings.public_url}/hub/",
        message=message.strip(),
    )
    record_audit(
        session, staff, "thanks.email", advocate, f"Thanked {advocate.display_name} by email"
    )
    return item


def mark_thanked(session: Session, staff: User, thank_you_id: int, note: str) -> ThankYou:
    if not note.strip():
        raise DomainError(_("Say how you thanked them (a call, a handwritten card…)."), "note")
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
    """Of the thank-yous owed for completions of the 90 days before the last week (each
    one's week is over), how many were said within 7 days. Read from the daily counts."""
    today = (now or utcnow()).date()
    owed, on_time = session.execute(
        select(
            func.coalesce(func.sum(ThanksByDay.owed), 0),
            func.coalesce(func.sum(ThanksByDay.on_time), 0),
        ).where(
            ThanksByDay.day >= today - timedelta(days=SHARE_WINDOW_DAYS + PROMPT_DAYS),
            ThanksByDay.day < today - timedelta(days=PROMPT_DAYS),
        )
    ).one()
    return ThanksShare(on_time=on_time, due=owed)


def recount_thanks_by_day(session: Session) -> None:
    """Rebuild the daily counts from the thank-yous themselves (after a bulk load, or data
    whose dates were set by hand)."""
    session.execute(delete(ThanksByDay))
    session.execute(
        insert(ThanksByDay).from_select(
            ["day", "owed", "thanked", "on_time"], _counted_from_thank_yous(session)
        )
    )


def thanks_by_day_differences(session: Session) -> list[str]:
    """Days whose stored counts differ from the thank-yous (for `points reconcile`)."""
    counted = _counted_from_thank_yous(session).subquery()
    stored = {
        row.day: (row.owed, row.thanked, row.on_time)
        for row in session.scalars(select(ThanksByDay))
    }
    differences = []
    for day, *fresh in session.execute(select(counted)):
        day = day if isinstance(day, date) else date.fromisoformat(day)
        if stored.pop(day, None) != tuple(fresh):
            differences.append(
                f"thanks_by_day {day}: the thank-yous say owed, said, on time = {tuple(fresh)}"
            )
    differences += [f"thanks_by_day {day}: counted, but no thank-you that day" for day in stored]
    return differences


def _counted_from_thank_yous(session: Session):
    """(day, owed, thanked, on time) per day of completion, from the thank-yous (UTC days)."""
    if session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone("UTC", ThankYou.created_at))
        week = literal(timedelta(hours=24 * PROMPT_DAYS), Interval())  # hours, not days
        in_time = ThankYou.thanked_at <= ThankYou.created_at + week
    else:
        day = func.date(ThankYou.created_at)
        days = func.julianday(ThankYou.thanked_at) - func.julianday(ThankYou.created_at)
        in_time = days <= PROMPT_DAYS
    return select(
        day, func.count(), func.count(ThankYou.thanked_at), func.count().filter(in_time)
    ).group_by(day)


def open_count(session: Session) -> int:
    """Thank-yous owed and not yet said, from the daily counts (one row a day)."""
    return session.scalar(
        select(func.coalesce(func.sum(ThanksByDay.owed - ThanksByDay.thanked), 0))
    )
