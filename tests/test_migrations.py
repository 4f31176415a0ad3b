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


def test_program_scale_migration_keeps_every_row_and_fills_the_new_counts(tmp_path):
    """0003 -> 0004 on a database with people in it (SQLite, with foreign keys on): no row
    referring to a user is lost, and the new columns are filled from what is there."""
    url = f"sqlite:///{tmp_path / 'upgrade.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0003")
    engine = make_engine(url)
    now = "2026-11-20 10:00:00.000000"
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run(
            "INSERT INTO accounts (id, name, industry, segment, region, gift_policy, "
            "gift_policy_reason, created_at) VALUES (1, 'Northwind', '', '', '', 'allowed', '', ?)",
            (now,),
        )
        for user_id, email in ((1, "ana@northwind.example"), (2, "ben@northwind.example")):
            run(
                "INSERT INTO users (id, email, name, role, account_id, title, active, "
                "session_token, declines_gifts, hide_from_leaderboard, email_digests, created_at) "
                "VALUES (?, ?, '', 'advocate', 1, '', 1, ?, 0, 0, 1, ?)",
                (user_id, email, f"token-{user_id}", now),
            )
        run("UPDATE accounts SET owner_id = 1")
        run(
            "INSERT INTO consent_records (user_id, terms_version, opted_in_at) VALUES (1, 'v1', ?)",
            (now,),
        )
        run(
            "INSERT INTO audit_events (actor_id, action, target_type, summary, details, "
            "created_at) VALUES (1, 'test', 'user', 'kept', '{}', ?)",
            (now,),
        )
        run(
            "INSERT INTO advocate_groups (id, name, description, segment, industry, region, "
            "job_level, created_at) VALUES (1, 'Champions', '', '', '', '', '', ?)",
            (now,),
        )
        run("INSERT INTO group_members (group_id, user_id) VALUES (1, 2)")
    engine.dispose()

    command.upgrade(config, "head")
    engine = make_engine(url)
    with engine.connect() as connection:
        run = connection.exec_driver_sql
        assert run("SELECT id, in_program FROM users ORDER BY id").all() == [(1, 1), (2, 0)]
        assert run("SELECT actor_id FROM audit_events").scalar() == 1
        assert run("SELECT owner_id FROM accounts").scalar() == 1
        assert run("SELECT user_id FROM group_members").scalar() == 2
    engine.dispose()
    command.downgrade(config, "0003")
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM group_members").scalar() == 1
        assert connection.exec_driver_sql("SELECT actor_id FROM audit_events").scalar() == 1
    engine.dispose()
