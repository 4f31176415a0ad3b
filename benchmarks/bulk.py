"""Bulk inserts for benchmark data: COPY on PostgreSQL, multi-row inserts on SQLite.

Rows are tuples of Python values, as SQLAlchemy would take them (datetimes, dicts for JSON
columns, booleans). NOT NULL columns a caller leaves out are filled from the model's own
defaults, so a column added to a model later does not break the loader.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter

from sqlalchemy import JSON, MetaData, Table, func, select, text
from sqlalchemy.engine import Connection

SQLITE_ROWS_PER_STATEMENT = 500


class MissingColumn(Exception):
    """A NOT NULL column with no default that the loader does not fill."""


@dataclass(frozen=True)
class _Plan:
    statement: str
    fillers: tuple[tuple[bool, object], ...]  # (is_callable, value) per filled-in column
    converters: tuple[tuple[int, Callable], ...]  # (position, function) per column to convert
    width: int


class BulkWriter:
    """Writes rows into tables inside the caller's transaction, counting them per table."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.dialect = connection.dialect
        self.postgres = self.dialect.name == "postgresql"
        self.raw = connection.connection.dbapi_connection
        self.counts: Counter[str] = Counter()
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan] = {}

    def write(self, table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        plan = self._plan(table, tuple(columns))
        rows = self._complete(plan, rows)
        count = self._copy(plan, rows) if self.postgres else self._insert(plan, rows)
        self.counts[table.name] += count

    def next_id(self, table: Table) -> int:
        """The first free id of a table whose ids the loader assigns itself."""
        return (self.connection.scalar(select(func.max(table.c.id))) or 0) + 1

    def bump_sequence(self, table: Table) -> None:
        """After explicit ids on PostgreSQL, the id sequence continues after the largest."""
        if self.postgres:
            name = table.name
            self.connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                    f"coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"
                )
            )

    @contextmanager
    def foreign_keys_checked_at_the_end(self) -> Iterator[None]:
        """On PostgreSQL, drop the schema's foreign keys while loading and add them back
        (as they were) afterwards, in the same transaction: adding one checks every row in
        one pass, where keeping it checks each row as it is copied, three times slower.
        Nothing changes on SQLite, whose checks are cheap."""
        if not self.postgres:
            yield
            return
        keys = self.connection.execute(
            text(
                "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),"
                " format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname,"
                " pg_get_constraintdef(oid))"
                " FROM pg_constraint WHERE contype = 'f'"
                " AND connamespace = current_schema()::regnamespace ORDER BY conrelid, conname"
            )
        ).all()
        for drop, _add in keys:
            self.connection.exec_driver_sql(drop)
        yield
        for _drop, add in keys:
            self.connection.exec_driver_sql(add)

    # --- how a table is written ---------------------------------------------------------

    def _plan(self, table: Table, columns: tuple[str, ...]) -> _Plan:
        key = (table.name, columns)
        if key not in self._plans:
            self._plans[key] = self._make_plan(table, columns)
        return self._plans[key]

    def _make_plan(self, table: Table, columns: tuple[str, ...]) -> _Plan:
        unknown = set(columns) - set(table.c.keys())
        if unknown:
            raise MissingColumn(f"{table.name} has no column {', '.join(sorted(unknown))}")
        fillers, filled = [], []
        for column in table.c:
            if column.name in columns or column.nullable or column.server_default is not None:
                continue
            if column.primary_key and column is table.autoincrement_column:
                continue
            default = column.default
            if default is None or not (default.is_scalar or default.is_callable):
                raise MissingColumn(
                    f"{table.name}.{column.name} is NOT NULL and has no default: "
                    "the bench-data loader must fill it"
                )
            fillers.append((default.is_callable, default.arg))
            filled.append(column.name)
        names = columns + tuple(filled)
        converters = []
        for position, name in enumerate(names):
            convert = self._converter(table.c[name])
            if convert is not None:
                converters.append((position, convert))
        column_list = ", ".join(names)
        if self.postgres:
            statement = f"COPY {table.name} ({column_list}) FROM STDIN"
        else:
            statement = f"INSERT INTO {table.name} ({column_list}) VALUES "  # noqa: S608
        return _Plan(statement, tuple(fillers), tuple(converters), len(names))

    def _converter(self, column) -> Callable | None:
        if self.postgres:
            # psycopg adapts datetimes, booleans and numbers itself; JSON goes as text
            return json.dumps if isinstance(column.type, JSON) else None
        return column.type.dialect_impl(self.dialect).bind_processor(self.dialect)

    @staticmethod
    def _complete(plan: _Plan, rows: Iterable[tuple]) -> Iterable[tuple]:
        if not plan.fillers and not plan.converters:
            return rows
        return (_complete_row(plan, row) for row in rows)

    def _copy(self, plan: _Plan, rows: Iterable[tuple]) -> int:
        count = 0
        with self.raw.cursor() as cursor, cursor.copy(plan.statement) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)
                count += 1
        return count

    def _insert(self, plan: _Plan, rows: Iterable[tuple]) -> int:
        placeholders = "(" + ", ".join("?" * plan.width) + ")"
        cursor = self.raw.cursor()
        count, chunk = 0, []
        try:
            for row in rows:
                chunk.append(row)
                if len(chunk) == SQLITE_ROWS_PER_STATEMENT:
                    count += self._insert_chunk(cursor, plan.statement, placeholders, chunk)
                    chunk = []
            if chunk:
                count += self._insert_chunk(cursor, plan.statement, placeholders, chunk)
        finally:
            cursor.close()
        return count

    @staticmethod
    def _insert_chunk(cursor, statement: str, placeholders: str, chunk: list[tuple]) -> int:
        values = ", ".join([placeholders] * len(chunk))
        cursor.execute(statement + values, [value for row in chunk for value in row])
        return len(chunk)


def _complete_row(plan: _Plan, row: tuple) -> tuple:
    if plan.fillers:
        row = row + tuple(
            value(None) if is_callable else value for is_callable, value in plan.fillers
        )
    if plan.converters:
        row = list(row)
        for position, convert in plan.converters:
            if row[position] is not None:
                row[position] = convert(row[position])
    return row


class Batch:
    """Rows waiting to be written, written table by table in foreign-key order.

    `add` takes a row as keywords (the first row of a table fixes its columns; every row
    must name the same ones); `extend` takes tuples in a hot loop."""

    def __init__(self, writer: BulkWriter, metadata: MetaData):
        self.writer = writer
        self.tables = metadata.sorted_tables
        self.columns: dict[str, tuple[tuple[str, ...], Callable]] = {}
        self.rows: dict[str, list[tuple]] = defaultdict(list)
        self.size = 0

    def add(self, table: str, **values) -> None:
        known = self.columns.get(table)
        if known is None:
            known = self.columns[table] = (tuple(values), itemgetter(*values))
        if len(values) != len(known[0]):
            raise ValueError(f"a {table} row names {sorted(values)}, not {sorted(known[0])}")
        self.rows[table].append(known[1](values))
        self.size += 1

    def extend(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        self.columns.setdefault(table, (columns, itemgetter(*columns)))
        self.rows[table].extend(rows)
        self.size += len(rows)

    def sort(self, table: str, column: str) -> None:
        """Put a table's waiting rows in the order of one of its columns."""
        position = self.columns[table][0].index(column)
        self.rows[table].sort(key=itemgetter(position))

    def flush(self) -> None:
        for table in self.tables:
            rows = self.rows.pop(table.name, None)
            if rows:
                self.writer.write(table, self.columns[table.name][0], rows)
        self.size = 0
