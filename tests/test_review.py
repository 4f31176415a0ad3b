"""Review, thank-yous, activities logged by staff, and the cap on big asks."""

from datetime import timedelta

from sqlalchemy import func, select

from challenges.models import Submission, ThankYou
from challenges.thanks import (
    ThanksShare,
    open_count,
    recount_thanks_by_day,
    thanked_within_a_week,
)
from points.models import LedgerEntry
from points.services import balance_of
from portal.accounts.models import AuditEvent
from portal.db import utcnow
from tests.factories import client_for


def _count(session, model, *where):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_approval_awards_once_emails_audits_and_owes_a_thank_you(client, make, session, outbox):
    challenge = make.challenge("review", points=150)
    submission = make.submission(challenge)
    manager = client_for(client.application, make.manager().email)
    queue = manager.get("/manage/review")
    assert submission.advocate.display_name.encode() in queue.data
    assert b"www.g2.com/products/vouch/reviews/1" in queue.data

    approved = manager.post(
        f"/manage/review/{submission.id}", data={"approve": "y", "reason": "Lovely review"}
    )
    assert approved.status_code == 302
    again = manager.post(f"/manage/review/{submission.id}", data={"approve": "y"})
    assert again.status_code == 409
    assert b"Already reviewed: this submission was approved by" in again.data

    assert _count(session, LedgerEntry) == 1
    entry = session.scalar(select(LedgerEntry))
    assert (entry.amount, entry.idempotency_key) == (150, f"submission:{submission.id}")
    assert balance_of(session, submission.advocate_id).balance == 150
    assert _count(session, ThankYou, ThankYou.submission_id == submission.id) == 1
    assert _count(session, AuditEvent, AuditEvent.action == "submission.approve") == 1
    [mail] = outbox.deliver()
    assert mail.recipients == [submission.advocate.email]
    assert "150 points" in mail.body and "Lovely review" in mail.body


def test_rejection_needs_a_reason_and_tells_the_advocate(client, make, session, outbox):
    submission = make.submission(make.challenge("social_share", approval="manual"))
    manager = client_for(client.application, make.manager().email)
    missing = manager.post(f"/manage/review/{submission.id}", data={"reject": "y"})
    assert missing.status_code == 422
    assert b"Say why, so the advocate knows what to change." in missing.data
    session.refresh(submission)
    assert submission.status == "pending"
    manager.post(
        f"/manage/review/{submission.id}", data={"reject": "y", "reason": "Post is private"}
    )
    session.refresh(submission)
    assert (submission.status, submission.slot, submission.challenge.taken) == ("rejected", None, 0)
    [mail] = outbox.deliver()
    assert "Post is private" in mail.body
    assert _count(session, LedgerEntry) == 0


def test_bulk_review_reports_what_was_skipped(client, make, session):
    challenge = make.challenge("social_share", approval="manual", points=10)
    first, second = make.submission(challenge), make.submission(challenge)
    manager = client_for(client.application, make.manager().email)
    manager.post(f"/manage/review/{first.id}", data={"approve": "y"})
    no_reason = manager.post(
        "/manage/review/bulk",
        data={"submission_ids": [second.id], "reject": "y"},
        follow_redirects=True,
    )
    assert b"Say why" in no_reason.data
    done = manager.post(
        "/manage/review/bulk",
        data={"submission_ids": [first.id, second.id], "approve": "y"},
        follow_redirects=True,
    )
    assert b"Approved 1." in done.data
    assert f"Skipped #{first.id}: Already reviewed".encode() in done.data
    assert _count(session, LedgerEntry) == 2


def test_queue_filters_by_challenge_type_account_and_age(client, make, session):
    north, south = make.account("North Co"), make.account("South Co")
    share = make.challenge("social_share", approval="manual", title="Share it")
    refer = make.challenge("referral", title="Refer a peer")
    old = make.submission(share, make.advocate(account=north))
    old.created_at = utcnow() - timedelta(days=10)
    session.commit()
    make.submission(refer, make.advocate(account=south))
    manager = client_for(client.application, make.manager().email)

    def rows(query):
        return manager.get(f"/manage/review?{query}").data.count(b'data-testid="queue-row"')

    assert rows("") == 2
    assert rows(f"challenge_id={share.id}") == 1
    assert rows("type=referral") == 1
    assert rows("account=north") == 1
    assert rows("older_than_days=7") == 1
    bad = manager.get("/manage/review?older_than_days=-3")
    assert b"Between 0 and 3,650 days." in bad.data


def test_thank_yous_by_email_or_another_way_and_the_weekly_share(client, make, session, outbox):
    challenge = make.challenge("survey", approval="auto", title="Quick poll")
    first, second = make.submission(challenge), make.submission(challenge)
    manager = client_for(client.application, make.manager().email)
    page = manager.get("/manage/thanks")
    assert page.data.count(b'data-testid="thanks-row"') == 2
    item = first.thank_you
    form = manager.get(f"/manage/thanks/{item.id}")
    assert (
        first.advocate.display_name.encode() in form.data and "“Quick poll”".encode() in form.data
    )
    empty = manager.post(f"/manage/thanks/{item.id}", data={"submit": "y", "subject": "Hi"})
    assert b"Write the message." in empty.data
    manager.post(
        f"/manage/thanks/{item.id}",
        data={"submit": "y", "subject": "Thank you!", "message": "You made our week."},
    )
    twice = manager.post(
        f"/manage/thanks/{item.id}",
        data={"submit": "y", "subject": "Thank you!", "message": "Again"},
        follow_redirects=True,
    )
    assert b"already thanked" in twice.data
    manager.post(
        f"/manage/thanks/{second.thank_you.id}", data={"submit": "y", "note": "Called him"}
    )
    sent = [m for m in outbox.deliver() if m.subject == "Thank you!"]
    assert len(sent) == 1 and "You made our week." in sent[0].body
    assert manager.get("/manage/thanks").data.count(b'data-testid="thanks-row"') == 0

    late = make.submission(challenge)
    # counted as they happen: today's three are owed, two said on time; the share waits
    # until their week is over
    assert thanked_within_a_week(session) == ThanksShare(on_time=0, due=0)
    assert open_count(session) == 1  # three owed, two said
    next_week = thanked_within_a_week(session, now=utcnow() + timedelta(days=8))
    assert (next_week.on_time, next_week.due, next_week.percent) == (2, 3, 67)

    # dates set by hand (an import): the daily counts are rebuilt from the thank-yous
    session.expire_all()
    for item in (first.thank_you, second.thank_you, late.thank_you):
        item.created_at = utcnow() - timedelta(days=12)
        if item.thanked_at:
            item.thanked_at = item.created_at + timedelta(days=2)
    recount_thanks_by_day(session)
    session.commit()
    assert b"67%" in manager.get("/manage/").data


def test_logged_activity_counts_toward_the_cap_and_points_are_optional(client, make, session):
    advocate = make.advocate()
    manager = client_for(client.application, make.manager().email)
    data = {
        "advocate_email": advocate.email,
        "type": "reference_call",
        "description": "Jo arranged a call with Contoso",
        "occurred_on": (utcnow() - timedelta(days=3)).date().isoformat(),
        "points": "0",
    }
    future = manager.post("/manage/activities/new", data={**data, "occurred_on": "2099-01-01"})
    assert b"That date is in the future." in future.data
    assert manager.post("/manage/activities/new", data=data).status_code == 302
    assert manager.post("/manage/activities/new", data={**data, "points": "300"}).status_code == 302
    assert balance_of(session, advocate.id).balance == 300
    assert _count(session, ThankYou) == 2
    dashboard = manager.get("/manage/")
    assert advocate.display_name.encode() in dashboard.data and b"2 of 2" in dashboard.data

    big = make.challenge("reference_call", title="Talk to Globex")
    small = make.challenge("survey", approval="auto", title="One question")
    me = client_for(client.application, advocate.email)
    home = me.get("/hub/")
    assert b"One question" in home.data and b"Talk to Globex" not in home.data
    refused = me.post(f"/hub/challenges/{big.id}", data={"availability": "Any time"})
    assert b"plenty of big asks lately" in refused.data
    assert _count(session, Submission, Submission.challenge_id == big.id) == 0
    assert small  # still open to them


def test_account_cap_limits_big_asks_across_colleagues(client, make, session):
    account = make.account("Busy Corp")
    manager = client_for(client.application, make.manager().email)
    manager.post(
        "/manage/settings",
        data={
            "high_effort_per_advocate": "2",
            "high_effort_per_account": "2",
            "high_effort_window_days": "90",
            "thank_you_template": "Thanks {name}",
        },
    )
    calls = [make.challenge("reference_call") for _ in range(3)]
    colleagues = [make.advocate(account=account) for _ in range(3)]
    answers = [
        client_for(client.application, colleague.email).post(
            f"/hub/challenges/{call.id}", data={"availability": "Mornings"}
        )
        for colleague, call in zip(colleagues, calls, strict=True)
    ]
    assert [a.status_code for a in answers[:2]] == [302, 302]
    assert b"Busy Corp has helped with plenty of big asks lately" in answers[2].data
    dashboard = manager.get("/manage/").data.decode()
    near = dashboard.split('aria-label="Accounts near the big-ask cap"')[1].split("</table>")[0]
    assert "Busy Corp" in near and "2 of 2" in near and "At the cap" in near
    invalid = manager.post(
        "/manage/settings",
        data={
            "high_effort_per_advocate": "3",
            "high_effort_per_account": "1",
            "high_effort_window_days": "90",
        },
    )
    assert b"The account cap can&#39;t be below the advocate cap." in invalid.data


def _queries(app, client, path):
    """How many SQL statements answering `path` takes."""
    from sqlalchemy import event

    statements = []
    engine = app.extensions["vouch.engine"]

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_queue_thanks_and_hub_pages_load_in_a_fixed_number_of_queries(app, make):
    manager = client_for(app, make.manager().email)
    reviewed = make.challenge("social_share", approval="manual")
    auto = make.challenge("survey", approval="auto", limit_kind="times", limit_count=50)
    advocate = make.advocate()
    me = client_for(app, advocate.email)

    def measure():
        return [
            _queries(app, manager, "/manage/review"),
            _queries(app, manager, "/manage/thanks"),
            _queries(app, me, "/hub/"),
            _queries(app, me, "/hub/submissions"),
        ]

    make.submission(reviewed)
    make.submission(auto, advocate)
    few = measure()
    for _ in range(6):
        make.submission(reviewed)
        make.submission(auto, advocate)
    assert measure() == few  # no query per row


def test_a_hand_edited_thank_you_template_is_text_not_code(client, make, session):
    from challenges.authoring import program_settings

    item = make.submission(make.challenge("survey", approval="auto")).thank_you
    program_settings(session).thank_you_template = "Hi {name}, {name.__class__} {0} {what}!"
    session.commit()
    manager = client_for(client.application, make.manager().email)
    page = manager.get(f"/manage/thanks/{item.id}")
    assert page.status_code == 200
    assert item.submission.advocate.display_name.encode() in page.data
    assert b"{name.__class__} {0}" in page.data
