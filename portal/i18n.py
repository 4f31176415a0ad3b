"""Languages and time zones: which a page (or an email) is written in, and how its dates,
numbers and money read. Flask-Babel underneath; catalogs live in translations/.

Every user-facing string goes through `_` (or `_l` where it is built before a request has a
language: form labels, module constants). Texts that managers write (challenge and reward
names and bodies) are shown as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime

import pytz
from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_time
from babel.numbers import format_decimal as babel_decimal
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask_babel import (
    Babel,
    format_currency,
    get_locale,
    get_timezone,
    get_translations,
    gettext,
    ngettext,
)
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import escape
from pytz import timezone as pytz_zone
from sqlalchemy.orm import Session, object_session

from portal.config import PROJECT_ROOT

_ = gettext


class LazyText(LazyString):
    """A lazy message that HTML-escapes like a plain str (Flask-Babel's passes as markup)."""

    def __html__(self) -> str:
        return str(escape(str(self)))


def _l(string: str, **variables) -> LazyText:
    """A message translated when shown: form labels and module constants."""
    return LazyText(gettext, string, **variables)


def N_(message: str) -> str:
    """Marks a constant for the catalog but keeps it a plain str (tests and callers compare
    it as text); translate it where it is shown: `_(CONTROL_MESSAGE)`."""
    return message


__all__ = ["_", "_l", "N_", "ngettext", "get_translations", "LANGUAGES", "speaking_as", "init_i18n"]

LANGUAGES = {"en": "English", "es": "Español"}  # each shown in its own language
DEFAULT_LANGUAGE = "en"
babel = Babel()


def choose_language() -> str:
    """The person's own setting, else what they picked on a logged-out page, else their
    browser's Accept-Language, else English."""
    if not has_request_context():  # a command, outside `speaking_as`
        return DEFAULT_LANGUAGE
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    if session.get("locale") in LANGUAGES:
        return session["locale"]
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def choose_time_zone() -> str:
    """The person's own zone, else the program's (where its periods roll over)."""
    if current_user and current_user.is_authenticated:
        return known_zone(current_user.time_zone) or program_time_zone()
    return program_time_zone()


def known_zone(name: str | None) -> str | None:
    """`name` when it is a zone we can write times in (a stored value is never trusted to be)."""
    return name if name in pytz.all_timezones_set else None


def program_time_zone(db_session=None) -> str:
    """The program's zone, read in `db_session` when given (a command's own transaction:
    on SQLite a second session would wait on its write lock), else the request's. Which
    zone that is, points.program says (given to init_i18n): portal knows no game rules."""
    from portal.db import get_session

    return current_app.extensions["vouch.program_zone"](db_session or get_session())


@contextmanager
def speaking_as(user) -> Iterator[None]:
    """Write in `user`'s language and time zone (an email rendered during someone else's
    request, or by a command): the strings, the dates and the numbers all follow.
    Outside an application context (a service called from a script) it writes English."""
    if not has_app_context():
        yield
        return
    context = g._flask_babel if "_flask_babel" in g else None
    saved = {key: getattr(context, key, None) for key in _BABEL_KEYS} if context else {}
    get_locale()  # makes sure g._flask_babel exists
    context = g._flask_babel
    context.babel_locale = Locale.parse(user.locale if user.locale in LANGUAGES else "en")
    context.babel_translations = None
    context.babel_tzinfo = pytz_zone(
        known_zone(user.time_zone) or program_time_zone(object_session(user))
    )
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
    locale = _date_locale()
    local = when.astimezone(_reader_zone())
    both = locale.datetime_formats["medium"].format(
        format_time(local, "short", locale=locale), babel_date(local, "medium", locale=locale)
    )
    return f"{both} {zone_label(when)}"


def day(when: datetime | date | None, style: str = "medium") -> str:
    """A calendar day in the reader's zone: "3 Dec 2026" (en), "3 dic 2026" (es)."""
    if when is None:
        return ""
    if isinstance(when, datetime):
        when = when.astimezone(_reader_zone())
    return babel_date(when, style, locale=_date_locale())


def _date_locale() -> Locale:
    """English dates read day first with a 24-hour clock ("3 Dec 2026, 16:00"), as the
    program writes them to readers on every continent; other languages follow their own."""
    locale = get_locale() or Locale("en")
    return Locale("en", "GB") if locale.language == "en" and not locale.territory else locale


def _reader_zone():
    return get_timezone() if has_app_context() else pytz_zone("UTC")  # else: a plain script


def zone_label(when: datetime | None = None) -> str:
    """The reader's zone as its short name at that moment (CET, EST), else as UTC±hh:mm."""
    zone = _reader_zone()
    local = (when or datetime.now(zone)).astimezone(zone)
    name = local.tzname() or ""
    return name if name.isalpha() else f"UTC{local.strftime('%z')[:3]}:{local.strftime('%z')[3:]}"


def lazy_day(when: datetime | date, style: str = "long") -> LazyString:
    """`day`, written when it is read (a subject built before `speaking_as` the reader)."""
    return LazyString(day, when, style)


def lazy_number(value: int) -> LazyString:
    """`number`, written when it is read: "1,200" (en), "1200" or "1.200" (es)."""
    return LazyString(number, value)


def number(value: int | float | None) -> str:
    """1,234 (en), 1234 or 12.345 (es); English outside a request (a service called alone)."""
    return babel_decimal(value or 0, locale=get_locale() or DEFAULT_LANGUAGE)


def money(minor_units: int, currency: str) -> str:
    """An amount kept in cents, in the reader's conventions: "$25.00", "25,00 US$"."""
    return format_currency(minor_units / 100, currency)


def whole_money(units: int, currency: str) -> str:
    """A sum kept in whole units (a deal's size): "$220,000", "220.000 US$" - no cents."""
    locale = get_locale() or Locale("en")
    pattern = locale.currency_formats["standard"].pattern.replace(".00", "")
    return format_currency(units, currency, format=pattern, currency_digits=False)


def init_i18n(app: Flask, program_zone: Callable[[Session], str]) -> None:
    app.extensions["vouch.program_zone"] = program_zone
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PROJECT_ROOT / "translations"))
    babel.init_app(app, locale_selector=choose_language, timezone_selector=choose_time_zone)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} text as one line (babel.cfg)
    app.jinja_env.filters.update(
        moment=moment, day=day, number=number, money=money, whole_money=whole_money
    )
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES, zone_label=zone_label, current_language=lambda: str(get_locale())
    )
