"""Helpers the blueprints share: role gates, turning domain errors into form errors."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, abort, flash, g, redirect, request, send_file, url_for
from flask import session as browser
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from portal import uploads
from portal.accounts.choosable import why_not_choosable
from portal.accounts.models import Role, User
from portal.accounts.services import find_user_by_email
from portal.auth.confirmation import confirmation_due_at
from portal.config import settings
from portal.db import get_session, utcnow
from portal.errors import AlreadyHandled, DomainError
from portal.forms import Form, mark_refused
from portal.ids import MAX_ROW_ID


class RowIdConverter(IntegerConverter):
    """`<int:...>` in URLs: an id too large for the database is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def require_roles(blueprint: Blueprint, *roles: Role, exempt: tuple[str, ...] = ()) -> None:
    """Gate a whole blueprint: anonymous -> login page, wrong role -> 403."""

    @blueprint.before_request
    def _gate():
        if request.endpoint in exempt:
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if current_user.role not in roles:
            abort(403)
        return None


def require_membership(blueprint: Blueprint, open_to_all: tuple[str, ...] = ()) -> None:
    """Advocates who have not opted in (or have left) see only the page that lets them join."""

    @blueprint.before_request
    def _members_only():
        if request.endpoint in open_to_all:
            return None
        if not current_user.opted_in:
            return redirect(url_for("hub.join"))
        asking = request.method == "GET" and request.endpoint not in CONFIRM_PAGES
        if asking and _asked_to_confirm():
            return redirect(url_for("hub.confirm", next=request.full_path.rstrip("?")))
        return None


CONFIRM_PAGES = ("hub.confirm", "hub.leave")  # reachable while the yearly question waits


def _asked_to_confirm() -> bool:
    """Whether the advocate's yearly "still at this company?" is due. The database is asked
    only for someone who never confirmed (their joining date, kept for the browser session)."""
    user = current_user
    if user.profile_confirmed_at is not None or user.left_company_at is not None:
        due = confirmation_due_at(get_session(), user)
    else:
        kept = browser.get("confirm_due", "")
        owner, _, when = kept.partition("|")
        if owner == str(user.id) and when:
            due = datetime.fromisoformat(when)
        else:
            due = confirmation_due_at(get_session(), user)
            browser["confirm_due"] = f"{user.id}|{due.isoformat() if due else ''}"
    return due is not None and utcnow() >= due


def advocate_named_in(session, field) -> User | None:
    """The current member a form's email field names, or None with the reason beside it
    (never joined, left the program or their company, deactivated: see choosable)."""
    advocate = find_user_by_email(session, field.data or "")
    problem = why_not_choosable(advocate)
    if problem:
        field.errors = [*field.errors, problem]
        mark_refused()
        return None
    return advocate


def show_error(form: Form | None, error: DomainError, fields: dict[str, str] | None = None) -> None:
    """Put the message beside its field when the form has it, else flash it; the re-shown
    page answers 422 (409 when the request lost a race: AlreadyHandled). `fields` names the
    form's field where it differs from the service's (a date field for a time: ends_on)."""
    mark_refused(409 if isinstance(error, AlreadyHandled) else 422)
    name = (fields or {}).get(error.field, error.field)
    if form is not None and name and name in form:
        form[name].errors = [*form[name].errors, error.message]
    else:
        flash(error.message, "danger")


def answer_refusals(app: Flask) -> None:
    """One rule for every form: a POST answered with its page re-shown (not a redirect)
    after a refusal says so in its status: 422 for input refused, 409 for a lost race."""

    @app.after_request
    def _refusal_status(response):
        status = g.get("refusal_status")
        if status and request.method == "POST" and response.status_code == 200:
            response.status_code = status
        return response


def clean_query(text: str | None, limit: int = 100) -> str:
    """A search box's text as a filter: trimmed, bounded, without control characters."""
    return "".join(ch for ch in (text or "")[:limit] if ch.isprintable()).strip()


def page_url(base: str | None = None, **changes) -> str:
    """This page's address (or `base`) with other page arguments, keeping every filter in
    the query. Built as a path and a query string: no argument can reach url_for."""
    args = request.args.to_dict(flat=False)
    for name in ("page", "after", "before"):
        args.pop(name, None)
    args.update({name: [value] for name, value in changes.items()})
    query = urlencode(args, doseq=True, safe="!$'()*,/:;?@")  # as url_for encodes
    return f"{base or request.path}?{query}" if query else (base or request.path)


def safe_next(target: str | None) -> str | None:
    """Only paths on this site: no scheme, no host, no protocol-relative '//' tricks."""
    if not target or any(not ch.isprintable() for ch in target):
        return None  # a line break would split the Location header
    target = target.strip().replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def send_stored_image(key: str | None):
    """An uploaded image (a cover, a level's or a badge's), kept a day by the browser only:
    its links carry the key, so a new file gets a new URL."""
    path = uploads.path_of(settings(), key) if key else None
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, max_age=86400, conditional=True)
    response.cache_control.public = False
    response.cache_control.private = True
    return response
