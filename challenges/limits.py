"""Per-advocate limits as slots: each active submission holds one, under a unique key.

A challenge done "once" has the single slot "1"; "N times" has slots "1".."N"; "once per
month" has one slot per calendar month ("2026-11"). A rejected or withdrawn submission
gives its slot back, so the advocate may try again while the limit allows.
"""

from __future__ import annotations

from datetime import datetime

from challenges.models import Challenge, LimitKind
from portal.i18n import _, _l
from portal.periods import period_key


def free_slot(challenge: Challenge, taken: set[str], now: datetime) -> str | None:
    """The slot a new submission would take, or None when the advocate's limit is used up.

    For "N times" it is the smallest of "1".."N" not taken. Only "1".."len(taken) + 1" are
    checked, however large N is: len(taken) slots cannot fill len(taken) + 1 places.
    """
    if challenge.limit_kind == LimitKind.PER_PERIOD:
        candidates = [period_key(challenge.limit_period, now)]
    elif challenge.limit_kind == LimitKind.TIMES:
        last = min(challenge.limit_count, len(taken) + 1)
        candidates = (str(n) for n in range(1, last + 1))
    else:
        candidates = ["1"]
    return next((slot for slot in candidates if slot not in taken), None)


def describe_limit(challenge: Challenge) -> str:
    if challenge.limit_kind == LimitKind.PER_PERIOD:
        return str(_PER_PERIOD.get(challenge.limit_period, _PER_PERIOD["month"])[0])
    if challenge.limit_kind == LimitKind.TIMES:
        return _("up to %(count)s times", count=challenge.limit_count)
    return _("once")


def limit_reached_message(challenge: Challenge) -> str:
    if challenge.limit_kind == LimitKind.PER_PERIOD:
        return str(_PER_PERIOD.get(challenge.limit_period, _PER_PERIOD["month"])[1])
    if challenge.limit_kind == LimitKind.TIMES:
        return _(
            "You have done this challenge the most times allowed (%(count)s).",
            count=challenge.limit_count,
        )
    return _("You have already done this challenge.")


# each period as the limit reads, and as the refusal says it (whole sentences: they translate)
_PER_PERIOD = {
    "week": (
        _l("once a week"),
        _l("You can do this challenge once a week; come back next week."),
    ),
    "month": (
        _l("once a month"),
        _l("You can do this challenge once a month; come back next month."),
    ),
    "quarter": (
        _l("once a quarter"),
        _l("You can do this challenge once a quarter; come back next quarter."),
    ),
    "year": (
        _l("once a year"),
        _l("You can do this challenge once a year; come back next year."),
    ),
}
