"""bench-data: a realistic program at scale, in its own SQLite database (the shared test
database stays as the other tests expect it)."""

import pytest
from alembic import command
from sqlalchemy import func, select

from benchmarks.bench_data import PASSWORD
from challenges.models import ACTIVE, Challenge, Submission
from points.models import LedgerEntry, Redemption, RedemptionStatus, Reward
from portal.accounts.models import User
from portal.cli import alembic_config
from tests.conftest import make_test_app
from tests.factories import login


@pytest.fixture
def bench_app(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    command.upgrade(alembic_config(url), "head")
    app = make_test_app(url)
    yield app
    app.extensions["vouch.engine"].dispose()


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
    assert scalar(bench_app, select(func.count()).select_from(User)) == 8 + 300 + 40


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
