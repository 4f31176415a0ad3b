"""A mixed workload of real user flows, on one server and on two: `python -m benchmarks.load`
(the last part of `make bench`).

One database is filled with `flask --app wsgi bench-data` (2k advocates, 100k ledger
entries) and, through the services, given the workload's own program: a challenge a manager
reviews, one approved at once, and three rewards with limited stock (one above the approval
threshold, so an admin approves it). Each shape then runs on its own copy of that database
(CREATE DATABASE ... TEMPLATE), so both start from the same state:

  one server   gunicorn with 4 workers
  two servers  two gunicorns with 2 workers each (the same 4 in all) on two ports, the
               same PostgreSQL and SECRET_KEY, rate limits in Redis (db 13, with a prefix);
               every client sends each request to the other server than the last one

50 clients, each a logged-in session (benchmarks/load_flows.py: 40 advocates, 6 managers,
4 admins), get pages and post the real forms with their CSRF tokens for a warm-up, then
60 s measured, with no pause between steps: advocates browse the hub (home, challenges,
leaderboard, rewards), complete challenges and redeem rewards; managers approve
submissions from the review queue; admins approve and fulfil redemptions. Rate limits
are on (production config), set above what the workload sends, and any 429 is counted.

After each run the servers are stopped, `flask --app wsgi points reconcile` is run against
the database and its differences counted, and the invariants are checked in SQL: no
negative balance, holds equal to the open redemptions' costs, stock never negative and
every unit accounted for, one award per approved submission. The two-server run also
probes the shared rate limit: the password-reset POST, sent alternately to both servers,
is refused at its limit in total, not at the limit per server.

It prints a table per shape (answers per action, p50/p99) and the two side by side. The
exit status is 1 on any 5xx, error, lost login, reconcile difference or broken invariant,
or when the limit is not shared; the databases are dropped and Redis db 13 emptied at the
end, also on failure.

Environment (all optional; BENCH_DATABASE_URL and BENCH_KEEP as in benchmarks/pages.py):
  BENCH_QUICK=1         a smoke run: 1k advocates, 3 s warm-up and 6 s measured per shape
  BENCH_LOAD_SECONDS    measured seconds per shape (default 60)
  BENCH_LOAD_CLIENTS    clients (default 50: 80% advocates, 12% managers, 8% admins)
  BENCH_LOAD_REDIS      the Redis database for rate limits (default redis://127.0.0.1:6379/13)
  BENCH_LOAD_PORT       the first of three ports (default 5160)
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from benchmarks import load_flows as flows
from benchmarks.pages import (
    BIN,
    SERVER_ENV,
    Size,
    admin_url,
    fill,
    serving,
    tail,
    throwaway_database,
)
from benchmarks.program import DOMAIN, STAFF
from benchmarks.redemptions import percentile
from challenges.authoring import ChallengeFields, create_challenge, publish_challenge
from challenges.models import Approval, LimitKind
from points.models import RewardKind
from points.rewards import RewardFields, reward_settings, save_reward
from portal.accounts.models import User
from portal.config import PROJECT_ROOT
from portal.db import make_engine

FULL_SIZE = Size("2k", 2_000, 100_000)
QUICK_SIZE = Size("1k", 1_000, 30_000)
WARMUP_S, QUICK_WARMUP_S = 5.0, 3.0
LOGINS_AT_ONCE = 4  # argon2 is slow by design: 50 at once would queue past any timeout
ROLE_SHARES = (("advocate", 0.80), ("manager", 0.12), ("admin", 0.08))
REDIS_URL = "redis://127.0.0.1:6379/13"
KEY_PREFIX = "vouch-bench-load"
# Rate limits stay on, as in production, but above what clients with no pause between
# steps send (50 logins from one address; an advocate submitting every few seconds): the
# run measures the flows, and a 429 is still counted. The probe checks the reset form's
# per-email limit, set here to a size that tells "shared" from "per server".
PROBE_PATH, PROBE_LIMIT = "/forgot", 10
WORKLOAD_LIMITS = {
    "LOGIN_LIMIT_PER_IP": "1000 per minute",
    "LOGIN_LIMIT_PER_ACCOUNT": "1000 per minute",
    "SUBMISSION_LIMIT_PER_USER": "1000 per minute",
    "REDEMPTION_LIMIT_PER_USER": "1000 per minute",
    "RESET_REQUEST_LIMIT_PER_IP": "1000 per hour",
    "RESET_REQUEST_LIMIT_PER_EMAIL": f"{PROBE_LIMIT} per hour",
}


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


# --- the program the workload plays -------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    program: flows.Program
    stock: dict[int, int]  # reward id: units at the start
    people: dict[str, list[str]]  # role: the emails of those who take part


def seed(url: str, advocates: int) -> Seeded:
    """The workload's challenges and rewards, made by the bench manager and admin through
    the services, and the advocates who play: members with the most points to spend."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            manager = session.scalar(select(User).where(User.email == f"bench-manager@{DOMAIN}"))
            admin = session.scalar(select(User).where(User.email == f"bench-admin@{DOMAIN}"))
            manual = create_challenge(
                session,
                manager,
                ChallengeFields(
                    type="social_share",
                    title="Share our launch post (load benchmark)",
                    points=40,
                    limit_kind=LimitKind.TIMES,
                    limit_count=100_000,
                    approval=Approval.MANUAL,
                    config={"share_url": "https://vouch.example/launch"},
                ),
            )
            auto = create_challenge(
                session,
                manager,
                ChallengeFields(
                    type="survey",
                    title="What made you choose us? (load benchmark)",
                    points=10,
                    limit_kind=LimitKind.TIMES,
                    limit_count=100_000,
                    config={"question": "What made you choose us?"},
                ),
            )
            for challenge in (manual, auto):
                publish_challenge(session, manager, challenge.id)
            above = reward_settings(session).auto_approve_below
            rewards = [
                save_reward(session, admin, fields)
                for fields in (
                    RewardFields("Coffee gift card (load)", RewardKind.GIFT_CARD, 100,
                                 money_value=500, stock=300),
                    RewardFields("Conference pass (load)", RewardKind.EXPERIENCE, above,
                                 money_value=50_000, stock=60),
                    RewardFields("Team hoodie (load)", RewardKind.SWAG, 250,
                                 money_value=4_000, stock=150),
                )
            ]  # fmt: skip
            session.commit()
            program = flows.Program(manual.id, auto.id, tuple(r.id for r in rewards))
            stock = {reward.id: reward.stock for reward in rewards}
            players = session.execute(
                text("""
                    SELECT u.email FROM users u
                    JOIN accounts a ON a.id = u.account_id
                    JOIN points_balances b ON b.advocate_id = u.id
                    WHERE u.role = 'advocate' AND u.in_program AND u.active
                      AND u.password_hash IS NOT NULL AND NOT u.declines_gifts
                      AND a.gift_policy IN ('allowed', 'needs_approval')
                    ORDER BY b.balance - b.held DESC, u.id LIMIT :n
                """),
                {"n": advocates},
            )
            people = {"advocate": list(players.scalars())}
    finally:
        engine.dispose()
    for role in ("manager", "admin"):
        people[role] = [email for email, staff_role, _name in STAFF if staff_role == role]
    return Seeded(program, stock, people)


# --- servers ------------------------------------------------------------------------------


def server_env(url: str, public_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        **SERVER_ENV,  # the fixed SECRET_KEY: a session signed by one server is good on all
        **WORKLOAD_LIMITS,
        "DATABASE_URL": url,
        "PUBLIC_URL": public_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": KEY_PREFIX,
    }


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@contextmanager
def gunicorn(
    url: str, port: int, workers: int, redis_url: str, log: Path, public_url: str
) -> Iterator[str]:
    """gunicorn on this port until the block ends; every server of a shape is given the
    same PUBLIC_URL (the load balancer's, here the first server's). Yields its address."""
    if not port_is_free(port):
        raise RuntimeError(f"port {port} is in use")
    env = server_env(url, public_url, redis_url)
    with serving(url, log, port=port, workers=workers, env=env) as base_url:
        yield base_url


def redis_keys(redis_url: str) -> int:
    """How many of the benchmark's keys (under its prefix) its Redis database holds."""
    client = redis.Redis.from_url(redis_url)
    try:
        return sum(1 for _ in client.scan_iter(f"{KEY_PREFIX}*"))
    finally:
        client.close()


def flush_redis(redis_url: str) -> None:
    """Empty the benchmark's own Redis database (only that one)."""
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


# --- a run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    label: str
    workers: tuple[int, ...]  # per server


ONE_SERVER = Shape("one server, 4 workers", (4,))
TWO_SERVERS = Shape("two servers, 2 workers each", (2, 2))


def staff_counts(clients: int) -> dict[str, int]:
    return {role: max(1, round(clients * share)) for role, share in ROLE_SHARES[1:]}


def cast(clients: int, people: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(role, email) for each client: an advocate each, staff sharing their few logins."""
    staff = [
        (role, people[role][n % len(people[role])])
        for role, count in staff_counts(clients).items()
        for n in range(count)
    ]
    advocates = people["advocate"][: clients - len(staff)]
    return [("advocate", email) for email in advocates] + staff


def run_clients(
    servers: list[str], seeded: Seeded, clients: int, warmup: float, seconds: float
) -> tuple[list[flows.Tally], list[str]]:
    """Log everyone in (a few at a time, not measured), then play together. Returns the
    tallies and the logins that failed."""
    clock = flows.Clock(warmup, seconds)
    people = []
    for number, (role, email) in enumerate(cast(clients, seeded.people)):
        kind = {"advocate": flows.Advocate, "manager": flows.Manager, "admin": flows.Admin}[role]
        extra = {} if role == "admin" else {"program": seeded.program}
        # each client starts on another server than the last, so all are busy at once
        order = servers[number % len(servers) :] + servers[: number % len(servers)]
        people.append(kind(number, email, order, flows.Tally(clock), **extra))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=LOGINS_AT_ONCE) as pool:
        failed = list(pool.map(flows.log_in, people))
    print(f"bench: {len(people)} logins in {time.perf_counter() - started:.1f}s; playing ...",
          flush=True)  # fmt: skip
    cpu = time.process_time()
    players = [person for person, failure in zip(people, failed, strict=True) if not failure]
    start_line = threading.Barrier(len(players), action=clock.start)
    threads = [
        threading.Thread(target=flows.play, args=(person, start_line), name=f"load-{n}")
        for n, person in enumerate(players)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = time.process_time() - cpu
    print(f"bench: the clients used {cpu:.1f}s of CPU (this process) in "
          f"{time.perf_counter() - clock.window[0] + warmup:.1f}s", flush=True)  # fmt: skip
    return [person.tally for person in players], [failure for failure in failed if failure]


# --- after a run: reconcile and the invariants --------------------------------------------


RECONCILE_SUMMARY = re.compile(r"(\d+) balance, (\d+) period total and (\d+) counter")


@dataclass(frozen=True)
class Reconciled:
    differences: int
    said: str  # its last line


def points_reconcile(url: str) -> Reconciled:
    """`flask --app wsgi points reconcile` against the database; its differences counted."""
    done = subprocess.run(  # noqa: S603
        [str(BIN / "flask"), "--app", "wsgi", "points", "reconcile"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    summary = next((m for line in lines if (m := RECONCILE_SUMMARY.search(line))), None)
    if done.returncode == 0:
        return Reconciled(0, lines[-1] if lines else "")
    if summary is None:
        return Reconciled(-1, "\n".join(lines[-5:]) or f"exit {done.returncode}")
    return Reconciled(sum(int(n) for n in summary.groups()), "\n".join(lines[-12:]))


INVARIANTS = {  # what must hold: a query counting the rows that break it
    "no negative balance (nor held above it)": """
        SELECT count(*) FROM points_balances WHERE balance < 0 OR held < 0 OR held > balance
    """,
    "holds equal the open redemptions' costs": """
        SELECT count(*) FROM points_balances b
        FULL JOIN (SELECT advocate_id, sum(cost) AS open_cost FROM redemptions
                   WHERE status IN ('requested', 'approved') GROUP BY advocate_id) r
          ON r.advocate_id = b.advocate_id
        WHERE coalesce(b.held, 0) <> coalesce(r.open_cost, 0)
    """,
    "stock never negative": "SELECT count(*) FROM rewards WHERE stock < 0",
    "one award per approved submission": """
        SELECT count(*) FROM submissions s
        LEFT JOIN (SELECT source_id, count(*) AS awards FROM ledger_entries
                   WHERE source = 'submission' GROUP BY source_id) e ON e.source_id = s.id
        WHERE coalesce(e.awards, 0)
              <> CASE WHEN s.status = 'approved' AND s.points_awarded > 0 THEN 1 ELSE 0 END
    """,
    "a challenge's places equal its live submissions": """
        SELECT count(*) FROM challenges c
        LEFT JOIN (SELECT challenge_id, count(*) AS live FROM submissions
                   WHERE status IN ('pending', 'approved') GROUP BY challenge_id) s
          ON s.challenge_id = c.id
        WHERE c.taken <> coalesce(s.live, 0)
    """,
}


@dataclass
class Checked:
    broken: dict[str, int]  # invariant: rows that break it
    stock: list[str]  # each load reward's units: sold + left = at the start
    did: dict[str, int]  # what the workload's own program holds afterwards


def check_invariants(url: str, seeded: Seeded) -> Checked:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            broken = {name: connection.scalar(text(sql)) for name, sql in INVARIANTS.items()}
            stock, unaccounted = [], 0
            for reward_id, at_start in seeded.stock.items():
                left, live = connection.execute(
                    text("""
                        SELECT r.stock, (SELECT count(*) FROM redemptions d WHERE d.reward_id = r.id
                                         AND d.status NOT IN ('rejected', 'cancelled'))
                        FROM rewards r WHERE r.id = :id
                    """),
                    {"id": reward_id},
                ).one()
                unaccounted += left + live != at_start
                stock.append(f"reward {reward_id}: {live} redeemed + {left} left, of {at_start}")
            broken["every unit of stock accounted for"] = unaccounted
            program = seeded.program
            did = dict(
                connection.execute(
                    text("""
                        SELECT 'submissions ' || status, count(*) FROM submissions
                        WHERE challenge_id IN (:manual, :auto) GROUP BY status
                        UNION ALL
                        SELECT 'redemptions ' || status, count(*) FROM redemptions
                        WHERE reward_id IN :rewards GROUP BY status
                    """).bindparams(bindparam("rewards", expanding=True)),
                    {"manual": program.manual_challenge_id, "auto": program.auto_challenge_id,
                     "rewards": list(program.reward_ids)},
                ).all()
            )  # fmt: skip
    finally:
        engine.dispose()
    return Checked(broken, stock, did)


# --- two servers: one limit ---------------------------------------------------------------


@dataclass
class Probe:
    limit: int
    sent: int
    accepted_by_server: tuple[int, ...]
    first_refusal: int  # the number of the first 429 (0: none)
    retry_after: str
    other: Counter
    keys_in_redis: int = 0  # the limits' counters, under the benchmark's prefix

    @property
    def shared(self) -> bool:
        return self.first_refusal == self.limit + 1 and not self.other

    def describe(self) -> str:
        accepted = " + ".join(str(n) for n in self.accepted_by_server)
        if not self.first_refusal:
            return f"NOT SHARED: {self.sent} POSTs, none refused ({accepted} accepted)"
        verdict = "shared" if self.shared else "NOT SHARED"
        return (
            f"{verdict}: limit {self.limit}; accepted {accepted} = "
            f"{sum(self.accepted_by_server)}, then POST {self.first_refusal} answered 429 "
            f"(Retry-After {self.retry_after or 'missing'}); one limit per server would have "
            f"accepted {self.limit * len(self.accepted_by_server)}; "
            f"{self.keys_in_redis} counters under the prefix {KEY_PREFIX!r} in Redis"
            + (f"; other answers: {dict(self.other)}" if self.other else "")
        )


def probe_shared_limit(servers: list[str], limit: int) -> Probe:
    """POST the password-reset form alternately to each server until it is refused."""
    person = flows.Client(0, "", servers, flows.Tally(flows.Clock(0, 0)))
    form = flows.page_form(person.send("GET", PROBE_PATH).body)
    if form is None:
        raise RuntimeError(f"{PROBE_PATH} has no form")
    accepted = [0] * len(servers)
    other: Counter = Counter()
    person.sent = 0
    for number in range(1, limit * len(servers) + 2):
        answer = person.send("POST", PROBE_PATH, form, email="nobody@load.bench.example")
        if answer.status == 429:
            return Probe(limit, number, tuple(accepted), number, answer.retry_after, other)
        if answer.status == 302:
            accepted[answer.server] += 1
        else:
            other[answer.status] += 1
    return Probe(limit, limit * len(servers) + 1, tuple(accepted), 0, "", other)


# --- a shape, run and checked -------------------------------------------------------------


@dataclass
class ShapeResult:
    shape: Shape
    seconds: float
    tallies: list[flows.Tally]
    reconciled: Reconciled
    checked: Checked
    probe: Probe | None
    load: tuple[float, float, float]
    login_failures: list[str]
    latencies: dict[str, list[float]] = field(default_factory=dict)  # label: sorted ms
    outcomes: dict[str, Counter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for tally in self.tallies:
            for label, seconds in tally.latencies.items():
                self.latencies.setdefault(label, []).extend(s * 1000 for s in seconds)
            for label, counted in tally.outcomes.items():
                self.outcomes.setdefault(label, Counter()).update(counted)
        for measured in self.latencies.values():
            measured.sort()

    @property
    def all_latencies(self) -> list[float]:
        return sorted(ms for measured in self.latencies.values() for ms in measured)

    def total(self, outcome: str | None = None) -> int:
        return sum(
            sum(counted.values()) if outcome is None else counted[outcome]
            for counted in self.outcomes.values()
        )

    def reasons(self, outcome: str) -> Counter:
        return sum((tally.reasons[outcome] for tally in self.tallies), Counter())

    @property
    def lost_logins(self) -> int:
        return sum(tally.lost_logins for tally in self.tallies)

    @property
    def broken(self) -> list[str]:
        return [name for name, rows in self.checked.broken.items() if rows]

    def problems(self) -> list[str]:
        found = []
        if self.total(flows.SERVER_ERROR):
            found.append(f"{self.total(flows.SERVER_ERROR)} answers 5xx")
        if self.total(flows.ERROR):
            found.append(f"{self.total(flows.ERROR)} errors")
        if self.lost_logins or self.login_failures:
            found.append(f"{self.lost_logins} lost logins, {len(self.login_failures)} failed")
        if self.reconciled.differences:
            found.append(f"reconcile: {self.reconciled.differences} differences")
        found += [f"invariant broken: {name}" for name in self.broken]
        if self.probe is not None and not self.probe.shared:
            found.append("the rate limit is not shared")
        if not self.total(flows.OK):
            found.append("nothing answered")
        return found


def run_shape(
    server: URL,
    template: str,
    name: str,
    shape: Shape,
    seeded: Seeded,
    settings: RunSettings,
) -> ShapeResult:
    print(f"\n== {shape.label}: database {name}, {settings.clients} clients, "
          f"{settings.warmup:g}s warm-up, {settings.seconds:g}s measured", flush=True)  # fmt: skip
    # one server on the first port, two on the next two (a server just stopped frees its port
    # slowly on a busy machine)
    after = 0 if len(shape.workers) == 1 else 1
    ports = [settings.first_port + after + n for n in range(len(shape.workers))]
    with ExitStack() as stack:
        url = stack.enter_context(throwaway_database(server, name, template))
        flush_redis(settings.redis_url)
        stack.callback(flush_redis, settings.redis_url)
        with ExitStack() as running:
            servers = [
                running.enter_context(
                    gunicorn(url, port, workers, settings.redis_url,
                             settings.logs / f"{name}-{port}.log", f"http://127.0.0.1:{ports[0]}")
                )
                for port, workers in zip(ports, shape.workers, strict=True)
            ]  # fmt: skip
            print(f"bench: serving at {', '.join(servers)}; logging in ...", flush=True)
            tallies, failed = run_clients(servers, seeded, settings.clients, settings.warmup,
                                          settings.seconds)  # fmt: skip
            load = os.getloadavg()
            probe = None
            if len(servers) > 1:
                print("bench: probing the shared rate limit on the reset form ...", flush=True)
                probe = probe_shared_limit(servers, PROBE_LIMIT)
                probe.keys_in_redis = redis_keys(settings.redis_url)
        print("bench: servers stopped; flask points reconcile ...", flush=True)
        started = time.perf_counter()
        reconciled = points_reconcile(url)
        checked = check_invariants(url, seeded)
        print(f"bench: reconciled and checked in {time.perf_counter() - started:.1f}s", flush=True)
    result = ShapeResult(shape, settings.seconds, tallies, reconciled, checked, probe, load, failed)
    if result.total(flows.SERVER_ERROR):
        for port in ports:
            print(f"bench: the end of gunicorn {port}'s log:\n"
                  f"{tail(settings.logs / f'{name}-{port}.log')}", file=sys.stderr)  # fmt: skip
    return result


@dataclass(frozen=True)
class RunSettings:
    clients: int
    warmup: float
    seconds: float
    redis_url: str
    first_port: int
    logs: Path


# --- the report ---------------------------------------------------------------------------


OUTCOMES = (flows.OK, flows.REFUSED, flows.LIMITED, flows.SERVER_ERROR, flows.ERROR)


def row(label: str, measured: list[float], counted: Counter, seconds: float) -> str:
    requests = sum(counted.values())
    return (
        f"{label:<42} {requests:>8,} {requests / seconds:>7.1f} "
        f"{percentile(measured, 0.50):>7.1f} {percentile(measured, 0.99):>7.1f} "
        + " ".join(f"{counted[o]:>7,}" for o in OUTCOMES)
    )


def print_shape(result: ShapeResult) -> None:
    print(f"\n{result.shape.label}: {result.seconds:g}s measured; load average after "
          f"{result.load[0]:.1f}, {result.load[1]:.1f}, {result.load[2]:.1f} on "
          f"{os.cpu_count()} cores")  # fmt: skip
    print(f"{'action':<42} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          + " ".join(f"{o:>7}" for o in OUTCOMES))  # fmt: skip
    for label in sorted(result.outcomes):
        print(row(label, result.latencies.get(label, []), result.outcomes[label], result.seconds))
    every = sum(result.outcomes.values(), Counter())
    print(row("all requests", result.all_latencies, every, result.seconds))
    servers = len(result.shape.workers)
    if servers > 1:
        by_server = sum((tally.by_server for tally in result.tallies), Counter())
        for number in range(servers):
            answered = {o: by_server[(number, o)] for o in OUTCOMES if by_server[(number, o)]}
            print(f"  server {number + 1}: {sum(answered.values()):,} answers {answered}")
    print(f"logins lost mid-run (sent to /login): {result.lost_logins}; "
          f"failed at the start: {len(result.login_failures)}")  # fmt: skip
    for failure in result.login_failures[:5]:
        print(f"  {failure}")
    for outcome, heading in ((flows.REFUSED, "refused, as designed"),
                             (flows.SERVER_ERROR, "5xx"), (flows.ERROR, "errors")):  # fmt: skip
        reasons = result.reasons(outcome)
        if reasons:
            print(f"{heading}, the most frequent:")
            for what, count in reasons.most_common(8):
                print(f"  {count:>6}  {what}")
    left = ", ".join(f"{what} {count:,}" for what, count in sorted(result.checked.did.items()))
    print(f"what the run left: {left}")
    reconciled = result.reconciled
    verdict = "clean" if not reconciled.differences else f"{reconciled.differences} DIFFERENCES"
    print(f"points reconcile: {verdict}: {reconciled.said}")
    for name, rows in result.checked.broken.items():
        print(
            f"  {'ok    ' if not rows else 'BROKEN'}  {name}" + (f" ({rows} rows)" if rows else "")
        )
    for line in result.checked.stock:
        print(f"          {line}")
    if result.probe is not None:
        print(f"rate limit across the servers ({PROBE_PATH} POST): {result.probe.describe()}")


def print_side_by_side(results: list[ShapeResult]) -> None:
    print("\nside by side")
    print(f"{'':<28}" + "".join(f"{r.shape.label:>30}" for r in results))
    lines = {
        "requests": lambda r: f"{r.total():,}",
        "req/s": lambda r: f"{r.total() / r.seconds:,.1f}",
        "p50 / p99 ms": lambda r: (
            f"{percentile(r.all_latencies, 0.5):.1f} / {percentile(r.all_latencies, 0.99):.1f}"
        ),
        "refused (as designed)": lambda r: f"{r.total(flows.REFUSED):,}",
        "429": lambda r: f"{r.total(flows.LIMITED):,}",
        "5xx (target 0)": lambda r: f"{r.total(flows.SERVER_ERROR):,}",
        "other errors": lambda r: f"{r.total(flows.ERROR):,}",
        "logins lost": lambda r: f"{r.lost_logins}",
        "reconcile differences": lambda r: f"{r.reconciled.differences}",
        "invariants broken": lambda r: f"{len(r.broken)} of {len(r.checked.broken)}",
        "rate limit shared": lambda r: (
            "-" if r.probe is None else "yes" if r.probe.shared else "NO"
        ),
    }
    for label, value in lines.items():
        print(f"{label:<28}" + "".join(f"{value(r):>30}" for r in results))


def main() -> int:
    quick = os.environ.get("BENCH_QUICK") == "1"
    size = QUICK_SIZE if quick else FULL_SIZE
    clients = int(os.environ.get("BENCH_LOAD_CLIENTS") or 50)
    server = admin_url()
    base = f"bench_load_{os.getpid()}"
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vouch-load-")))
        settings = RunSettings(
            clients=clients,
            warmup=QUICK_WARMUP_S if quick else WARMUP_S,
            seconds=env_float("BENCH_LOAD_SECONDS", 6 if quick else 60),
            redis_url=os.environ.get("BENCH_LOAD_REDIS") or REDIS_URL,
            first_port=int(os.environ.get("BENCH_LOAD_PORT") or 5160),
            logs=logs,
        )
        print(f"bench: mixed load, {size.advocates:,} advocates, {clients} clients, "
              f"{settings.seconds:g}s per shape, on {server.host}:{server.port or 5432}",
              flush=True)  # fmt: skip
        template = f"{base}_seed"
        seed_url = stack.enter_context(throwaway_database(server, template))
        took = fill(seed_url, size)
        seeded = seed(seed_url, clients - sum(staff_counts(clients).values()))
        print(f"bench: filled in {took:.1f}s; the workload's challenges "
              f"{seeded.program.manual_challenge_id}, {seeded.program.auto_challenge_id}, "
              f"rewards {seeded.program.reward_ids}; {len(seeded.people['advocate'])} advocates",
              flush=True)  # fmt: skip
        results = [
            run_shape(server, template, f"{base}_{label}", shape, seeded, settings)
            for label, shape in (("one", ONE_SERVER), ("two", TWO_SERVERS))
        ]
    for result in results:
        print_shape(result)
    print_side_by_side(results)
    problems = [f"{r.shape.label}: {p}" for r in results for p in r.problems()]
    print("\nmixed load: " + ("no problems" if not problems else "; ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
