"""Invitation -> opt-in, and everything that can go wrong with the link."""

from datetime import timedelta

from sqlalchemy import select, update

from portal.accounts.models import ConsentRecord, Invitation, User
from portal.config import TERMS_VERSION
from portal.db import utcnow
from tests.factories import link_in, login


def invite(client, make, addresses: str, account=None):
    manager = make.manager()
    account = account or make.account("Northwind Health")
    login(client, manager.email)
    response = client.post(
        "/manage/invite",
        data={"account_id": account.id, "addresses": addresses},
        follow_redirects=True,
    )
    client.post("/logout")
    return response


def accept(client, path, name="Ana Ruiz", password="a-long-password-1", consent=True, **extra):
    data = {"name": name, "password": password, "confirm": password, **extra}
    if consent:
        data["consent"] = "y"
    return client.post(path, data=data, follow_redirects=True)


def test_invited_advocate_follows_link_opts_in_and_sees_the_hub(client, make, outbox, session):
    invite(client, make, "Ana.Ruiz@Northwind.example ")
    [message] = outbox.deliver()
    assert message.recipients == ["ana.ruiz@northwind.example"]
    assert "Northwind Health" in message.body and "expires in 7 days" in message.body

    path = link_in(message.body)
    page = client.get(path)
    assert b"ana.ruiz@northwind.example" in page.data and b"Join the hub" in page.data

    hub = accept(client, path)
    assert b"Welcome back, Ana Ruiz" in hub.data
    user = session.scalar(select(User).where(User.email == "ana.ruiz@northwind.example"))
    [consent] = user.consents
    assert consent.terms_version == TERMS_VERSION and consent.opted_out_at is None
    assert (utcnow() - consent.opted_in_at) < timedelta(minutes=1)


def test_link_works_once(client, make, outbox):
    invite(client, make, "ana@northwind.example")
    path = link_in(outbox.deliver()[0].body)
    accept(client, path)
    client.post("/logout")
    again = client.get(path)
    assert again.status_code == 400 and b"already used" in again.data
    assert accept(client, path, password="another-password-2").status_code == 400
    assert b"Welcome back" in login(client, "ana@northwind.example", "a-long-password-1").data


def test_expired_and_tampered_links_are_refused(client, make, outbox, session):
    invite(client, make, "ana@northwind.example")
    path = link_in(outbox.deliver()[0].body)

    tampered = client.get(path[:-3] + "xyz")
    assert tampered.status_code == 400 and b"not valid" in tampered.data

    session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    expired = client.get(path)
    assert expired.status_code == 400 and b"expired" in expired.data
    assert (
        session.scalar(select(User.password_hash).where(User.email == "ana@northwind.example"))
        is None
    )


def test_missing_consent_weak_password_and_mismatch_are_explained(client, make, outbox, session):
    invite(client, make, "ana@northwind.example")
    path = link_in(outbox.deliver()[0].body)

    no_consent = accept(client, path, consent=False)
    assert b"Tick the box to join the program." in no_consent.data
    short = accept(client, path, password="short")
    assert b"Use at least 10 characters." in short.data
    same_as_email = accept(client, path, password="ana@northwind.example")
    assert b"must not be your email address" in same_as_email.data
    mismatch = client.post(
        path,
        data={
            "name": "Ana",
            "password": "a-long-password-1",
            "confirm": "different-password",
            "consent": "y",
        },
    )
    assert b"The passwords differ." in mismatch.data

    user = session.scalar(select(User).where(User.email == "ana@northwind.example"))
    assert user.password_hash is None
    assert session.scalar(select(ConsentRecord).where(ConsentRecord.user_id == user.id)) is None
    assert b"Welcome back" in accept(client, path).data  # the link still works after mistakes


def test_pasted_list_reports_each_line_and_invites_the_valid_ones(client, make, outbox):
    existing = make.advocate("kim@northwind.example")
    response = invite(
        client,
        make,
        "ana@northwind.example, not-an-email\nAna <ANA@northwind.example>\n"
        f"{existing.email}; bo@northwind.example\n\n",
    )
    rows = response.data.decode()
    assert "2 of 5 invited to Northwind Health." in rows
    assert "not-an-email is not a valid email address" in rows
    assert "Listed twice: invited once." in rows
    assert "kim@northwind.example is already a member." in rows
    sent = sorted(m.recipients[0] for m in outbox.deliver())
    assert sent == ["ana@northwind.example", "bo@northwind.example"]


def test_staff_invitation_needs_no_consent(client, make, outbox, session):
    admin = make.admin()
    login(client, admin.email)
    client.post(
        "/admin/users/invite",
        data={"email": "new.manager@vouch.example", "role": "manager", "account_id": "None"},
    )
    client.post("/logout")
    path = link_in(outbox.deliver()[0].body)
    page = accept(client, path, name="Nia Manager", consent=False)
    assert b"Advocate program" in page.data  # the manager dashboard
    user = session.scalar(select(User).where(User.email == "new.manager@vouch.example"))
    assert user.role == "manager" and user.consents == []


def test_reinviting_a_pending_person_sends_a_fresh_link(client, make, outbox):
    invite(client, make, "ana@northwind.example")
    first = link_in(outbox.deliver()[0].body)
    account = make.account("Second Account")
    invite(client, make, "ana@northwind.example", account=account)
    second = link_in(outbox.deliver()[0].body)
    assert first != second
    accept(client, second)
    assert client.get(first).status_code == 400
