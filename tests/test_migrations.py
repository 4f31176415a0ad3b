"""The models and the Alembic migrations describe the same schema."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal.cli import alembic_config
from portal.db import Base, make_engine


def _not_search_index(_object, name, type_, reflected, _compare_to) -> bool:
    # PostgreSQL-only trigram indexes for searching names (migration 0004), not in the models
    return not (type_ == "index" and reflected and name.endswith("_trgm"))


def test_migrated_database_matches_the_models(database_url):
    """The shared test database was built by `alembic upgrade head` (see conftest)."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _not_search_index})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_migrations_go_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = make_engine(url)
    assert inspect(engine).get_table_names() == ["alembic_version"]
    engine.dispose()
    command.upgrade(config, "head")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) >= {"users", "accounts", "outbox_messages"}
    engine.dispose()
