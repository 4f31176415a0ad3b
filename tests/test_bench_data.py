"""bench-data: a realistic program at scale, in its own SQLite database (the shared test
database stays as the other tests expect it)."""

import os

import pytest
from alembic import command
from sqlalchemy import and_, func, make_url, select
from sqlalchemy.orm import Session

from benchmarks.bench_data import PASSWORD
from benchmarks.redemptions import create_database, drop_database
from challenges.badges import recompute
from challenges.models import ACTIVE, Challenge, Submission
from points.leaderboard import current_periods, listed_count, standing, totals_differences
from points.models import (
    Badge,
    BadgeAward,
    FeedEvent,
    LedgerEntry,
    Level,
    LevelReached,
    PeriodTotal,
    PointsBalance,
    Redemption,
    RedemptionStatus,
    Reward,
)
from points.services import reconcile
from portal.accounts.models import User
from portal.cli import alembic_config
from tests.conftest import TEST_DATABASE_URL, make_test_app
from tests.factories import login


@pytest.fixture
def bench_app(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    command.upgrade(alembic_config(url), "head")
    app = make_test_app(url)
    yield app
    app.extensions["vouch.engine"].dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def game_app(request, tmp_path):
    """bench-data's app on SQLite, and on a throwaway PostgreSQL database of its own (the
    loader's SQL differs there: COPY, ANALYZE, interval arithmetic)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("bench_app")
        return
    if not TEST_DATABASE_URL:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
    server = make_url(TEST_DATABASE_URL)
    name = f"vouch_bench_test_{os.getpid()}"
    create_database(server, name)
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        command.upgrade(alembic_config(url), "head")
        app = make_test_app(url)
        yield app
        app.extensions["vouch.engine"].dispose()
    finally:
        drop_database(server, name)


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def scalar(app, statement):
    with app.extensions["vouch.engine"].connect() as connection:
        return connection.scalar(statement)


def statuses(app, column) -> set[str]:
    with app.extensions["vouch.engine"].connect() as connection:
        return set(connection.scalars(select(column).distinct()))


def test_bench_data_fills_a_program_whose_books_balance(bench_app):
    loaded = run(bench_app, "bench-data", "--advocates", "300", "--entries", "15000")
    assert loaded.exit_code == 0, loaded.output
    assert "ledger_entries" in loaded.output

    assert statuses(bench_app, Submission.status) == {
        "pending",
        "approved",
        "rejected",
        "withdrawn",
    }
    assert statuses(bench_app, Redemption.status) == set(RedemptionStatus)
    assert scalar(bench_app, select(func.count()).select_from(LedgerEntry)) == 15_000
    active = (
        select(func.count())
        .where(Submission.challenge_id == Challenge.id, Submission.status.in_(ACTIVE))
        .scalar_subquery()
    )
    assert scalar(bench_app, select(func.count()).where(Challenge.taken != active)) == 0
    assert scalar(bench_app, select(func.min(Reward.stock))) >= 0
    reconciled = run(bench_app, "points", "reconcile")
    assert reconciled.exit_code == 0, reconciled.output

    refused = run(bench_app, "bench-data", "--advocates", "10")
    assert refused.exit_code == 1
    assert "already holds data" in refused.stderr
    assert "--append" in refused.stderr

    appended = run(bench_app, "bench-data", "--advocates", "40", "--entries", "2000", "--append")
    assert appended.exit_code == 0, appended.output
    reconciled = run(bench_app, "points", "reconcile")
    assert reconciled.exit_code == 0, reconciled.output
    emails = select(func.count()).where(User.email.like("bench-%"))
    assert scalar(bench_app, emails) == 2  # the staff logins are not made twice
    # 8 staff and 2 sales users (benchmarks/references.py), made once
    assert scalar(bench_app, select(func.count()).select_from(User)) == 8 + 2 + 300 + 40


def test_the_bench_logins_work(bench_app):
    loaded = run(bench_app, "bench-data", "--advocates", "60", "--entries", "3000")
    assert loaded.exit_code == 0, loaded.output
    client = bench_app.test_client()
    homes = {
        "bench-admin@bench.example": "/admin/",
        "bench-manager@bench.example": "/manage/",
        "advocate1@bench.example": "/hub/",
    }
    for email, home in homes.items():
        page = login(client, email, PASSWORD)
        assert page.status_code == 200, email
        assert page.request.path == home, email
        client.post("/logout")


def game_checks(app) -> dict:
    """What the game's rows must agree on, whatever the load: totals equal the ledger's sums,
    levels are exactly those lifetime points reach, no badge is missing."""
    with Session(app.extensions["vouch.engine"]) as session:
        assert totals_differences(session) == []
        assert reconcile(session) == []
        reach = and_(Level.threshold > 0, Level.threshold <= PointsBalance.lifetime_earned)
        reached = set(
            session.execute(select(PointsBalance.advocate_id, Level.id).join(Level, reach))
        )
        recorded = select(LevelReached.advocate_id, LevelReached.level_id)
        assert set(session.execute(recorded)) == reached
        assert recompute(session).added == {}  # every badge a rule gives is there already
        session.rollback()
        advocate1 = session.scalar(select(User.id).where(User.email == "advocate1@bench.example"))
        periods = current_periods(session)
        return {
            "levels": len(reached),
            "badges": dict(
                session.execute(
                    select(Badge.rule, func.count()).join(BadgeAward).group_by(Badge.rule)
                ).all()
            ),
            "badge dates": session.scalar(select(func.count(BadgeAward.awarded_at.distinct()))),
            "feed": dict(
                session.execute(select(FeedEvent.kind, func.count()).group_by(FeedEvent.kind)).all()
            ),
            "hidden": session.scalar(
                select(func.count())
                .select_from(PeriodTotal)
                .join(User, User.id == PeriodTotal.advocate_id)
                .where(User.hide_from_leaderboard, PeriodTotal.listed.is_(False))
            ),
            "hidden and listed": session.scalar(
                select(func.count())
                .select_from(PeriodTotal)
                .join(User, User.id == PeriodTotal.advocate_id)
                .where(User.hide_from_leaderboard, PeriodTotal.listed)
            ),
            "boards": {
                kind: (listed_count(session, key), standing(session, advocate1, key))
                for kind, key in periods.items()
            },
        }


def test_bench_data_plays_the_game_by_the_ledger(game_app):
    bench_app = game_app
    loaded = run(bench_app, "bench-data", "--advocates", "300", "--entries", "15000")
    assert loaded.exit_code == 0, loaded.output
    assert "game: levels reached" in loaded.output
    assert "period_totals" in loaded.output

    game = game_checks(bench_app)
    assert game["levels"] > 100
    assert {"first_completion", "completions", "types_tried", "manual"} <= game["badges"].keys()
    assert game["badge dates"] > 100  # dated when earned, not all at the moment of loading
    assert game["feed"].keys() == {"completion", "level", "badge"}
    assert game["hidden"] > 0
    assert game["hidden and listed"] == 0
    for kind, (listed, advocate1) in game["boards"].items():
        assert listed > 10, kind  # this month's, this quarter's and the all-time board
        assert advocate1.rank is not None and advocate1.rank > 1, kind  # scored, not first

    recomputed = run(bench_app, "badges", "recompute")
    assert recomputed.exit_code == 0, recomputed.output
    assert "nothing to add" in recomputed.output

    appended = run(bench_app, "bench-data", "--advocates", "40", "--entries", "2000", "--append")
    assert appended.exit_code == 0, appended.output
    again = game_checks(bench_app)
    assert again["levels"] > game["levels"]
    assert sum(again["feed"].values()) > sum(game["feed"].values())
    reconciled = run(bench_app, "points", "reconcile")
    assert reconciled.exit_code == 0, reconciled.output
