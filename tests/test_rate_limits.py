"""Rate limits on password reset, invitations, submissions and redemptions: past the limit a
POST gets the site's 429 page, saying when to try again, with Retry-After, and changes nothing;
GETs never count; one person's limit is theirs alone. With Redis the limits are shared by
every app server, a prefix keeps deployments apart, and while Redis is down the app counts
in memory (no 5xx) until Redis is back."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest
import redis
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from challenges.models import Submission
from points.models import Redemption
from points.services import balance_of
from portal.accounts.models import Role, User
from portal.auth.services import RESET_SALT, invite_user
from portal.config import rate_limit_storage_options
from tests.conftest import make_test_app
from tests.factories import PASSWORD, SETTINGS, link_in, login

# small limits, counted over a day so that no test straddles the end of a window
LIMITS = {
    "LOGIN_LIMIT_PER_IP": "1000 per day",
    "RESET_REQUEST_LIMIT_PER_IP": "4 per day",
    "RESET_REQUEST_LIMIT_PER_EMAIL": "2 per day",
    "RESET_LIMIT_PER_IP": "2 per hour",
    "INVITATION_LIMIT_PER_IP": "2 per day",
    "SUBMISSION_LIMIT_PER_USER": "2 per day",
    "REDEMPTION_LIMIT_PER_USER": "2 per day",
}
REDIS_DB = 11
DOWN_PORT = 5121  # nothing listens here until the fallback test starts a Redis on it


@pytest.fixture
def limited(app, database_url):
    """Build apps as production runs them, limits on, with this module's small limits."""
    built = []

    def build(**overrides):
        server = make_test_app(database_url, RATELIMIT_ENABLED=True, **{**LIMITS, **overrides})
        built.append(server)
        return server

    yield build
    for server in built:
        server.extensions["vouch.engine"].dispose()


@pytest.fixture
def redis_db():
    """Our Redis database, empty before and after the test."""
    store = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    try:
        store.ping()
    except redis.ConnectionError:
        pytest.skip("needs Redis at 127.0.0.1:6379")
    store.flushdb()
    yield store
    store.flushdb()
    store.close()


def on_redis(prefix: str, url: str = f"redis://127.0.0.1:6379/{REDIS_DB}") -> dict:
    return {
        "RATELIMIT_STORAGE_URI": url,
        "RATELIMIT_STORAGE_OPTIONS": rate_limit_storage_options(prefix),
    }


def assert_refused(response) -> None:
    """The site's 429 page, saying when to come back, and Retry-After in seconds."""
    assert response.status_code == 429, response.status_code
    assert 0 < int(response.headers["Retry-After"]) <= 24 * 3600
    page = response.get_data(as_text=True)
    assert "Slow down" in page and "Go to your home page" in page
    assert re.search(r"Too many attempts\. Try again in \d+ (seconds?|minutes|hours)\.", page)


def from_elsewhere(server):
    """A browser on another address than the test client's 127.0.0.1."""
    client = server.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    return client


def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def forgot(client, email: str):
    return client.post("/forgot", data={"email": email})


def test_reset_requests_are_limited_per_email_and_per_address(limited, make, queued):
    client = limited().test_client()
    ana, bob = make.advocate(), make.advocate()
    assert forgot(client, ana.email).status_code == 302
    assert forgot(client, ana.email.upper()).status_code == 302  # the same address, counted
    refused = forgot(client, ana.email)
    assert_refused(refused)
    assert len(queued(ana.email)) == 2  # the refused request emailed nothing
    # the limit is the address's, wherever the request comes from
    assert_refused(forgot(from_elsewhere(client.application), ana.email))
    assert forgot(client, bob.email).status_code == 302  # another person is not held back
    assert len(queued(bob.email)) == 1
    for _ in range(3):
        assert client.get("/forgot").status_code == 200  # looking never counts

    # from one address, the requests for many addresses together
    crowd = [make.advocate() for _ in range(5)]
    elsewhere = from_elsewhere(client.application)
    for person in crowd[:4]:
        assert forgot(elsewhere, person.email).status_code == 302
    assert_refused(forgot(elsewhere, crowd[4].email))
    assert queued(crowd[4].email) == []


def test_the_reset_form_is_limited_per_address_and_refused_changes_nothing(limited, make, session):
    server = limited()
    advocate = make.advocate()
    token = URLSafeTimedSerializer("test-secret-key", salt=RESET_SALT).dumps(
        {"u": advocate.id, "s": advocate.session_token}
    )
    client = server.test_client()
    for _ in range(2):
        weak = client.post(f"/reset/{token}", data={"password": "short", "confirm": "short"})
        assert b"Use at least 10 characters." in weak.data
    strong = {"password": "brand-new-pass-9", "confirm": "brand-new-pass-9"}
    refused = client.post(f"/reset/{token}", data=strong)
    assert_refused(refused)
    assert "minutes" in refused.get_data(as_text=True)  # an hour's limit: minutes, not hours
    session.expire_all()
    assert session.get(User, advocate.id).session_token == advocate.session_token
    assert b"Welcome back" in login(server.test_client(), advocate.email, PASSWORD).data
    assert client.get(f"/reset/{token}").status_code == 200  # the form still shows

    elsewhere = from_elsewhere(server)
    done = elsewhere.post(f"/reset/{token}", data=strong, follow_redirects=True)
    assert b"Your password is changed." in done.data


def test_invitation_acceptance_is_limited_per_address(limited, make, session, queued):
    server = limited()
    invite_user(
        session, SETTINGS, make.manager(), "ana@northwind.example", Role.ADVOCATE, make.account()
    )
    session.commit()
    path = link_in(queued("ana@northwind.example")[0].body_text)
    client = server.test_client()
    accept = {"name": "Ana Ruiz", "password": "a-long-password-1", "consent": "y"}
    for _ in range(2):
        mismatch = client.post(path, data={**accept, "confirm": "something-else-2"})
        assert mismatch.status_code == 422
    refused = client.post(path, data={**accept, "confirm": accept["password"]})
    assert_refused(refused)
    ana = session.scalar(select(User).where(User.email == "ana@northwind.example"))
    session.refresh(ana)
    assert not ana.has_password and ana.consents == []
    assert b"Join the hub" in client.get(path).data

    elsewhere = from_elsewhere(server)
    joined = elsewhere.post(
        path, data={**accept, "confirm": accept["password"]}, follow_redirects=True
    )
    assert b"Welcome back, Ana Ruiz" in joined.data


def test_submissions_are_limited_per_advocate(limited, make, session):
    server = limited()
    ana, bob = make.advocate(), make.advocate()
    first, second, third = (make.challenge("survey") for _ in range(3))
    client = server.test_client()
    login(client, ana.email)
    answer = {"answer": "Tickets"}
    for challenge in (first, second):
        assert client.post(f"/hub/challenges/{challenge.id}", data=answer).status_code == 302
    assert_refused(client.post(f"/hub/challenges/{third.id}", data=answer))
    assert count(session, Submission, Submission.advocate_id == ana.id) == 2
    assert count(session, Submission, Submission.challenge_id == third.id) == 0
    for _ in range(3):
        assert client.get(f"/hub/challenges/{third.id}").status_code == 200

    # the limit is the person's: from the same address, another advocate submits
    other = server.test_client()
    login(other, bob.email)
    assert other.post(f"/hub/challenges/{third.id}", data=answer).status_code == 302


def test_redemptions_are_limited_per_advocate(limited, make, session):
    server = limited()
    ana, bob = make.advocate(), make.advocate()
    for person in (ana, bob):
        make.points(person, 1000)
    card = make.reward("Gift card", cost=100)
    client = server.test_client()
    login(client, ana.email)
    for key in ("a", "b"):
        assert client.post(f"/hub/rewards/{card.id}", data={"request_key": key}).status_code == 302
    assert_refused(client.post(f"/hub/rewards/{card.id}", data={"request_key": "c"}))
    assert count(session, Redemption, Redemption.advocate_id == ana.id) == 2
    assert balance_of(session, ana.id).held == 200  # no hold for the refused request
    for _ in range(3):
        assert client.get(f"/hub/rewards/{card.id}").status_code == 200

    other = server.test_client()
    login(other, bob.email)
    assert other.post(f"/hub/rewards/{card.id}", data={"request_key": "a"}).status_code == 302


def test_an_app_with_limits_off_is_never_limited_even_beside_one_with_them_on(
    limited, client, make, queued
):
    """One Limiter serves the process; each app's RATELIMIT_ENABLED still decides for it."""
    advocate = make.advocate()
    strict = limited().test_client()
    assert [forgot(strict, advocate.email).status_code for _ in range(3)] == [302, 302, 429]
    for _ in range(5):  # past even the default limit (3 an hour), were it counted
        assert forgot(client, advocate.email).status_code == 302
    assert len(queued(advocate.email)) == 7


def test_two_app_servers_share_limits_in_redis_and_prefixes_keep_deployments_apart(
    limited, make, redis_db, queued
):
    advocate = make.advocate()
    first, second = (limited(**on_redis("vouch-test-a")).test_client() for _ in range(2))
    assert forgot(first, advocate.email).status_code == 302
    assert forgot(second, advocate.email).status_code == 302
    assert_refused(forgot(first, advocate.email))
    assert_refused(forgot(second, advocate.email))
    assert len(queued(advocate.email)) == 2
    keys = redis_db.keys()
    assert keys and all(key.startswith(b"vouch-test-a:") for key in keys)
    assert any(advocate.email.encode() in key for key in keys)

    # another deployment on the same Redis counts apart; a server started later shares ours
    other_deployment = limited(**on_redis("vouch-test-b")).test_client()
    assert forgot(other_deployment, advocate.email).status_code == 302
    started_later = limited(**on_redis("vouch-test-a")).test_client()
    assert_refused(forgot(started_later, advocate.email))
    assert any(key.startswith(b"vouch-test-b:") for key in redis_db.scan_iter())


@pytest.fixture
def redis_on_down_port():
    """Start a Redis on DOWN_PORT when asked (as if it came back); stopped afterwards."""
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server")
    started = []

    def start() -> redis.Redis:
        process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(DOWN_PORT),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        started.append(process)
        store = redis.Redis(host="127.0.0.1", port=DOWN_PORT)
        for _ in range(50):
            try:
                store.ping()
                return store
            except redis.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("redis-server did not start")

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def test_with_redis_down_limits_are_counted_in_memory_until_it_is_back(
    limited, make, queued, redis_on_down_port
):
    server = limited(
        **on_redis("vouch-test-down", f"redis://127.0.0.1:{DOWN_PORT}/0"),
        RESET_REQUEST_LIMIT_PER_IP="1000 per day",
    )
    client = server.test_client()
    advocate = make.advocate()
    assert client.get("/forgot").status_code == 200
    assert forgot(client, advocate.email).status_code == 302
    assert forgot(client, advocate.email).status_code == 302
    assert_refused(forgot(client, advocate.email))  # still limited, in memory
    assert len(queued(advocate.email)) == 2

    store = redis_on_down_port()
    deadline = time.monotonic() + 60  # Flask-Limiter retries the store with a backoff
    while not store.keys() and time.monotonic() < deadline:
        assert forgot(client, f"nobody-{time.monotonic()}@example.com").status_code == 302
        time.sleep(0.25)
    assert store.keys(), "the app never went back to Redis"
    assert all(key.startswith(b"vouch-test-down:") for key in store.scan_iter())


def test_behind_a_load_balancer_each_client_is_limited_by_its_own_address(limited, make):
    """With TRUSTED_PROXIES=1 the limit follows X-Forwarded-For, not the balancer's address;
    without it a forged header changes nothing."""
    behind = limited(TRUSTED_PROXIES=1)
    balancer = behind.test_client()
    for client_address in ("198.51.100.7", "203.0.113.9"):
        sent = {"X-Forwarded-For": client_address}
        for number in range(4):
            response = balancer.post("/forgot", data={"email": f"{number}@x.example"}, headers=sent)
            assert response.status_code == 302, (client_address, number)
        assert_refused(balancer.post("/forgot", data={"email": "5@x.example"}, headers=sent))

    direct = limited().test_client()
    direct.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    for number in range(4):
        forged = {"X-Forwarded-For": f"192.0.2.{number}"}
        assert (
            direct.post(
                "/forgot", data={"email": f"d{number}@x.example"}, headers=forged
            ).status_code
            == 302
        )
    assert_refused(direct.post("/forgot", data={"email": "b@x.example"}, headers=forged))
