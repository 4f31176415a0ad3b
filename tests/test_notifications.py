"""Notifications: every non-essential email goes through the one gate (portal.notifications),
is sent through a real SMTP server with its text and HTML parts and its RFC 8058 headers,
stops when its kind is turned off, and never reaches an advocate who left. The hub lists
what happened, with an unread count in the navigation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.models import OutboxMessage
from portal.notifications.models import Notification, Topic
from tests.conftest import make_test_app
from tests.factories import client_for, login
from tests.faults_smtp import SmtpServers

SMTP_PORT = 5101  # this file's own port; nothing listens until a test starts its server


@pytest.fixture
def mail_app(app, database_url):
    """The app, delivering through real SMTP to 127.0.0.1:SMTP_PORT."""
    smtp_app = make_test_app(
        database_url, MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=SMTP_PORT
    )
    yield smtp_app
    smtp_app.extensions["vouch.engine"].dispose()


@pytest.fixture
def smtp():
    servers = SmtpServers(SMTP_PORT)
    servers.start()
    yield servers
    servers.stop()


def send_outbox(mail_app) -> str:
    result = mail_app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    return result.output


def received_by(smtp, email: str) -> list:
    return [m for m in smtp.received if m["To"] == email]


def parts(message) -> dict[str, str]:
    """The text of each part by content type (text/plain, text/html, text/calendar...)."""
    found = {}
    for part in message.walk():
        if not part.is_multipart():
            found[part.get_content_type()] = part.get_payload(decode=True).decode()
    return found


def review(app, make, submission, verdict: str = "approve", reason: str = ""):
    manager = client_for(app, make.manager().email)
    answer = manager.post(f"/manage/review/{submission.id}", data={verdict: "y", "reason": reason})
    assert answer.status_code == 302, answer.data
    return answer


def test_an_approval_arrives_with_both_parts_and_one_click_unsubscribe(
    app, mail_app, smtp, make, session
):
    advocate = make.advocate("ana@north.example")
    challenge = make.challenge("case_study", title="Tell us <why>", points=40)
    review(app, make, make.submission(challenge, advocate), reason="Lovely answer")
    send_outbox(mail_app)

    (mail,) = received_by(smtp, advocate.email)
    assert mail["Subject"] == "Approved: Tell us <why>"
    (both,) = [part for part in mail.walk() if part.get_content_type() == "multipart/alternative"]
    assert [p.get_content_type() for p in both.get_payload()] == ["text/plain", "text/html"]
    body = parts(mail)
    assert "40 points have been added to your balance" in body["text/plain"]
    assert "Lovely answer" in body["text/plain"]
    html = body["text/html"]
    assert "Tell us &lt;why&gt;" in html and "<why>" not in html  # escaped, a manager's text
    assert 'style="' in html  # the layout's CSS, inlined for mail clients
    link = re.fullmatch(r"<(http://vouch\.test/unsubscribe/\S+)>", mail["List-Unsubscribe"])
    assert link, mail["List-Unsubscribe"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.group(1) in body["text/plain"] and link.group(1) in html
    assert "http://vouch.test/hub/profile#email" in body["text/plain"]

    # the mail client's one-click POST: no session, no CSRF token, no login
    path = link.group(1).removeprefix("http://vouch.test")
    anonymous = mail_app.test_client()
    done = anonymous.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and b"We will not email you about this" in done.data
    session.expire_all()
    assert session.get(User, advocate.id).email_results is False

    # the next result is not emailed; other kinds still are
    review(
        app, make, make.submission(make.challenge("case_study"), advocate), "reject", "Too short"
    )
    reward = make.reward("Mug", kind="swag", cost=10)
    make.points(advocate, 50)
    make.redemption(advocate, reward, shipping_address="1 Main St, Boston MA")
    send_outbox(mail_app)
    subjects = [m["Subject"] for m in received_by(smtp, advocate.email)]
    assert subjects[0] == "Approved: Tell us <why>"
    assert not [s for s in subjects if s.startswith("Not approved")]  # results are off
    assert subjects[1:] and all(s.startswith("Mug: ") for s in subjects[1:])  # rewards still on
    # the hub still lists the rejection
    listed = session.scalars(
        select(Notification.message).where(Notification.user_id == advocate.id)
    ).all()
    assert any(message.startswith("Not approved:") for message in listed)


def test_must_send_mail_is_sent_whatever_the_choices(app, mail_app, smtp, make, session):
    advocate = make.advocate("bo@north.example")
    for topic in Topic:
        setattr(advocate, topic.column, False)
    session.commit()
    app.test_client().post("/forgot", data={"email": advocate.email})
    send_outbox(mail_app)
    (reset,) = received_by(smtp, advocate.email)
    assert "List-Unsubscribe" not in reset  # must-send: no unsubscribe, nothing to turn off


def test_an_advocate_who_left_is_emailed_nothing(app, make, session, queued):
    """Before: the approval of a pending submission, a thank-you and a redemption update
    were all still emailed after the advocate left (the leave page promises none)."""
    advocate = make.advocate("cy@north.example")
    make.points(advocate, 500)
    reward = make.reward("Gift card", kind="gift_card", cost=100)
    redemption = make.redemption(advocate, reward)
    pending = make.submission(make.challenge("case_study", title="Poll"), advocate)
    before = len(queued(advocate.email))

    own = app.test_client()
    login(own, advocate.email)
    assert own.post("/hub/leave", data={"confirm": "y"}).status_code == 302

    review(app, make, pending)
    session.expire_all()
    from challenges.models import Submission

    thank_you = session.get(Submission, pending.id).thank_you
    manager = client_for(app, make.manager().email)
    manager.post(
        f"/manage/thanks/{thank_you.id}",
        data={"submit": "y", "subject": "Thank you!", "message": "You made our week."},
    )
    admin = client_for(app, make.admin().email)
    admin.post(f"/admin/redemptions/{redemption.id}/approve")

    assert len(queued(advocate.email)) == before
    # the reviewer saw it coming: the submission page says so
    session.expire_all()
    page = manager.get(f"/manage/review/{pending.id}")
    assert b"Left the program" in page.data and b"No email will be sent" in page.data


def test_the_queue_marks_who_left_in_one_query_for_the_page(app, make, count_queries):
    stays, goes = make.advocate("dee@north.example"), make.advocate("eli@north.example")
    for person in (stays, goes):
        make.submission(make.challenge("case_study"), person)
    own = app.test_client()
    login(own, goes.email)
    own.post("/hub/leave", data={"confirm": "y"})
    manager = client_for(app, make.manager().email)
    page = manager.get("/manage/review").get_data(as_text=True)
    rows = page.split('data-testid="queue-row"')[1:]
    assert len(rows) == 2
    marked = {row.split("</td>")[1].count("Left the program") for row in rows}
    assert marked == {0, 1}
    assert "Left the program" in next(r for r in rows if goes.display_name in r)


def test_unread_count_in_the_navigation_clears_once_the_list_is_seen(
    app, make, session, count_queries
):
    advocate = make.advocate("fay@north.example")
    review(app, make, make.submission(make.challenge("case_study", title="Poll A"), advocate))
    review(
        app,
        make,
        make.submission(make.challenge("case_study", title="Poll B"), advocate),
        "reject",
        "No",
    )
    client = client_for(app, advocate.email)

    with count_queries() as counted:
        home = client.get("/hub/profile").get_data(as_text=True)
    assert re.search(r'data-testid="unread-count">\s*2\s*<', home)
    reads = [s for s in counted.statements if "notifications" in s.lower()]
    assert len(reads) == 1 and "count(" in reads[0].lower()  # one COUNT, on the unread index

    listing = client.get("/hub/notifications").get_data(as_text=True)
    assert listing.index("Not approved: Poll B") < listing.index("Approved: Poll A")  # newest first
    assert listing.count(">New<") == 2
    assert 'href="http://vouch.test/hub/submissions"' in listing
    after = client.get("/hub/profile").get_data(as_text=True)
    assert 'data-testid="unread-count"' not in after
    again = client.get("/hub/notifications").get_data(as_text=True)
    assert ">New<" not in again and "Approved: Poll A" in again


def test_the_list_pages_by_key_newest_first(app, make, session):
    advocate = make.advocate("gus@north.example")
    session.add_all(
        Notification(user_id=advocate.id, topic=Topic.GAME, message=f"News {n:02d}")
        for n in range(35)
    )
    session.commit()
    client = client_for(app, advocate.email)
    first = client.get("/hub/notifications").get_data(as_text=True)
    assert "News 34" in first and "News 05" in first and "News 04" not in first
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).get_data(as_text=True)
    assert "News 04" in second and "News 00" in second and "News 05" not in second


def test_badges_levels_and_logged_points_are_listed(app, make, session):
    from challenges.badges import ensure_default_badges
    from points.levels import ensure_default_levels

    ensure_default_levels(session)
    ensure_default_badges(session)
    session.commit()
    advocate = make.advocate("hal@north.example")
    review(app, make, make.submission(make.challenge("case_study", points=600), advocate))
    messages = session.scalars(
        select(Notification.message)
        .where(Notification.user_id == advocate.id)
        .order_by(Notification.id)
    ).all()
    assert any(m.startswith("New badge:") for m in messages), messages
    assert "You are now a Contributor" in messages
    level_mail = [m for m in session.scalars(select(OutboxMessage)) if m.kind == "level_reached"]
    assert level_mail and level_mail[0].headers["List-Unsubscribe-Post"]


def test_profile_choices_change_what_is_emailed_and_how_pages_read(app, make, session, queued):
    advocate = make.advocate("ida@north.example")
    client = client_for(app, advocate.email)
    page = client.get("/hub/profile").get_data(as_text=True)
    assert 'id="email"' in page and "Password resets and invitations are always sent" in page
    form = {
        "name": "Ida",
        "email_rewards": "y",
        "email_thanks": "y",
        "email_game": "y",
        "email_events": "y",
        "email_digests": "y",
        "locale": "es",
        "time_zone": "Asia/Tokyo",
    }  # challenge results left unticked
    assert client.post("/hub/profile", data=form).status_code == 302
    session.expire_all()
    saved = session.get(User, advocate.id)
    assert (saved.email_results, saved.email_rewards, saved.locale, saved.time_zone) == (
        False,
        True,
        "es",
        "Asia/Tokyo",
    )
    review(app, make, make.submission(make.challenge("case_study"), advocate))
    assert [m.kind for m in queued(advocate.email)] == []  # results are off
    listing = client.get("/hub/notifications").get_data(as_text=True)
    assert '<html lang="es"' in listing  # the person's language, whatever the browser says
    assert "JST" in listing  # times in their zone, the zone named

    bad = client.post("/hub/profile", data={**form, "time_zone": "Mars/Olympus", "locale": "xx"})
    assert bad.status_code == 422
    session.expire_all()
    assert session.get(User, advocate.id).time_zone == "Asia/Tokyo"


def test_a_manual_adjustment_is_listed_not_emailed(app, make, session, queued):
    advocate = make.advocate("jo@north.example")
    admin = client_for(app, make.admin().email)
    bonus = {"amount": "25", "reason": "Kick-off bonus", "request_key": "k2"}
    assert admin.post(f"/admin/users/{advocate.id}/points", data=bonus).status_code == 302
    listing = client_for(app, advocate.email).get("/hub/notifications").get_data(as_text=True)
    assert "Your points were adjusted by +25: Kick-off bonus" in listing
    assert queued(advocate.email) == []


def test_email_is_written_in_the_recipients_language(app, make, session, queued):
    advocate = make.advocate("lu@sur.example")
    advocate.locale = "es"
    session.commit()
    review(app, make, make.submission(make.challenge("case_study", title="Caso Norte"), advocate))
    (mail,) = [m for m in queued(advocate.email) if m.kind == "submission_approved"]
    assert mail.subject == "Aprobado: Caso Norte"  # the reviewer's request was in English
    assert mail.body_text.startswith("Hola, ")
    assert '<html lang="es"' in mail.body_html


def test_only_what_the_page_shows_is_marked_read(app, make, session):
    advocate = make.advocate("hal@north.example")
    session.add_all(
        Notification(user_id=advocate.id, topic=Topic.GAME, message=f"News {n:02d}")
        for n in range(35)
    )
    session.commit()
    client = client_for(app, advocate.email)
    first = client.get("/hub/notifications").get_data(as_text=True)
    assert "News 05" in first and "News 04" not in first
    session.expire_all()
    unread = session.scalars(
        select(Notification.message).where(
            Notification.user_id == advocate.id, Notification.read_at.is_(None)
        )
    )
    assert sorted(unread) == [f"News {n:02d}" for n in range(5)]  # the next page, still new
    assert 'data-testid="unread-count">5<' in client.get("/hub/").get_data(as_text=True)


def test_mail_queued_before_leaving_is_withheld_when_the_sender_gets_to_it(
    app, make, session, outbox
):
    """The gate is asked again at sending time: an approval queued at 10:00 for an advocate
    who left at 10:05 is never sent, though the sender only runs at 10:10."""
    from portal.auth.services import opt_out

    advocate = make.advocate("kenji@lakeside.example")
    challenge = make.challenge("case_study", title="Poll K")
    submission = make.submission(challenge, advocate)
    session.commit()
    review(app, make, submission)
    queued_first = session.scalar(
        select(OutboxMessage).where(OutboxMessage.to_email == advocate.email)
    )
    assert queued_first is not None and queued_first.topic == Topic.RESULTS
    opt_out(session, session.get(User, advocate.id))
    session.commit()

    assert [m for m in outbox.deliver() if advocate.email in m.recipients] == []
    session.expire_all()
    held = session.get(OutboxMessage, queued_first.id)
    assert held.withheld_at is not None and held.sent_at is None
