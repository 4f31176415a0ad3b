"""The demo's reference program (references.demo): `seed-demo` leaves two sales users with
requests in every state, each played through the services along the story's clock: just
filed, a candidate proposed, asked (Ana, the demo advocate, has it in her hub), accepted (to
introduce, to confirm), calls confirmed (points, milestones on the accounts), outcomes
recorded (won and lost), a "not now", a cancellation, a manager's exception to the
boundaries; an NPS import with promoters to invite and a detractor flagged, an escalation,
weekly reminders, sales credits, and time to coordinate that reads hours to days."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from challenges.models import Submission, SubmissionStatus
from points.models import LedgerEntry
from portal.accounts.models import Account, Role, User
from portal.db import utcnow
from portal.mail.models import OutboxMessage
from portal.pagination import PageRequest
from portal.seed import DEMO_PASSWORD
from references.follow_up import coordination_by_owner, sales_board
from references.models import (
    OPEN_ASK,
    AccountFlag,
    AccountMilestone,
    AskStatus,
    FlagKind,
    ReferenceAsk,
    ReferenceReminder,
    ReferenceRequest,
    RequestStatus,
    SalesCredit,
    SurveyImport,
    SurveyResponse,
)
from tests.factories import login

ANA = "ana.ruiz@northwind.example"
SAM = "sam.rivera@vouch.example"
PRIYA = "priya.shah@vouch.example"
MAYA = "manager@vouch.example"


def by_email(session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def seeded(app, session) -> None:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert "records created" in result.output, result.output
    assert "SKIP" not in result.output, result.output  # every step of the story took place
    session.expire_all()


def requests_by_name(session) -> dict[str, ReferenceRequest]:
    return {
        r.prospect_company: r
        for r in session.scalars(select(ReferenceRequest).order_by(ReferenceRequest.id))
    }


def statuses(reference: ReferenceRequest) -> list[str]:
    return [ask.status for ask in reference.asks]


def test_the_demo_has_a_request_in_every_state(app, session):
    seeded(app, session)
    now = utcnow()
    sam, priya, maya = by_email(session, SAM), by_email(session, PRIYA), by_email(session, MAYA)
    assert sam.role == priya.role == Role.SALES
    assert sam.name == "Sam Rivera" and priya.name == "Priya Shah"
    found = requests_by_name(session)
    assert {r.requester_id for r in found.values()} == {sam.id, priya.id}
    assert all(r.created_at < now for r in found.values())
    assert min(r.created_at for r in found.values()) < now - timedelta(days=60)

    # just filed: nobody picked yet
    fresh = found["Solstice Energy"]
    assert fresh.status == RequestStatus.OPEN and fresh.asks == []
    assert fresh.created_at > now - timedelta(days=1)
    # a candidate proposed, for the account's owner (Maya) to ask
    proposed = found["Orchid Foods"]
    assert statuses(proposed) == [AskStatus.PROPOSED]
    assert proposed.asks[0].owner_id == maya.id and proposed.asks[0].asked_at is None
    # asked and waiting: Ana, the demo advocate, asked by Maya
    waiting = found["Lakeshore Hospital Group"]
    assert statuses(waiting) == [AskStatus.ASKED]
    ask = waiting.asks[0]
    assert ask.advocate.email == ANA and ask.asked_by_id == maya.id and ask.message
    # accepted: one to introduce, one introduced whose call is to be confirmed
    to_introduce, to_confirm = found["Atlas Telecom"], found["Harper & Vale Insurance"]
    assert statuses(to_introduce) == statuses(to_confirm) == [AskStatus.ACCEPTED]
    assert to_introduce.asks[0].introduced_at is None
    assert to_confirm.asks[0].introduced_at is not None
    for reference in (to_introduce, to_confirm):
        call = session.get(Submission, reference.asks[0].submission_id)
        assert call.status == SubmissionStatus.PENDING and call.high_effort
        assert reference.first_accepted_at is not None and reference.first_call_at is None
    # confirmed, its outcome still owed
    owed = found["Brightline Hotels"]
    assert owed.status == RequestStatus.CONFIRMED and owed.outcome is None
    assert statuses(owed) == [AskStatus.CONFIRMED]
    # outcomes: won with the amount, and lost
    won, lost = found["Meridian Freight"], found["Pinecrest Credit Union"]
    assert (won.outcome, won.outcome_amount) == ("won", 140_000)
    assert won.outcome_closed_on <= now.date() and won.outcome_recorded_at is not None
    assert lost.outcome == "lost" and lost.outcome_amount is None
    # the first candidate said "not now" (left out of matching until then); a second took it
    schools = found["Crescent Schools"]
    assert statuses(schools) == [AskStatus.DECLINED, AskStatus.CONFIRMED]
    declined = schools.asks[0]
    assert declined.not_before > now.date() + timedelta(days=60) and declined.decline_reason
    assert schools.outcome == "won"
    # cancelled, and its open ask withdrawn
    cancelled = found["Northgate Logistics"]
    assert cancelled.status == RequestStatus.CANCELLED and cancelled.cancel_reason
    assert statuses(cancelled) == [AskStatus.WITHDRAWN]
    # outside the boundaries: refused to Sam, let through by Maya with her reason
    exception = found["Vanguard Health Systems"]
    assert exception.requester_id == sam.id and exception.overridden_by_id == maya.id
    assert exception.deal_stage == "discovery" and "Strategic logo" in exception.override_reason
    assert [r.prospect_company for r in found.values()].count("Vanguard Health Systems") == 1

    # no open ask is duplicated, and none is on a flagged account
    open_per_advocate = session.execute(
        select(ReferenceAsk.advocate_id, func.count())
        .where(ReferenceAsk.status.in_(OPEN_ASK))
        .group_by(ReferenceAsk.advocate_id)
    ).all()
    assert open_per_advocate and all(n == 1 for _, n in open_per_advocate)
    flagged = set(
        session.scalars(select(AccountFlag.account_id).where(AccountFlag.cleared_at.is_(None)))
    )
    asked_accounts = set(
        session.scalars(select(ReferenceAsk.account_id).where(ReferenceAsk.status.in_(OPEN_ASK)))
    )
    assert flagged and not flagged & asked_accounts

    # every confirmed call: its submission approved with the points, a milestone on the account
    confirmed = session.scalars(
        select(ReferenceAsk).where(ReferenceAsk.status == AskStatus.CONFIRMED)
    ).all()
    assert len(confirmed) == 4
    for ask in confirmed:
        assert ask.call_on <= ask.confirmed_at.date()
        call = session.get(Submission, ask.submission_id)
        assert call.status == SubmissionStatus.APPROVED and call.points_awarded == 300
        entry = session.scalars(
            select(LedgerEntry).where(LedgerEntry.idempotency_key == f"submission:{call.id}")
        ).one()
        assert entry.amount == 300 and entry.advocate_id == ask.advocate_id
        milestone = session.scalars(
            select(AccountMilestone).where(AccountMilestone.ask_id == ask.id)
        ).one()
        assert milestone.account_id == ask.account_id and milestone.happened_on == ask.call_on
        assert ask.request.prospect_company in milestone.title

    # time to coordinate: from days at the start to hours lately, per owner
    hours = {
        r.prospect_company: (r.first_accepted_at - r.created_at).total_seconds() / 3600
        for r in found.values()
        if r.first_accepted_at is not None
    }
    assert hours["Meridian Freight"] > 72 and hours["Atlas Telecom"] < 24
    assert all(1 < h < 24 * 7 for h in hours.values())
    timings = {t.owner_name: t for t in coordination_by_owner(session)}
    assert {"Maya Patel", "Alex Admin"} <= set(timings)
    assert 1 < timings["Maya Patel"].accept_median < 24 * 7

    # sales credits follow from the actions, and the staff-only board adds them up
    board = sales_board(session, "all", PageRequest())
    points = {standing.name: standing.points for standing in board.items}
    assert set(points) == {"Sam Rivera", "Priya Shah"} and all(points.values())
    actions = set(session.scalars(select(SalesCredit.action).distinct()))
    assert actions == {"complete_request", "prompt_confirmation", "outcome"}
    assert (
        session.scalar(select(func.count()).where(SalesCredit.request_id == exception.id)) == 0
    )  # Maya filed it: a manager earns no sales credit

    # weekly reminders went out to the requesters of open requests, once a week each
    reminders = session.scalars(select(ReferenceReminder)).all()
    assert reminders
    weeks = [(r.request_id, r.week) for r in reminders]
    assert len(weeks) == len(set(weeks))
    mailed = session.scalar(
        select(func.count()).where(
            OutboxMessage.kind == "reference_reminder", OutboxMessage.to_email.in_([SAM, PRIYA])
        )
    )
    assert mailed == len(reminders)

    # the NPS import: good rows in, bad rows reported, promoters to invite, a detractor flagged
    survey = session.scalars(select(SurveyImport)).one()
    assert survey.status == "done" and survey.failed == 2
    assert survey.imported == survey.total_rows - 2 >= 35
    outsiders = session.scalars(
        select(SurveyResponse).where(SurveyResponse.promoter, SurveyResponse.user_id.is_(None))
    ).all()
    assert len(outsiders) >= 10 and sum(1 for r in outsiders if r.comment) >= 8
    flags = {
        (flag.account.name, flag.kind)
        for flag in session.scalars(select(AccountFlag).where(AccountFlag.cleared_at.is_(None)))
    }
    assert flags == {
        ("Summit Energy", FlagKind.DETRACTOR),
        ("Keystone Telecom", FlagKind.ESCALATION),
    }

    # accounts have what they use, for matching on product use
    assert session.scalar(select(func.count()).where(Account.products == "")) == 0


def test_the_demo_logins_see_the_reference_program(app, session):
    seeded(app, session)
    found = requests_by_name(session)

    # Sam: his requests with their next steps, and what he owes
    client = app.test_client()
    home = login(client, SAM, DEMO_PASSWORD)
    page = home.get_data(as_text=True)
    assert home.status_code == 200
    for company in ("Harper &amp; Vale Insurance", "Lakeshore Hospital Group"):
        assert company in page
    assert "Atlas Telecom" not in page  # Priya's
    detail = client.get(f"/references/{found['Atlas Telecom'].id}")
    assert detail.status_code == 404

    # Ana: the ask waiting in her hub
    client = app.test_client()
    login(client, ANA, DEMO_PASSWORD)
    hub = client.get("/hub/references/")
    assert hub.status_code == 200 and "Lakeshore Hospital Group" in hub.get_data(as_text=True)

    # Maya: an ask to make, the timing per owner, and an account's milestones
    client = app.test_client()
    login(client, MAYA, DEMO_PASSWORD)
    mine = client.get("/references/asks/").get_data(as_text=True)
    assert "Orchid Foods" in mine
    timing = client.get("/references/timing")
    assert timing.status_code == 200 and "Alex Admin" in timing.get_data(as_text=True)
    call = found["Meridian Freight"].asks[0]
    account = client.get(f"/manage/accounts/{call.account_id}").get_data(as_text=True)
    assert "Meridian Freight" in account
