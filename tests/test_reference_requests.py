"""Reference requests: filing one within the program's boundaries (or a manager's exception,
with its reason), what each person sees of them, cancelling one, and the boundaries."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from portal.accounts.models import AuditEvent
from portal.db import utcnow
from portal.errors import AlreadyHandled
from portal.models import OutboxMessage
from references.models import (
    AskStatus,
    DealStage,
    ReferenceAsk,
    ReferenceRequest,
    RequestStatus,
    SalesAction,
    SalesCredit,
)
from references.requests import RequestFields, cancel_request, file_request, next_step, owed_by
from references.services import credit_sales
from tests.factories import client_for
from tests.test_concurrency import logged_in, race

IN_TWO_WEEKS = date.today() + timedelta(days=14)


def request_form(**changes) -> dict:
    """What a sales user types: a complete request, within the default boundaries (from the
    Demo stage, deals of $20,000 or more)."""
    form = {
        "opportunity_name": "Globex: contact center",
        "crm_id": "OPP-1001",
        "prospect_company": "Globex",
        "prospect_industry": "Retail",
        "deal_stage": "proposal",
        "deal_size": "80000",
        "needed_by": IN_TWO_WEEKS.isoformat(),
        "references_needed": "1",
        "conversation_level": "vp",
        "prospect_contact": "Dana Lee, VP Customer Care",
        "talking_points": "Moving 300 agents in a quarter",
        "desired_industry": "Retail",
        "desired_segment": "",
        "desired_region": "",
        "desired_job_level": "",
        "desired_product_use": "",
        "customers_in_mind": "",
        "submit": "y",
    }
    form.update(changes)
    return form


def fields(**changes) -> RequestFields:
    values = {
        "opportunity_name": "Initech: analytics",
        "prospect_company": "Initech",
        "deal_stage": "demo",
        "deal_size": 40_000,
        "needed_by": IN_TWO_WEEKS,
        "conversation_level": "director",
    }
    values.update(changes)
    return RequestFields(**values)


def text_of(response) -> str:
    return " ".join(unescape(response.get_data(as_text=True)).split())


def errors_beside(response, field: str) -> str:
    html = response.get_data(as_text=True)
    match = re.search(rf'id="{field}-errors">(.*?)</div>', html, re.S)
    assert match, f"no error beside {field}"
    return " ".join(unescape(match.group(1)).split())


def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def audits(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def filed(session, make, requester=None, **changes) -> ReferenceRequest:
    requester = requester or make.sales()
    made = file_request(session, requester, fields(**changes))
    session.commit()
    return made


# --- filing, and the boundaries ----------------------------------------------------------


def test_a_sales_user_files_a_request_and_the_managers_hear_of_it(app, make, session):
    sales = make.sales("sam@vouch.example", name="Sam Rivera")
    manager = make.manager("maya@vouch.example")
    client = client_for(app, sales.email)
    page = client.get("/references/new")
    assert "Requests are taken from the Demo stage on, for deals of $20,000 or more." in (
        text_of(page)
    )
    assert 'name="override_reason"' not in page.get_data(as_text=True)  # managers only

    response = client.post("/references/new", data=request_form())

    made = session.scalar(select(ReferenceRequest))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/references/{made.id}"
    assert (made.requester_id, made.prospect_company, made.deal_size) == (
        sales.id,
        "Globex",
        80_000,
    )
    assert made.status == RequestStatus.OPEN and made.override_reason == ""
    mail = session.scalars(select(OutboxMessage).where(OutboxMessage.to_email == manager.email))
    mail = list(mail)
    assert len(mail) == 1 and mail[0].kind == "reference_request_new"
    assert "Sam Rivera asks for a customer reference for Globex" in mail[0].body_text
    assert f"http://vouch.test/references/{made.id}" in mail[0].body_text
    assert "Moving 300 agents in a quarter" in mail[0].body_text
    assert [e.target_id for e in audits(session, "reference_request.file")] == [made.id]
    shown = text_of(client.get(f"/references/{made.id}"))
    assert "Globex: contact center" in shown and "Dana Lee, VP Customer Care" in shown
    assert "Waiting for a manager to pick candidates" in shown


def test_a_deal_too_early_is_refused_with_the_rule_beside_the_stage(app, make, session):
    sales = make.sales()
    response = client_for(app, sales.email).post(
        "/references/new", data=request_form(deal_stage="discovery")
    )
    assert response.status_code == 422
    assert errors_beside(response, "deal_stage") == (
        "The program takes reference requests from the Demo stage on; this deal is at "
        "Discovery. A program manager can make an exception."
    )
    assert count(session, ReferenceRequest) == 0


def test_a_deal_too_small_is_refused_with_the_rule_beside_the_size(app, make, session):
    sales = make.sales()
    response = client_for(app, sales.email).post(
        "/references/new", data=request_form(deal_size="5000")
    )
    assert response.status_code == 422
    assert errors_beside(response, "deal_size") == (
        "Reference requests start at deals of $20,000; this one is $5,000. "
        "A program manager can make an exception."
    )
    assert count(session, ReferenceRequest) == 0


def test_a_manager_lets_a_request_through_with_a_reason(app, make, session):
    manager = make.manager()
    sales = make.sales(name="Priya Shah")
    client = client_for(app, manager.email)
    assert "Priya Shah" in client.get("/references/new").get_data(as_text=True)  # "File for"

    response = client.post(
        "/references/new",
        data=request_form(
            deal_stage="qualified",
            deal_size="9000",
            requester_id=str(sales.id),
            override_reason="Strategic logo: the CEO asked for it",
        ),
    )

    made = session.scalar(select(ReferenceRequest))
    assert response.status_code == 302
    assert made.requester_id == sales.id  # filed on her behalf
    assert made.override_reason == "Strategic logo: the CEO asked for it"
    assert made.overridden_by_id == manager.id
    [override] = audits(session, "reference_request.override")
    assert (override.actor_id, override.target_id) == (manager.id, made.id)
    assert override.details["reason"] == "Strategic logo: the CEO asked for it"
    assert sorted(override.details["broken"]) == ["deal_size", "deal_stage"]
    assert len(audits(session, "reference_request.file")) == 1
    shown = text_of(client.get(f"/references/{made.id}"))
    assert "Filed as an exception to the boundaries by" in shown
    assert "Strategic logo: the CEO asked for it" in shown
    # the sales user sees their request, and the exception, too
    assert "Strategic logo" in text_of(client_for(app, sales.email).get(f"/references/{made.id}"))


def test_an_override_without_a_reason_is_refused(app, make, session):
    manager = make.manager()
    response = client_for(app, manager.email).post(
        "/references/new", data=request_form(deal_size="100", override_reason="   ")
    )
    assert response.status_code == 422
    assert "Say why this request may go outside the program's boundaries." in errors_beside(
        response, "override_reason"
    )
    assert "Reference requests start at deals of $20,000" in errors_beside(response, "deal_size")
    assert count(session, ReferenceRequest) == 0
    assert audits(session, "reference_request.override") == []


def test_a_sales_user_cannot_override_nor_file_for_someone_else(app, make, session):
    sales, other = make.sales(), make.sales()
    client = client_for(app, sales.email)
    response = client.post(
        "/references/new",
        data=request_form(deal_size="100", override_reason="Please", requester_id=str(other.id)),
    )
    assert response.status_code == 422
    assert "A program manager can make an exception." in errors_beside(response, "deal_size")
    assert count(session, ReferenceRequest) == 0
    client.post("/references/new", data=request_form(requester_id=str(other.id)))
    assert session.scalar(select(ReferenceRequest.requester_id)) == sales.id  # not theirs


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"needed_by": (date.today() - timedelta(days=1)).isoformat()}, "needed_by", "today on"),
        ({"references_needed": "11"}, "references_needed", "Between 1 and 10."),
        ({"references_needed": "0"}, "references_needed", "Between 1 and 10."),
        ({"deal_size": "1000000000001"}, "deal_size", "whole dollars"),
        ({"deal_size": "-1"}, "deal_size", "whole dollars"),
        ({"opportunity_name": " "}, "opportunity_name", "Name the opportunity."),
        ({"deal_stage": "won"}, "deal_stage", "Choose one of the options offered."),
    ],
)
def test_what_no_request_may_hold(app, make, session, change, field, message):
    sales = make.sales()
    response = client_for(app, sales.email).post("/references/new", data=request_form(**change))
    assert response.status_code == 422
    assert message in errors_beside(response, field)
    assert count(session, ReferenceRequest) == 0


def test_a_complete_request_earns_its_credit_once(app, make, session):
    sales = make.sales()
    client = client_for(app, sales.email)
    client.post("/references/new", data=request_form())
    client.post("/references/new", data=request_form(crm_id="", opportunity_name="Incomplete"))
    complete, incomplete = session.scalars(select(ReferenceRequest).order_by(ReferenceRequest.id))
    credits = list(session.scalars(select(SalesCredit)))
    assert [(c.user_id, c.action, c.request_id) for c in credits] == [
        (sales.id, SalesAction.COMPLETE_REQUEST, complete.id)
    ]
    assert credit_sales(session, sales.id, SalesAction.COMPLETE_REQUEST, complete.id) is False
    session.commit()
    assert count(session, SalesCredit) == 1


def test_a_manager_filing_for_a_sales_user_earns_nobody_credit(app, make, session):
    manager, sales = make.manager(), make.sales()
    client_for(app, manager.email).post(
        "/references/new", data=request_form(requester_id=str(sales.id))
    )
    assert count(session, ReferenceRequest) == 1
    assert count(session, SalesCredit) == 0


# --- who sees what -----------------------------------------------------------------------


def test_a_sales_user_sees_only_their_own_requests(app, make, session):
    sam, priya = make.sales(name="Sam Rivera"), make.sales(name="Priya Shah")
    own = filed(session, make, sam, opportunity_name="Sam's deal")
    other = filed(session, make, priya, opportunity_name="Priya's deal")
    client = client_for(app, sam.email)
    listed = text_of(client.get("/references/"))
    assert "Sam's deal" in listed and "Priya's deal" not in listed
    assert client.get(f"/references/{own.id}").status_code == 200
    assert client.get(f"/references/{other.id}").status_code == 404
    assert client.get(f"/references/?requester_id={priya.id}").status_code == 200
    assert "Priya's deal" not in text_of(client.get(f"/references/?requester_id={priya.id}"))
    response = client.post(f"/references/{other.id}/cancel", data={"reason": "Mine now"})
    assert response.status_code == 404
    session.refresh(other)
    assert other.status == RequestStatus.OPEN
    manager_view = text_of(client_for(app, make.manager().email).get("/references/"))
    assert "Sam's deal" in manager_view and "Priya's deal" in manager_view


def test_the_list_filters_and_pages_in_sql(app, make, session, count_queries):
    sam, priya = make.sales(name="Sam Rivera"), make.sales(name="Priya Shah")
    advocate = make.advocate()
    for n in range(30):
        made = filed(session, make, sam, opportunity_name=f"Deal {n:02d}", crm_id=f"OPP-{n}")
        session.add(
            ReferenceAsk(
                request_id=made.id,
                advocate_id=advocate.id,
                account_id=advocate.account_id,
                status=AskStatus.PROPOSED,
            )
        )
    filed(session, make, priya, opportunity_name="Hooli expansion", prospect_company="Hooli")
    session.commit()
    manager = make.manager()
    client = client_for(app, manager.email)

    first = client.get("/references/")
    rows = first.get_data(as_text=True).count('data-testid="request-row"')
    assert rows == 25
    assert "Hooli expansion" in text_of(first)  # newest first
    following = re.search(r'rel="next" href="([^"]+)"', first.get_data(as_text=True)).group(1)
    second = client.get(following.replace("&amp;", "&"))
    assert second.get_data(as_text=True).count('data-testid="request-row"') == 6
    assert "Deal 00" in text_of(second)

    found = text_of(client.get("/references/?q=hooli"))
    assert "Hooli expansion" in found and "Deal 01" not in found
    by_crm = text_of(client.get("/references/?q=OPP-29"))
    assert "Deal 29" in by_crm and "Deal 28" not in by_crm
    by_requester = text_of(client.get(f"/references/?requester_id={priya.id}"))
    assert "Hooli expansion" in by_requester and "Deal 29" not in by_requester
    cancel_request(session, manager, session.scalar(select(ReferenceRequest.id)), "Lost it")
    session.commit()
    cancelled = text_of(client.get("/references/?status=cancelled"))
    assert "Deal 00" in cancelled and "Deal 01" not in cancelled
    assert "No request matches these filters." in text_of(client.get("/references/?q=nothing"))

    # the page loads the requests, their people and their asks in a fixed number of queries
    with count_queries() as many:
        client.get("/references/")
    with count_queries() as few:
        client.get("/references/?q=hooli")
    assert many.n == few.n


# --- what comes next, what a sales user owes ---------------------------------------------


def _ask(session, made, advocate, status, **values) -> ReferenceAsk:
    ask = ReferenceAsk(
        request_id=made.id,
        advocate_id=advocate.id,
        account_id=advocate.account_id,
        status=status,
        **values,
    )
    session.add(ask)
    session.commit()
    session.refresh(made)
    return ask


def test_the_next_step_follows_the_asks(app, make, session):
    owner = make.manager()
    owner.name = "Maya Patel"
    advocate = make.advocate()
    advocate.name = "Ana Ortiz"
    session.commit()
    made = filed(session, make, prospect_contact="Dana Lee")
    assert next_step(made) == "Waiting for a manager to pick candidates"
    ask = _ask(session, made, advocate, AskStatus.PROPOSED, owner_id=owner.id)
    assert next_step(made) == "Waiting for Maya Patel to ask Ana Ortiz"
    ask.status = AskStatus.ASKED
    assert next_step(made) == "Waiting for Ana Ortiz's answer"
    ask.status = AskStatus.ACCEPTED
    assert next_step(made) == "Introduce Ana Ortiz to Dana Lee"
    ask.introduced_at = utcnow()
    assert next_step(made) == "Confirm the call with Ana Ortiz took place"
    made.status = RequestStatus.CONFIRMED
    assert next_step(made) == "Record the deal outcome"
    made.outcome = "won"
    assert next_step(made) == "Done"
    made.status = RequestStatus.CANCELLED
    assert next_step(made) == "Called off"


def test_the_sales_home_shows_what_they_owe_and_each_next_step(app, make, session):
    sales = make.sales()
    advocate = make.advocate()
    advocate.name = "Ana Ortiz"
    session.commit()
    to_confirm = filed(session, make, sales, prospect_company="Globex")
    _ask(session, to_confirm, advocate, AskStatus.ACCEPTED, responded_at=utcnow())
    to_record = filed(session, make, sales, opportunity_name="Initech renewal")
    to_record.status, to_record.confirmed_at = RequestStatus.CONFIRMED, utcnow()
    waiting = filed(session, make, sales, opportunity_name="Hooli pilot")
    session.commit()

    owed = owed_by(session, sales)
    assert [(o.kind, o.request.id) for o in owed] == [
        ("confirmation", to_confirm.id),
        ("outcome", to_record.id),
    ]
    home = text_of(client_for(app, sales.email).get("/references/"))
    assert "Confirm whether Ana Ortiz's call for Globex took place" in home
    assert "Record the outcome of Initech renewal (Initech)" in home
    assert "Introduce Ana Ortiz to Globex" in home  # no contact named: the company
    assert "Hooli pilot" in home and "Waiting for a manager to pick candidates" in home
    assert waiting.status == RequestStatus.OPEN


# --- cancelling --------------------------------------------------------------------------


def test_the_requester_cancels_and_a_second_cancel_is_told_it_was_done(app, make, session):
    sales = make.sales()
    made = filed(session, make, sales)
    ask = _ask(session, made, make.advocate(), AskStatus.PROPOSED)
    client = client_for(app, sales.email)
    assert client.post(f"/references/{made.id}/cancel", data={"reason": ""}).status_code == 422

    response = client.post(f"/references/{made.id}/cancel", data={"reason": "Deal went quiet"})

    assert response.status_code == 302
    session.expire_all()
    assert made.status == RequestStatus.CANCELLED and made.cancel_reason == "Deal went quiet"
    assert ask.status == AskStatus.WITHDRAWN
    [event] = audits(session, "reference_request.cancel")
    assert (event.actor_id, event.target_id) == (sales.id, made.id)
    again = client.post(f"/references/{made.id}/cancel", data={"reason": "Twice"})
    assert again.status_code == 409
    assert "This request was already called off." in text_of(again)
    assert "Called off" in text_of(client.get(f"/references/{made.id}"))


def test_cancel_after_a_lost_race_is_already_handled(app, make, session):
    sales = make.sales()
    made = filed(session, make, sales)
    cancel_request(session, sales, made.id, "first")
    session.commit()
    with pytest.raises(AlreadyHandled):
        cancel_request(session, make.manager(), made.id, "second")


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_only")
def test_two_cancels_at_once_one_wins(app, make, session):
    sales, manager = make.sales(), make.manager()
    made = filed(session, make, sales)
    _ask(session, made, make.advocate(), AskStatus.PROPOSED)
    answers = race(
        logged_in(app, [sales.email, manager.email]),
        lambda client, i: client.post(f"/references/{made.id}/cancel", data={"reason": f"#{i}"}),
    )
    assert sorted(a.status_code for a in answers) == [302, 409]
    assert len(audits(session, "reference_request.cancel")) == 1
    assert count(session, ReferenceAsk, ReferenceAsk.status == AskStatus.WITHDRAWN) == 1


# --- the boundaries themselves -----------------------------------------------------------


def test_the_boundaries_a_manager_sets_are_the_ones_applied(app, make, session):
    manager, sales = make.manager(), make.sales()
    sales_client = client_for(app, sales.email)
    assert sales_client.get("/references/settings").status_code == 403
    assert sales_client.post("/references/settings", data={}).status_code == 403
    refused = sales_client.post(
        "/references/new", data=request_form(deal_stage="discovery", deal_size="5000")
    )
    assert refused.status_code == 422

    client = client_for(app, manager.email)
    response = client.post(
        "/references/settings",
        data={
            "earliest_stage": "discovery",
            "min_deal_size": "1000",
            "call_points": "500",
            "submit": "y",
        },
    )
    assert response.status_code == 302
    [event] = audits(session, "reference.settings")
    assert (event.details["earliest_stage"], event.details["min_deal_size"]) == ("discovery", 1000)

    accepted = sales_client.post(
        "/references/new", data=request_form(deal_stage="discovery", deal_size="5000")
    )
    assert accepted.status_code == 302
    made = session.scalar(select(ReferenceRequest))
    assert made.deal_stage == DealStage.DISCOVERY and made.override_reason == ""
    again = sales_client.post("/references/new", data=request_form(deal_size="999"))
    assert "Reference requests start at deals of $1,000; this one is $999." in (
        errors_beside(again, "deal_size")
    )
    bad = client.post(
        "/references/settings",
        data={"earliest_stage": "demo", "min_deal_size": "-5", "call_points": "x"},
    )
    assert bad.status_code == 422
    assert "whole dollars" in errors_beside(bad, "min_deal_size")
