"""Calendar periods, as keys: the same key means the same week, month, quarter or year."""

from __future__ import annotations

from datetime import datetime

PERIODS = ("week", "month", "quarter", "year")


def period_key(period: str, when: datetime) -> str:
    if period == "week":
        year, week, _ = when.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{when.year}-{when.month:02d}"
    if period == "quarter":
        return f"{when.year}-Q{(when.month - 1) // 3 + 1}"
    return str(when.year)
