"""Test harness: a migrated database (SQLite, or PostgreSQL from TEST_DATABASE_URL), an app,
factories, captured mail, and (in tests/e2e) a live server driven by system Chromium."""

from __future__ import annotations

import os

import pytest
from alembic import command
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from portal.app import create_app
from portal.cli import alembic_config
from portal.db import Base, make_engine
from portal.models import OutboxMessage
from tests import factories
from tests.factories import SETTINGS

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped test is a failure: PostgreSQL and the browser must be there."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {report.longrepr}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'vouch-test.db'}"
    command.upgrade(alembic_config(url), "head")
    return url


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture
def postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")


def make_test_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_URL": "http://vouch.test",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MAIL_CONSOLE": False,
        "MAIL_SUPPRESS_SEND": True,
        "UPLOAD_DIR": SETTINGS.upload_dir,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def _shared_app(database_url):
    app = make_test_app(database_url)
    yield app
    app.extensions["vouch.engine"].dispose()


@pytest.fixture
def app(_shared_app):
    """The app; tables are emptied afterwards. No app context is pushed: requests get their own."""
    yield _shared_app
    _empty_all_tables(_shared_app)


def _empty_all_tables(app) -> None:
    engine = app.extensions["vouch.engine"]
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:  # SQLite has no TRUNCATE: lift the append-only triggers while emptying
            triggers = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            ).all()
            for name, _sql in triggers:
                connection.exec_driver_sql(f"DROP TRIGGER {name}")
            connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for table in tables:
                connection.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608 - our own names
            for _name, sql in triggers:
                connection.exec_driver_sql(sql)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def _test_engine(database_url):
    """The tests' own connection. On SQLite it begins transactions lazily (not IMMEDIATE),
    so a test that reads between requests does not hold the write lock the app needs."""
    if not database_url.startswith("sqlite"):
        engine = make_engine(database_url)
    else:
        engine = create_engine(database_url)

        @event.listens_for(engine, "savepoint")
        def _begin_before_savepoint(connection, _name):
            # pysqlite begins a transaction only before a write: a SAVEPOINT opened first
            # would itself become the transaction, and its RELEASE would commit.
            if not connection.connection.dbapi_connection.in_transaction:
                connection.exec_driver_sql("BEGIN")

    yield engine
    engine.dispose()


@pytest.fixture
def session(app, _test_engine):
    with Session(_test_engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def make(session):
    """Factories bound to the test's session: make.account(...), make.advocate(...)."""
    return factories.Factory(session)


@pytest.fixture
def outbox(app):
    """Deliver queued email through Flask-Mail and return what was sent."""
    return factories.Outbox(app)


@pytest.fixture
def queued(session):
    def _queued(to: str | None = None) -> list[OutboxMessage]:
        from sqlalchemy import select

        statement = select(OutboxMessage).order_by(OutboxMessage.id)
        if to:
            statement = statement.where(OutboxMessage.to_email == to)
        session.expire_all()
        return list(session.scalars(statement))

    return _queued


@pytest.fixture
def count_queries(app):
    """Count the SQL statements the app runs inside the block:
    `with count_queries() as counted: client.get(...)`, then `counted.n`."""
    from contextlib import contextmanager

    engine = app.extensions["vouch.engine"]

    class Counted:
        n = 0
        statements: list[str] = []

    @contextmanager
    def _count():
        counted = Counted()
        counted.statements = []

        def _on_execute(_conn, _cursor, statement, *_args):
            if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
                counted.n += 1
                counted.statements.append(statement)

        event.listen(engine, "before_cursor_execute", _on_execute)
        try:
            yield counted
        finally:
            event.remove(engine, "before_cursor_execute", _on_execute)

    return _count
