"""Keeping the list true: the yearly "still at this company?", leaving the company, and
addresses that bounce (a real local SMTP server refusing the recipient)."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from portal.accounts.models import AuditEvent, ConsentRecord, ProfileConfirmation, User
from portal.accounts.queries import with_member_counts
from portal.db import utcnow
from portal.mail.bounces import permanent_refusal
from portal.mail.models import OutboxMessage
from portal.notifications.models import Topic
from portal.notifications.services import notify
from tests.conftest import make_test_app
from tests.factories import SETTINGS, login

SMTP_PORT = 5121  # this suite's own port (5120-5129)


def joined_days_ago(session, user: User, days: int) -> None:
    session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.user_id == user.id)
        .values(opted_in_at=utcnow() - timedelta(days=days))
    )
    session.commit()


@pytest.fixture
def northwind(make):
    owner = make.manager("maya@vouch.example")
    account = make.account("Northwind", owner_id=owner.id)
    return account, owner


# --- the yearly confirmation ------------------------------------------------------------


def test_an_advocate_who_joined_over_a_year_ago_confirms_their_role_on_their_next_visit(
    client, make, session, northwind
):
    account, _owner = northwind
    ana = make.advocate("ana@northwind.example", account=account)
    ana.title, ana.job_level = "Marketing manager", "manager"
    session.commit()
    joined_days_ago(session, ana, 400)
    login(client, ana.email, follow=False)

    home = client.get("/hub/challenges")
    assert home.status_code == 302
    assert home.headers["Location"] == "/hub/confirm?next=/hub/challenges"
    page = client.get("/hub/confirm?next=/hub/challenges").get_data(as_text=True)
    assert "Still at Northwind?" in page
    assert 'value="Marketing manager"' in page  # prefilled
    assert '<option selected value="manager">' in page

    answer = client.post(
        "/hub/confirm?next=/hub/challenges",
        data={"still_there": "yes", "title": "VP Marketing", "job_level": "vp"},
    )

    assert answer.headers["Location"] == "/hub/challenges"
    session.expire_all()
    ana = session.get(User, ana.id)
    assert (ana.title, ana.job_level) == ("VP Marketing", "vp")
    assert utcnow() - ana.profile_confirmed_at < timedelta(minutes=1)
    [confirmation] = session.scalars(select(ProfileConfirmation)).all()
    assert (confirmation.still_at_company, confirmation.account_id) == (True, account.id)
    assert (confirmation.title, confirmation.job_level) == ("VP Marketing", "vp")
    assert client.get("/hub/").status_code == 200  # asked once, not again


def test_nobody_is_asked_within_the_year(client, make, session):
    recent = make.advocate()
    joined_days_ago(session, recent, 300)
    login(client, recent.email)
    assert client.get("/hub/").status_code == 200
    confirmed = make.advocate()
    joined_days_ago(session, confirmed, 900)
    confirmed.profile_confirmed_at = utcnow() - timedelta(days=30)
    session.commit()
    login(client, confirmed.email)
    assert client.get("/hub/").status_code == 200


def test_a_confirmation_older_than_a_year_is_asked_again(client, make, session):
    ana = make.advocate()
    ana.profile_confirmed_at = utcnow() - timedelta(days=366)
    session.commit()
    login(client, ana.email)
    assert client.get("/hub/rewards").headers["Location"].startswith("/hub/confirm")
    assert client.get("/hub/leave").status_code == 200  # leaving stays open


def test_the_answer_is_required_beside_the_question(client, make, session):
    ana = make.advocate()
    joined_days_ago(session, ana, 400)
    login(client, ana.email)
    answer = client.post("/hub/confirm", data={"title": "CTO"})
    assert b'id="still_there-errors"' in answer.data
    assert b"Tell us whether you still work there." in answer.data
    assert session.scalar(select(ProfileConfirmation)) is None


def test_one_who_left_is_moved_out_and_the_accounts_owner_is_told(
    app, client, make, session, northwind, queued
):
    account, owner = northwind
    stays = make.advocate("bo@northwind.example", account=account)
    ana = make.advocate("ana@northwind.example", account=account)
    ana.name, ana.title = "Ana Ruiz", "Marketing manager"
    session.commit()
    joined_days_ago(session, ana, 400)
    login(client, ana.email)

    answer = client.post("/hub/confirm", data={"still_there": "left"}, follow_redirects=True)

    assert "You have left Northwind" in answer.get_data(as_text=True)
    session.expire_all()
    ana = session.get(User, ana.id)
    assert ana.left_company_at is not None and not ana.in_program
    assert ana.account_id == account.id  # their history stays with the account
    assert ana.status == "left the company"
    consent = session.scalar(select(ConsentRecord).where(ConsentRecord.user_id == ana.id))
    assert consent.opted_out_at is not None
    [confirmation] = session.scalars(select(ProfileConfirmation)).all()
    assert confirmation.still_at_company is False
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.left_company"))
    assert (event.actor_id, event.target_id) == (ana.id, ana.id)
    [told] = [m for m in queued(owner.email) if m.kind == "advocate_left"]
    assert told.subject == "Ana Ruiz has left Northwind"
    assert "ana@northwind.example" in told.body_text
    assert f"http://vouch.test/manage/accounts/{account.id}" in told.body_text
    assert "Northwind" in told.body_html
    # no longer a member: not counted, and the join page does not take them back
    [row] = with_member_counts(session, [account])
    assert (row.advocates, row.opted_in) == (1, 1)
    assert stays.in_program
    assert "You have left Northwind" in client.get("/hub/join").get_data(as_text=True)
    assert client.post("/hub/join", data={"consent": "y"}).status_code == 200
    assert not session.get(User, ana.id).in_program
    # and the program emails them nothing more
    assert notify(session, SETTINGS, ana, Topic.RESULTS, "thank_you", "Hi", message="x") is None


def test_staff_see_who_left_on_the_dashboard_and_the_account(app, client, make, session, northwind):
    account, owner = northwind
    ana = make.advocate("ana@northwind.example", account=account)
    joined_days_ago(session, ana, 400)
    advocate = app.test_client()
    login(advocate, ana.email)
    advocate.post("/hub/confirm", data={"still_there": "left"})

    login(client, owner.email)
    dashboard = client.get("/manage/").get_data(as_text=True)
    assert "Left their company lately" in dashboard
    assert f'href="/manage/accounts/{account.id}#left">Northwind</a>' in dashboard
    people = client.get(f"/manage/accounts/{account.id}").get_data(as_text=True)
    leavers = people.split('data-testid="leavers"')[1]
    assert "ana@northwind.example" in leavers
    accounts = client.get("/manage/accounts").get_data(as_text=True)
    assert f'href="/manage/accounts/{account.id}">Northwind</a>' in accounts


# --- addresses that bounce --------------------------------------------------------------


class RefusingHandler:
    """Accepts mail, except for addresses it refuses: 550 (for good) or 450 (try later)."""

    def __init__(self, refuse: dict[str, str]):
        self.refuse = refuse
        self.delivered: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.delivered.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def smtp_server():
    handler = RefusingHandler(
        {
            "gone@northwind.example": "550 5.1.1 <gone@northwind.example>: user unknown",
            "busy@northwind.example": "450 4.2.1 Mailbox busy, try again later",
        }
    )
    controller = Controller(handler, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def mail_app(app, database_url):
    smtp_app = make_test_app(
        database_url, MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=SMTP_PORT
    )
    yield smtp_app
    smtp_app.extensions["vouch.engine"].dispose()


def send_outbox(mail_app) -> str:
    return mail_app.test_cli_runner().invoke(args=["outbox", "send"]).output


def thank(session, user: User) -> OutboxMessage | None:
    message = notify(session, SETTINGS, user, Topic.THANKS, "thank_you", "Thank you", message="hi")
    session.commit()
    return message


def test_a_550_to_the_recipient_marks_the_address_unreachable_and_stops_non_essential_mail(
    mail_app, client, make, session, smtp_server, queued
):
    gone = make.advocate("gone@northwind.example")
    fine = make.advocate("fine@northwind.example")
    bounced, delivered = thank(session, gone), thank(session, fine)

    send_outbox(mail_app)

    assert smtp_server.delivered == ["fine@northwind.example"]
    session.expire_all()
    gone = session.get(User, gone.id)
    assert gone.email_unreachable_at is not None
    assert gone.email_unreachable_reason.startswith("550 5.1.1")
    assert session.get(User, fine.id).email_unreachable_at is None
    message = session.get(OutboxMessage, bounced.id)
    assert message.bounced_at is not None and message.attempts == 1
    assert session.get(OutboxMessage, delivered.id).sent_at is not None
    send_outbox(mail_app)  # never retried
    session.expire_all()
    assert session.get(OutboxMessage, bounced.id).attempts == 1

    assert thank(session, gone) is None  # non-essential mail stops
    client.post("/forgot", data={"email": gone.email})  # must-send mail still goes
    assert [m.kind for m in queued(gone.email)] == ["thank_you", "password_reset"]


def test_a_450_is_retried_and_marks_nothing(mail_app, make, session, smtp_server):
    busy = make.advocate("busy@northwind.example")
    message = thank(session, busy)

    send_outbox(mail_app)

    session.expire_all()
    row = session.get(OutboxMessage, message.id)
    assert row.bounced_at is None and row.sent_at is None
    assert row.attempts == 1 and "450" in row.last_error
    assert row.next_attempt_at > utcnow()
    assert session.get(User, busy.id).email_unreachable_at is None


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x.example": (550, b"5.1.1 unknown")}), True),
        (smtplib.SMTPRecipientsRefused({"a@x.example": (451, b"4.3.0 later")}), False),
        (smtplib.SMTPDataError(550, b"5.1.1 Recipient address rejected"), True),
        (smtplib.SMTPDataError(554, b"5.7.1 Message refused as spam"), False),
        (smtplib.SMTPDataError(452, b"4.2.2 Mailbox full"), False),
        (smtplib.SMTPSenderRefused(550, b"5.7.1 sender denied", "hub@vouch.example"), False),
        (smtplib.SMTPServerDisconnected("gone"), False),
    ],
)
def test_only_a_permanent_refusal_of_the_recipient_is_a_bounce(error, permanent):
    assert (permanent_refusal(error) is not None) == permanent


def test_managers_see_unreachable_advocates_per_account_and_clear_the_mark(
    client, make, session, northwind
):
    account, owner = northwind
    gone = make.advocate("gone@northwind.example", account=account)
    other = make.advocate("elsewhere@example.com")  # another account's
    for person in (gone, other):
        person.email_unreachable_at = utcnow()
        person.email_unreachable_reason = "550 5.1.1 user unknown"
    session.commit()
    login(client, owner.email)

    page = client.get(f"/manage/accounts/{account.id}").get_data(as_text=True)
    table = page.split('data-testid="unreachable"')[1].split("</table>")[0]
    assert "gone@northwind.example" in table and "550 5.1.1 user unknown" in table
    assert "elsewhere@example.com" not in table

    answer = client.post(f"/manage/users/{gone.id}/reachable", follow_redirects=True)

    assert "gone@northwind.example will get email from the program again." in answer.get_data(
        as_text=True
    )
    session.expire_all()
    assert session.get(User, gone.id).email_unreachable_at is None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.reachable"))
    assert (event.actor_id, event.target_id) == (owner.id, gone.id)
    again = client.post(f"/manage/users/{gone.id}/reachable", follow_redirects=True)
    assert "is not marked unreachable" in again.get_data(as_text=True)


def test_a_double_yes_confirms_once(app, make, session, northwind):
    from portal.auth.confirmation import confirm_profile
    from portal.errors import AlreadyHandled

    account, _owner = northwind
    advocate = make.advocate("twice@north.example", account=account)
    with app.extensions["vouch.sessionmaker"]() as second:
        also = second.get(User, advocate.id)  # the second request read the row before the first
        second.expunge(also)
        second.rollback()  # (SQLite: its write lock waits for the first to commit)
        confirm_profile(session, advocate, "CTO", None)
        session.commit()
        second.add(also)
        with pytest.raises(AlreadyHandled):
            confirm_profile(second, also, "CTO", None)
        second.rollback()
    rows = session.scalars(
        select(ProfileConfirmation).where(ProfileConfirmation.user_id == advocate.id)
    )
    assert len(list(rows)) == 1


def test_a_staff_address_that_bounced_can_be_cleared_by_an_admin(app, make, session):
    owner = make.manager("owner@vouch.example")
    admin = make.admin("root@vouch.example")
    session.execute(
        update(User)
        .where(User.id == owner.id)
        .values(email_unreachable_at=utcnow(), email_unreachable_reason="550 5.1.1 no such user")
    )
    session.commit()
    client = app.test_client()
    login(client, admin.email)
    page = client.get(f"/admin/users/{owner.id}").get_data(as_text=True)
    assert "550 5.1.1 no such user" in page and "Address fixed: email again" in page
    cleared = client.post(f"/manage/users/{owner.id}/reachable", follow_redirects=True)
    assert "owner@vouch.example will get email from the program again." in cleared.get_data(
        as_text=True
    )
    session.expire_all()
    assert session.get(User, owner.id).email_unreachable_at is None
