"""Event challenges (webinars): a real event time, a join link only for those who RSVP'd, an
.ics invite (downloaded, and attached to the RSVP email) and one reminder the day before."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from challenges.authoring import GroupFields, save_group
from challenges.events import remind
from challenges.models import Challenge, EventReminder, Submission
from challenges.services import withdraw
from portal.accounts.models import User
from portal.db import utcnow
from portal.mail.models import OutboxMessage
from tests.factories import SETTINGS, login

JOIN = "https://meet.vouch.example/roadmap"


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def webinar(make, event_at=None, **fields):
    fields.setdefault("join_url", JOIN)
    fields.setdefault("event_minutes", 45)
    return make.challenge(
        "webinar",
        title=fields.pop("title", "Roadmap preview"),
        event_at=event_at or utcnow() + timedelta(days=3),
        **fields,
    )


def messages(session, kind: str, to: str | None = None) -> list[OutboxMessage]:
    session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.to_email == to)
    return list(session.scalars(query))


def parse(ics: str):
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    return event


def rsvp(client, challenge):
    return client.post(f"/hub/challenges/{challenge.id}", data={}, follow_redirects=True)


# --- authoring -----------------------------------------------------------------------------


WEBINAR_FORM = {
    "type": "webinar",
    "title": "Spring webinar",
    "points": "50",
    "event_role": "attend",
    "event_minutes": "45",
    "join_url": JOIN,
    "limit_kind": "once",
    "limit_period": "month",
    "approval": "manual",
}


def test_a_webinars_time_is_read_in_the_authors_zone_and_stored_utc(client, make, session):
    manager = make.manager()
    session.get(User, manager.id).time_zone = "Europe/Madrid"
    session.commit()
    login(client, manager.email)
    form = text_of(client.get("/manage/challenges/new?type=webinar"))
    assert "When the event starts" in form and "In your time zone (CET)." in form
    answer = client.post(
        "/manage/challenges/new", data={**WEBINAR_FORM, "event_at": "2026-12-10T18:00"}
    )
    assert answer.status_code == 302
    challenge = session.scalar(select(Challenge).where(Challenge.title == "Spring webinar"))
    assert challenge.event_at == datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
    assert (challenge.event_minutes, challenge.join_url) == (45, JOIN)
    assert "event_at" not in challenge.config  # a real column now, not text
    detail = text_of(client.get(f"/manage/challenges/{challenge.id}"))
    assert "Event: 10 Dec 2026, 18:00 CET" in detail and f"Join link {JOIN}" in detail
    assert "Length 45 minutes" in detail
    edit = client.get(f"/manage/challenges/{challenge.id}/edit").get_data(as_text=True)
    assert 'value="2026-12-10T18:00"' in edit and f'value="{JOIN}"' in edit


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"event_at": ""}, "event_at", "Give the date and time of the event."),
        (
            {"event_at": "2026-12-10T18:00", "join_url": "http://meet.vouch.example/x"},
            "join_url",
            "starting with https://",
        ),
        (
            {"event_at": "2026-12-10T18:00", "join_url": "javascript:alert(1)"},
            "join_url",
            "https://",
        ),
        ({"event_at": "2026-12-10T18:00", "event_minutes": "0"}, "event_minutes", "1,440"),
    ],
)
def test_a_webinar_needs_a_time_and_an_https_join_link(
    client, make, session, change, field, message
):
    login(client, make.manager().email)
    answer = client.post("/manage/challenges/new", data={**WEBINAR_FORM, **change})
    assert answer.status_code == 422
    errors = re.search(rf'id="{field}-errors">(.*?)</div>', answer.get_data(as_text=True), re.S)
    assert errors and message in errors.group(1)
    assert session.scalar(select(func.count()).select_from(Challenge)) == 0


def test_other_types_keep_no_event_time(client, make, session):
    survey = make.challenge("survey", event_at=utcnow(), join_url=JOIN, event_minutes=30)
    assert (survey.event_at, survey.event_minutes, survey.join_url) == (None, None, "")


def test_a_copy_keeps_the_event(client, make, session):
    original = webinar(make)
    login(client, make.manager().email)
    client.post(f"/manage/challenges/{original.id}/duplicate")
    copy = session.scalar(select(Challenge).where(Challenge.title.startswith("Copy of")))
    assert (copy.event_at, copy.event_minutes, copy.join_url) == (
        original.event_at,
        45,
        JOIN,
    )


# --- what advocates see --------------------------------------------------------------------


def test_the_card_and_page_show_the_event_time_in_the_readers_zone(client, make, session):
    webinar(make, event_at=datetime(2030, 3, 14, 16, 0, tzinfo=UTC))
    advocate = make.advocate()
    session.get(User, advocate.id).time_zone = "Europe/Madrid"
    session.commit()
    login(client, advocate.email)
    cards = text_of(client.get("/hub/challenges"))
    assert "Event: 14 Mar 2030, 17:00 CET" in cards and "No deadline" not in cards
    challenge = session.scalar(select(Challenge))
    page = text_of(client.get(f"/hub/challenges/{challenge.id}"))
    assert "When: 14 Mar 2030, 17:00 CET · 45 minutes" in page


def test_an_older_event_whose_time_is_text_shows_it_as_written(client, make, session):
    challenge = webinar(make)
    row = session.get(Challenge, challenge.id)
    row.event_at = None
    row.config = {**row.config, "event_at": "4 December, 17:00 UTC"}
    session.commit()
    login(client, make.advocate().email)
    assert "Event: 4 December, 17:00 UTC" in text_of(client.get("/hub/challenges"))
    page = client.get(f"/hub/challenges/{challenge.id}")
    assert "4 December, 17:00 UTC" in text_of(page)
    assert client.get(f"/hub/challenges/{challenge.id}/event.ics").status_code == 404


def test_the_join_link_is_shown_only_to_advocates_who_rsvpd(client, make, session):
    challenge = webinar(make)
    other = make.advocate()
    login(client, make.advocate().email)
    before = client.get(f"/hub/challenges/{challenge.id}").get_data(as_text=True)
    assert JOIN not in before and "RSVP to get the link to join." in before
    rsvp(client, challenge)
    after = client.get(f"/hub/challenges/{challenge.id}").get_data(as_text=True)
    assert f'href="{JOIN}"' in after and 'data-testid="join-link"' in after
    [submission] = session.scalars(select(Submission))
    client.post(f"/hub/submissions/{submission.id}/withdraw")
    withdrawn = client.get(f"/hub/challenges/{challenge.id}").get_data(as_text=True)
    assert JOIN not in withdrawn
    client.post("/logout")
    login(client, other.email)
    assert JOIN not in client.get(f"/hub/challenges/{challenge.id}").get_data(as_text=True)


def test_the_ics_download_names_the_event_in_utc_and_joins_only_the_rsvpd(client, make, session):
    start = datetime(2030, 3, 14, 16, 0, tzinfo=UTC)
    challenge = webinar(make, event_at=start)
    login(client, make.advocate().email)
    download = client.get(f"/hub/challenges/{challenge.id}/event.ics")
    assert download.mimetype == "text/calendar"
    assert f'filename="event-{challenge.id}.ics"' in download.headers["Content-Disposition"]
    event = parse(download.get_data(as_text=True))
    page = f"http://vouch.test/hub/challenges/{challenge.id}"
    assert str(event["uid"]) == f"challenge-{challenge.id}@vouch.test"
    assert event.decoded("dtstart") == start and event.decoded("dtstart").utcoffset() == timedelta(
        0
    )
    assert event.decoded("dtend") == start + timedelta(minutes=45)
    assert "DTSTART:20300314T160000Z" in download.get_data(as_text=True)
    assert str(event["summary"]) == "Roadmap preview"
    assert str(event["url"]) == page and JOIN not in download.get_data(as_text=True)
    rsvp(client, challenge)
    again = parse(client.get(f"/hub/challenges/{challenge.id}/event.ics").get_data(as_text=True))
    assert str(again["uid"]) == str(event["uid"])  # one calendar entry, updated
    assert str(again["url"]) == JOIN and JOIN in str(again["description"])


def test_the_ics_is_for_advocates_who_can_see_the_challenge(client, make, session):
    group = save_group(session, make.manager(), GroupFields(name="Reference-ready", region="Mars"))
    session.commit()
    targeted = webinar(make, group_ids=[group.id])
    draft = webinar(make, title="Not yet", publish=False)
    login(client, make.advocate().email)
    assert client.get(f"/hub/challenges/{targeted.id}/event.ics").status_code == 404
    assert client.get(f"/hub/challenges/{draft.id}/event.ics").status_code == 404
    assert client.get("/hub/challenges/999999/event.ics").status_code == 404


# --- the RSVP email ------------------------------------------------------------------------


def test_the_rsvp_email_carries_the_invite(client, make, session, outbox):
    start = datetime(2030, 3, 14, 16, 0, tzinfo=UTC)
    challenge = webinar(make, event_at=start)
    advocate = make.advocate()
    session.get(User, advocate.id).time_zone = "Europe/Madrid"
    session.commit()
    login(client, advocate.email)
    assert "on the list" in text_of(rsvp(client, challenge))
    [message] = messages(session, "event_rsvp")
    assert message.subject == "You're on the list: Roadmap preview"
    assert message.attachment_name == "event.ics"
    assert message.attachment_type == "text/calendar; method=REQUEST"
    calendar = Calendar.from_ical(message.attachment_body)
    assert str(calendar["method"]) == "REQUEST"
    event = parse(message.attachment_body)
    assert event.decoded("dtstart") == start and str(event["url"]) == JOIN
    assert str(event["attendee"]) == f"mailto:{advocate.email}"
    assert "14 Mar 2030, 17:00 CET" in message.body_text and JOIN in message.body_text
    assert JOIN in message.body_html and "List-Unsubscribe" in message.headers
    [sent] = [m for m in outbox.deliver() if m.subject == message.subject]
    assert sent.recipients == [advocate.email]
    [attached] = sent.attachments
    assert (attached.filename, attached.content_type) == ("event.ics", message.attachment_type)
    assert parse(attached.data)["uid"] == event["uid"]


def test_no_rsvp_email_for_someone_who_turned_events_off(client, make, session):
    challenge = webinar(make)
    advocate = make.advocate()
    session.get(User, advocate.id).email_events = False
    session.commit()
    login(client, advocate.email)
    rsvp(client, challenge)
    assert messages(session, "event_rsvp") == []
    assert session.scalar(select(func.count()).select_from(Submission)) == 1


# --- the reminder --------------------------------------------------------------------------


def test_reminders_go_once_to_the_rsvpd_of_events_in_the_next_day(app, make, session):
    tomorrow = webinar(make, event_at=utcnow() + timedelta(hours=20))
    next_week = webinar(make, title="Later", event_at=utcnow() + timedelta(days=7))
    going, withdrawn, later = make.advocate(), make.advocate(), make.advocate()
    make.submission(tomorrow, going)
    gone = make.submission(tomorrow, withdrawn)
    make.submission(next_week, later)
    withdraw(session, session.get(User, withdrawn.id), gone.id)
    session.commit()

    first = remind(session, SETTINGS)
    session.commit()
    assert (first.events, first.queued) == (1, 1)
    [reminder] = messages(session, "event_reminder")
    assert reminder.to_email == going.email
    assert reminder.subject == "Tomorrow: Roadmap preview"
    assert JOIN in reminder.body_text and f"/hub/challenges/{tomorrow.id}/event.ics" in (
        reminder.body_text
    )
    again = remind(session, SETTINGS)
    session.commit()
    assert again.queued == 0 and len(messages(session, "event_reminder")) == 1
    # the day before next week's event, its advocate is reminded (and only then)
    assert remind(session, SETTINGS, now=next_week.event_at - timedelta(hours=2)).queued == 1
    session.commit()
    assert [m.to_email for m in messages(session, "event_reminder")] == [going.email, later.email]


def test_the_events_remind_command_says_what_it_did(app, make, session):
    challenge = webinar(make, event_at=utcnow() + timedelta(hours=3))
    advocate = make.advocate()
    session.get(User, advocate.id).time_zone = "Europe/Madrid"
    session.commit()
    make.submission(challenge, advocate)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["events", "remind"])
    assert first.exit_code == 0 and "1 reminder(s) for 1 event(s)" in first.output
    second = runner.invoke(args=["events", "remind"])
    assert "0 reminder(s) for 1 event(s)" in second.output
    [reminder] = messages(session, "event_reminder")
    assert re.search(r"It starts .* \d\d:\d\d CES?T and lasts 45 minutes", reminder.body_text)


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_only")
def test_two_reminder_runs_at_once_remind_each_advocate_once(app, make, session):
    challenge = webinar(make, event_at=utcnow() + timedelta(hours=6))
    advocates = make.many_advocates(12)
    for advocate in advocates:
        make.submission(challenge, advocate)
    maker = app.extensions["vouch.sessionmaker"]
    runs = 4
    barrier = threading.Barrier(runs)
    reports, failures = [], []

    def run() -> None:
        with maker() as own:
            barrier.wait(timeout=30)
            try:
                reports.append(remind(own, SETTINGS))
                own.commit()
            except Exception as error:  # noqa: BLE001 - any error fails the test below
                failures.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sum(report.queued for report in reports) == len(advocates)
    sent = [m.to_email for m in messages(session, "event_reminder")]
    assert sorted(sent) == sorted(a.email for a in advocates)
    assert session.scalar(select(func.count()).select_from(EventReminder)) == len(advocates)


def test_the_outbox_watch_loop_queues_due_reminders_each_cycle(app, make, session):
    from portal.cli import _remind_events

    challenge = webinar(make, event_at=utcnow() + timedelta(hours=3))
    make.submission(challenge, make.advocate())
    with app.app_context():
        _remind_events(app.extensions["vouch.sessionmaker"])
        _remind_events(app.extensions["vouch.sessionmaker"])  # the next cycle: nothing new
    assert len(messages(session, "event_reminder")) == 1
