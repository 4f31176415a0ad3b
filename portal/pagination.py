"""One page of a long list, cut in SQL: by page number, or by a stable key for work queues.

Lists sorted by a name (users, accounts) go by page number. Queues that people work
through (review, thank-yous, redemptions) go by key: the next page starts after the last
row shown, by (created_at, id), so approving the rows of one page never makes the next
page skip any. Both return a `Page`, and `templates/macros/pagination.html` renders it,
keeping the list's filters in every link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

PER_PAGE = 50
MAX_PAGE = 100_000  # beyond any list's last page; keeps OFFSET within an integer


@dataclass(frozen=True)
class PageRequest:
    """Which page a person asked for: `?page=3`, or `?after=<key>` / `?before=<key>`."""

    number: int = 1
    after: str = ""
    before: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> PageRequest:
        try:
            number = min(max(int(args.get("page") or 1), 1), MAX_PAGE)
        except ValueError:
            number = 1
        # a key is a timestamp and an id; anything longer is not one of ours
        return cls(number, (args.get("after") or "")[:80], (args.get("before") or "")[:80])


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int | None  # None where counting would cost more than the page
    per_page: int
    number: int | None = None  # page-number lists only
    next_args: dict[str, str | int] | None = None  # query arguments of the next page
    prev_args: dict[str, str | int] | None = None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_args or self.prev_args)


def paginate(
    session: Session,
    statement: Select,
    wanted: PageRequest,
    per_page: int = PER_PAGE,
    count: bool = True,
) -> Page:
    """A page of an ordered statement by page number (one row more tells if there is a next)."""
    offset = (wanted.number - 1) * per_page
    rows = _rows(session, statement.limit(per_page + 1).offset(offset))
    return Page(
        items=rows[:per_page],
        total=_count(session, statement) if count else None,
        per_page=per_page,
        number=wanted.number,
        next_args={"page": wanted.number + 1} if len(rows) > per_page else None,
        prev_args={"page": wanted.number - 1} if wanted.number > 1 else None,
    )


def paginate_by_key(
    session: Session,
    statement: Select,
    keys: tuple[InstrumentedAttribute, ...],
    wanted: PageRequest,
    per_page: int = PER_PAGE,
    newest_first: bool = False,
    count: bool = True,
) -> Page:
    """A page that starts after (or ends before) a row's key, e.g. (created_at, id).

    `statement` must not be ordered: the keys order it, oldest first (or newest first).
    """
    key = tuple_(*keys)
    after, before = _parse_key(wanted.after, keys), _parse_key(wanted.before, keys)
    if after is not None and before is not None:  # not a link of ours: the first page
        after = before = None
    forward = before is None
    ascending = forward != newest_first
    ordered = statement.order_by(*(k.asc() if ascending else k.desc() for k in keys))
    if after is not None:
        bound = _bound(after, keys)
        ordered = ordered.where(key < bound if newest_first else key > bound)
    elif before is not None:
        bound = _bound(before, keys)
        ordered = ordered.where(key > bound if newest_first else key < bound)
    rows = _rows(session, ordered.limit(per_page + 1))
    more = len(rows) > per_page
    rows = rows[:per_page]
    if not forward:
        rows.reverse()
    has_next = more if forward else bool(rows)
    has_prev = (after is not None) if forward else more
    return Page(
        items=rows,
        total=_count(session, statement) if count else None,
        per_page=per_page,
        next_args={"after": _format_key(rows[-1], keys)} if has_next and rows else None,
        prev_args={"before": _format_key(rows[0], keys)} if has_prev and rows else None,
    )


def _rows(session: Session, statement: Select) -> list[Any]:
    result = session.execute(statement)
    described = statement.column_descriptions
    if len(described) == 1 and isinstance(described[0]["type"], type):  # one mapped class
        return list(result.scalars().unique())
    return list(result.all())


def _count(session: Session, statement: Select) -> int:
    return session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))


def _entity(row: Any) -> Any:
    return row[0] if hasattr(row, "_mapping") else row


def _bound(values: tuple, keys: tuple[InstrumentedAttribute, ...]):
    return tuple_(*(bindparam(None, v, type_=k.type) for v, k in zip(values, keys, strict=True)))


def _format_key(row: Any, keys: tuple[InstrumentedAttribute, ...]) -> str:
    values = (getattr(_entity(row), key.key) for key in keys)
    return "_".join(v.isoformat() if isinstance(v, datetime) else str(v) for v in values)


def _parse_key(text: str, keys: tuple[InstrumentedAttribute, ...]) -> tuple | None:
    """The key of a row from a URL, or None when it is missing or not a key at all."""
    parts = text.split("_") if text else []
    if len(parts) != len(keys):
        return None
    values = []
    try:
        for part, key in zip(parts, keys, strict=True):
            # a TypeDecorator (UTCDateTime) knows no python_type; the type it wraps does
            if getattr(key.type, "impl", key.type).python_type is datetime:
                value = datetime.fromisoformat(part)
                if value.tzinfo is None:
                    return None
                value = value.astimezone(UTC)  # year 1 at +01:00 is before any datetime
            else:
                value = int(part)
                if abs(value) > 2**63 - 1:
                    return None
            values.append(value)
    except (ValueError, OverflowError):
        return None
    return tuple(values)
