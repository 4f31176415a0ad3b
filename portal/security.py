"""Security headers on every response (Flask-Talisman) and the endpoint that hears CSP reports.

The policy allows no inline script and no inline style: every script and style sheet is a
file under static/, and what a page must size at run time (progress bars) is set by
static/js/progress.js through the CSSOM, which a CSP does not restrict.
"""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Flask, current_app, request
from flask_talisman import DENY, Talisman
from werkzeug.exceptions import BadRequest

from portal.extensions import csrf, limiter

log = logging.getLogger(__name__)

CSP_REPORT_PATH = "/csp-report"
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",  # Bootstrap draws its icons (toggler, select arrow) as data: SVG
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}
REPORT_TYPES = ("application/csp-report", "application/reports+json", "application/json")
MAX_REPORT_BYTES = 16 * 1024
LOGGED_FIELD_CHARS = 300

# plain http stays answered on these even when https is forced (a load balancer's probe)
PLAIN_HTTP_ENDPOINTS = ("healthz",)

bp = Blueprint("security", __name__)


class _Talisman(Talisman):
    def _force_https(self):
        if request.endpoint in PLAIN_HTTP_ENDPOINTS:
            return None
        return super()._force_https()


def init_security(app: Flask) -> None:
    """Headers on every answer; https, HSTS and secure cookies only with SESSION_COOKIE_SECURE."""
    secure = bool(app.config["SESSION_COOKIE_SECURE"])
    _Talisman(
        app,
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_report_uri=CSP_REPORT_PATH,
        frame_options=DENY,
        referrer_policy="strict-origin-when-cross-origin",
        x_content_type_options=True,
        force_https=secure,
        strict_transport_security=secure,
        strict_transport_security_include_subdomains=False,
        # cookie flags stay as portal/config.py sets them (Talisman would otherwise rewrite them)
        session_cookie_secure=False,
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )
    csrf.exempt(bp)  # browsers send reports without a token (and without cookies)
    app.register_blueprint(bp)


@bp.post(CSP_REPORT_PATH)
@limiter.limit(lambda: current_app.config["CSP_REPORT_LIMIT"])
def csp_report():
    """Log what a browser refused under the CSP; 204, or 400 for a body that is no report."""
    if request.mimetype not in REPORT_TYPES:
        raise BadRequest("A CSP report is sent as application/csp-report or reports+json.")
    request.max_content_length = MAX_REPORT_BYTES  # larger bodies get the 413 page
    try:
        payload = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError) as error:  # not JSON, or nested past reason
        raise BadRequest("A CSP report is JSON.") from error
    violations = [v for v in _violations(payload) if isinstance(_directive(v), str)]
    if not violations:
        raise BadRequest("The body holds no CSP violation.")
    for violation in violations:
        log.warning(
            "CSP violation: %s blocked %s on %s",
            _loggable(_directive(violation)),
            _loggable(violation.get("blocked-uri")),
            _loggable(violation.get("document-uri")),
        )
    return "", 204


def _directive(violation: dict):
    return violation.get("effective-directive") or violation.get("violated-directive")


def _violations(payload):
    """The violations in a report-uri body ({"csp-report": {...}}) or a Reporting API batch
    ([{"type": "csp-violation", "body": {...}}]), in report-uri's hyphenated names."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        yield payload["csp-report"]
        return
    if not isinstance(payload, list):
        return
    for report in payload[:20]:
        if not isinstance(report, dict) or report.get("type") != "csp-violation":
            continue
        body = report.get("body")
        if isinstance(body, dict):
            yield {
                "effective-directive": body.get("effectiveDirective"),
                "blocked-uri": body.get("blockedURL"),
                "document-uri": body.get("documentURL") or report.get("url"),
            }


def _loggable(value) -> str:
    """A report's field as one short, printable line (the sender chose its text)."""
    if not isinstance(value, str) or not value:
        return "-"
    return "".join(ch if ch.isprintable() else "?" for ch in value[:LOGGED_FIELD_CHARS])
