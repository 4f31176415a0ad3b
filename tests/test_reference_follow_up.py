"""After the yes: the requester introduces advocate and prospect, confirms the call (one
approval, one award or a thank-you, a milestone on the account, the request confirmed when it
has enough), records the deal's outcome; weekly reminders; time to coordinate per owner; the
sales users' internal points."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from challenges.models import Submission, SubmissionStatus, ThankYou
from points.models import LedgerEntry
from points.program import game_settings
from portal.accounts.models import AuditEvent, Role
from portal.db import utcnow
from portal.mail.models import OutboxMessage
from references import asks, follow_up
from references.models import (
    AccountMilestone,
    AskStatus,
    ConversationLevel,
    DealStage,
    ReferenceAsk,
    ReferenceReminder,
    ReferenceRequest,
    RequestStatus,
    SalesAction,
    SalesCredit,
)
from references.services import credit_sales
from tests.factories import SETTINGS, client_for
from tests.test_concurrency import logged_in, race

FILED_DAYS_AGO = 5


# --- the setting: a sales user's request, an advocate who said yes ----------------------------


@pytest.fixture
def people(make):
    owner = make.user(Role.MANAGER, "maya@vouch.example", name="Maya Patel")
    sales = make.user(Role.SALES, "sam@vouch.example", name="Sam Sales")
    account = make.account("Initech", owner_id=owner.id)
    advocate = make.advocate("dana@initech.example", account=account)
    advocate.name = "Dana Lee"
    make.session.commit()
    return {"owner": owner, "sales": sales, "account": account, "advocate": advocate}


def file_request(session, requester, needed=1, days_ago=FILED_DAYS_AGO, **fields):
    reference = ReferenceRequest(
        requester_id=requester.id,
        opportunity_name=fields.pop("opportunity", "Globex expansion"),
        prospect_company=fields.pop("prospect", "Globex"),
        prospect_contact="Hank Scorpio, CIO",
        deal_stage=DealStage.PROPOSAL,
        deal_size=80_000,
        needed_by=date.today() + timedelta(days=10),
        references_needed=needed,
        conversation_level=ConversationLevel.C_LEVEL,
        created_at=utcnow() - timedelta(days=days_ago),
        **fields,
    )
    session.add(reference)
    session.commit()
    return reference


def said_yes(session, reference, advocate, owner) -> ReferenceAsk:
    """An ask sent by the owner and accepted by the advocate through the asks' own services
    (the reference-call challenge and its pending submission made on the way)."""
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
    asks.accept(session, SETTINGS, advocate, ask.id, "Tuesdays after 2pm")
    session.commit()
    return ask


@pytest.fixture
def reference(make, people):
    return file_request(make.session, people["sales"])


@pytest.fixture
def accepted(make, people, reference):
    return said_yes(make.session, reference, people["advocate"], people["owner"])


def fresh(session, model, row_id):
    session.expire_all()
    return session.get(model, row_id)


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def body(response) -> str:
    return response.get_data(as_text=True)


def confirm_form(ask, call_on: date) -> dict:
    return {f"ask{ask.id}-call_on": call_on.isoformat()}


def entries_for(session, submission_id):
    return list(
        session.scalars(
            select(LedgerEntry).where(LedgerEntry.idempotency_key == f"submission:{submission_id}")
        )
    )


# --- introductions ---------------------------------------------------------------------------


def test_the_request_page_offers_the_follow_up_of_an_accepted_ask(app, people, accepted):
    page = client_for(app, people["sales"].email).get(f"/references/{accepted.request_id}")
    html = body(page)
    assert page.status_code == 200
    assert "Introduced them" in html
    assert "When did the call take place?" in html
    assert f'name="ask{accepted.id}-call_on"' in html
    assert "The call didn&#39;t happen" in html or "The call didn't happen" in html


def test_the_requester_marks_the_introduction_once(app, session, people, accepted):
    client = client_for(app, people["sales"].email)
    first = client.post(f"/references/asks/{accepted.id}/introduce")
    assert first.status_code == 302
    assert first.headers["Location"].endswith(f"/references/{accepted.request_id}#follow-up")
    introduced = fresh(session, ReferenceAsk, accepted.id).introduced_at
    assert introduced is not None

    again = client.post(f"/references/asks/{accepted.id}/introduce")
    assert again.status_code == 409
    assert "already introduced" in body(again)
    assert fresh(session, ReferenceAsk, accepted.id).introduced_at == introduced
    assert count(session, AuditEvent, AuditEvent.action == "reference_ask.introduce") == 1


def test_another_sales_users_ask_is_not_found(app, make, people, accepted):
    other = make.user(Role.SALES, "olga@vouch.example")
    client = client_for(app, other.email)
    assert client.post(f"/references/asks/{accepted.id}/introduce").status_code == 404
    today = confirm_form(accepted, date.today())
    assert client.post(f"/references/asks/{accepted.id}/confirm", data=today).status_code == 404


# --- the call took place ---------------------------------------------------------------------


def test_confirming_approves_once_awards_the_points_and_records_a_milestone(
    app, session, people, accepted
):
    call_on = date.today() - timedelta(days=1)
    client = client_for(app, people["sales"].email)
    answer = client.post(
        f"/references/asks/{accepted.id}/confirm", data=confirm_form(accepted, call_on)
    )
    assert answer.status_code == 302

    ask = fresh(session, ReferenceAsk, accepted.id)
    assert ask.status == AskStatus.CONFIRMED
    assert ask.call_on == call_on and ask.confirmed_by_id == people["sales"].id
    assert ask.confirmed_at is not None and ask.closed_at is not None
    submission = session.get(Submission, ask.submission_id)
    assert submission.status == SubmissionStatus.APPROVED
    [entry] = entries_for(session, submission.id)
    assert entry.amount == 300  # the program's points for a confirmed reference call
    assert count(session, ThankYou, ThankYou.submission_id == submission.id) == 1
    approved_mail = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "submission_approved")
    ).all()
    assert [m.to_email for m in approved_mail] == ["dana@initech.example"]

    [milestone] = session.scalars(select(AccountMilestone)).all()
    assert milestone.account_id == people["account"].id
    assert milestone.title == "Reference call for Globex expansion"
    assert milestone.happened_on == call_on
    assert (milestone.advocate_id, milestone.ask_id) == (people["advocate"].id, ask.id)

    reference = fresh(session, ReferenceRequest, ask.request_id)
    assert reference.status == RequestStatus.CONFIRMED and reference.confirmed_at is not None
    assert reference.first_call_at is not None
    assert reference.created_at <= reference.first_call_at <= ask.confirmed_at

    [credit] = session.scalars(select(SalesCredit)).all()
    assert (credit.user_id, credit.action) == (people["sales"].id, SalesAction.PROMPT_CONFIRMATION)
    assert count(session, AuditEvent, AuditEvent.action == "reference_ask.confirm") == 1


def test_the_milestone_shows_on_both_account_pages(app, make, session, people, accepted):
    follow_up.confirm_call(session, SETTINGS, people["owner"], accepted.id, date.today())
    session.commit()
    manager = client_for(app, people["owner"].email)
    page = body(manager.get(f"/manage/accounts/{people['account'].id}"))
    assert "Milestones" in page and "Reference call for Globex expansion" in page
    assert "Dana Lee" in page
    admin = make.admin("ada@vouch.example")
    page = body(client_for(app, admin.email).get(f"/admin/accounts/{people['account'].id}"))
    assert "Reference call for Globex expansion" in page


def test_a_rewarded_program_puts_the_call_on_the_thank_you_list(app, make, session, people):
    game_settings(session).show_points = False
    session.commit()
    reference = file_request(session, people["sales"])
    ask = said_yes(session, reference, people["advocate"], people["owner"])

    follow_up.confirm_call(session, SETTINGS, people["sales"], ask.id, date.today())
    session.commit()

    submission = session.get(Submission, ask.submission_id)
    assert submission.status == SubmissionStatus.APPROVED
    assert entries_for(session, submission.id) == []  # no points: thanked instead
    assert count(session, ThankYou, ThankYou.submission_id == submission.id) == 1


def test_a_call_in_the_future_or_before_the_request_is_refused_beside_the_field(
    app, session, people, accepted
):
    client = client_for(app, people["sales"].email)
    url = f"/references/asks/{accepted.id}/confirm"
    tomorrow = client.post(url, data=confirm_form(accepted, date.today() + timedelta(days=2)))
    assert tomorrow.status_code == 422
    assert "has not come yet" in body(tomorrow)
    assert "invalid-feedback" in body(tomorrow)
    before = date.today() - timedelta(days=FILED_DAYS_AGO + 3)
    early = client.post(url, data=confirm_form(accepted, before))
    assert early.status_code == 422
    assert "cannot be before it" in body(early)
    blank = client.post(url, data={})
    assert blank.status_code == 422
    assert "Say when the call took place." in body(blank)
    assert fresh(session, ReferenceAsk, accepted.id).status == AskStatus.ACCEPTED


def test_a_second_confirmation_is_told_it_was_already_done(app, session, people, accepted):
    client = client_for(app, people["sales"].email)
    url = f"/references/asks/{accepted.id}/confirm"
    assert client.post(url, data=confirm_form(accepted, date.today())).status_code == 302
    again = client_for(app, people["owner"].email).post(
        url, data=confirm_form(accepted, date.today())
    )
    assert again.status_code == 409
    assert "Already confirmed: Sam Sales confirmed this call" in body(again)
    assert len(entries_for(session, accepted.submission_id)) == 1
    assert count(session, AccountMilestone) == 1


def test_the_request_is_confirmed_only_once_it_has_the_references_it_needed(
    app, make, session, people
):
    reference = file_request(session, people["sales"], needed=2)
    first = said_yes(session, reference, people["advocate"], people["owner"])
    second_advocate = make.advocate("lee@hooli.example", account=make.account("Hooli"))
    second = said_yes(session, reference, second_advocate, people["owner"])

    follow_up.confirm_call(session, SETTINGS, people["sales"], first.id, date.today())
    session.commit()
    assert fresh(session, ReferenceRequest, reference.id).status == RequestStatus.OPEN

    follow_up.confirm_call(session, SETTINGS, people["sales"], second.id, date.today())
    session.commit()
    assert fresh(session, ReferenceRequest, reference.id).status == RequestStatus.CONFIRMED
    assert count(session, AccountMilestone) == 2


def test_a_filled_request_takes_back_its_other_asks(app, make, session, people, reference):
    first = said_yes(session, reference, people["advocate"], people["owner"])
    other = make.advocate("lee@hooli.example", account=make.account("Hooli"))
    spare = said_yes(session, reference, other, people["owner"])

    follow_up.confirm_call(session, SETTINGS, people["sales"], first.id, date.today())
    session.commit()

    spare = fresh(session, ReferenceAsk, spare.id)
    assert spare.status == AskStatus.WITHDRAWN
    assert session.get(Submission, spare.submission_id).status == SubmissionStatus.WITHDRAWN


def test_points_for_a_prompt_confirmation_only_to_the_sales_requester_within_a_week(
    app, make, session, people
):
    late = said_yes(
        session,
        file_request(session, people["sales"], days_ago=20),
        people["advocate"],
        people["owner"],
    )
    follow_up.confirm_call(
        session, SETTINGS, people["sales"], late.id, date.today() - timedelta(days=10)
    )
    session.commit()
    other = make.advocate("lee@hooli.example", account=make.account("Hooli"))
    by_manager = said_yes(session, file_request(session, people["sales"]), other, people["owner"])
    follow_up.confirm_call(session, SETTINGS, people["owner"], by_manager.id, date.today())
    session.commit()
    assert count(session, SalesCredit) == 0


# --- the call did not happen -----------------------------------------------------------------


def test_a_call_that_fell_through_withdraws_the_ask_with_its_reason(app, session, people, accepted):
    client = client_for(app, people["sales"].email)
    url = f"/references/asks/{accepted.id}/fell-through"
    blank = client.post(url, data={f"ask{accepted.id}-reason": " "})
    assert blank.status_code == 422
    assert "Say what happened" in body(blank)

    done = client.post(url, data={f"ask{accepted.id}-reason": "The prospect went quiet."})
    assert done.status_code == 302
    ask = fresh(session, ReferenceAsk, accepted.id)
    assert ask.status == AskStatus.WITHDRAWN
    assert session.get(Submission, ask.submission_id).status == SubmissionStatus.WITHDRAWN
    [event] = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "reference_ask.fell_through")
    ).all()
    assert event.details["reason"] == "The prospect went quiet."
    # and nothing is left to confirm
    late = client.post(
        f"/references/asks/{accepted.id}/confirm", data=confirm_form(accepted, date.today())
    )
    assert late.status_code == 409


# --- the deal's outcome ----------------------------------------------------------------------


def test_the_outcome_waits_for_a_confirmed_call(app, session, people, accepted):
    client = client_for(app, people["sales"].email)
    early = client.post(
        f"/references/{accepted.request_id}/outcome",
        data={"outcome": "won", "amount": "90000", "closed_on": date.today().isoformat()},
    )
    assert early.status_code == 422
    assert "once a reference call has been confirmed" in body(early)


def test_the_outcome_is_recorded_once_and_credited_once(app, session, people, accepted):
    follow_up.confirm_call(session, SETTINGS, people["sales"], accepted.id, date.today())
    session.commit()
    client = client_for(app, people["sales"].email)
    url = f"/references/{accepted.request_id}/outcome"
    today = date.today().isoformat()

    no_amount = client.post(url, data={"outcome": "won", "closed_on": today})
    assert no_amount.status_code == 422
    assert "Enter the amount the deal was won for." in body(no_amount)
    future = (date.today() + timedelta(days=3)).isoformat()
    ahead = client.post(url, data={"outcome": "won", "amount": "1", "closed_on": future})
    assert ahead.status_code == 422
    too_much = client.post(url, data={"outcome": "won", "amount": str(10**13), "closed_on": today})
    assert too_much.status_code == 422

    won = client.post(url, data={"outcome": "won", "amount": "90000", "closed_on": today})
    assert won.status_code == 302
    reference = fresh(session, ReferenceRequest, accepted.request_id)
    assert (reference.outcome, reference.outcome_amount) == ("won", 90_000)
    assert reference.outcome_closed_on == date.today() and reference.outcome_recorded_at

    again = client.post(url, data={"outcome": "lost", "closed_on": today})
    assert again.status_code == 409
    assert "already recorded" in body(again)
    assert fresh(session, ReferenceRequest, accepted.request_id).outcome == "won"
    credits = session.scalars(select(SalesCredit.action).order_by(SalesCredit.id)).all()
    assert credits == [SalesAction.PROMPT_CONFIRMATION, SalesAction.OUTCOME]
    page = body(client.get(f"/references/{accepted.request_id}"))
    assert "Won: $90,000" in page


def test_a_lost_deal_needs_no_amount(app, session, people, accepted):
    follow_up.confirm_call(session, SETTINGS, people["owner"], accepted.id, date.today())
    session.commit()
    follow_up.record_outcome(
        session, people["owner"], accepted.request_id, "lost", None, date.today()
    )
    session.commit()
    reference = fresh(session, ReferenceRequest, accepted.request_id)
    assert (reference.outcome, reference.outcome_amount) == ("lost", None)
    assert count(session, SalesCredit) == 0  # a manager recorded it: no sales points


# --- weekly reminders ------------------------------------------------------------------------


def reminders(session) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "reference_reminder")
            .order_by(OutboxMessage.id)
        )
    )


def test_an_open_request_is_reminded_once_a_week(app, make, session, people, accepted):
    monday = datetime(2031, 3, 3, 9, tzinfo=UTC)  # a Monday; the request is older
    assert follow_up.send_reminders(session, SETTINGS, monday) == 1
    session.commit()
    assert follow_up.send_reminders(session, SETTINGS, monday + timedelta(days=3)) == 0
    session.commit()
    [mail] = reminders(session)
    assert mail.to_email == "sam@vouch.example"
    assert mail.subject == "Did the reference call happen? Globex expansion"
    assert "Dana Lee" in mail.body_text and "not introduced yet" in mail.body_text
    assert f"http://vouch.test/references/{accepted.request_id}#follow-up" in mail.body_text

    assert follow_up.send_reminders(session, SETTINGS, monday + timedelta(days=7)) == 1
    session.commit()
    assert len(reminders(session)) == 2
    assert count(session, ReferenceReminder) == 2


def test_confirmed_cancelled_and_new_requests_are_not_reminded(app, session, people, accepted):
    follow_up.confirm_call(session, SETTINGS, people["sales"], accepted.id, date.today())
    cancelled = file_request(session, people["sales"], status=RequestStatus.CANCELLED)
    just_filed = file_request(session, people["sales"], days_ago=0)
    session.commit()
    assert follow_up.send_reminders(session, SETTINGS) == 0
    assert reminders(session) == []
    assert {cancelled.id, just_filed.id}  # both exist, neither reminded


def test_a_request_nobody_said_yes_to_says_where_it_stands(app, session, people, reference):
    assert follow_up.send_reminders(session, SETTINGS) == 1
    session.commit()
    [mail] = reminders(session)
    assert "where it stands" in mail.subject
    assert "nobody has said yes yet" in mail.body_text


def test_the_reminder_command_queues_them(app, session, people, accepted):
    result = app.test_cli_runner().invoke(args=["references", "remind"])
    assert result.exit_code == 0, result.output
    assert "1 reminder(s) queued" in result.output
    again = app.test_cli_runner().invoke(args=["references", "remind"])
    assert "0 reminder(s) queued" in again.output
    assert len(reminders(session)) == 1


# --- time to coordinate ----------------------------------------------------------------------


def an_ask(session, reference, advocate, owner, status, filed, yes_after=None, call_on=None):
    ask = ReferenceAsk(
        request_id=reference.id,
        advocate_id=advocate.id,
        account_id=advocate.account_id,
        owner_id=owner.id,
        status=status,
        responded_at=filed + yes_after if yes_after is not None else None,
        call_on=call_on,
        confirmed_at=datetime.combine(call_on, datetime.min.time(), UTC) + timedelta(days=1)
        if call_on
        else None,
    )
    session.add(ask)
    session.commit()
    return ask


def test_time_to_coordinate_per_owner_on_a_known_set(app, make, session, people):
    filed = datetime(2031, 3, 3, 12, tzinfo=UTC)  # noon: a call's day counts from its noon
    other_owner = make.user(Role.MANAGER, "omar@vouch.example", name="Omar Owner")
    advocates = [
        make.advocate(f"a{n}@initech.example", account=people["account"]) for n in range(4)
    ]
    requests = [file_request(session, people["sales"], opportunity=f"Deal {n}") for n in range(4)]
    for reference in requests:
        reference.created_at = filed
    session.commit()
    maya = people["owner"]
    # Maya: yeses after 2, 4 and 12 hours (median 4, mean 6); calls 1 and 3 days on
    an_ask(
        session,
        requests[0],
        advocates[0],
        maya,
        AskStatus.CONFIRMED,
        filed,
        timedelta(hours=2),
        date(2031, 3, 4),
    )
    an_ask(
        session,
        requests[1],
        advocates[1],
        maya,
        AskStatus.CONFIRMED,
        filed,
        timedelta(hours=4),
        date(2031, 3, 6),
    )
    an_ask(session, requests[2], advocates[2], maya, AskStatus.ACCEPTED, filed, timedelta(hours=12))
    an_ask(session, requests[2], advocates[3], maya, AskStatus.DECLINED, filed, timedelta(hours=1))
    # Omar: one ask, not yet answered
    an_ask(session, requests[3], advocates[3], other_owner, AskStatus.ASKED, filed)

    maya_row, omar_row = follow_up.coordination_by_owner(session)
    assert (maya_row.owner_name, omar_row.owner_name) == ("Maya Patel", "Omar Owner")
    assert (maya_row.requests, maya_row.accepted, maya_row.confirmed) == (3, 3, 2)
    assert maya_row.accept_median == pytest.approx(4)
    assert maya_row.accept_mean == pytest.approx(6)
    assert maya_row.call_median == pytest.approx(48)  # (24 + 72) / 2
    assert maya_row.call_mean == pytest.approx(48)
    assert (omar_row.requests, omar_row.accepted, omar_row.confirmed) == (1, 0, 0)
    assert omar_row.accept_median is None and omar_row.call_mean is None

    page = client_for(app, maya.email).get("/references/timing")
    assert page.status_code == 200
    html = body(page)
    assert "Maya Patel" in html and "4 h" in html and "2 days" in html


def test_the_timing_page_is_for_managers_not_sales(app, people):
    assert client_for(app, people["sales"].email).get("/references/timing").status_code == 403


def test_the_timing_page_shows_a_waiting_requests_time_so_far(app, people, reference):
    html = body(client_for(app, people["owner"].email).get("/references/timing"))
    assert "Globex expansion" in html and "so far" in html


# --- the sales board -------------------------------------------------------------------------


def test_the_sales_board_sums_each_sales_users_points(app, make, session, people):
    priya = make.user(Role.SALES, "priya@vouch.example", name="Priya Shah")
    mine = file_request(session, people["sales"])
    hers = file_request(session, priya)
    credit_sales(session, people["sales"].id, SalesAction.COMPLETE_REQUEST, mine.id)
    credit_sales(session, people["sales"].id, SalesAction.OUTCOME, mine.id)
    credit_sales(session, priya.id, SalesAction.OUTCOME, hers.id)
    old = file_request(session, priya, opportunity="Old deal")
    credit_sales(session, priya.id, SalesAction.COMPLETE_REQUEST, old.id)
    session.scalars(
        select(SalesCredit).where(SalesCredit.request_id == old.id)
    ).one().created_at = utcnow() - timedelta(days=400)
    session.commit()

    all_time = follow_up.sales_board(session, "all", follow_up.PageRequest())
    assert [(row.name, row.points) for row in all_time.items] == [
        ("Sam Sales", 30),
        ("Priya Shah", 30),
    ] or [(row.name, row.points) for row in all_time.items] == [
        ("Priya Shah", 30),
        ("Sam Sales", 30),
    ]
    this_month = follow_up.sales_board(session, "month", follow_up.PageRequest())
    assert [(row.name, row.points) for row in this_month.items] == [
        ("Sam Sales", 30),
        ("Priya Shah", 20),
    ]
    session.commit()  # end the read: SQLite's writers wait for it

    page = client_for(app, people["sales"].email).get("/references/leaderboard?period=month")
    html = body(page)
    assert page.status_code == 200
    assert "recognition only, never rewards" in html
    assert "Your points: 30" in html and "Recorded the deal outcome" in html
    assert html.index("Sam Sales") < html.index("Priya Shah")
    manager_view = client_for(app, people["owner"].email).get("/references/leaderboard")
    assert manager_view.status_code == 200 and "Your points" not in body(manager_view)
    advocate_view = client_for(app, people["advocate"].email).get("/references/leaderboard")
    assert advocate_view.status_code == 403


def test_internal_points_never_reach_the_advocates_ledger(app, session, people, accepted):
    follow_up.confirm_call(session, SETTINGS, people["sales"], accepted.id, date.today())
    session.commit()
    assert count(session, LedgerEntry, LedgerEntry.advocate_id == people["sales"].id) == 0


# --- races (PostgreSQL) ----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_only")
def test_two_confirmations_at_once_approve_and_award_once(app, make, session, people, accepted):
    admin = make.admin("ada@vouch.example")
    clients = logged_in(app, [people["sales"].email, people["owner"].email, admin.email])
    answers = race(
        clients,
        lambda client, i: client.post(
            f"/references/asks/{accepted.id}/confirm", data=confirm_form(accepted, date.today())
        ),
    )
    codes = sorted(500 if a is None else a.status_code for a in answers)
    assert codes == [302, 409, 409]
    session.expire_all()
    [entry] = entries_for(session, accepted.submission_id)
    assert entry.amount == 300
    assert count(session, AccountMilestone) == 1
    assert count(session, ThankYou, ThankYou.submission_id == accepted.submission_id) == 1
    assert count(session, SalesCredit) <= 1
    assert count(session, AuditEvent, AuditEvent.action == "submission.approve") == 1


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_only")
def test_two_asks_confirmed_at_once_fill_a_request_of_two(app, make, session, people):
    reference = file_request(session, people["sales"], needed=2)
    first = said_yes(session, reference, people["advocate"], people["owner"])
    other = make.advocate("lee@hooli.example", account=make.account("Hooli"))
    second = said_yes(session, reference, other, people["owner"])
    pair = [first, second]
    clients = logged_in(app, [people["sales"].email, people["owner"].email])
    answers = race(
        clients,
        lambda client, i: client.post(
            f"/references/asks/{pair[i].id}/confirm", data=confirm_form(pair[i], date.today())
        ),
    )
    assert sorted(a.status_code for a in answers) == [302, 302]
    assert fresh(session, ReferenceRequest, reference.id).status == RequestStatus.CONFIRMED


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_only")
def test_two_reminder_runs_at_once_send_one(app, session, people, accepted):
    sessions = app.extensions["vouch.sessionmaker"]

    def run(_client, _i):
        with sessions() as own:
            sent = follow_up.send_reminders(own, SETTINGS)
            own.commit()
            return sent

    sent = race([None, None], run)
    assert sorted(sent) == [0, 1]
    assert len(reminders(session)) == 1


# --- with CSRF on, as production runs ------------------------------------------------------


def test_the_prefixed_forms_carry_their_csrf_token(database_url, app, session, people, accepted):
    from tests.conftest import make_test_app
    from tests.factories import PASSWORD

    strict = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    try:
        client = strict.test_client()

        def token(html: str, name: str) -> str:
            return html.split(f'name="{name}" type="hidden" value="')[1].split('"')[0]

        login_page = body(client.get("/login"))
        client.post(
            "/login",
            data={
                "email": people["sales"].email,
                "password": PASSWORD,
                "csrf_token": token(login_page, "csrf_token"),
            },
        )
        page = body(client.get(f"/references/{accepted.request_id}"))
        name = f"ask{accepted.id}-csrf_token"
        refused = client.post(f"/references/asks/{accepted.id}/introduce")
        assert refused.status_code == 400
        done = client.post(
            f"/references/asks/{accepted.id}/introduce", data={name: token(page, name)}
        )
        assert done.status_code == 302
        assert fresh(session, ReferenceAsk, accepted.id).introduced_at is not None
    finally:
        strict.extensions["vouch.engine"].dispose()
