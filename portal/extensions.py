"""Flask extensions, created here and attached in create_app() with init_app."""

from __future__ import annotations

import math
import time

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_mail import Mail
from flask_wtf import CSRFProtect

from portal.i18n import N_, _, ngettext

csrf = CSRFProtect()
mail = Mail()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = N_("Please log in to see that page.")
login_manager.localize_callback = _  # flashed in the reader's language
login_manager.login_message_category = "info"
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@limiter.request_filter
def _limits_off_for_this_app() -> bool:
    # One Limiter serves the process; it follows the last app given to init_app, so an app
    # built with RATELIMIT_ENABLED False (as in the tests) is exempt on its own terms.
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def limit_from_config(name: str, key_func=None):
    """A limit on a view's POSTs, read from the app's config (e.g. "20 per minute") per request,
    counted per address unless `key_func` says otherwise (per_user, per_form_email)."""
    return limiter.limit(lambda: current_app.config[name], key_func=key_func, methods=["POST"])


def per_user() -> str:
    """A logged-in person's limit is theirs, wherever they connect from (and however many
    sessions they hold); the id, not the session token, which changes with the password."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{get_remote_address()}"


def per_form_email(purpose: str):
    """Count per address typed into the form's email field, normalised as accounts are."""

    def key() -> str:
        email = request.form.get("email", "").strip().lower()
        return f"{purpose}:{email[:254]}"  # no email is longer; a longer one is refused anyway

    return key


def when_to_retry() -> str:
    """What the 429 page says: when the limit this request reached lets the person try again."""
    reached = limiter.current_limit
    if reached is None:
        return _("Too many attempts. Wait a minute, then try again.")
    try:
        seconds = reached.reset_at - time.time()
    except Exception:  # noqa: BLE001 - the limit store failing must not turn a 429 into a 500
        seconds = reached.limit.get_expiry()
    return _(
        "Too many attempts. Try again in %(wait)s.", wait=_in_words(max(1, math.ceil(seconds)))
    )


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    if seconds < 90 * 60:
        return _("%(minutes)d minutes", minutes=math.ceil(seconds / 60))
    return _("%(hours)d hours", hours=math.ceil(seconds / 3600))
