"""The unsubscribe link in every non-essential email: signed, works logged out, turns off
one kind with one click (RFC 8058), offers the other choices, and refuses anything forged
with a clear page, never a 500."""

from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from portal.accounts.models import AuditEvent, User
from portal.notifications.models import Topic
from portal.notifications.services import unsubscribe_url
from tests.conftest import make_test_app
from tests.factories import SETTINGS


def path_of(url: str) -> str:
    return url.removeprefix(SETTINGS.public_url)


def choices_of(session, advocate) -> dict[Topic, bool]:
    session.expire_all()
    user = session.get(User, advocate.id)
    return {topic: getattr(user, topic.column) for topic in Topic}


def test_the_page_says_which_kind_and_one_click_turns_only_that_off(client, make, session):
    advocate = make.advocate("ana@north.example")
    link = path_of(unsubscribe_url(SETTINGS, advocate, Topic.REWARDS))
    audits = session.scalar(select(func.count()).select_from(AuditEvent))

    page = client.get(link).get_data(as_text=True)  # nobody logged in
    assert "This link is about: Rewards (redemption updates, points about to expire)" in page
    assert "Turn off these emails" in page
    assert page.count('type="checkbox"') == len(Topic)  # the other choices, all of them
    assert "Password resets and invitations are always sent" in page

    done = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "We will not email you about this any more" in done.get_data(as_text=True)
    assert choices_of(session, advocate) == {topic: topic != Topic.REWARDS for topic in Topic}
    again = client.post(link, data={"List-Unsubscribe": "One-Click"})  # a client that retries
    assert again.status_code == 200
    after = client.get(link).get_data(as_text=True)
    assert "You no longer get these emails." in after and "Turn off these emails" not in after
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audits


def test_the_other_choices_are_saved_from_the_same_page(client, make, session):
    advocate = make.advocate("bo@north.example")
    link = path_of(unsubscribe_url(SETTINGS, advocate, Topic.DIGESTS))
    saved = client.post(f"{link}/choices", data={"email_results": "y", "email_events": "y"})
    assert saved.status_code == 200 and "Your choices are saved." in saved.get_data(as_text=True)
    wanted = {Topic.RESULTS, Topic.EVENTS}
    assert choices_of(session, advocate) == {topic: topic in wanted for topic in Topic}
    page = client.get(link).get_data(as_text=True)
    assert re.search(r'id="email_results"[^>]*checked|checked[^>]*id="email_results"', page)
    assert not re.search(r'id="email_game"[^>]*checked|checked[^>]*id="email_game"', page)


def test_the_page_reads_in_the_persons_language(client, make, session):
    advocate = make.advocate("cy@north.example")
    advocate.locale = "es"
    session.commit()
    page = client.get(path_of(unsubscribe_url(SETTINGS, advocate, Topic.GAME)))
    assert '<html lang="es"' in page.get_data(as_text=True)


@pytest.fixture
def csrf_app(app, database_url):
    checked = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    yield checked
    checked.extensions["vouch.engine"].dispose()


def test_one_click_needs_no_csrf_token_but_the_choices_form_does(csrf_app, make, session):
    advocate = make.advocate("dee@north.example")
    link = path_of(unsubscribe_url(SETTINGS, advocate, Topic.THANKS))
    client = csrf_app.test_client()
    forged = client.post(f"{link}/choices", data={"email_thanks": "y"})
    assert forged.status_code == 400 and b"Your form expired" in forged.data
    assert choices_of(session, advocate)[Topic.RESULTS] is True  # nothing changed
    one_click = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert choices_of(session, advocate)[Topic.THANKS] is False

    page = client.get(link).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    saved = client.post(f"{link}/choices", data={"csrf_token": token.group(1)})
    assert saved.status_code == 200 and b"Your choices are saved." in saved.data
    assert not any(choices_of(session, advocate).values())


def _signed(payload, secret: str = SETTINGS.secret_key) -> str:
    return URLSafeSerializer(secret, salt="vouch.unsubscribe").dumps(payload)


def test_forged_or_mangled_links_get_a_clear_page(client, make, session):
    advocate = make.advocate("eli@north.example")
    good = path_of(unsubscribe_url(SETTINGS, advocate, Topic.RESULTS)).rsplit("/", 1)[1]
    tokens = [
        "made-up",
        good[:-3],  # cut short when copied
        good[:-1] + ("A" if good[-1] != "A" else "B"),
        good + "x",
        _signed({"user": advocate.id, "topic": "results"}, "another-secret"),
        _signed({"user": advocate.id, "topic": "everything"}),
        _signed({"user": 10**9, "topic": "results"}),  # no such person
        _signed({"user": "nobody", "topic": "results"}),
        _signed({"topic": "results"}),
        _signed(["a", "list"]),
        "x" * 5000,
    ]
    for token in tokens:
        for method in ("GET", "POST"):
            answer = client.open(f"/unsubscribe/{token}", method=method)
            assert answer.status_code == 404, (token, method, answer.status_code)
            assert b"This link does not work" in answer.data
        assert client.post(f"/unsubscribe/{token}/choices").status_code == 404
    assert all(choices_of(session, advocate).values())  # nothing was turned off
