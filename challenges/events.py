"""Event challenges (webinars): who has RSVP'd, the calendar invite, the RSVP email and the
day-before reminder.

An advocate has RSVP'd while they hold a pending or approved submission to the event; only
they see its join link, in the page and in their invite. The reminder is recorded before it
is queued, under UNIQUE (challenge, advocate), so two runs at once never send it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from challenges.models import (
    ACTIVE,
    Challenge,
    ChallengeStatus,
    EventReminder,
    Submission,
)
from portal.accounts.models import Role, User
from portal.config import Settings
from portal.db import utcnow
from portal.i18n import _l
from portal.mail.services import Attachment
from portal.notifications.models import Topic
from portal.notifications.services import notify

DEFAULT_MINUTES = 60  # an event whose length was not given
REMIND_WITHIN = timedelta(hours=24)  # "the day before": events starting in the next 24 hours
INVITE_TYPE = "text/calendar; method=REQUEST"


def has_rsvped(session: Session, advocate_id: int, challenge_id: int) -> bool:
    """A pending or approved submission to the event (an RSVP, or attendance confirmed)."""
    found = session.scalar(
        select(Submission.id)
        .where(
            Submission.challenge_id == challenge_id,
            Submission.advocate_id == advocate_id,
            Submission.status.in_(ACTIVE),
        )
        .limit(1)
    )
    return found is not None


def ends_at(challenge: Challenge) -> datetime:
    return challenge.event_at + timedelta(minutes=challenge.event_minutes or DEFAULT_MINUTES)


def challenge_url(settings: Settings, challenge: Challenge) -> str:
    return f"{settings.public_url}/hub/challenges/{challenge.id}"


def invite(
    settings: Settings,
    challenge: Challenge,
    rsvped: bool,
    attendee: User | None = None,
    now: datetime | None = None,
) -> str:
    """The event as an iCalendar file. Its UID is the challenge's, so a calendar that imports
    it again (or a second invite) updates the one entry. The join link goes only to those who
    RSVP'd; everyone else gets the challenge's page, where they can RSVP.

    With an `attendee` it is an invitation (METHOD:REQUEST, for the RSVP email), otherwise a
    published event (a download)."""
    page = challenge_url(settings, challenge)
    where = challenge.join_url if rsvped and challenge.join_url else page
    calendar = Calendar()
    calendar.add("prodid", "-//Vouch//Advocate hub//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST" if attendee is not None else "PUBLISH")
    event = Event()
    event.add("uid", f"challenge-{challenge.id}@{_host(settings)}")
    event.add("dtstamp", (now or utcnow()).astimezone(UTC))
    event.add("dtstart", challenge.event_at.astimezone(UTC))
    event.add("dtend", ends_at(challenge).astimezone(UTC))
    event.add("summary", challenge.title)
    event.add("description", _description(challenge, where, page))
    event.add("url", where)
    if rsvped and challenge.join_url:
        event.add("location", challenge.join_url)
    if attendee is not None:
        name, address = parseaddr(settings.mail_sender)
        organizer = vCalAddress(f"mailto:{address or 'hub@' + _host(settings)}")
        organizer.params["cn"] = vText(name or "Vouch")
        event.add("organizer", organizer)
        guest = vCalAddress(f"mailto:{attendee.email}")
        guest.params["cn"] = vText(attendee.display_name)
        guest.params["partstat"] = vText("ACCEPTED")
        guest.params["rsvp"] = vText("FALSE")
        event.add("attendee", guest)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def _description(challenge: Challenge, where: str, page: str) -> str:
    body = (challenge.body or "").strip()
    lines = [body[:2000]] if body else []
    lines.append(where if where == page else f"{where}\n\n{page}")
    return "\n\n".join(lines)


def _host(settings: Settings) -> str:
    return urlsplit(settings.public_url).hostname or "vouch.invalid"


def send_rsvp(session: Session, settings: Settings, advocate: User, challenge: Challenge) -> None:
    """Tell the advocate they are on the list, with the invite attached (when the event has
    a time: an older event whose time is only text has no invite)."""
    attachment = None
    if challenge.event_at is not None:
        attachment = Attachment(
            "event.ics", INVITE_TYPE, invite(settings, challenge, True, attendee=advocate)
        )
    notify(
        session,
        settings,
        advocate,
        Topic.EVENTS,
        "event_rsvp",
        _l("You're on the list: %(title)s", title=challenge.title),
        link=challenge_url(settings, challenge),
        attachment=attachment,
        **_mail_context(settings, advocate, challenge),
    )


def _mail_context(settings: Settings, advocate: User, challenge: Challenge) -> dict:
    return {
        "name": advocate.display_name,
        "title": challenge.title,
        "event_at": challenge.event_at,
        "event_text": challenge.config.get("event_at", ""),  # an older event's time, as written
        "minutes": challenge.event_minutes or DEFAULT_MINUTES,
        "join_url": challenge.join_url,
        "ics_url": f"{challenge_url(settings, challenge)}/event.ics",
    }


@dataclass
class ReminderReport:
    events: int = 0
    queued: int = 0  # reminders recorded now (each told once, by email if they may be)


def remind(session: Session, settings: Settings, now: datetime | None = None) -> ReminderReport:
    """Remind everyone who RSVP'd to an event starting in the next 24 hours, once each."""
    now = now or utcnow()
    report = ReminderReport()
    soon = session.scalars(
        select(Challenge)
        .where(
            Challenge.status == ChallengeStatus.PUBLISHED,
            Challenge.event_at > now,
            Challenge.event_at <= now + REMIND_WITHIN,
        )
        .order_by(Challenge.event_at, Challenge.id)
    ).all()
    for challenge in soon:
        report.events += 1
        for advocate in _rsvped(session, challenge.id):
            if _record_reminder(session, challenge.id, advocate.id, now):
                notify(
                    session,
                    settings,
                    advocate,
                    Topic.EVENTS,
                    "event_reminder",
                    _l("Tomorrow: %(title)s", title=challenge.title),
                    link=challenge_url(settings, challenge),
                    **_mail_context(settings, advocate, challenge),
                )
                report.queued += 1
    return report


def _rsvped(session: Session, challenge_id: int) -> list[User]:
    rsvps = (
        select(Submission.advocate_id)
        .where(Submission.challenge_id == challenge_id, Submission.status.in_(ACTIVE))
        .distinct()
    )
    return list(
        session.scalars(
            select(User).where(User.id.in_(rsvps), User.role == Role.ADVOCATE).order_by(User.id)
        )
    )


def _record_reminder(session: Session, challenge_id: int, user_id: int, now: datetime) -> bool:
    """Insert first: a second run (even one at the same moment) finds the row and stops."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    recorded = session.execute(
        insert(EventReminder)
        .values(challenge_id=challenge_id, user_id=user_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["challenge_id", "user_id"])
        .returning(EventReminder.id)  # (rowcount is -1 when the driver returns the key)
    ).scalar()
    return recorded is not None
