"""Redemption throughput on PostgreSQL: `make bench`.

Creates a throwaway database on a PostgreSQL server, migrates it with Alembic, loads
100k opted-in advocates (each with a balance and the ledger entry behind it), then lets
8 client threads redeem a small, unlimited gift card for random advocates for a fixed
time. Each redemption is the real `points.redemptions.redeem` transaction: the account
row lock for the gift policy, the redemption row, the hold on the points (a conditional
update and a ledger entry), the events, automatic approval and the outbox email, then
COMMIT. Services are called directly: this measures the transaction, not Flask.

It prints committed redemptions per second, latency percentiles, refusals and errors,
then reconciles every balance against the ledger. The database is dropped at the end,
also when the run fails.

Environment (all optional):
  BENCH_DATABASE_URL  a server, or a database on it used to create and drop the bench
                      database (default postgresql+psycopg://postgres@127.0.0.1:5432,
                      through its `test` database)
  BENCH_CLIENTS       concurrent client threads (default 8)
  BENCH_SECONDS       measured seconds (default 20)
  BENCH_WARMUP        warm-up seconds before measuring (default 3)
  BENCH_ADVOCATES     advocates loaded (default 100000)
  BENCH_ACCOUNTS      accounts they are spread over (default 100; every redemption
                      locks its account's row, so fewer accounts means more waiting)
  BENCH_KEEP=1        keep the database afterwards (its name is printed)
"""

from __future__ import annotations

import os
import random
import secrets
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from alembic import command
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from points.models import EntrySource, LedgerEntry, PointsBalance, Redemption, RewardKind
from points.redemptions import redeem
from points.rewards import RewardFields, reward_settings, save_reward
from points.services import reconcile
from portal.accounts.models import ConsentRecord, GiftPolicy, Role, User
from portal.accounts.services import AccountFields, create_account, create_user
from portal.config import TERMS_VERSION, Settings
from portal.db import make_engine, utcnow
from portal.errors import DomainError
from portal.migrate import alembic_config

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
SETTINGS = Settings(secret_key=secrets.token_hex(16), public_url="http://vouch.bench")
STARTING_POINTS = 100_000
REWARD_COST = 100  # below the default auto-approve threshold (500): approved at once
CHUNK = 10_000


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


# --- the database -------------------------------------------------------------------------


def server_urls() -> tuple[URL, URL]:
    """(the database used to create and drop, the bench database to create)."""
    base = make_url(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_SERVER)
    if not base.drivername.startswith("postgresql"):
        sys.exit("BENCH_DATABASE_URL must point at a PostgreSQL server.")
    admin = base.set(database=base.database or "test")
    return admin, base.set(database=f"vouch_bench_{os.getpid()}")


def create_database(admin_url: URL, name: str, template: str | None = None) -> None:
    """A new empty database, or a copy of `template`."""
    copy_of = f' TEMPLATE "{template}"' if template else ""
    engine = make_engine(admin_url.render_as_string(hide_password=False))
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"{copy_of}'))
    finally:
        engine.dispose()


def drop_database(admin_url: URL, name: str) -> None:
    engine = make_engine(admin_url.render_as_string(hide_password=False))
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


# --- loading ------------------------------------------------------------------------------


def load(engine: Engine, advocates: int, accounts: int) -> int:
    """Accounts, an admin, opted-in advocates with points, and the reward. Returns its id."""
    with Session(engine) as session:
        admin = create_user(session, "bench-admin@vouch.bench", Role.ADMIN, name="Bench admin")
        created = [
            create_account(session, admin, AccountFields(name=f"Bench account {n}"))
            for n in range(1, accounts + 1)
        ]
        assert all(account.gift_policy == GiftPolicy.ALLOWED for account in created)
        account_ids = [account.id for account in created]
        reward = save_reward(
            session,
            admin,
            RewardFields(
                name="Coffee gift card",
                kind=RewardKind.GIFT_CARD,
                cost=REWARD_COST,
                money_value=500,
                stock=None,  # unlimited
            ),
        )
        assert reward_settings(session).auto_approve_below > REWARD_COST
        session.commit()
        reward_id = reward.id

    now = utcnow()
    with engine.begin() as connection:
        for start in range(0, advocates, CHUNK):
            numbers = range(start + 1, min(start + CHUNK, advocates) + 1)
            connection.execute(
                insert(User),
                [
                    {
                        "email": f"advocate{n}@bench.example",
                        "name": f"Advocate {n}",
                        "password_hash": None,
                        "role": Role.ADVOCATE,
                        "account_id": account_ids[n % accounts],
                        "title": "",
                        "active": True,
                        "session_token": secrets.token_urlsafe(32),
                        "declines_gifts": False,
                        "hide_from_leaderboard": False,
                        "email_digests": True,
                        "in_program": True,  # beside the consent record added below
                        "created_at": now,
                    }
                    for n in numbers
                ],
            )
        ids = list(
            connection.scalars(select(User.id).where(User.role == Role.ADVOCATE).order_by(User.id))
        )
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            connection.execute(
                insert(ConsentRecord),
                [{"user_id": i, "terms_version": TERMS_VERSION, "opted_in_at": now} for i in chunk],
            )
            connection.execute(
                insert(LedgerEntry),
                [
                    {
                        "advocate_id": i,
                        "amount": STARTING_POINTS,
                        "hold_change": 0,
                        "source": EntrySource.SUBMISSION,
                        "source_id": None,
                        "idempotency_key": f"bench:grant:{i}",
                        "note": "Benchmark starting balance",
                        "actor_id": None,
                        "created_at": now,
                    }
                    for i in chunk
                ],
            )
            connection.execute(
                insert(PointsBalance),
                [
                    {
                        "advocate_id": i,
                        "balance": STARTING_POINTS,
                        "held": 0,
                        "lifetime_earned": STARTING_POINTS,
                        "updated_at": now,
                    }
                    for i in chunk
                ],
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))  # fresh statistics, as a live database has
    return reward_id


# --- the clients --------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, committed in the window
    refusals: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    touched: set[int] = field(default_factory=set)
    committed_total: int = 0  # warm-up included, to check against the table


def client(
    number: int,
    sessions: sessionmaker,
    advocate_ids: list[int],
    reward_id: int,
    window: tuple[float, float],
    start: threading.Barrier,
    tally: Tally,
) -> None:
    rng = random.Random(number)
    measure_from, measure_until = window[0], window[1]
    sequence = 0
    start.wait()
    while True:
        began = time.perf_counter()
        if began >= measure_until:
            return
        advocate_id = rng.choice(advocate_ids)
        sequence += 1
        outcome = "ok"
        with sessions() as session:
            try:
                # what a request does: load the logged-in advocate, redeem, commit
                advocate = session.get(User, advocate_id)
                redeem(session, SETTINGS, advocate, reward_id, f"bench-{number}-{sequence}")
                session.commit()
            except DomainError as error:
                session.rollback()
                outcome = f"refused: {type(error).__name__}: {error.message}"
            except Exception as error:  # noqa: BLE001 - counted and reported, the run goes on
                session.rollback()
                outcome = f"error: {type(error).__name__}: {str(error).splitlines()[0][:160]}"
        ended = time.perf_counter()
        if outcome == "ok":
            tally.committed_total += 1
            tally.touched.add(advocate_id)
        if began < measure_from or ended > measure_until:
            continue  # warm-up, or finished after the window closed
        if outcome == "ok":
            tally.latencies.append(ended - began)
        elif outcome.startswith("refused"):
            tally.refusals[outcome] += 1
        else:
            tally.errors[outcome] += 1


def run_clients(
    engine: Engine, reward_id: int, clients: int, warmup: float, seconds: float
) -> list[Tally]:
    sessions = sessionmaker(engine, expire_on_commit=False)  # as the app's
    with engine.connect() as connection:
        advocate_ids = list(
            connection.scalars(select(User.id).where(User.role == Role.ADVOCATE).order_by(User.id))
        )
    tallies = [Tally() for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    origin = time.perf_counter() + 0.2  # all threads are waiting at the barrier by then
    window = (origin + warmup, origin + warmup + seconds)
    threads = [
        threading.Thread(
            target=client,
            args=(n, sessions, advocate_ids, reward_id, window, start, tallies[n]),
            name=f"bench-client-{n}",
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, origin - time.perf_counter()))
    start.wait()
    for thread in threads:
        thread.join()
    return tallies


# --- the report ---------------------------------------------------------------------------


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def report(
    engine: Engine, tallies: list[Tally], clients: int, seconds: float, advocates: int
) -> bool:
    latencies = sorted(ms * 1000 for tally in tallies for ms in tally.latencies)
    refusals = sum((tally.refusals for tally in tallies), Counter())
    errors = sum((tally.errors for tally in tallies), Counter())
    committed = len(latencies)
    print()
    print(f"clients               {clients}")
    print(f"advocates             {advocates:,}")
    print(f"seconds               {seconds:g}")
    print(f"committed redemptions {committed:,}")
    print(f"tx/s                  {committed / seconds:,.1f}")
    print(
        f"latency ms            p50 {percentile(latencies, 0.50):.1f}  "
        f"p95 {percentile(latencies, 0.95):.1f}  p99 {percentile(latencies, 0.99):.1f}  "
        f"max {latencies[-1] if latencies else float('nan'):.1f}"
    )
    print(f"refusals              {sum(refusals.values())}")
    for what, count in refusals.most_common(5):
        print(f"  {count:>6}  {what}")
    print(f"errors                {sum(errors.values())}")
    for what, count in errors.most_common(5):
        print(f"  {count:>6}  {what}")

    touched = set().union(*(tally.touched for tally in tallies))
    expected = sum(tally.committed_total for tally in tallies)
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(Redemption))
        approved = session.scalar(
            select(func.count()).select_from(Redemption).where(Redemption.status == "approved")
        )
        started = time.perf_counter()
        discrepancies = reconcile(session)
        took = time.perf_counter() - started
    print(
        f"redemptions stored    {stored:,} (committed by the clients, warm-up included: "
        f"{expected:,}; approved: {approved:,}) over {len(touched):,} advocates"
    )
    clean = not discrepancies and stored == expected == approved
    print(
        f"reconcile             {'clean' if not discrepancies else 'NOT CLEAN'}: "
        f"{len(discrepancies)} discrepancies over every balance ({took:.1f}s)"
    )
    for found in discrepancies[:10]:
        print(f"  {found}")
    # every client redeems an unlimited reward from a balance that covers it: a refusal, or
    # nothing committed at all, means the transaction under test is not the one measured
    return clean and not errors and not refusals and committed > 0


def main() -> int:
    clients = env_int("BENCH_CLIENTS", 8)
    seconds = float(os.environ.get("BENCH_SECONDS") or 20)
    warmup = float(os.environ.get("BENCH_WARMUP") or 3)
    advocates = env_int("BENCH_ADVOCATES", 100_000)
    accounts = env_int("BENCH_ACCOUNTS", 100)
    if min(clients, advocates, accounts) < 1 or seconds <= 0 or warmup < 0:
        sys.exit("BENCH_CLIENTS, BENCH_ADVOCATES, BENCH_ACCOUNTS and BENCH_SECONDS must be > 0.")
    admin_url, bench_url = server_urls()
    name = bench_url.database
    print(f"bench: database {name} on {bench_url.host}:{bench_url.port or 5432}")
    started = time.perf_counter()
    create_database(admin_url, name)
    engine = None
    try:
        url = bench_url.render_as_string(hide_password=False)
        command.upgrade(alembic_config(url), "head")
        print(f"bench: migrated in {time.perf_counter() - started:.1f}s")
        engine = make_engine(url)  # the app's engine and pool
        started = time.perf_counter()
        reward_id = load(engine, advocates, accounts)
        print(
            f"bench: loaded {advocates:,} advocates over {accounts} account(s) "
            f"in {time.perf_counter() - started:.1f}s"
        )
        print(f"bench: {clients} clients, {warmup:g}s warm-up, then {seconds:g}s measured ...")
        tallies = run_clients(engine, reward_id, clients, warmup, seconds)
        ok = report(engine, tallies, clients, seconds, advocates)
    finally:
        if engine is not None:
            engine.dispose()
        if os.environ.get("BENCH_KEEP") == "1":
            print(f"bench: kept database {name}")
        else:
            drop_database(admin_url, name)
            print(f"bench: dropped database {name}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
