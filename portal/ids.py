"""Row ids from the outside world (URLs, forms, CSV): refused when no row could have them."""

from __future__ import annotations

MAX_ROW_ID = 2**31 - 1  # the largest id an INTEGER primary key holds


def row_id(value) -> int:
    """WTForms coerce for posted ids: out of range is 'not a valid choice', not a 500."""
    number = int(value)
    if not 0 <= number <= MAX_ROW_ID:
        raise ValueError("not a row id")
    return number


def parse_row_id(text: str | None) -> int | None:
    """An id from a query string, hidden field or CSV cell, or None when it is not one."""
    try:
        return row_id(text) if text else None
    except ValueError:
        return None
