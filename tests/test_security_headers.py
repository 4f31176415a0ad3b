"""Security headers on every answer, a CSP that needs no inline script or style, https only
when SESSION_COOKIE_SECURE is on, and the endpoint that hears the browsers' CSP reports."""

from __future__ import annotations

import json
import logging
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from portal.config import PROJECT_ROOT
from tests.conftest import make_test_app
from tests.factories import PASSWORD, login
from tests.test_roles import ROLES, answers
from tests.test_roles import world as _matrix_world

world = _matrix_world  # the role matrix's fixture: one of everything, with images

TEMPLATES = PROJECT_ROOT / "templates"
WANTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "report-uri": "/csp-report",
}


def csp_of(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {name: value for name, value in parts}


def assert_secured(response, where) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert csp_of(response) == WANTED_CSP, (where, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert "Strict-Transport-Security" not in response.headers, where  # http, not https


class InlineCode(HTMLParser):
    """What in a page would need 'unsafe-inline': style attributes, <style> elements, event
    handler attributes, javascript: links and <script> elements that hold code."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: str | None = None  # the open <script>'s kind: "data" or "code"

    def handle_starttag(self, tag, attrs):
        names = {name.lower(): value or "" for name, value in attrs}
        if "style" in names:
            self.found.append(f'<{tag} style="{names["style"]}">')
        self.found += [f"<{tag} {name}=...>" for name in names if name.startswith("on")]
        for name in ("href", "src", "action", "formaction"):
            if names.get(name, "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={names[name]}>")
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script":
            is_data = names.get("type", "").lower() == "application/json"
            if not is_data and "src" not in names:
                self.found.append("<script> without src")
            self._script = "data" if is_data else "code" if "src" in names else "reported"

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script == "code" and data.strip():
            self.found.append(f"code inside <script src>: {data.strip()[:60]}")


def inline_code_in(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


# --- every route, every role: the headers, and no inline code in what is rendered ----------


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_with_the_security_headers_and_no_inline_code(app, make, world, role):
    checked = 0
    for rule, _method, response in answers(app, world, role):
        assert response.status_code < 500, (rule.endpoint, role, response.status_code)
        assert_secured(response, (rule.endpoint, role, response.status_code))
        if response.mimetype == "text/html":
            found = inline_code_in(response.get_data(as_text=True))
            assert found == [], (rule.endpoint, role, found)
        checked += 1
    assert checked >= 25


def test_error_pages_and_redirects_carry_the_headers(app, make):
    client = app.test_client()
    assert_secured(client.get("/"), "redirect")
    assert client.get("/").status_code == 302
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert_secured(missing, 404)
    bad = client.get("/login?next=%00")
    assert bad.status_code == 400
    assert_secured(bad, 400)
    wrong_method = client.get("/csp-report")
    assert wrong_method.status_code == 405
    assert_secured(wrong_method, 405)
    login(client, make.advocate().email)
    forbidden = client.get("/admin/")
    assert forbidden.status_code == 403
    assert_secured(forbidden, 403)
    for page in (missing, bad, forbidden):
        assert inline_code_in(page.get_data(as_text=True)) == []


def test_the_500_page_carries_the_headers(app, database_url):
    fragile = make_test_app(database_url, TESTING=False)  # the 500 handler answers, not pytest

    @fragile.get("/_boom")
    def _boom():
        raise RuntimeError("boom")

    response = fragile.test_client().get("/_boom")
    fragile.extensions["vouch.engine"].dispose()
    assert response.status_code == 500
    assert_secured(response, 500)


@pytest.mark.parametrize(
    "path",
    [
        "/static/css/vouch.css",
        "/static/js/progress.js",
        "/static/js/challenge-form.js",
        "/static/vendor/bootstrap/bootstrap.bundle.min.js",
        "/static/no-such-file.js",
        "/healthz",
    ],
)
def test_static_files_and_healthz_carry_the_headers(client, path):
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert_secured(response, path)


# --- https: only when SESSION_COOKIE_SECURE=1 ----------------------------------------------


def test_by_default_plain_http_works_without_hsts(client, make):
    page = client.get("/login")
    assert page.status_code == 200  # no redirect to https for `make run`
    over_https = client.get("/login", base_url="https://vouch.test")
    assert "Strict-Transport-Security" not in over_https.headers
    response = login(client, make.advocate().email, follow=False)
    assert response.status_code == 302
    assert "Secure" not in response.headers["Set-Cookie"]


@pytest.fixture
def https_app(app, database_url):
    secure = make_test_app(database_url, SESSION_COOKIE_SECURE=True)
    yield secure
    secure.extensions["vouch.engine"].dispose()


def test_with_secure_cookies_http_goes_to_https_with_hsts(https_app, make):
    client = https_app.test_client()
    sent_on = client.get("/login?next=/hub/")
    assert sent_on.status_code == 302
    assert sent_on.headers["Location"] == "https://localhost/login?next=/hub/"
    assert_csp_only = csp_of(sent_on)
    assert assert_csp_only == WANTED_CSP  # the redirect itself carries the policy
    # a load balancer's probe over plain http still gets its answer
    assert client.get("/healthz").status_code == 200

    page = client.get("/login", base_url="https://localhost")
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31556926"
    behind_proxy = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert behind_proxy.status_code == 200
    assert "Strict-Transport-Security" in behind_proxy.headers

    advocate = make.advocate()
    logged_in = client.post(
        "/login",
        data={"email": advocate.email, "password": PASSWORD},
        base_url="https://localhost",
    )
    assert logged_in.status_code == 302
    # (a remember-cookie clearing may come first: the session held only a CSRF token)
    cookie = next(c for c in logged_in.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert https_app.config["REMEMBER_COOKIE_SECURE"] is True


def test_talisman_leaves_the_cookie_settings_of_config_alone(app, database_url):
    relaxed = make_test_app(database_url, SESSION_COOKIE_SAMESITE="Strict")
    relaxed.extensions["vouch.engine"].dispose()
    assert relaxed.config["SESSION_COOKIE_SAMESITE"] == "Strict"
    assert relaxed.config["SESSION_COOKIE_SECURE"] is False
    assert relaxed.config["REMEMBER_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


# --- templates: nothing inline, even in branches the route walk does not reach -------------

_STYLE_ATTRIBUTE = re.compile(r"""<[a-zA-Z][^>]*\sstyle\s*=""", re.S)
_HANDLER_ATTRIBUTE = re.compile(r"""<[a-zA-Z][^>]*\son[a-z]+\s*=\s*["'{]""", re.S)
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)


def _templates() -> list[Path]:
    # an email's HTML may hold <style>: it is inlined before sending and no browser page uses it
    return sorted(p for p in TEMPLATES.rglob("*.html") if p.parent.name != "mail")


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_holds_inline_style_or_script(template):
    source = template.read_text()
    assert not _STYLE_ATTRIBUTE.search(source), "a style= attribute: use a class in vouch.css"
    assert "<style" not in source.lower(), "a <style> element: put it in static/css/vouch.css"
    assert not _HANDLER_ATTRIBUTE.search(source), "an on...= handler: bind it from static/js/"
    assert "javascript:" not in source.lower()
    for attributes, body in _SCRIPT.findall(source):
        if 'type="application/json"' in attributes:
            continue  # data for a script, never run
        assert "src=" in attributes and not body.strip(), "inline script: move it to static/js/"


def test_the_template_check_sees_what_it_must():
    assert _STYLE_ATTRIBUTE.search('<div class="x"\n     style="width: 4%">')
    assert _HANDLER_ATTRIBUTE.search('<a href="#" onclick="go()">')
    assert not _HANDLER_ATTRIBUTE.search("{% macro button_form(action, label, style='primary') %}")
    found = inline_code_in(
        '<p style="color:red" onmouseover="x()"><a href="javascript:alert(1)">a</a>'
        "<script>alert(1)</script><script src=/s.js>alert(2)</script>"
        '<script type="application/json">{"a": 1}</script><style>p{}</style>'
    )
    assert len(found) == 6, found


# --- the CSP report endpoint ---------------------------------------------------------------


def report(client, body, content_type="application/csp-report"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/csp-report", data=data, content_type=content_type)


def test_a_csp_report_is_logged_with_its_directive_and_blocked_uri(client, caplog):
    body = {
        "csp-report": {
            "document-uri": "http://vouch.test/hub/",
            "violated-directive": "style-src-attr",
            "effective-directive": "style-src-attr",
            "blocked-uri": "inline",
        }
    }
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        response = report(client, body)
    assert response.status_code == 204
    assert response.data == b""
    assert_secured(response, "report")
    (record,) = [r for r in caplog.records if r.name == "portal.security"]
    assert record.levelno == logging.WARNING
    assert (
        record.getMessage()
        == "CSP violation: style-src-attr blocked inline on http://vouch.test/hub/"
    )


def test_a_reporting_api_batch_is_logged_too(client, caplog):
    batch = [
        {
            "type": "csp-violation",
            "url": "http://vouch.test/rewards/",
            "body": {
                "documentURL": "http://vouch.test/rewards/",
                "effectiveDirective": "script-src-elem",
                "blockedURL": "https://evil.example/x.js",
            },
        },
        {"type": "deprecation", "body": {"message": "not ours"}},
    ]
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        response = report(client, batch, "application/reports+json")
    assert response.status_code == 204
    messages = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert messages == [
        "CSP violation: script-src-elem blocked https://evil.example/x.js "
        "on http://vouch.test/rewards/"
    ]


def test_a_report_cannot_forge_log_lines(client, caplog):
    body = {"csp-report": {"violated-directive": "img-src\nFAKE ENTRY", "blocked-uri": "x\x00y"}}
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        assert report(client, body).status_code == 204
    (message,) = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert "\n" not in message and "\x00" not in message
    assert message == "CSP violation: img-src?FAKE ENTRY blocked x?y on -"


JUNK = [
    b"",
    b"junk",
    b"\xff\xfe\x00\x00",
    b"null",
    b"42",
    b'"csp-report"',
    b"[]",
    b"{}",
    b'{"csp-report": "inline"}',
    b'{"csp-report": {}}',
    b'{"csp-report": {"violated-directive": 7}}',
    b'[{"type": "csp-violation", "body": "x"}]',
    b'[{"type": "csp-violation"}]',
    b"[1, 2, 3]",
    b"[" * 8000,  # nested past the JSON parser's recursion limit
    b'{"csp-report": {"violated-directive": "\\ud800"}',
    '{"csp-report": {"blocked-uri": "\u202e\U0001f600"}}'.encode(),
]


@pytest.mark.parametrize("body", JUNK, ids=range(len(JUNK)))
@pytest.mark.parametrize("content_type", ["application/csp-report", "application/reports+json"])
def test_junk_reports_are_refused_never_a_500(client, body, content_type):
    response = report(client, body, content_type)
    assert response.status_code in (204, 400), response.status_code


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_report_of_another_type_is_a_400(client, content_type):
    response = report(client, {"csp-report": {"violated-directive": "x"}}, content_type)
    assert response.status_code == 400


def test_a_report_larger_than_the_bound_is_a_413(client):
    body = {"csp-report": {"violated-directive": "img-src", "blocked-uri": "x" * 20_000}}
    response = report(client, body)
    assert response.status_code == 413
    assert_secured(response, 413)


@pytest.fixture
def strict_app(app, database_url):
    """CSRF on and rate limits enforced, as production runs."""
    strict = make_test_app(
        database_url, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True, CSP_REPORT_LIMIT="3 per minute"
    )
    yield strict
    strict.extensions["vouch.engine"].dispose()


def test_reports_need_no_csrf_token_and_are_rate_limited(strict_app):
    client = strict_app.test_client()
    body = {"csp-report": {"violated-directive": "img-src", "blocked-uri": "data"}}
    assert [report(client, body).status_code for _ in range(4)] == [204, 204, 204, 429]
