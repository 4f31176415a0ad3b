"""CSRF, rate limits, cookie flags, password hashing and the error pages."""

import re

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from tests.conftest import make_test_app
from tests.factories import PASSWORD, client_for, login


@pytest.fixture
def strict_app(app, database_url):
    """The app as production runs it: CSRF on and rate limits enforced."""
    strict = make_test_app(
        database_url,
        WTF_CSRF_ENABLED=True,
        RATELIMIT_ENABLED=True,
        LOGIN_LIMIT_PER_ACCOUNT="3 per minute",
        LOGIN_LIMIT_PER_IP="6 per minute",
    )
    yield strict
    strict.extensions["vouch.engine"].dispose()


def test_forms_without_a_csrf_token_are_refused(strict_app, make):
    advocate = make.advocate()
    client = strict_app.test_client()
    refused = client.post("/login", data={"email": advocate.email, "password": PASSWORD})
    assert refused.status_code == 400
    assert b"Your form expired or was sent from elsewhere." in refused.data
    page = client.get("/login").data.decode()
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    accepted = client.post(
        "/login", data={"email": advocate.email, "password": PASSWORD, "csrf_token": token}
    )
    assert accepted.status_code == 302


def test_login_is_rate_limited_per_account_and_per_ip(strict_app, make):
    strict_app.config["WTF_CSRF_ENABLED"] = False
    advocate = make.advocate()
    client = strict_app.test_client()
    for _ in range(3):
        assert login(client, advocate.email, "wrong-password", follow=False).status_code == 422
    limited = login(client, advocate.email, PASSWORD, follow=False)
    assert limited.status_code == 429
    assert b"Too many attempts." in limited.data
    # another account from the same address still has its own allowance, until the IP limit
    other = make.advocate()
    assert login(client, other.email, PASSWORD, follow=False).status_code == 302
    client.post("/logout")
    for _ in range(2):
        login(client, "someone@example.com", "x", follow=False)
    assert login(client, other.email, PASSWORD, follow=False).status_code == 429


def test_session_cookie_is_httponly_and_samesite(client, make):
    response = login(client, make.advocate().email, follow=False)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_passwords_are_stored_as_argon2_hashes(make, session):
    advocate = make.advocate()
    stored = session.scalar(select(User.password_hash).where(User.id == advocate.id))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_error_pages_use_the_site_layout(client, make):
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert b"Page not found" in missing.data
    assert b"vendor/bootstrap/bootstrap.min.css" in missing.data
    login(client, make.advocate().email)
    forbidden = client.get("/admin/")
    assert forbidden.status_code == 403
    assert b"Your role does not give you access to this page." in forbidden.data


def test_unexpected_errors_show_the_500_page(app, database_url):
    fragile = make_test_app(database_url, TESTING=False)  # the 500 handler answers, not pytest

    @fragile.get("/_boom")
    def _boom():
        raise RuntimeError("boom")

    response = fragile.test_client().get("/_boom")
    fragile.extensions["vouch.engine"].dispose()
    assert response.status_code == 500
    assert b"Nothing was changed" in response.data


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.json["status"] == "ok"
    assert response.json["database"] == "ok"


def test_login_limits_are_shared_through_redis_when_configured(app, database_url, make):
    """Two app servers on one Redis share the per-account allowance."""
    import socket
    import uuid

    import redis

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("needs Redis at 127.0.0.1:6379")
    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"vouch-test-{uuid.uuid4().hex}",
        "LOGIN_LIMIT_PER_ACCOUNT": "2 per minute",
    }
    servers = [make_test_app(database_url, **settings) for _ in range(2)]
    advocate = make.advocate()
    first, second = (server.test_client() for server in servers)
    assert login(first, advocate.email, "wrong-password", follow=False).status_code == 422
    assert login(second, advocate.email, "wrong-password", follow=False).status_code == 422
    assert login(first, advocate.email, PASSWORD, follow=False).status_code == 429
    store = redis.Redis(host="127.0.0.1", port=6379)
    keys = store.keys(f"*{settings['RATELIMIT_KEY_PREFIX']}*")
    assert any(advocate.email.encode() in key for key in keys)
    store.delete(*keys)
    for server in servers:
        server.extensions["vouch.engine"].dispose()


def test_ids_too_large_for_the_database_are_refused_never_a_500(app, make):
    """An id beyond INTEGER in a URL is a 404; in a form it is a field error."""
    huge = "99999999999999999999"
    people = {
        "advocate": make.advocate(),
        "manager": make.manager(),
        "admin": make.admin(),
    }
    for role, person in people.items():
        client = client_for(app, person.email)
        for rule in app.url_map.iter_rules():
            if "<int:" not in rule.rule:
                continue
            path = re.sub(r"<int:[a-z_]+>", huge, rule.rule)
            method = "GET" if "GET" in rule.methods else "POST"
            response = client.open(path, method=method, data={})
            assert response.status_code == 404, (role, path, response.status_code)
    manager = client_for(app, people["manager"].email)
    for path, data in (
        ("/manage/review/bulk", {"submission_ids": [huge], "approve": "y"}),
        ("/manage/invite", {"account_id": huge, "addresses": "a@b.example"}),
    ):
        assert manager.post(path, data=data).status_code in (302, 422), path
    for path in (
        f"/manage/activities/new?advocate_id={huge}",
        f"/manage/offers?advocate_id={huge}",
        f"/manage/review?after=2026-01-01T00:00:00%2B00:00_{huge}{huge}",
        f"/admin/audit?after={huge}{huge}{huge}",
    ):
        assert manager.get(path).status_code in (200, 403), path
