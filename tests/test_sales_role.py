"""The sales role: staff who file reference requests, with no say over the program and no
part in it. Their home is their requests; every manager, admin and advocate page is closed
to them; admins invite them and move people to and from the role (audited); and they are
never advocates: no digest or advocate mail, no place on the advocates' boards."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from challenges.digests import send_digests
from points.leaderboard import top
from points.services import adjust
from portal.accounts.models import Account, AuditEvent, ConsentRecord, Role, User
from portal.accounts.queries import staff_choices
from portal.accounts.services import AccountFields, change_role, create_account
from portal.errors import DomainError
from tests.factories import SETTINGS, client_for, link_in, login
from tests.test_digests import digest_due_now

# pages of every other role, each behind its blueprint's gate
CLOSED_TO_SALES = (
    "/manage/",
    "/manage/challenges",
    "/manage/review",
    "/manage/thanks",
    "/manage/offers",
    "/manage/leaderboard",
    "/manage/invite",
    "/admin/",
    "/admin/users",
    "/admin/accounts",
    "/admin/audit",
    "/admin/redemptions",
    "/admin/rewards",
    "/hub/",
    "/hub/challenges",
    "/hub/rewards",
    "/hub/submissions",
    "/hub/profile",
    "/hub/notifications",
)


@pytest.fixture
def sales(make) -> User:
    return make.sales("sam.rivera@vouch.example", name="Sam Rivera")


def audited(session, action: str, target: User) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.action == action,
                AuditEvent.target_type == "user",
                AuditEvent.target_id == target.id,
            )
            .order_by(AuditEvent.id)
        )
    )


def test_a_sales_users_home_is_their_requests(app, sales):
    client = app.test_client()
    page = login(client, sales.email)
    html = page.get_data(as_text=True)

    assert page.request.path == "/references/"
    assert "Reference requests" in html
    for link in ("/references/", "/references/new", "/references/leaderboard"):
        assert f'href="{link}"' in html  # their navigation: requests, a new one, their board
    for staff_link in ('href="/manage/"', 'href="/manage/review"', 'href="/admin/"'):
        assert staff_link not in html
    assert client.get("/").headers["Location"].endswith("/references/")


def test_managers_have_a_references_menu(app, make):
    html = client_for(app, make.manager().email).get("/manage/").get_data(as_text=True)
    for link in (
        "/references/",
        "/references/asks/",
        "/references/surveys/",
        "/references/surveys/promoters",
        "/references/surveys/flags",
        "/references/timing",
        "/references/leaderboard",
        "/references/settings",
    ):
        assert f'href="{link}"' in html, link


@pytest.mark.parametrize("path", CLOSED_TO_SALES)
def test_manager_admin_and_advocate_pages_are_closed_to_sales(app, sales, path):
    assert client_for(app, sales.email).get(path).status_code == 403


def test_sales_see_an_advocates_profile_as_a_member_would(app, make, session, sales):
    account = make.account("Northwind Health")
    shown = make.advocate("ana@northwind.example", account=account)
    shown.name, shown.hide_company = "Ana Ruiz", True
    hidden = make.advocate("ben@northwind.example", account=account)
    hidden.hide_from_leaderboard = True
    session.commit()
    client = client_for(app, sales.email)

    profile = client.get(f"/hub/people/{shown.id}")

    assert profile.status_code == 200
    assert "Ana Ruiz" in profile.get_data(as_text=True)
    assert "Northwind Health" not in profile.get_data(as_text=True)  # she hid her company
    assert client.get(f"/hub/people/{hidden.id}").status_code == 404  # hidden from boards
    # a manager sees both, company included
    manager = client_for(app, make.manager().email)
    assert "Northwind Health" in manager.get(f"/hub/people/{shown.id}").get_data(as_text=True)


def test_an_admin_invites_a_sales_user_who_lands_on_their_requests(
    app, make, session, queued, client
):
    admin = make.admin()
    account = make.account("Northwind Health")
    login(client, admin.email)

    sent = client.post(
        "/admin/users/invite",
        data={"email": "Priya.Shah@vouch.example", "role": "sales", "account_id": account.id},
    )

    assert sent.status_code == 302
    user = session.scalar(select(User).where(User.email == "priya.shah@vouch.example"))
    assert user.role == Role.SALES and user.account_id is None  # no customer's account
    [message] = queued("priya.shah@vouch.example")
    assert "as sales" in message.body_text and "advocate" not in message.body_text
    [event] = audited(session, "user.invite", user)
    assert event.actor_id == admin.id and "sales" in event.summary
    client.post("/logout")

    path = link_in(message.body_text)
    accept = {"name": "Priya Shah", "password": "a-long-password-1"}
    page = client.post(path, data={**accept, "confirm": accept["password"]}, follow_redirects=True)

    assert page.request.path == "/references/"
    session.expire_all()
    user = session.get(User, user.id)
    assert user.consents == [] and not user.in_program  # never an advocate


def test_an_advocate_made_sales_leaves_the_program_and_back_is_audited(app, make, session, client):
    admin = make.admin()
    account = make.account("Northwind Health")
    advocate = make.advocate("ana@northwind.example", account=account)
    make.points(advocate, 120)
    assert [place.advocate.id for place in top(session, "all")] == [advocate.id]
    login(client, admin.email)

    made_sales = client.post(f"/admin/users/{advocate.id}/role", data={"role": "sales"})

    assert made_sales.status_code == 302
    session.expire_all()
    user = session.get(User, advocate.id)
    assert user.role == Role.SALES and not user.in_program
    [consent] = session.scalars(select(ConsentRecord).where(ConsentRecord.user_id == user.id))
    assert consent.opted_out_at is not None  # closed, not deleted: the history stays
    assert top(session, "all") == []  # off the advocates' boards at once
    [event] = audited(session, "user.role", user)
    assert event.actor_id == admin.id
    assert event.details["from_role"] == "advocate" and event.details["to_role"] == "sales"
    listing = client.get("/admin/users?role=sales").get_data(as_text=True)
    assert "ana@northwind.example" in listing and "Sales" in listing

    back = client.post(
        f"/admin/users/{advocate.id}/role", data={"role": "advocate", "account_id": account.id}
    )

    assert back.status_code == 302
    session.expire_all()
    user = session.get(User, advocate.id)
    assert user.role == Role.ADVOCATE and not user.in_program  # joins afresh from the hub
    assert [e.details["to_role"] for e in audited(session, "user.role", user)] == [
        "sales",
        "advocate",
    ]
    assert client_for(app, user.email).get("/hub/").headers["Location"].endswith("/hub/join")


def test_a_manager_made_sales_loses_the_program_pages(app, make, session):
    manager = make.manager("maya@vouch.example")
    client = client_for(app, manager.email)
    assert client.get("/manage/").status_code == 200

    change_role(session, make.admin(), manager.id, Role.SALES)
    session.commit()

    assert client.get("/manage/").status_code == 403
    assert client.get("/references/").status_code == 200


def test_sales_users_get_no_digest_and_no_advocate_mail(app, make, session, queued):
    account = make.account("Northwind Health")
    advocate = make.advocate("ana@northwind.example", account=account)
    was_advocate = make.advocate("ben@northwind.example", account=account)
    sales = make.sales("sam.rivera@vouch.example")
    sales.email_digests = True
    change_role(session, make.admin(), was_advocate.id, Role.SALES)
    session.get(User, was_advocate.id).email_digests = True
    session.commit()
    make.challenge("survey", title="Tell us about the beta")
    now = digest_due_now(session)

    report = send_digests(app.extensions["vouch.sessionmaker"], SETTINGS, now)

    assert report.sent == 1
    assert {m.to_email for m in queued() if m.kind == "digest"} == {advocate.email}
    assert queued(sales.email) == [] and queued(was_advocate.email) == []


def test_sales_users_have_no_points_and_are_on_no_advocate_board(app, make, session):
    sales = make.sales()
    advocate = make.advocate()
    make.points(advocate, 50)

    with pytest.raises(DomainError):
        adjust(session, make.admin(), sales, 100, "A thank-you", "sales-adjust")
    session.rollback()

    assert [place.advocate.id for place in top(session, "all")] == [advocate.id]
    client = client_for(app, sales.email)
    # the advocates' board sends them to their own, apart from it
    assert client.get("/hub/leaderboard").headers["Location"] == "/references/leaderboard"
    challenge = make.challenge("survey", title="Tell us about the beta")
    assert client.get(f"/hub/challenges/{challenge.id}").status_code == 403  # nothing to do
    assert client.post(f"/hub/challenges/{challenge.id}", data={}).status_code == 403


def test_a_sales_user_is_no_relationship_owner(make, session):
    sales = make.sales("sam.rivera@vouch.example")
    manager = make.manager("maya@vouch.example")

    assert [owner for owner, _ in staff_choices(session)] == [manager.id]
    with pytest.raises(DomainError, match="relationship owner"):
        create_account(session, None, AccountFields(name="Acme", owner_id=sales.id))
    session.rollback()
    assert session.scalar(select(Account).where(Account.name == "Acme")) is None


def test_the_invitation_form_says_what_each_role_may_do(app, make):
    page = client_for(app, make.admin().email).get("/admin/users/invite")
    html = page.get_data(as_text=True)
    assert '<option value="sales">Sales</option>' in html
    assert "Sales users file reference requests and see only their own" in html
