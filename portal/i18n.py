"""Languages and time zones: which a page (or an email) is written in, and how its dates,
numbers and money read. Flask-Babel underneath; catalogs live in translations/.

Every user-facing string goes through `_` (or `_l` where it is built before a request has a
language: form labels, module constants). Texts that managers write (challenge and reward
names and bodies) are shown as written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from babel import Locale
from flask import Flask, g, request, session
from flask_babel import (
    Babel,
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    get_timezone,
    get_translations,
    gettext,
    lazy_gettext,
    ngettext,
)
from flask_login import current_user
from pytz import timezone as pytz_zone

from portal.config import PROJECT_ROOT

_ = gettext
_l = lazy_gettext
__all__ = ["_", "_l", "ngettext", "get_translations", "LANGUAGES", "speaking_as", "init_i18n"]

LANGUAGES = {"en": "English", "es": "Español"}  # each shown in its own language
DEFAULT_LANGUAGE = "en"
babel = Babel()


def choose_language() -> str:
    """The person's own setting, else what they picked on a logged-out page, else their
    browser's Accept-Language, else English."""
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    if session.get("locale") in LANGUAGES:
        return session["locale"]
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def choose_time_zone() -> str:
    """The person's own zone, else the program's (where its periods roll over)."""
    if current_user and current_user.is_authenticated and current_user.time_zone:
        return current_user.time_zone
    return program_time_zone()


def program_time_zone() -> str:
    from points.program import game_settings, time_zones
    from portal.db import get_session

    name = game_settings(get_session()).time_zone
    return name if name in time_zones() else "UTC"


@contextmanager
def speaking_as(user) -> Iterator[None]:
    """Write in `user`'s language and time zone (an email rendered during someone else's
    request, or by a command): the strings, the dates and the numbers all follow."""
    context = g._flask_babel if "_flask_babel" in g else None
    saved = {key: getattr(context, key, None) for key in _BABEL_KEYS} if context else {}
    get_locale()  # makes sure g._flask_babel exists
    context = g._flask_babel
    context.babel_locale = Locale.parse(user.locale if user.locale in LANGUAGES else "en")
    context.babel_translations = None
    context.babel_tzinfo = pytz_zone(user.time_zone or program_time_zone())
    try:
        yield
    finally:
        for key in _BABEL_KEYS:
            setattr(context, key, saved.get(key))


_BABEL_KEYS = ("babel_locale", "babel_translations", "babel_tzinfo")


def moment(when: datetime | None) -> str:
    """A date and time in the reader's zone, with the zone named: "3 Dec 2026, 16:00 CET"."""
    if when is None:
        return ""
    return f"{format_datetime(when, 'medium').rsplit(':', 1)[0]} {zone_label(when)}"


def day(when: datetime | date | None, style: str = "medium") -> str:
    """A calendar day in the reader's zone: "3 Dec 2026" (en), "3 dic 2026" (es)."""
    if when is None:
        return ""
    if isinstance(when, datetime):
        return format_date(when, style)
    return format_date(when, style, rebase=False)


def zone_label(when: datetime | None = None) -> str:
    """The reader's zone as its short name at that moment (CET, EST), else as UTC±hh:mm."""
    zone = get_timezone()
    local = (when or datetime.now(zone)).astimezone(zone)
    name = local.tzname() or ""
    return name if name.isalpha() else f"UTC{local.strftime('%z')[:3]}:{local.strftime('%z')[3:]}"


def number(value: int | float | None) -> str:
    return format_decimal(value or 0)


def money(minor_units: int, currency: str) -> str:
    """An amount kept in cents, in the reader's conventions: "$25.00", "25,00 US$"."""
    return format_currency(minor_units / 100, currency)


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PROJECT_ROOT / "translations"))
    babel.init_app(app, locale_selector=choose_language, timezone_selector=choose_time_zone)
    app.jinja_env.filters.update(moment=moment, day=day, number=number, money=money)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES, zone_label=zone_label, current_language=lambda: str(get_locale())
    )

