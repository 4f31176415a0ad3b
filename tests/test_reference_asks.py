"""The ask: the relationship owner asks from Vouch (the email from them), the advocate says
yes (a reference-call challenge and a pending big ask), no, or not now; staff take asks back."""

from __future__ import annotations

from datetime import date, timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from flask import render_template
from sqlalchemy import func, select

from challenges.models import Challenge, ChallengeStatus, Submission, SubmissionStatus
from challenges.queries import pending_count
from challenges.services import LimitReached, submit
from points.program import game_settings
from portal.accounts.models import AuditEvent, Role
from portal.db import utcnow
from portal.mail.models import OutboxMessage
from references import asks
from references.models import (
    AccountFlag,
    AskStatus,
    ConversationLevel,
    DealStage,
    FlagKind,
    ReferenceAsk,
    ReferenceRequest,
)
from tests.factories import SETTINGS, client_for

MESSAGE = "Hi Dana, would you talk to Globex about how you rolled us out?"
ACCEPT = {"accept": "y", "availability": "Tuesdays after 2pm CET", "notes": "Not Fridays"}


# --- the setting: a request filed by sales, a candidate proposed to the account's owner ---


@pytest.fixture
def people(make):
    owner = make.user(Role.MANAGER, "maya@vouch.example", name="Maya Patel")
    sales = make.user(Role.SALES, "sam@vouch.example", name="Sam Sales")
    account = make.account("Initech", owner_id=owner.id)
    advocate = make.advocate("dana@initech.example", account=account)
    advocate.name = "Dana Lee"
    make.session.commit()
    return {"owner": owner, "sales": sales, "account": account, "advocate": advocate}


def file_request(session, requester, prospect="Globex", opportunity="Globex expansion"):
    reference = ReferenceRequest(
        requester_id=requester.id,
        opportunity_name=opportunity,
        prospect_company=prospect,
        prospect_industry="Manufacturing",
        prospect_contact="Hank Scorpio, CIO",
        deal_stage=DealStage.PROPOSAL,
        deal_size=80_000,
        needed_by=date.today() + timedelta(days=10),
        conversation_level=ConversationLevel.C_LEVEL,
        talking_points="Time to value\nSupport quality",
    )
    session.add(reference)
    session.commit()
    return reference


def propose(session, reference, advocate, owner, status=AskStatus.PROPOSED, **fields):
    ask = ReferenceAsk(
        request_id=reference.id,
        advocate_id=advocate.id,
        account_id=advocate.account_id,
        owner_id=owner.id if owner else None,
        proposed_by_id=owner.id if owner else None,
        status=status,
        **fields,
    )
    session.add(ask)
    session.commit()
    return ask


@pytest.fixture
def proposed(make, people):
    reference = file_request(make.session, people["sales"])
    return propose(make.session, reference, people["advocate"], people["owner"])


@pytest.fixture
def asked(make, people, proposed):
    asks.send_ask(make.session, SETTINGS, people["owner"], proposed.id, MESSAGE)
    make.session.commit()
    return proposed


def fresh(session, model, row_id):
    session.expire_all()
    return session.get(model, row_id)


def outbox_rows(session, kind):
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


# --- the owner makes the ask --------------------------------------------------------------


def test_the_ask_page_starts_from_a_friendly_message(app, people, proposed):
    page = client_for(app, people["owner"].email).get(f"/references/asks/{proposed.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Hi Dana," in text
    assert "Globex" in text and "Time to value" in text
    assert "Send the ask" in text


def test_the_owner_sends_the_ask_and_it_comes_from_them(
    app, make, session, people, proposed, outbox
):
    client = client_for(app, people["owner"].email)
    answer = client.post(f"/references/asks/{proposed.id}", data={"message": MESSAGE})
    assert answer.status_code == 302

    ask = fresh(session, ReferenceAsk, proposed.id)
    assert ask.status == AskStatus.ASKED
    assert ask.asked_by_id == people["owner"].id and ask.asked_at is not None
    assert ask.message == MESSAGE
    [sent] = outbox.deliver()
    assert sent.recipients == ["dana@initech.example"]
    assert sent.reply_to == "Maya Patel <maya@vouch.example>"
    assert sent.sender == "Maya Patel via Vouch <hub@vouch.example>"
    assert "Globex" in sent.subject and "Maya Patel" in sent.subject
    assert MESSAGE in sent.body
    assert "C-level" in sent.body and "Support quality" in sent.body
    assert f"http://vouch.test/hub/references/{ask.id}" in sent.body
    assert "Reply-To" not in (sent.extra_headers or {})  # not sent twice
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "reference_ask.send"))
    assert audit.actor_id == people["owner"].id and audit.target_id == ask.id


def test_only_the_owner_or_an_admin_makes_the_ask(app, make, session, people, proposed):
    other = make.manager("other@vouch.example")
    answer = client_for(app, other.email).post(
        f"/references/asks/{proposed.id}", data={"message": MESSAGE}
    )
    assert answer.status_code == 422
    assert "Only Maya Patel makes this ask." in answer.get_data(as_text=True)
    assert fresh(session, ReferenceAsk, proposed.id).status == AskStatus.PROPOSED

    admin = make.admin("root@vouch.example")
    answer = client_for(app, admin.email).post(
        f"/references/asks/{proposed.id}", data={"message": MESSAGE}
    )
    assert answer.status_code == 302
    assert fresh(session, ReferenceAsk, proposed.id).asked_by_id == admin.id


def test_with_no_owner_any_manager_may_ask(app, make, session, people):
    reference = file_request(session, people["sales"])
    ask = propose(session, reference, people["advocate"], None)
    manager = make.manager()
    answer = client_for(app, manager.email).post(
        f"/references/asks/{ask.id}", data={"message": MESSAGE}
    )
    assert answer.status_code == 302
    assert fresh(session, ReferenceAsk, ask.id).status == AskStatus.ASKED


def test_a_second_ask_of_the_same_advocate_names_who_asked_and_when(
    app, make, session, people, asked
):
    other_owner = make.user(Role.MANAGER, "omar@vouch.example", name="Omar Ng")
    second = propose(
        session,
        file_request(session, people["sales"], "Umbrella", "Umbrella renewal"),
        people["advocate"],
        other_owner,
    )
    answer = client_for(app, other_owner.email).post(
        f"/references/asks/{second.id}", data={"message": MESSAGE}
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "Maya Patel already asked Dana Lee on" in text
    assert "(for the Globex expansion opportunity); one ask at a time." in text
    assert fresh(session, ReferenceAsk, second.id).status == AskStatus.PROPOSED


def test_the_same_ask_sent_twice_is_sent_once(app, session, people, asked):
    answer = client_for(app, people["owner"].email).post(
        f"/references/asks/{asked.id}", data={"message": MESSAGE}
    )
    assert answer.status_code == 409
    assert "Maya Patel already asked Dana Lee" in answer.get_data(as_text=True)
    assert len(outbox_rows(session, "reference_ask")) == 1


def test_an_unreachable_address_is_refused_with_another_way(app, session, people, proposed):
    people["advocate"].email_unreachable_at = utcnow()
    session.commit()
    answer = client_for(app, people["owner"].email).post(
        f"/references/asks/{proposed.id}", data={"message": MESSAGE}
    )
    assert answer.status_code == 422
    assert "reach them another way" in answer.get_data(as_text=True)
    assert fresh(session, ReferenceAsk, proposed.id).status == AskStatus.PROPOSED
    assert outbox_rows(session, "reference_ask") == []


def test_a_flagged_account_is_not_asked(app, session, people, proposed):
    session.add(AccountFlag(account_id=people["account"].id, kind=FlagKind.DETRACTOR))
    session.commit()
    answer = client_for(app, people["owner"].email).post(
        f"/references/asks/{proposed.id}", data={"message": MESSAGE}
    )
    assert answer.status_code == 422
    assert "relationship is flagged (Detractor)" in answer.get_data(as_text=True)


def test_an_advocate_at_the_big_ask_cap_is_not_asked(app, make, session, people, proposed):
    for _ in range(2):  # the default cap: 2 big asks in 90 days
        make.submission(make.challenge("case_study"), people["advocate"])
    answer = client_for(app, people["owner"].email).post(
        f"/references/asks/{proposed.id}", data={"message": MESSAGE}
    )
    assert answer.status_code == 422
    assert "at the big-ask cap: 2 in the last 90 days" in answer.get_data(as_text=True)


def test_a_blank_message_is_refused_beside_the_field(app, people, proposed):
    answer = client_for(app, people["owner"].email).post(
        f"/references/asks/{proposed.id}", data={"message": "  "}
    )
    assert answer.status_code == 422
    assert 'id="message-errors"' in answer.get_data(as_text=True)


def test_the_owners_list_pages_their_asks_by_step(app, make, session, people, proposed):
    other = make.manager("other@vouch.example")
    client = client_for(app, people["owner"].email)
    page = client.get("/references/asks/").get_data(as_text=True)
    assert "Dana Lee" in page and "Make the ask" in page
    assert "Dana Lee" not in client.get("/references/asks/?tab=waiting").get_data(as_text=True)

    theirs = client_for(app, other.email)
    assert "Dana Lee" not in theirs.get("/references/asks/").get_data(as_text=True)
    assert "Dana Lee" in theirs.get("/references/asks/?whose=all").get_data(as_text=True)


def test_the_request_page_partial_links_the_owner_to_the_ask(app, session, people, proposed):
    reference = fresh(session, ReferenceRequest, proposed.request_id)
    with app.test_request_context("/"):
        html = render_template(
            "references/_ask_actions.html", reference=reference, current_user=people["owner"]
        )
        assert f"/references/asks/{proposed.id}" in html and "Make the ask" in html
        html = render_template(
            "references/_ask_actions.html", reference=reference, current_user=people["sales"]
        )
        assert f"/references/asks/{proposed.id}" not in html


# --- the advocate answers -----------------------------------------------------------------


def test_the_hub_shows_the_open_ask_and_its_two_answers(app, people, asked):
    client = client_for(app, people["advocate"].email)
    home = client.get("/hub/").get_data(as_text=True)
    assert "Maya Patel asked you to speak with Globex" in home
    assert f"/hub/references/{asked.id}" in home
    page = client.get(f"/hub/references/{asked.id}").get_data(as_text=True)
    assert MESSAGE in page
    assert "When are you available?" in page and "Ask me again" in page
    assert "Globex" in client.get("/hub/references/").get_data(as_text=True)


def test_accepting_creates_the_call_and_a_pending_big_ask(
    app, make, session, people, asked, outbox
):
    outbox.deliver()  # the ask itself
    answer = client_for(app, people["advocate"].email).post(
        f"/hub/references/{asked.id}/accept", data=ACCEPT
    )
    assert answer.status_code == 302

    ask = fresh(session, ReferenceAsk, asked.id)
    assert ask.status == AskStatus.ACCEPTED and ask.responded_at is not None
    challenge = session.get(Challenge, ask.challenge_id)
    assert challenge.type == "reference_call"
    assert challenge.title == "Reference call: Globex"
    assert challenge.status == ChallengeStatus.ARCHIVED  # never open to anyone else
    assert challenge.points == 300  # the program shows points: the call's points
    assert challenge.config == {"arranged_by": "Sam Sales", "confirmed_on_request": True}
    submission = session.get(Submission, ask.submission_id)
    assert submission.status == SubmissionStatus.PENDING
    assert submission.high_effort and submission.slot == "1"
    assert submission.advocate_id == people["advocate"].id
    assert submission.evidence == {"availability": "Tuesdays after 2pm CET", "notes": "Not Fridays"}
    reference = fresh(session, ReferenceRequest, ask.request_id)
    assert reference.first_accepted_at == ask.responded_at

    sent = outbox.deliver()
    assert sorted(m.recipients[0] for m in sent) == ["maya@vouch.example", "sam@vouch.example"]
    for message in sent:
        assert message.subject == "Dana Lee accepted: introduce them to Hank Scorpio, CIO"
        assert "Tuesdays after 2pm CET" in message.body
        assert f"/references/{reference.id}" in message.body


def test_the_accepted_call_waits_for_its_requester_not_the_review_queue(
    app, make, session, people, asked
):
    client_for(app, people["advocate"].email).post(
        f"/hub/references/{asked.id}/accept", data=ACCEPT
    )
    ask = fresh(session, ReferenceAsk, asked.id)
    reviewer = client_for(app, make.manager().email)
    queue = reviewer.get("/manage/review").get_data(as_text=True)
    assert "Reference call: Globex" not in queue
    assert pending_count(session) == 0
    refused = reviewer.post(f"/manage/review/{ask.submission_id}", data={"approve": "y"})
    assert "confirmed on its reference request" in refused.get_data(as_text=True)
    assert fresh(session, Submission, ask.submission_id).status == SubmissionStatus.PENDING


def test_a_rewarded_program_makes_the_call_worth_no_points(app, session, people, asked):
    game_settings(session).show_points = False
    session.commit()
    client_for(app, people["advocate"].email).post(
        f"/hub/references/{asked.id}/accept", data=ACCEPT
    )
    ask = fresh(session, ReferenceAsk, asked.id)
    assert session.get(Challenge, ask.challenge_id).points == 0


def test_the_accepted_call_counts_toward_the_cap(app, make, session, people, asked):
    make.submission(make.challenge("case_study"), people["advocate"])  # one of two
    client_for(app, people["advocate"].email).post(
        f"/hub/references/{asked.id}/accept", data=ACCEPT
    )
    assert fresh(session, ReferenceAsk, asked.id).status == AskStatus.ACCEPTED
    video = make.challenge("video")
    with pytest.raises(LimitReached, match="already helped with 2 big asks"):
        submit(session, SETTINGS, people["advocate"], video.id, {"notes": "A clip"})


def test_accepting_at_the_cap_is_refused_with_the_reason(app, make, session, people, asked):
    for _ in range(2):
        make.submission(make.challenge("case_study"), people["advocate"])
    answer = client_for(app, people["advocate"].email).post(
        f"/hub/references/{asked.id}/accept", data=ACCEPT
    )
    assert answer.status_code == 422
    assert "You have already helped with 2 big asks in the last 90 days" in answer.get_data(
        as_text=True
    )
    ask = fresh(session, ReferenceAsk, asked.id)
    assert ask.status == AskStatus.ASKED and ask.challenge_id is None
    assert session.scalar(select(func.count()).select_from(Challenge)) == 2


def test_availability_is_required_to_accept(app, session, people, asked):
    answer = client_for(app, people["advocate"].email).post(
        f"/hub/references/{asked.id}/accept", data={"accept": "y", "availability": ""}
    )
    assert answer.status_code == 422
    assert 'id="availability-errors"' in answer.get_data(as_text=True)
    assert fresh(session, ReferenceAsk, asked.id).status == AskStatus.ASKED


def test_not_now_keeps_them_out_for_the_period_and_tells_the_owner(
    app, session, people, asked, outbox
):
    outbox.deliver()
    answer = client_for(app, people["advocate"].email).post(
        f"/hub/references/{asked.id}/decline",
        data={"decline": "y", "reason": "Busy quarter", "not_now": "90"},
    )
    assert answer.status_code == 302
    ask = fresh(session, ReferenceAsk, asked.id)
    assert ask.status == AskStatus.DECLINED
    assert ask.not_before == date.today() + timedelta(days=90)
    assert ask.decline_reason == "Busy quarter" and ask.closed_at is not None
    [sent] = outbox.deliver()
    assert sent.recipients == ["maya@vouch.example"]
    assert "Busy quarter" in sent.body and "Dana Lee declined" in sent.body


def test_just_this_one_leaves_no_pause(app, session, people, asked):
    client_for(app, people["advocate"].email).post(
        f"/hub/references/{asked.id}/decline", data={"decline": "y", "not_now": "once"}
    )
    ask = fresh(session, ReferenceAsk, asked.id)
    assert ask.status == AskStatus.DECLINED and ask.not_before is None


def test_an_answered_ask_cannot_be_answered_again(app, session, people, asked):
    client = client_for(app, people["advocate"].email)
    client.post(f"/hub/references/{asked.id}/decline", data={"decline": "y", "not_now": "once"})
    again = client.post(f"/hub/references/{asked.id}/accept", data=ACCEPT)
    assert again.status_code == 409
    assert "You already answered this ask." in again.get_data(as_text=True)


def test_another_advocates_ask_is_not_found(app, make, people, asked, proposed):
    stranger = make.advocate("eve@initech.example", account=people["account"])
    client = client_for(app, stranger.email)
    assert client.get(f"/hub/references/{asked.id}").status_code == 404
    assert client.post(f"/hub/references/{asked.id}/accept", data=ACCEPT).status_code == 404
    decline = {"decline": "y", "not_now": "once"}
    assert client.post(f"/hub/references/{asked.id}/decline", data=decline).status_code == 404


def test_a_proposal_not_yet_sent_is_not_shown_to_the_advocate(app, people, proposed):
    client = client_for(app, people["advocate"].email)
    assert client.get(f"/hub/references/{proposed.id}").status_code == 404
    assert "Globex" not in client.get("/hub/").get_data(as_text=True)


# --- staff take asks back -----------------------------------------------------------------


def test_withdrawing_an_accepted_ask_gives_back_its_call(app, make, session, people, asked, outbox):
    client_for(app, people["advocate"].email).post(
        f"/hub/references/{asked.id}/accept", data=ACCEPT
    )
    outbox.deliver()
    answer = client_for(app, people["owner"].email).post(
        f"/references/asks/{asked.id}/withdraw", data={"reason": "The deal slipped"}
    )
    assert answer.status_code == 302
    ask = fresh(session, ReferenceAsk, asked.id)
    assert ask.status == AskStatus.WITHDRAWN and ask.closed_at is not None
    submission = session.get(Submission, ask.submission_id)
    assert submission.status == SubmissionStatus.WITHDRAWN and submission.slot is None
    assert session.get(Challenge, ask.challenge_id).taken == 0
    [sent] = outbox.deliver()
    assert sent.recipients == ["dana@initech.example"]
    assert "no longer needed" in sent.body and "The deal slipped" in sent.body
    # the big ask no longer counts: the advocate may be asked again
    assert asks.open_ask_of(session, people["advocate"].id) is None


def test_a_withdrawal_needs_a_reason(app, session, people, asked):
    answer = client_for(app, people["owner"].email).post(
        f"/references/asks/{asked.id}/withdraw", data={"reason": ""}
    )
    assert answer.status_code == 422
    assert fresh(session, ReferenceAsk, asked.id).status == AskStatus.ASKED


def test_withdraw_asks_takes_back_every_open_one_of_a_request(make, session, people, asked):
    reference = fresh(session, ReferenceRequest, asked.request_id)
    other = make.advocate("lee@initech.example", account=people["account"])
    proposal = propose(session, reference, other, people["owner"])
    declined = propose(
        session,
        reference,
        make.advocate(account=people["account"]),
        people["owner"],
        status=AskStatus.DECLINED,
    )

    withdrawn = asks.withdraw_asks(session, people["owner"], reference, "Cancelled by sales")
    session.commit()

    assert sorted(a.id for a in withdrawn) == [asked.id, proposal.id]
    assert fresh(session, ReferenceAsk, declined.id).status == AskStatus.DECLINED
    told = [m.to_email for m in outbox_rows(session, "reference_ask_withdrawn")]
    assert told == ["dana@initech.example"]  # the proposal was never sent: nobody to tell
    assert asks.withdraw_asks(session, people["owner"], reference, "again") == []
    events = select(func.count()).where(AuditEvent.action == "reference_ask.withdraw")
    assert session.scalar(events) == 2


def test_an_owners_name_with_accents_and_a_comma_reads_right(
    app, session, people, proposed, outbox
):
    people["owner"].name = "Núñez, José"
    session.commit()
    asks.send_ask(session, SETTINGS, people["owner"], proposed.id, MESSAGE)
    session.commit()
    [sent] = outbox.deliver()
    with app.app_context():
        built = message_from_bytes(sent.as_bytes(), policy=default)
    assert built["From"].addresses[0].display_name == "Núñez, José via Vouch"
    assert built["From"].addresses[0].addr_spec == "hub@vouch.example"
    assert built["Reply-To"].addresses[0].display_name == "Núñez, José"
    assert built["Reply-To"].addresses[0].addr_spec == "maya@vouch.example"
    assert len(built.get_all("From")) == 1
