"""Flagged relationships: a manager flags an open escalation on an account (one open flag of
a kind at a time, the second refused saying who raised the first), clears it with a reason
(audited; a second clear is told who cleared it), and the account's page shows its flags."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts.models import AuditEvent
from portal.errors import AlreadyHandled, DomainError
from references import flags
from references.models import AccountFlag, FlagKind
from references.services import open_flags
from tests.factories import client_for
from tests.test_concurrency import race


def test_a_manager_flags_an_escalation_and_another_clears_it(app, make, session):
    acme = make.account("Acme Corp")
    maya = make.manager("maya@vouch.example")
    staff = client_for(app, maya.email)
    page = staff.get(f"/references/surveys/flags?account_id={acme.id}").get_data(as_text=True)
    assert 'value="Acme Corp"' in page  # opened from the account: its name filled in

    raised = staff.post(
        "/references/surveys/flags",
        data={"account": "acme corp", "reason": "Outage last week, exec escalation open"},
    )
    assert raised.status_code == 302
    [flag] = open_flags(session, acme.id)
    assert (flag.kind, flag.created_by_id) == (FlagKind.ESCALATION, maya.id)
    listed = staff.get("/references/surveys/flags").get_data(as_text=True)
    assert "Outage last week, exec escalation open" in listed and "Open escalation" in listed
    assert "Outage last week" in staff.get(f"/manage/accounts/{acme.id}").get_data(as_text=True)

    again = staff.post(
        "/references/surveys/flags", data={"account": "Acme Corp", "reason": "Still bad"}
    )
    assert again.status_code == 409
    said = again.get_data(as_text=True)
    assert "Acme Corp already has an open “Open escalation” flag, raised by maya" in said

    other = client_for(app, make.admin("ops@vouch.example").email)
    field = f"clear-{flag.id}-reason"
    assert (
        other.post(f"/references/surveys/flags/{flag.id}/clear", data={field: " "}).status_code
        == 422
    )
    cleared = other.post(
        f"/references/surveys/flags/{flag.id}/clear", data={field: "Exec call went well"}
    )
    assert cleared.status_code == 302
    assert open_flags(session, acme.id) == []
    events = {
        e.action: e
        for e in session.scalars(select(AuditEvent).where(AuditEvent.target_id == acme.id))
    }
    assert events["account_flag.raise"].actor_id == maya.id
    assert events["account_flag.clear"].details["reason"] == "Exec call went well"
    twice = staff.post(f"/references/surveys/flags/{flag.id}/clear", data={field: "Again"})
    assert twice.status_code == 409 and "cleared this flag on" in twice.get_data(as_text=True)
    # cleared, it may be raised again
    flags.flag_account(session, maya, acme.id, FlagKind.ESCALATION, "A new escalation")
    session.commit()
    assert len(open_flags(session, acme.id)) == 1


def test_flag_forms_say_what_is_wrong_beside_the_field(app, make, session):
    staff = client_for(app, make.manager().email)
    unknown = staff.post(
        "/references/surveys/flags", data={"account": "Nobody Inc", "reason": "Why not"}
    )
    assert unknown.status_code == 422
    assert 'id="account-errors"' in unknown.get_data(as_text=True)
    assert "No account has that name." in unknown.get_data(as_text=True)
    blank = staff.post("/references/surveys/flags", data={"account": "Acme", "reason": ""})
    assert blank.status_code == 422 and 'id="reason-errors"' in blank.get_data(as_text=True)
    assert (
        staff.post(
            "/references/surveys/flags/999/clear", data={"clear-999-reason": "x"}
        ).status_code
        == 404
    )
    assert session.scalars(select(AccountFlag)).all() == []


def test_the_services_refuse_a_missing_reason_and_an_unknown_kind(app, make, session):
    acme, manager = make.account(), make.manager()
    with pytest.raises(DomainError, match="Say why"):
        flags.flag_account(session, manager, acme.id, FlagKind.ESCALATION, "  ")
    with pytest.raises(DomainError):
        flags.flag_account(session, manager, acme.id, "grumpy", "Because")
    flag = flags.flag_account(session, manager, acme.id, FlagKind.DETRACTOR, "NPS 2")
    session.commit()
    with pytest.raises(DomainError, match="Say why"):
        flags.clear_flag(session, manager, flag.id, "")
    flags.clear_flag(session, manager, flag.id, "Spoke to them")
    session.commit()
    with pytest.raises(AlreadyHandled):
        flags.clear_flag(session, manager, flag.id, "Again")


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_only")
def test_two_managers_clearing_at_once_clear_once(app, make, session):
    acme = make.account("Acme")
    first, second = make.manager("one@vouch.example"), make.manager("two@vouch.example")
    flag = flags.flag_account(session, first, acme.id, FlagKind.ESCALATION, "Escalated")
    session.commit()
    clients = [client_for(app, first.email), client_for(app, second.email)]
    answers = race(
        clients,
        lambda client, i: client.post(
            f"/references/surveys/flags/{flag.id}/clear",
            data={f"clear-{flag.id}-reason": f"Fixed, says {i}"},
        ),
    )
    assert sorted(a.status_code for a in answers) == [302, 409]
    clears = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account_flag.clear")
    ).all()
    assert len(clears) == 1
