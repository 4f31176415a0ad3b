"""Engine and session setup, the declarative Base, and transaction helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TypeVar

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, String, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from portal.errors import NotFound

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on both PostgreSQL and SQLite (which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTCDateTime column")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class DerivedText(TypeDecorator):
    """A String(n) column holding text built from other text (an email subject from a
    challenge's title): clipped to fit with an ellipsis, so the database never refuses it."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and len(value) > self.impl.length:
            value = value[: self.impl.length - 1] + "…"
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


# The demo plays months of a program through the services (portal.seed): while a story
# clock is set, "now" is the story's moment, so every row is dated when it happened.
_story_clock: ContextVar[Callable[[], datetime] | None] = ContextVar("story_clock", default=None)


def utcnow() -> datetime:
    read = _story_clock.get()
    return read() if read is not None else datetime.now(UTC)


@contextmanager
def story_clock(read: Callable[[], datetime]) -> Iterator[None]:
    """Within the block, utcnow() is `read()` (an aware UTC datetime) in this context."""
    token = _story_clock.set(read)
    try:
        yield
    finally:
        _story_clock.reset(token)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _use_immediate_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _use_immediate_transactions(engine: Engine) -> None:
    """SQLite has no row locks: take the write lock when a transaction begins."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def refuse_duplicates(session: Session, error: Exception) -> Iterator[None]:
    """Run the block in a savepoint; a unique-key violation there (a lost race) raises `error`."""
    try:
        with session.begin_nested():
            yield
    except IntegrityError:
        raise error from None


def get_or_refuse(session: Session, model: type[T], row_id: int | None, message: str) -> T:
    """The row with this id, or NotFound with a message a person can read."""
    row = session.get(model, row_id) if row_id is not None else None
    if row is None:
        raise NotFound(message)
    return row


def single_row(session: Session, model: type[T], **defaults) -> T:
    """The one settings row of `model` (id 1), created with `defaults` on first use.

    Read once per session (a request's session lives for one request): the session keeps
    a strong reference, since its identity map alone would let the row be collected."""
    kept = session.info.setdefault("single_rows", {})
    if model in kept and kept[model] in session:  # not if a rollback took its creation away
        return kept[model]
    row = session.get(model, 1)
    if row is None:
        try:
            with session.begin_nested():
                row = model(id=1, **defaults)
                session.add(row)
        except IntegrityError:  # another request created it first
            row = session.get(model, 1)
    kept[model] = row
    return row


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["vouch.engine"] = engine
    app.extensions["vouch.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["vouch.engine"]


def new_session() -> Session:
    """A session the caller owns (CLI commands, background work)."""
    return current_app.extensions["vouch.sessionmaker"]()


def get_session() -> Session:
    """The session of the current request, closed when the request ends."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.close()
        except SQLAlchemyError:  # the server went away mid-transaction: drop its connection
            session.invalidate()
