"""What the adversarial review of reference requests found, each kept fixed: a flag stops the
asks still waiting, calling a request off takes back its points, reminders 7 days apart, the
deal's close date, and a request's stage and level always chosen."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from references import asks, flags, follow_up, requests, surveys
from references.models import (
    AskStatus,
    FlagKind,
    ReferenceAsk,
    ReferenceRequest,
    SalesAction,
    SalesCredit,
    SurveyKind,
)
from tests.factories import SETTINGS, client_for
from tests.test_reference_follow_up import file_request
from tests.test_reference_follow_up import people as people  # noqa: F401 (a fixture)


def sent_ask(session, reference, advocate, owner) -> ReferenceAsk:
    ask = ReferenceAsk(
        request_id=reference.id,
        advocate_id=advocate.id,
        account_id=advocate.account_id,
        owner_id=owner.id,
        proposed_by_id=owner.id,
    )
    session.add(ask)
    session.commit()
    asks.send_ask(session, SETTINGS, owner, ask.id, "Would you talk to Globex?")
    session.commit()
    return ask


def test_a_flag_raised_after_the_ask_takes_it_back_and_stops_the_yes(app, make, session, people):
    reference = file_request(session, people["sales"])
    ask = sent_ask(session, reference, people["advocate"], people["owner"])
    flags.flag_account(
        session, people["owner"], people["account"].id, FlagKind.ESCALATION, "P1 outage"
    )
    session.commit()
    session.refresh(ask)
    assert ask.status == AskStatus.WITHDRAWN
    answer = client_for(app, people["advocate"].email).post(
        f"/hub/references/{ask.id}/accept", data={"accept": "y", "availability": "Mondays"}
    )
    assert answer.status_code in (404, 409, 422)
    session.refresh(ask)
    assert ask.status == AskStatus.WITHDRAWN and ask.submission_id is None


def test_a_detractor_import_takes_back_the_asks_of_the_account(make, session, people):
    reference = file_request(session, people["sales"])
    ask = sent_ask(session, reference, people["advocate"], people["owner"])
    data = b"email,score,comment,date\ndana@initech.example,3,Too slow,2026-11-20\n"
    started = surveys.start_import(
        session, SETTINGS, people["owner"], "nps.csv", data, SurveyKind.NPS
    )
    surveys.set_mapping(session, SETTINGS, people["owner"], started.id, started.mapping)
    session.commit()
    surveys.run_all(session, SETTINGS, started.id)
    session.commit()
    session.refresh(ask)
    assert ask.status == AskStatus.WITHDRAWN


def test_an_accept_on_a_flagged_account_is_refused(make, session, people):
    """Flagged in a way that left the ask open (a flag row written directly): accept checks."""
    from references.models import AccountFlag

    reference = file_request(session, people["sales"])
    ask = sent_ask(session, reference, people["advocate"], people["owner"])
    session.add(AccountFlag(account_id=people["account"].id, kind="escalation", reason="x"))
    session.commit()
    with pytest.raises(asks.DomainError, match="on hold"):
        asks.accept(session, SETTINGS, people["advocate"], ask.id, "Mondays")


def test_calling_a_request_off_takes_back_its_points(make, session, people):
    fields = requests.RequestFields(
        opportunity_name="Globex expansion",
        prospect_company="Globex",
        deal_stage="proposal",
        deal_size=80_000,
        needed_by=date.today() + timedelta(days=10),
        conversation_level="c_level",
        crm_id="0061",
        prospect_contact="Hank, CIO",
        talking_points="Rollout",
        desired_industry="Software",
    )
    reference = requests.file_request(session, people["sales"], fields)
    session.commit()
    assert session.scalar(select(SalesCredit.action)) == SalesAction.COMPLETE_REQUEST
    requests.cancel_request(session, people["sales"], reference.id, "Deal paused")
    session.commit()
    assert session.scalars(select(SalesCredit)).all() == []


def test_reminders_are_never_two_within_a_week_across_a_week_boundary(session, people):
    file_request(session, people["sales"])
    sunday_night = datetime(2031, 3, 9, 23, 30, tzinfo=UTC)
    assert follow_up.send_reminders(session, SETTINGS, sunday_night) == 1
    session.commit()
    assert follow_up.send_reminders(session, SETTINGS, sunday_night + timedelta(hours=1)) == 0
    session.commit()
    assert follow_up.send_reminders(session, SETTINGS, sunday_night + timedelta(days=7)) == 1


def test_a_deal_closed_before_its_request_or_won_for_nothing_is_refused(app, session, people):
    from tests.test_reference_follow_up import said_yes

    reference = file_request(session, people["sales"])
    ask = said_yes(session, reference, people["advocate"], people["owner"])
    follow_up.confirm_call(session, SETTINGS, people["sales"], ask.id, date.today())
    session.commit()
    client = client_for(app, people["sales"].email)
    url = f"/references/{reference.id}/outcome"
    ancient = client.post(url, data={"outcome": "won", "amount": "5", "closed_on": "0001-01-01"})
    assert ancient.status_code == 422
    assert "after the request was filed" in ancient.get_data(as_text=True)
    nothing = client.post(
        url, data={"outcome": "won", "amount": "0", "closed_on": date.today().isoformat()}
    )
    assert nothing.status_code == 422
    session.refresh(reference)
    assert reference.outcome is None


def test_a_request_without_a_stage_or_level_is_refused_beside_the_fields(app, people):
    client = client_for(app, people["sales"].email)
    answer = client.post(
        "/references/new",
        data={
            "opportunity_name": "Globex expansion",
            "prospect_company": "Globex",
            "deal_size": "80000",
            "needed_by": (date.today() + timedelta(days=9)).isoformat(),
            "references_needed": "1",
        },
    )
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "Choose the deal&#39;s stage." in text or "Choose the deal's stage." in text
    assert "Choose who the reference will speak with." in text
    assert ReferenceRequest is not None
