"""The outbox: written with its cause, delivered later, never lost when SMTP is down."""

from datetime import timedelta

from sqlalchemy import select, update

from portal.cli import _send_with_flask_mail
from portal.db import utcnow
from portal.mail.models import OutboxMessage
from portal.mail.services import backoff, deliver_due
from tests.conftest import make_test_app
from tests.factories import login


def test_smtp_down_keeps_the_message_queued_with_its_error_then_retries(
    app, database_url, client, make, session, outbox
):
    client.post("/forgot", data={"email": make.advocate("ana@example.com").email})
    smtp_down = make_test_app(
        database_url, MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=1
    )  # nothing listens on port 1
    with smtp_down.app_context():
        report = deliver_due(smtp_down.extensions["vouch.sessionmaker"], _send_with_flask_mail)
    smtp_down.extensions["vouch.engine"].dispose()
    assert (report.sent, report.failed) == (0, 1)
    message = session.scalar(select(OutboxMessage))
    assert message.sent_at is None
    assert message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert message.next_attempt_at > utcnow() + timedelta(seconds=50)

    assert outbox.deliver() == []  # not due yet
    session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    session.commit()
    [delivered] = outbox.deliver()
    assert delivered.recipients == ["ana@example.com"]
    session.refresh(message)
    assert message.sent_at is not None
    assert message.attempts == 2
    assert message.last_error == ""
    assert outbox.deliver() == []  # sent once only


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(30) == timedelta(hours=1)


def test_mail_is_written_only_if_its_cause_commits(client, make, queued):
    manager = make.manager()
    login(client, manager.email)
    client.post("/manage/invite", data={"account_id": 999_999, "addresses": "a@example.com"})
    assert queued() == []


def test_console_delivery_prints_the_mail(app, database_url, make, client, capsys):
    client.post("/forgot", data={"email": make.advocate("ana@example.com").email})
    console = make_test_app(database_url, MAIL_CONSOLE=True)
    result = console.test_cli_runner().invoke(args=["outbox", "send"])
    console.extensions["vouch.engine"].dispose()
    assert result.exit_code == 0
    assert "----- email to ana@example.com -----" in result.output
    assert "/reset/" in result.output
