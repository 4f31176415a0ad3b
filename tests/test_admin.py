"""Admins: accounts, gift policies with their audit trail, users and roles."""

from sqlalchemy import select

from portal.accounts.models import Account, AuditEvent, GiftPolicyChange, GiftPolicyRequest, User
from portal.accounts.services import set_declines_gifts
from tests.factories import login


def as_admin(client, make):
    admin = make.admin("root@vouch.example")
    login(client, admin.email)
    return admin


def test_admin_creates_and_edits_an_account(client, make, session):
    admin = as_admin(client, make)
    owner = make.manager("owner@vouch.example")
    page = client.post(
        "/admin/accounts/new",
        data={
            "name": "Northwind Health",
            "industry": "Healthcare",
            "segment": "Enterprise",
            "region": "EMEA",
            "arr": "480000",
            "owner_id": str(owner.id),
        },
        follow_redirects=True,
    )
    assert b"Account Northwind Health created." in page.data
    assert b"$480,000" in page.data
    account = session.scalar(select(Account).where(Account.name == "Northwind Health"))
    assert (account.segment, account.region, account.owner_id) == ("Enterprise", "EMEA", owner.id)

    client.post(
        f"/admin/accounts/{account.id}/edit",
        data={
            "name": "Northwind Health Group",
            "arr": "500000",
            "owner_id": "None",
            "segment": "Enterprise",
            "region": "EMEA",
        },
    )
    session.refresh(account)
    assert (account.name, account.arr, account.owner_id) == ("Northwind Health Group", 500000, None)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == admin.id))
    assert list(actions) == ["account.create", "account.update"]


def test_bad_account_input_is_explained_beside_the_field(client, make, session):
    as_admin(client, make)
    make.account("Globex")
    blank = {"segment": "", "region": "", "owner_id": "None"}
    duplicate = client.post("/admin/accounts/new", data={"name": "globex", "arr": "-5", **blank})
    assert duplicate.status_code == 422
    assert b"Enter a whole amount, 0 or more." in duplicate.data
    named = client.post("/admin/accounts/new", data={"name": "GLOBEX ", "arr": "10", **blank})
    assert b"An account named GLOBEX already exists." in named.data
    empty = client.post("/admin/accounts/new", data={"name": "", "arr": "ten", **blank})
    assert b"Give the account a name." in empty.data
    assert b"Enter a whole number, such as 25." in empty.data
    assert session.scalar(select(Account.name).where(Account.name != "Globex")) is None


def test_gift_policy_change_needs_a_reason_and_is_audited(client, make, session):
    admin = as_admin(client, make)
    account = make.account("Globex Federal")
    advocate = make.advocate(account=account)
    set_declines_gifts(session, advocate, True, "Federal ethics rules")
    session.commit()

    no_reason = client.post(
        f"/admin/accounts/{account.id}/gift-policy", data={"policy": "no_gifts", "reason": "  "}
    )
    assert no_reason.status_code == 422
    assert b"Say why the policy is changing." in no_reason.data

    page = client.post(
        f"/admin/accounts/{account.id}/gift-policy",
        data={"policy": "no_gifts", "reason": "Legal confirmed: no gifts of any value."},
        follow_redirects=True,
    )
    assert "Gift policy of Globex Federal is now “No gifts”.".encode() in page.data
    [change] = session.scalars(select(GiftPolicyChange))
    assert (change.from_policy, change.to_policy, change.changed_by_id) == (
        "allowed",
        "no_gifts",
        admin.id,
    )
    session.refresh(account)
    assert account.gift_policy == "no_gifts"
    assert account.gift_policy_reason == "Legal confirmed: no gifts of any value."
    request = session.scalar(select(GiftPolicyRequest))
    assert request.resolved_by_id == admin.id
    assert request.resolution == "Policy set to No gifts"

    same_again = client.post(
        f"/admin/accounts/{account.id}/gift-policy", data={"policy": "no_gifts", "reason": "again"}
    )
    assert "already has the policy “No gifts”".encode() in same_again.data
    assert (
        session.scalar(select(GiftPolicyChange.id).where(GiftPolicyChange.id != change.id)) is None
    )


def test_advocate_declining_gifts_reaches_the_admin_dashboard(client, make, session):
    account = make.account("Initech Bank")
    advocate = make.advocate("carla@initech.example", account=account)
    login(client, advocate.email)
    client.post(
        "/hub/profile",
        data={
            "name": "Carla Meyer",
            "declines_gifts": "y",
            "gifts_note": "Compliance says no.",
            "email_digests": "y",
        },
    )
    client.post("/logout")
    session.refresh(advocate)
    assert advocate.declines_gifts is True

    as_admin(client, make)
    dashboard = client.get("/admin/").data.decode()
    assert "Carla Meyer" in dashboard and "Compliance says no." in dashboard
    request = session.scalar(select(GiftPolicyRequest))
    client.post(f"/admin/policy-requests/{request.id}/dismiss", data={"note": "Checked"})
    session.refresh(request)
    assert request.resolution == "Checked"
    assert "Compliance says no." not in client.get("/admin/").data.decode()
    session.refresh(advocate)
    assert advocate.declines_gifts is True  # the advocate's own word still applies to them


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client, make, session):
    admin = as_admin(client, make)
    demote = client.post(f"/admin/users/{admin.id}/role", data={"role": "manager"})
    assert demote.status_code == 422
    assert b"This is the last active admin" in demote.data
    deactivate = client.post(
        f"/admin/users/{admin.id}/active", data={"active": "0"}, follow_redirects=True
    )
    assert b"last active admin: it cannot be deactivated" in deactivate.data
    session.refresh(admin)
    assert (admin.role, admin.active) == ("admin", True)

    other = make.manager()
    client.post(f"/admin/users/{other.id}/role", data={"role": "admin"})
    demoted = client.post(
        f"/admin/users/{admin.id}/role", data={"role": "manager"}, follow_redirects=True
    )
    assert demoted.status_code == 403  # no longer an admin, so the admin pages refuse
    session.refresh(admin)
    assert admin.role == "manager"


def test_role_change_to_advocate_needs_an_account(client, make, session):
    as_admin(client, make)
    manager = make.manager()
    account = make.account("Acme")
    refused = client.post(f"/admin/users/{manager.id}/role", data={"role": "advocate"})
    assert b"Choose the account this advocate belongs to." in refused.data
    client.post(
        f"/admin/users/{manager.id}/role", data={"role": "advocate", "account_id": str(account.id)}
    )
    session.refresh(manager)
    assert (manager.role, manager.account_id) == ("advocate", account.id)


def test_deactivated_user_is_logged_out_and_cannot_log_in(app, client, make, session):
    as_admin(client, make)
    advocate = make.advocate()
    advocate_client = app.test_client()
    login(advocate_client, advocate.email)
    assert advocate_client.get("/hub/").status_code == 200

    client.post(f"/admin/users/{advocate.id}/active", data={"active": "0"})
    assert advocate_client.get("/hub/").status_code == 302
    again = login(advocate_client, advocate.email)
    assert b"don&#39;t match an active login" in again.data
    detail = client.get(f"/admin/users/{advocate.id}").data
    assert b"deactivated" in detail


def test_admin_invites_users_and_filters_the_list(client, make, session, queued):
    as_admin(client, make)
    account = make.account("Acme")
    client.post(
        "/admin/users/invite",
        data={
            "email": " New.Person@Acme.example",
            "role": "advocate",
            "account_id": str(account.id),
        },
    )
    missing_account = client.post(
        "/admin/users/invite",
        data={"email": "x@acme.example", "role": "advocate", "account_id": "None"},
    )
    assert b"Choose the account this advocate belongs to." in missing_account.data
    bad = client.post("/admin/users/invite", data={"email": "nope", "role": "manager"})
    assert b"is not a valid email address" in bad.data
    [message] = queued()
    assert message.to_email == "new.person@acme.example"
    listing = client.get("/admin/users?role=advocate&q=new.person").data.decode()
    assert "new.person@acme.example" in listing
    assert "invited" in listing
    assert "root@vouch.example" not in listing
    assert session.scalar(select(User.id).where(User.email == "x@acme.example")) is None
