"""Logging in and out, password reset and change, safe redirects."""

import pytest
from itsdangerous import URLSafeTimedSerializer

from portal.auth.services import RESET_SALT, user_for_reset_token
from portal.config import Settings
from portal.errors import InvalidToken
from tests.factories import PASSWORD, link_in, login


def test_login_lands_on_the_home_of_each_role(client, make):
    assert b"Advocate program" in login(client, make.manager().email).data
    client.post("/logout")
    assert b"No open requests." in login(client, make.admin().email).data
    client.post("/logout")
    advocate = make.advocate()
    assert f"Welcome back, {advocate.name}".encode() in login(client, advocate.email).data


def test_wrong_password_unknown_email_and_blank_fields_get_clear_messages(client, make):
    advocate = make.advocate()
    wrong = login(client, advocate.email, "not-the-password")
    assert b"That email and password don&#39;t match an active login." in wrong.data
    unknown = login(client, "nobody@example.com")
    assert b"That email and password don&#39;t match an active login." in unknown.data
    blank = client.post("/login", data={"email": "", "password": ""})
    assert b"Enter your email." in blank.data
    assert b"Enter your password." in blank.data
    assert client.get("/hub/").status_code == 302


def test_email_is_matched_whatever_its_case_and_spaces(client, make):
    advocate = make.advocate("Mixed.Case@Example.com")
    assert advocate.email == "mixed.case@example.com"
    assert b"Welcome back" in login(client, "  MIXED.case@example.COM ").data


@pytest.mark.parametrize(
    ("target", "lands_on"),
    [
        ("/hub/profile", "/hub/profile"),
        ("https://evil.example/steal", "/hub/"),
        ("//evil.example/steal", "/hub/"),
        ("/\\evil.example", "/hub/"),
        ("javascript:alert(1)", "/hub/"),
        ("/\r\nSet-Cookie: x=1", "/hub/"),  # a line break would split the header: a 500
    ],
)
def test_next_redirects_only_within_the_site(client, make, target, lands_on):
    advocate = make.advocate()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": advocate.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == lands_on


def test_anonymous_visitor_is_sent_to_login_and_back(client, make):
    response = client.get("/hub/profile")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/hub/profile"


def test_password_reset_by_email_works_once(client, make, outbox):
    advocate = make.advocate("ana@example.com")
    answer = client.post("/forgot", data={"email": "ANA@example.com"}, follow_redirects=True)
    unknown = client.post("/forgot", data={"email": "ghost@example.com"}, follow_redirects=True)
    assert b"If that address has a login" in answer.data
    assert b"If that address has a login" in unknown.data
    [message] = outbox.deliver()
    assert message.recipients == [advocate.email]
    path = link_in(message.body)

    weak = client.post(path, data={"password": "short", "confirm": "short"})
    assert b"Use at least 10 characters." in weak.data
    done = client.post(
        path,
        data={"password": "brand-new-pass-9", "confirm": "brand-new-pass-9"},
        follow_redirects=True,
    )
    assert b"Your password is changed." in done.data
    reused = client.get(path)
    assert reused.status_code == 400
    assert b"already used" in reused.data
    assert b"Welcome back" in login(client, advocate.email, "brand-new-pass-9").data


def test_expired_and_tampered_reset_links_are_refused(client, make):
    advocate = make.advocate()
    signer = URLSafeTimedSerializer("test-secret-key", salt=RESET_SALT)
    token = signer.dumps({"u": advocate.id, "s": advocate.session_token})
    assert client.get(f"/reset/{token}").status_code == 200
    tampered = client.get(f"/reset/{token[:-2]}AA")
    assert b"This reset link is not valid." in tampered.data
    forged = URLSafeTimedSerializer("another-key", salt=RESET_SALT).dumps({"u": advocate.id})
    assert client.get(f"/reset/{forged}").status_code == 400
    expired_settings = Settings(secret_key="test-secret-key", public_url="", reset_ttl_seconds=-1)
    with pytest.raises(InvalidToken, match="expired"):
        user_for_reset_token(None, expired_settings, token)


def test_changing_password_ends_other_sessions(app, client, make):
    advocate = make.advocate()
    other_device = app.test_client()
    login(client, advocate.email)
    login(other_device, advocate.email)

    wrong = client.post(
        "/password", data={"current_password": "nope", "new_password": "x", "confirm": "x"}
    )
    assert b"That is not your current password." in wrong.data
    changed = client.post(
        "/password",
        data={
            "current_password": PASSWORD,
            "new_password": "fresh-password-7",
            "confirm": "fresh-password-7",
        },
        follow_redirects=True,
    )
    assert b"Your other sessions are logged out." in changed.data
    assert client.get("/hub/").status_code == 200
    assert other_device.get("/hub/").status_code == 302
    client.post("/logout")
    assert client.get("/hub/").status_code == 302
    assert b"Welcome back" in login(client, advocate.email, "fresh-password-7").data
