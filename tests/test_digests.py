"""The weekly digest: what is new for each advocate, once a week, in their language."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from challenges.authoring import program_settings
from challenges.digests import due_week, send_digests, sending_time
from challenges.models import AdvocateGroup, DigestSent
from points.program import game_settings
from portal.accounts.models import AuditEvent
from portal.db import utcnow
from portal.i18n import _l, speaking_as
from portal.mail.models import OutboxMessage
from tests.factories import SETTINGS, book_at, login


def digest_due_now(session) -> datetime:
    """Make every week's digest due from Monday 00:00 (program time, UTC), so it is due
    now; return a moment an hour from now, when a run sends it."""
    now = utcnow() + timedelta(hours=1)
    rules = program_settings(session)
    rules.digest_weekday, rules.digest_hour = 0, 0
    session.commit()
    return now


def run(app, now: datetime | None = None) -> str:
    args = ["digests", "send"] + (["--now", now.isoformat()] if now else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def digests(queued, to: str | None = None) -> list[OutboxMessage]:
    return [message for message in queued(to) if message.kind == "digest"]


@pytest.fixture
def world(make, session):
    """Ana is in the beta group and has points for a mug; Ben is in neither."""
    account = make.account("Northwind")
    ana = make.advocate("ana@northwind.example", account=account)
    ben = make.advocate("ben@northwind.example", account=account)
    group = AdvocateGroup(name="Beta testers", members=[ana])
    session.add(group)
    session.commit()
    make.challenge("survey", title="Tell us about the beta", points=40, group_ids=[group.id])
    make.reward("Vouch mug", kind="swag", cost=100)
    make.reward("Weekend retreat", kind="experience", cost=5_000)
    make.points(ana, 150)
    return ana, ben


def test_a_targeted_advocate_gets_new_challenges_points_and_rewards_once_a_week(
    app, session, world, queued
):
    ana, ben = world
    now = digest_due_now(session)

    output = run(app, now)

    assert "1 queued, 1 with nothing new" in output  # Ben: the challenge is not for him
    [message] = digests(queued)
    assert message.to_email == ana.email
    assert message.subject == "Your week in the advocate hub"
    text = message.body_text
    assert "Tell us about the beta (40 points)" in text
    assert "Vouch mug (100 points)" in text
    assert "Weekend retreat" not in text  # not affordable
    assert "Available: 150" in text and "Held for your requests: 0" in text
    assert "Earned in all: 150" in text
    assert "Your place on this month's board: #1" in text
    assert "http://vouch.test/hub/challenges/" in text
    assert 'lang="en"' in message.body_html and "Vouch mug" in message.body_html
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.headers["List-Unsubscribe"].startswith("<http://vouch.test/unsubscribe/")
    week = session.scalar(select(DigestSent.week).where(DigestSent.user_id == ana.id))
    assert week == f"{now.isocalendar()[0]}-W{now.isocalendar()[1]:02d}"


def test_a_second_run_in_the_week_sends_nothing_twice(app, make, session, world, queued):
    ana, ben = world
    now = digest_due_now(session)
    run(app, now)
    make.challenge("survey", title="Open to all")  # news for both since the first run

    output = run(app, now + timedelta(minutes=5))

    assert "1 queued" in output  # Ben's first digest; Ana had hers this week
    assert sorted(message.to_email for message in digests(queued)) == [ana.email, ben.email]
    assert session.scalar(select(func.count()).select_from(DigestSent)) == 2


def test_nothing_new_means_no_digest_and_the_next_week_looks_again(
    app, make, session, world, queued
):
    ana, _ben = world
    now = digest_due_now(session)
    run(app, now)
    assert len(digests(queued, ana.email)) == 1

    # a week on, nothing new was published and no reward came within reach
    assert "0 queued, 2 with nothing new" in run(app, now + timedelta(days=7))
    book_at(session, ana, 5_000, now + timedelta(days=7))  # earned after that run
    session.commit()
    assert "1 queued" in run(app, now + timedelta(days=7, minutes=1))
    second = digests(queued, ana.email)[-1].body_text
    assert "Weekend retreat (5,000 points)" in second
    assert "Vouch mug" not in second  # she could afford it last week already
    assert "Tell us about the beta" not in second  # told last week


def test_no_digest_before_the_programs_day_and_hour(app, session, world, queued):
    rules = program_settings(session)
    rules.digest_weekday, rules.digest_hour = 0, 9  # Monday 09:00, program time
    game_settings(session).time_zone = "Europe/Madrid"
    session.commit()
    monday = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)  # 08:30 in Madrid

    assert "not yet" in run(app, monday)
    assert digests(queued) == []
    assert sending_time(monday, "Europe/Madrid", 0, 9) == datetime(2026, 11, 30, 8, tzinfo=UTC)
    assert due_week(session, monday + timedelta(hours=1)) == "2026-W49"


def test_who_may_not_be_emailed_gets_no_digest(app, make, session, world, queued):
    ana, ben = world
    make.challenge("survey", title="Open to all")
    ana.email_digests = False
    ben.email_unreachable_at, ben.email_unreachable_reason = utcnow(), "550 5.1.1 unknown"
    left = make.advocate("cy@northwind.example", account=ana.account)
    session.commit()
    client = app.test_client()
    login(client, left.email)
    client.post("/hub/leave", data={"confirm": "y"})

    assert "0 queued" in run(app, digest_due_now(session))
    assert digests(queued) == []


def test_the_digest_is_written_in_the_advocates_language(app, make, session, world, queued):
    ana, _ben = world
    ana.locale = "es"
    session.commit()
    make.points(ana, 14_850)

    run(app, digest_due_now(session))

    [message] = digests(queued)
    with app.test_request_context(), speaking_as(ana):
        assert message.subject == str(_l("Your week in the advocate hub"))
    assert 'lang="es"' in message.body_html
    assert "15.000" in message.body_text  # Spanish digit grouping, not 15,000


def test_the_day_and_hour_are_program_settings_and_audited(app, make, session, client):
    manager = make.manager()
    login(client, manager.email)
    page = client.get("/manage/settings")
    assert b"Weekly digest day" in page.data and b"Weekly digest hour" in page.data

    client.post(
        "/manage/settings",
        data={
            "high_effort_per_advocate": 2,
            "high_effort_per_account": 6,
            "high_effort_window_days": 90,
            "thank_you_template": "Thanks {name}",
            "digest_weekday": 4,
            "digest_hour": 17,
        },
    )

    session.expire_all()
    rules = program_settings(session)
    assert (rules.digest_weekday, rules.digest_hour) == (4, 17)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "program.settings"))
    assert event.details == {"digest_weekday": 4, "digest_hour": 17}
    assert "weekly digest on day 4 (0 = Monday) at 17:00" in event.summary


def test_a_day_outside_the_week_is_refused_beside_the_field(app, make, session, client):
    login(client, make.manager().email)
    answer = client.post(
        "/manage/settings",
        data={
            "high_effort_per_advocate": 2,
            "high_effort_per_account": 6,
            "high_effort_window_days": 90,
            "digest_weekday": 9,
            "digest_hour": 9,
        },
    )
    assert answer.status_code == 422
    assert b'id="digest_weekday-errors"' in answer.data
    assert program_settings(session).digest_weekday == 0


@pytest.mark.postgres
def test_two_senders_at_once_send_one_digest_each(app, make, session, postgres_only, queued):
    account = make.account()
    advocates = make.many_advocates(40, account=account)
    make.challenge("survey", title="For everyone")
    now = digest_due_now(session)
    sessions = app.extensions["vouch.sessionmaker"]
    barrier = threading.Barrier(2)
    reports = [None, None]

    def sender(i):
        with app.app_context():
            barrier.wait()
            reports[i] = send_digests(sessions, SETTINGS, now, batch=7)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    sent = digests(queued)
    assert sorted(m.to_email for m in sent) == sorted(a.email for a in advocates)
    assert sum(report.sent for report in reports) == 40
    assert session.scalar(select(func.count()).select_from(DigestSent)) == 40
    with app.app_context():  # a third run finds everyone served
        assert send_digests(sessions, SETTINGS, now).sent == 0


def test_the_outbox_watcher_sends_the_weeks_digests_once(app, make, session, world, queued):
    from portal.cli import _digests_once_a_week

    ana, _ben = world
    digest_due_now(session)
    sessions = app.extensions["vouch.sessionmaker"]
    with app.app_context():
        week = _digests_once_a_week(sessions, None)
        assert week is not None and len(digests(queued, ana.email)) == 1
        make.challenge("survey", title="Open to all")  # news for Ben, but the pass is done
        assert _digests_once_a_week(sessions, week) == week
    assert [m.to_email for m in digests(queued)] == [ana.email]


def test_one_advocates_error_does_not_stop_the_others(app, session, world, queued, monkeypatch):
    """A digest that cannot be built (bad data, a bug) is logged and counted; the run goes on
    to everyone else, and the command exits 1 so cron reports it."""
    import challenges.digests as module

    ana, ben = world
    real = module.build_digest

    def broken_for_ben(session, advocate, *args):
        if advocate.id == ben.id:
            raise RuntimeError("bad data")
        return real(session, advocate, *args)

    monkeypatch.setattr(module, "build_digest", broken_for_ben)
    now = digest_due_now(session)
    report = module.send_digests(app.extensions["vouch.sessionmaker"], SETTINGS, now)
    assert (report.sent, report.failed) == (1, 1)
    assert [message.to_email for message in digests(queued)] == [ana.email]
