"""The weekly digest and the event reminders at program scale: `python -m benchmarks.digests`
(also run by `make bench`, after the pages).

For each size it creates a throwaway PostgreSQL database, migrates and fills it with
`flask --app wsgi bench-data` (benchmarks/pages.py: `throwaway_database`, `fill`), then, in
a fresh child process (so its peak memory is the pass's own), times one full
`challenges.digests.send_digests` pass at this week's digest time (its `now`), exactly as
`flask --app wsgi digests send --now ...` runs it, in a busy week (two challenges open to
everyone published the day before; the bench data's newest is weeks old), and reports the
advocates scanned, the digests queued, the nothing-new skips, the seconds, digests per
second, SQL statements per advocate and the peak memory (resource.getrusage). It runs the
pass again (it must queue 0: one digest per advocate per week) and times that, then makes
a few of the published challenges with the most RSVPs into events starting tomorrow and
times `events remind` (`challenges.events.remind`) twice. Last it checks one digest: its
subject, its plain text
and HTML parts, and its unsubscribe headers.

Environment (all optional):
  BENCH_DATABASE_URL   a PostgreSQL server (as benchmarks/pages.py)
  BENCH_QUICK=1        2k advocates only
  BENCH_DIGEST_SIZES   advocates per size, e.g. "10000" or "10000,100000" (default both)
  BENCH_DIGEST_QUIET=1 no new challenges: the week the bench data has (mostly nothing new)
  BENCH_KEEP=1         keep the databases afterwards
The exit status is 1 when a pass fails, queues a second digest, or a digest is not sane;
a pass under 200 digests/s is reported, not an error.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import event, func, select, update

from benchmarks.pages import Size, admin_url, fill, throwaway_database
from portal.config import PROJECT_ROOT

SIZES = {2_000: 100_000, 10_000: 1_000_000, 100_000: 10_000_000}  # advocates: entries
TARGET_PER_S = 200.0  # digests per second at 100k, below which the pass is looked into
NEW_CHALLENGES = 2  # published "yesterday" for a busy week (BENCH_DIGEST_QUIET=1: none)
EVENTS = 3  # published challenges made into tomorrow's events for `events remind`
URL_VARIABLE = "BENCH_DIGEST_URL"  # the child process's database


@dataclass
class Pass:
    seconds: float
    queued: int
    nothing_new: int
    already_sent: int
    statements: int


@dataclass
class Measured:
    advocates: int
    week: str
    now: str
    scanned: int  # advocates the pass read (opted in, reachable, in the program)
    news: int  # challenges made new for the pass
    first: Pass
    second: Pass
    peak_mb_before: float  # the child's peak after loading the app, before the pass
    peak_mb: float  # its peak after both passes
    remind_events: int
    remind_seconds: float
    remind_queued: int
    remind_again_seconds: float
    remind_again_queued: int
    problems: list[str] = field(default_factory=list)


def sizes() -> list[Size]:
    if os.environ.get("BENCH_DIGEST_SIZES"):
        wanted = [int(n) for n in os.environ["BENCH_DIGEST_SIZES"].split(",") if n.strip()]
    elif os.environ.get("BENCH_QUICK") == "1":
        wanted = [2_000]
    else:
        wanted = [10_000, 100_000]
    return [Size(f"{n // 1000}k", n, SIZES.get(n, n * 100)) for n in wanted]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- in the child: the measurement ---------------------------------------------------------


def digest_moment(session) -> datetime:
    """This week's digest time, a minute past (the moment cron or `outbox send --watch`
    first sends this week's digests), or last week's when this week's has not come yet."""
    from challenges.authoring import program_settings
    from challenges.digests import sending_time
    from points.program import game_settings
    from portal.db import utcnow

    rules = program_settings(session)
    real_now = utcnow()
    when = sending_time(real_now, game_settings(session).time_zone, rules.digest_weekday,
                        rules.digest_hour)  # fmt: skip
    if when > real_now:
        when -= timedelta(days=7)
    return when + timedelta(minutes=1)


def timed_pass(sessions, settings, now: datetime, counter: list[int]) -> tuple[Pass, str]:
    from challenges.digests import send_digests

    counter[0] = 0
    started = time.perf_counter()
    report = send_digests(sessions, settings, now)
    seconds = time.perf_counter() - started
    done = Pass(seconds, report.sent, report.nothing_new, report.already_sent, counter[0])
    return done, report.week or ""


def make_news(session, now: datetime) -> int:
    """A busy week, the case the digest is for: a few live challenges open to everyone
    (aimed at no group, no cap, not a big ask, fewest taken) are marked published
    yesterday. The bench data's newest challenge is weeks old, so without this nearly every
    advocate has nothing new."""
    from challenges.models import Challenge, challenge_groups
    from challenges.queries import _live
    from challenges.types import challenge_type

    aimed = select(challenge_groups.c.challenge_id)
    candidates = session.execute(
        select(Challenge.id, Challenge.type, Challenge.config)
        .where(*_live(now), Challenge.cap.is_(None), Challenge.id.not_in(aimed))
        .order_by(Challenge.taken, Challenge.id)
    )
    ids = [  # not a big ask: an account's big-ask cap would keep many advocates from it
        row.id for row in candidates if not challenge_type(row.type).is_high_effort(row.config)
    ][:NEW_CHALLENGES]
    session.execute(
        update(Challenge).where(Challenge.id.in_(ids)).values(published_at=now - timedelta(days=1))
    )
    session.commit()
    return len(ids)


def make_events(session, now: datetime) -> int:
    """The published challenges with the most RSVPs (pending or approved submissions)
    become events starting tomorrow, each at its own hour."""
    from challenges.models import ACTIVE, Challenge, ChallengeStatus, Submission

    busiest = session.execute(
        select(Submission.challenge_id)
        .join(Challenge, Challenge.id == Submission.challenge_id)
        .where(Challenge.status == ChallengeStatus.PUBLISHED, Submission.status.in_(ACTIVE))
        .group_by(Submission.challenge_id)
        .order_by(func.count().desc())
        .limit(EVENTS)
    ).scalars()
    ids = list(busiest)
    for hour, challenge_id in enumerate(ids, start=2):
        session.execute(
            update(Challenge)
            .where(Challenge.id == challenge_id)
            .values(event_at=now + timedelta(hours=hour), event_minutes=45)
        )
    session.commit()
    return len(ids)


def check_digest(session, week: str) -> list[str]:
    """One digest (advocate1's, else the first) looks like one."""
    from portal.mail.models import OutboxMessage

    digests = select(OutboxMessage).where(OutboxMessage.kind == "digest")
    message = session.scalar(
        digests.where(OutboxMessage.to_email == "advocate1@bench.example")
    ) or session.scalar(digests.order_by(OutboxMessage.id).limit(1))
    if message is None:
        return ["no digest was queued"]
    problems = []
    if message.subject not in ("Your week in the advocate hub", "Tu semana en el hub"):
        problems.append(f"subject {message.subject!r}")
    text, html = message.body_text, message.body_html
    if "/hub/" not in text or not ("Available:" in text or "Disponibles:" in text):
        problems.append("the plain text lacks the points or the hub link")
    if not any(mark in text for mark in ("/hub/challenges/", "/hub/rewards/")):
        problems.append("the plain text lists no challenge and no reward")
    if "<html" not in html or "/hub/" not in html or "style=" not in html:
        problems.append("the HTML part is missing, or its CSS is not inlined")
    headers = message.headers or {}
    if headers.get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click":
        problems.append("no RFC 8058 List-Unsubscribe-Post header")
    if "/unsubscribe" not in headers.get("List-Unsubscribe", ""):
        problems.append("no List-Unsubscribe link")
    print(f"digest: to {message.to_email}, subject {message.subject!r} ({week}); "
          f"text {len(text):,} chars, html {len(html):,} chars", flush=True)  # fmt: skip
    print("digest: " + "\n        ".join(text.strip().splitlines()[:14]), flush=True)
    return problems


def measure_child(url: str, advocates: int) -> Measured:
    from challenges.digests import _waiting
    from challenges.events import remind
    from portal.app import create_app
    from portal.config import settings

    app = create_app({"DATABASE_URL": url, "PUBLIC_URL": "http://vouch.bench"})
    with app.app_context():
        sessions = app.extensions["vouch.sessionmaker"]
        config = settings()
        counter = [0]
        engine = sessions.kw["bind"]

        @event.listens_for(engine, "before_cursor_execute")
        def count(*_args) -> None:
            counter[0] += 1

        with sessions() as session:
            now = digest_moment(session)
            from challenges.digests import due_week

            week = due_week(session, now) or ""
            news = 0 if os.environ.get("BENCH_DIGEST_QUIET") == "1" else make_news(session, now)
            eligible = _waiting(week, 0, 10**9).subquery()
            scanned = session.scalar(select(func.count()).select_from(eligible))
        before = peak_mb()
        first, week = timed_pass(sessions, config, now, counter)
        second, _ = timed_pass(sessions, config, now, counter)
        after = peak_mb()

        with sessions() as session:
            problems = check_digest(session, week)
            events = make_events(session, now)
        timings = []
        for _run in range(2):
            with sessions() as session:
                started = time.perf_counter()
                reminded = remind(session, config, now)
                session.commit()
                timings.append((time.perf_counter() - started, reminded.queued))
    if second.queued:
        problems.append(f"the second pass queued {second.queued} digests")
    if timings[1][1]:
        problems.append(f"the second `events remind` queued {timings[1][1]}")
    return Measured(
        advocates, week, now.isoformat(), scanned, news, first, second, before, after, events,
        timings[0][0], timings[0][1], timings[1][0], timings[1][1], problems,
    )  # fmt: skip


# --- in the parent: sizes and the table ----------------------------------------------------


def measure_size(server, size: Size) -> tuple[float, Measured | None]:
    name = f"vouch_digests_{os.getpid()}_{size.label}"
    print(f"\n== {size.label}: {size.advocates:,} advocates, {size.entries:,} ledger entries "
          f"(database {name})", flush=True)  # fmt: skip
    with throwaway_database(server, name) as url:
        fill_seconds = fill(url, size)
        print(f"bench: filled in {fill_seconds:.1f}s; load average {load_average()}", flush=True)
        child = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "benchmarks.digests", str(size.advocates)],
            cwd=PROJECT_ROOT,
            env={**os.environ, URL_VARIABLE: url},
            capture_output=True,
            text=True,
            check=False,
        )
    sys.stdout.write("\n".join(line for line in child.stdout.splitlines()
                               if not line.startswith("RESULT ")) + "\n")  # fmt: skip
    if child.returncode != 0:
        print(f"bench: the digest pass failed:\n{child.stderr[-4000:]}", file=sys.stderr)
        return fill_seconds, None
    result = next(line for line in child.stdout.splitlines() if line.startswith("RESULT "))
    raw = json.loads(result.removeprefix("RESULT "))
    raw["first"], raw["second"] = Pass(**raw["first"]), Pass(**raw["second"])
    return fill_seconds, Measured(**raw)


def load_average() -> str:
    return ", ".join(f"{n:.1f}" for n in os.getloadavg()) + f" on {os.cpu_count()} cores"


def print_table(rows: list[tuple[Size, float, Measured]]) -> None:
    print(f"\nweekly digest (challenges.digests.send_digests), load average {load_average()}; "
          f"{rows[0][2].news} challenges new this week")  # fmt: skip
    print(f"{'size':<5} {'fill s':>7} {'scanned':>8} {'queued':>7} {'nothing':>7} "
          f"{'seconds':>8} {'dig/s':>7} {'adv/s':>7} {'SQL/adv':>7} {'peak MB':>8} "
          f"{'2nd: queued':>11} {'2nd s':>7}  target")  # fmt: skip
    for size, fill_seconds, m in rows:
        rate = m.first.queued / m.first.seconds if m.first.seconds else 0.0
        per_adv = m.first.statements / m.scanned if m.scanned else 0.0
        verdict = "ok" if rate >= TARGET_PER_S else f"SLOW: < {TARGET_PER_S:g} digests/s"
        print(f"{size.label:<5} {fill_seconds:>7.1f} {m.scanned:>8,} {m.first.queued:>7,} "
              f"{m.first.nothing_new:>7,} {m.first.seconds:>8.1f} {rate:>7.1f} "
              f"{m.scanned / m.first.seconds:>7.1f} {per_adv:>7.1f} {m.peak_mb:>8.1f} "
              f"{m.second.queued:>11,} {m.second.seconds:>7.2f}  {verdict}")  # fmt: skip
    print(f"\nevents remind (challenges.events.remind, {EVENTS} events tomorrow)")
    for size, _fill, m in rows:
        print(f"{size.label:<5} {m.remind_events} events: {m.remind_queued:,} queued in "
              f"{m.remind_seconds:.2f}s; again: {m.remind_again_queued} in "
              f"{m.remind_again_seconds:.2f}s")  # fmt: skip


def main() -> int:
    server = admin_url()
    chosen = sizes()
    print(f"bench: digests at {', '.join(s.label for s in chosen)} advocates, on "
          f"{server.host}:{server.port or 5432}; load average {load_average()}")  # fmt: skip
    rows, failed = [], False
    for size in chosen:
        fill_seconds, measured = measure_size(server, size)
        if measured is None:
            failed = True
            continue
        rows.append((size, fill_seconds, measured))
        for problem in measured.problems:
            failed = True
            print(f"bench: ERROR {size.label}: {problem}", flush=True)
    if rows:
        print_table(rows)
    return 1 if failed else 0


def child_main(advocates: int) -> int:
    measured = measure_child(os.environ[URL_VARIABLE], advocates)
    print("RESULT " + json.dumps(asdict(measured)), flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and os.environ.get(URL_VARIABLE):
        sys.exit(child_main(int(sys.argv[1])))
    sys.exit(main())
