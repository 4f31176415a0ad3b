"""How the program plays (its settings row) and its calendar: periods roll over at midnight
in the program's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import pytz
from sqlalchemy.orm import Session

from points.models import GameSettings
from portal.db import single_row

SCORE_PERIODS = ("all", "month", "quarter")


def game_settings(session: Session) -> GameSettings:
    return single_row(session, GameSettings, time_zone="UTC")


def program_zone(session: Session) -> str:
    """The program's time zone by name (UTC when the stored one is unknown)."""
    name = game_settings(session).time_zone
    return name if name in time_zones() else "UTC"


@cache
def time_zones() -> tuple[str, ...]:
    """The zones a person or the program may choose: those both zoneinfo and pytz (which
    Flask-Babel formats with) know, so never "localtime" or "Factory"."""
    return tuple(sorted(available_timezones() & pytz.all_timezones_set))


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name if name in time_zones() else "UTC")


def period_keys(when: datetime, zone_name: str) -> dict[str, str]:
    """The keys of the periods `when` falls in, on the program's calendar."""
    local = when.astimezone(zone(zone_name))
    return {
        "all": "all",
        "month": f"{local.year}-{local.month:02d}",
        "quarter": f"{local.year}-Q{(local.month - 1) // 3 + 1}",
    }


def month_starts(first: datetime, last: datetime, zone_name: str) -> list[datetime]:
    """The UTC instants at which each local month from `first`'s to after `last`'s begins."""
    tz = zone(zone_name)
    local = first.astimezone(tz)
    year, month = local.year, local.month
    starts = []
    while True:
        start = datetime(year, month, 1, tzinfo=tz).astimezone(UTC)
        starts.append(start)
        if start > last:
            return starts
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
