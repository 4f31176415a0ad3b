"""Helpers the blueprints share: role gates, turning domain errors into form errors."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, flash, redirect, request, send_file, url_for
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from portal import uploads
from portal.accounts.models import Role, User
from portal.accounts.services import find_user_by_email
from portal.config import settings
from portal.errors import DomainError
from portal.forms import Form
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
        if request.endpoint not in open_to_all and not current_user.opted_in:
            return redirect(url_for("hub.join"))
        return None


def advocate_named_in(session, field) -> User | None:
    """The active advocate a form's email field names, or None with the reason beside it."""
    advocate = find_user_by_email(session, field.data or "")
    if advocate is None or advocate.role != Role.ADVOCATE or not advocate.active:
        field.errors = [*field.errors, "No active advocate has that email."]
        return None
    return advocate


def show_error(form: Form | None, error: DomainError) -> None:
    """Put the message beside its field when the form has it, else flash it."""
    if form is not None and error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, error.message]
    else:
        flash(error.message, "danger")


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
    if not target:
        return None
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
