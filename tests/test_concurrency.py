"""Races fired at PostgreSQL: threads released together by a barrier, each a real request."""

import threading

import pytest
from sqlalchemy import func, select

from portal.accounts.models import ConsentRecord, GiftPolicyRequest, Invitation, Role, User
from tests.factories import link_in, login

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("postgres_only")]


def logged_in(app, emails):
    clients = []
    for email in emails:
        client = app.test_client()
        login(client, email)
        clients.append(client)
    return clients


def race(clients, request):
    """Fire `request(client, i)` from every client at the same moment; return the answers."""
    barrier = threading.Barrier(len(clients))
    answers = [None] * len(clients)

    def fire(i):
        barrier.wait()
        answers[i] = request(clients[i], i)

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_two_admins_demoting_each_other_leave_one_admin(app, make, session):
    first, second = make.admin("first@vouch.example"), make.admin("second@vouch.example")
    targets = [second.id, first.id]
    answers = race(
        logged_in(app, [first.email, second.email]),
        lambda client, i: client.post(f"/admin/users/{targets[i]}/role", data={"role": "manager"}),
    )
    codes = sorted(a.status_code for a in answers)
    assert codes in ([302, 403], [302, 422])  # the loser is refused (or already demoted)
    assert 500 not in codes
    admins = session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
    )
    assert admins == 1


def test_one_invitation_accepted_twice_at_once_is_accepted_once(app, make, session, outbox):
    manager = make.manager()
    account = make.account()
    client = app.test_client()
    login(client, manager.email)
    client.post("/manage/invite", data={"account_id": account.id, "addresses": "a@x.example"})
    path = link_in(outbox.deliver()[0].body)

    def accept(client, i):
        password = f"password-number-{i}"
        return client.post(
            path,
            data={"name": f"Tab {i}", "password": password, "confirm": password, "consent": "y"},
        )

    answers = race([app.test_client() for _ in range(6)], accept)
    codes = sorted(a.status_code for a in answers)
    assert codes.count(302) == 1
    assert set(codes) == {302, 400}
    assert session.scalar(select(func.count()).select_from(ConsentRecord)) == 1
    assert (
        session.scalar(
            select(func.count()).select_from(Invitation).where(Invitation.accepted_at.is_not(None))
        )
        == 1
    )


def test_double_clicked_join_and_no_gifts_make_one_record_each(app, make, session):
    advocate = make.advocate(opted_in=False)
    joins = race(
        logged_in(app, [advocate.email] * 5),
        lambda client, i: client.post("/hub/join", data={"consent": "y"}),
    )
    assert all(a.status_code in (200, 302) for a in joins)
    assert session.scalar(select(func.count()).select_from(ConsentRecord)) == 1

    declines = race(
        logged_in(app, [advocate.email] * 5),
        lambda client, i: client.post("/hub/profile", data={"name": "A", "declines_gifts": "y"}),
    )
    assert all(a.status_code in (200, 302) for a in declines)
    assert session.scalar(select(func.count()).select_from(GiftPolicyRequest)) == 1


def test_the_same_address_invited_by_two_managers_at_once_is_one_user(app, make, session, queued):
    managers = [make.manager() for _ in range(4)]
    account = make.account()
    answers = race(
        logged_in(app, [m.email for m in managers]),
        lambda client, i: client.post(
            "/manage/invite", data={"account_id": account.id, "addresses": "same@x.example"}
        ),
    )
    assert all(a.status_code == 200 for a in answers)
    assert (
        session.scalar(select(func.count()).select_from(User).where(User.email == "same@x.example"))
        == 1
    )
    assert len(queued("same@x.example")) >= 1
