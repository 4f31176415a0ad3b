"""Every page under load, side by side: `make bench`.

For each size (10k advocates with 1M ledger entries, and 100k with 10M) it creates a
throwaway PostgreSQL database, migrates it with Alembic, fills it with
`flask --app wsgi bench-data` (timed), times "my rank" straight at the database
(benchmarks/my_rank.py: points.leaderboard.standing for advocate1 on each board, with the
plan of its count) and serves it with gunicorn (2 workers). Then it logs
in on each server as the bench advocate, manager and admin with the standard library,
checks that each page answers 200 with its own title, and measures with wrk (2 threads,
8 connections) /healthz, the baseline, and then each page at every size in turn, so that
what a page is compared with ran under the same conditions. It prints a table per size,
then every page side by side with its targets:

  advocate pages  >= 0.3x the /healthz req/s of the same server, and p99 < 100 ms
  staff pages     >= 0.15x the /healthz req/s, and p99 < 250 ms
  every page      p50 at the larger size <= 1.5x p50 at the smaller one
  my rank         p99 < 15 ms at the database, its count an Index Only Scan
  bench-data      100k advocates / 10M entries filled in under 10 minutes

A page that answers anything but 200, or not within 30 s, is marked ERROR, not reported
as fast; one that fails its check (a 404, a redirect to /login, another title) is marked
ERROR and not measured, and the other pages still are. Then the redemption benchmark
(benchmarks/redemptions.py) runs, and last the mixed load of real user flows on one
server and on two (benchmarks/load.py). Every database is dropped at the end, also on
failure or Ctrl-C. The exit status is 1 when a page, the redemption benchmark or the
mixed load failed; a missed target is reported, not an error.

Environment (all optional):
  BENCH_DATABASE_URL  a PostgreSQL server, or a database on it used to create and drop
                      the bench databases (default postgresql+psycopg://postgres@127.0.0.1:5432,
                      through its `test` database)
  BENCH_QUICK=1       a small run in a few minutes: 2k advocates / 100k entries and
                      10k / 300k, 3 s per page, a 5 s redemption run over 10k advocates
  BENCH_SECONDS       seconds wrk measures each page (default 10, quick 3); also passed
                      to the redemption benchmark as its measured seconds
  BENCH_KEEP=1        keep the databases afterwards (their names are printed)
  BENCH_RANK_RUNS     calls of standing() per board for "my rank" (default 300)
The redemption benchmark's own variables (BENCH_CLIENTS, BENCH_ADVOCATES, ...) pass through,
and so do the mixed load's (BENCH_LOAD_SECONDS, BENCH_LOAD_CLIENTS, ...).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, OpenerDirector, build_opener

from alembic import command
from sqlalchemy.engine import URL, make_url

from benchmarks.my_rank import RankMeasurement, measure_my_rank, print_ranks
from benchmarks.redemptions import DEFAULT_SERVER, create_database, drop_database
from points.views.admin import QUEUES
from portal.config import PROJECT_ROOT
from portal.migrate import alembic_config

BIN = PROJECT_ROOT / ".venv" / "bin"
WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")
# Flask-Login's strong session protection binds the session to the User-Agent:
# the logins and wrk send the same one.
USER_AGENT = "vouch-bench/1.0 (benchmarks/pages.py)"
PASSWORD = "bench-password"  # noqa: S105 - the bench logins bench-data creates
LOGINS = {
    "advocate": "advocate1@bench.example",
    "manager": "bench-manager@bench.example",
    "admin": "bench-admin@bench.example",
}
SERVER_ENV = {
    "SECRET_KEY": "vouch-bench-fixed-secret-key",
    # three logins per server, well inside the defaults, but never the reason a run fails
    "LOGIN_LIMIT_PER_IP": "1000 per minute",
    "LOGIN_LIMIT_PER_ACCOUNT": "1000 per minute",
}
TARGETS = {  # kind: (least share of the /healthz req/s, p99 under this many ms)
    "advocate": (0.30, 100.0),
    "staff": (0.15, 250.0),
}
P50_GROWTH_LIMIT = 1.5
WARMUP_SECONDS = 1
HEALTHY_WITHIN_S = 60
WRK_TIMEOUT_S = 30  # gunicorn's worker timeout: a slow page is measured, not dropped


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


# --- what is measured ---------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    label: str
    advocates: int
    entries: int
    fill_limit_s: float | None = None  # the bench-data target, where there is one


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    who: str | None  # a key of LOGINS; None for /healthz
    kind: str  # "baseline", "advocate" or "staff"
    title: str = ""  # what the page's <title> says: proof it is the page, not the login

    @property
    def label(self) -> str:
        return f"{self.name} {self.path}"


FULL_SIZES = (
    Size("10k", 10_000, 1_000_000),
    Size("100k", 100_000, 10_000_000, fill_limit_s=600),
)
QUICK_SIZES = (Size("2k", 2_000, 100_000), Size("10k", 10_000, 300_000))

BASELINE = Page("Health check", "/healthz", None, "baseline")
PAGES = (
    Page("Hub home", "/hub/", "advocate", "advocate", "Your hub"),
    Page("Leaderboard", "/hub/leaderboard", "advocate", "advocate", "Leaderboard"),
    Page("Rewards", "/hub/rewards", "advocate", "advocate", "Rewards"),
    Page("My submissions", "/hub/submissions", "advocate", "advocate", "Your submissions"),
    Page("My redemptions", "/hub/redemptions", "advocate", "advocate", "Your redemptions"),
    Page("Notifications", "/hub/notifications", "advocate", "advocate", "Notifications"),
    Page("Profile", "/hub/profile", "advocate", "advocate", "Your profile"),
    Page("Program dashboard", "/manage/", "manager", "staff", "Program"),
    Page("Review queue", "/manage/review", "manager", "staff", "Review queue"),
    Page("Thank-yous", "/manage/thanks", "manager", "staff", "Thank-yous"),
    Page("Leads", "/manage/leads", "manager", "staff", "Referral leads"),
    Page("Staff leaderboard", "/manage/leaderboard", "manager", "staff", "Leaderboard"),
    Page("Admin dashboard", "/admin/", "admin", "staff", "Admin"),
    Page("Users", "/admin/users", "admin", "staff", "Users"),
    Page("Accounts", "/admin/accounts", "admin", "staff", "Accounts"),
    Page("Audit log", "/admin/audit", "admin", "staff", "Audit log"),
    Page("Redemptions", "/admin/redemptions", "admin", "staff", "Redemptions"),
    *(
        Page(
            f"Redemptions, {status}",
            f"/admin/redemptions?status={status}",
            "admin",
            "staff",
            "Redemptions",
        )
        for status in QUEUES
        if status != "requested"  # the default tab, measured just above
    ),
)


@dataclass(frozen=True)
class Measurement:
    page: Page
    requests: int
    bytes_read: int
    seconds: float
    p50_ms: float
    p99_ms: float
    not_200: int  # answers other than 200 (redirects included)
    other_status: int  # the first such status, for the report
    timeouts: int  # requests with no answer within WRK_TIMEOUT_S
    socket_errors: int  # connect, read and write errors
    problem: str = ""  # why the page was not measured (its check failed)

    @classmethod
    def not_measured(cls, page: Page, problem: str) -> Measurement:
        return cls(page, 0, 0, 1.0, 0.0, 0.0, 0, 0, 0, 0, problem)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def bytes_per_response(self) -> float:
        return self.bytes_read / self.requests if self.requests else 0.0

    @property
    def failed(self) -> bool:
        return bool(self.errors())

    def errors(self) -> list[str]:
        if self.problem:
            return [f"not measured: {self.problem}"]
        errors = []
        if self.not_200:
            errors.append(f"{self.not_200} answers {self.other_status or 'not 200'}")
        if self.timeouts:
            errors.append(f"{self.timeouts} timeouts (> {WRK_TIMEOUT_S} s)")
        if self.socket_errors:
            errors.append(f"{self.socket_errors} socket errors")
        if not self.requests:
            errors.append("no answers")
        return errors


@dataclass
class SizeResult:
    size: Size
    fill_seconds: float
    baseline: Measurement
    pages: list[Measurement]
    ranks: list[RankMeasurement]  # "my rank" straight at the database

    def share(self, measured: Measurement) -> float:
        return measured.per_second / self.baseline.per_second

    def misses(self, measured: Measurement) -> list[str]:
        """The targets this page missed at this size, in words."""
        if measured.failed:
            return ["ERROR " + ", ".join(measured.errors())]
        least_share, p99_limit = TARGETS[measured.page.kind]
        missed = []
        if self.share(measured) < least_share:
            missed.append(f"x base {self.share(measured):.3f} < {least_share:g}")
        if measured.p99_ms >= p99_limit:
            missed.append(f"p99 {measured.p99_ms:.0f} >= {p99_limit:g} ms")
        return missed


# --- databases ----------------------------------------------------------------------------


def admin_url() -> URL:
    base = make_url(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_SERVER)
    if not base.drivername.startswith("postgresql"):
        sys.exit("BENCH_DATABASE_URL must point at a PostgreSQL server.")
    return base.set(database=base.database or "test")


@contextmanager
def throwaway_database(server: URL, name: str, template: str | None = None) -> Iterator[str]:
    """A new database (or a copy of `template`) for the block; dropped afterwards
    (BENCH_KEEP=1 keeps it)."""
    create_database(server, name, template)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        if os.environ.get("BENCH_KEEP") == "1":
            print(f"bench: kept database {name}", flush=True)
        else:
            drop_database(server, name)
            print(f"bench: dropped database {name}", flush=True)


def fill(url: str, size: Size) -> float:
    """Migrate, then run bench-data with its progress bars showing. Returns its seconds."""
    command.upgrade(alembic_config(url), "head")
    args = [
        str(BIN / "flask"), "--app", "wsgi", "bench-data",
        "--advocates", str(size.advocates), "--entries", str(size.entries),
    ]  # fmt: skip
    print(f"bench: flask {' '.join(args[1:])}", flush=True)
    started = time.perf_counter()
    subprocess.run(args, cwd=PROJECT_ROOT, env={**os.environ, "DATABASE_URL": url}, check=True)  # noqa: S603
    return time.perf_counter() - started


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(
    url: str, log: Path, port: int | None = None, workers: int = 2, env: dict | None = None
) -> Iterator[str]:
    """gunicorn (2 workers on a free port unless told) until the block ends; `env` is the
    server's whole environment (default: the bench's, with its own address as PUBLIC_URL).
    Yields its address."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    if env is None:
        env = {**os.environ, **SERVER_ENV, "DATABASE_URL": url, "PUBLIC_URL": base_url}
    args = [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "wsgi:app"]
    with log.open("wb") as output:
        server = subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=output)  # noqa: S603
    try:
        wait_until_healthy(server, base_url, log)
        yield base_url
    except Exception:
        print(f"bench: the end of {log.name}:\n{tail(log)}", file=sys.stderr)
        raise
    finally:
        stop_server(server)


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def wait_until_healthy(server: subprocess.Popen, base_url: str, log: Path) -> None:
    deadline = time.monotonic() + HEALTHY_WITHIN_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode})")
        try:
            with build_opener().open(base_url + "/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:  # refused, reset, or a worker still booting on a busy machine (timeout)
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz in {HEALTHY_WITHIN_S} s")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# --- logging in (standard library only) ---------------------------------------------------


class KeepRedirects(HTTPRedirectHandler):
    """Hand back a redirect as the answer, so a page that sends us to /login is caught."""

    def redirect_request(self, *args, **kwargs):
        return None


class CsrfField(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.token = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        fields = dict(attrs)
        if tag == "input" and fields.get("name") == "csrf_token":
            self.token = fields.get("value") or ""


@dataclass
class Browser:
    """One person's cookies, sent with the bench User-Agent."""

    base_url: str
    jar: CookieJar
    opener: OpenerDirector

    @classmethod
    def new(cls, base_url: str) -> Browser:
        jar = CookieJar()
        opener = build_opener(KeepRedirects, HTTPCookieProcessor(jar))
        opener.addheaders = [("User-Agent", USER_AGENT)]
        return cls(base_url, jar, opener)

    def get(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, Location header, body) without following redirects."""
        body = urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base_url + path, data=body, timeout=60) as answer:
                return answer.status, "", answer.read().decode()
        except HTTPError as answer:  # 3xx (kept by KeepRedirects), 4xx, 5xx
            return answer.code, answer.headers.get("Location", ""), answer.read().decode()

    def log_in(self, email: str) -> None:
        _, _, form = self.get("/login")
        csrf = CsrfField()
        csrf.feed(form)
        fields = {"email": email, "password": PASSWORD, "csrf_token": csrf.token}
        status, location, _ = self.get("/login", fields)
        if status != 302 or "/login" in location:
            raise RuntimeError(f"logging in as {email} failed: {status} {location}")

    def session_cookie(self) -> str:
        return next(cookie.value for cookie in self.jar if cookie.name == "session")


TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def check_page(browser: Browser, page: Page) -> str:
    """The page answers 200 with its own title: not a redirect to /login, not a 403 or a
    404. Returns what is wrong, or ""."""
    status, location, body = browser.get(page.path)
    found = TITLE.search(body)
    title = found.group(1).strip() if found else ""
    if status != 200 or page.title not in title:
        return f"answered {status} {location} titled {title!r} (expected 200 and {page.title!r})"
    return ""


def cookies_by_person(base_url: str, problems: dict[Page, str]) -> dict[str, str]:
    """Log each person in, check their pages (noting in `problems` those that fail), and
    return their session cookies."""
    cookies = {}
    for who, email in LOGINS.items():
        browser = Browser.new(base_url)
        browser.log_in(email)
        for page in PAGES:
            problem = check_page(browser, page) if page.who == who else ""
            if problem:
                problems.setdefault(page, problem)
                print(f"bench: {page.label} {problem}: not measured", flush=True)
        cookies[who] = browser.session_cookie()
    return cookies


# --- wrk ----------------------------------------------------------------------------------


def wrk(url: str, cookie: str | None, seconds: float) -> dict:
    args = ["wrk", "-t2", "-c8", f"-d{seconds:g}s", f"--timeout={WRK_TIMEOUT_S}s", "--latency",
            "-s", str(WRK_SCRIPT), "-H", f"User-Agent: {USER_AGENT}"]  # fmt: skip
    if cookie:
        args += ["-H", f"Cookie: session={cookie}"]
    done = subprocess.run([*args, url], capture_output=True, text=True, check=True)  # noqa: S603
    for line in done.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            return json.loads(line.removeprefix("WRK_JSON "))
    raise RuntimeError(f"wrk printed no summary for {url}:\n{done.stdout}{done.stderr}")


def measure(base_url: str, page: Page, cookie: str | None, seconds: float) -> Measurement:
    url = base_url + page.path
    wrk(url, cookie, WARMUP_SECONDS)
    summary = wrk(url, cookie, seconds)
    return Measurement(
        page=page,
        requests=summary["requests"],
        bytes_read=summary["bytes"],
        seconds=summary["duration_us"] / 1e6,
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        not_200=max(summary["not_200"], summary["non_2xx_3xx"]),
        other_status=summary["other_status"],
        timeouts=summary["timeouts"],
        socket_errors=summary["connect_errors"] + summary["read_errors"] + summary["write_errors"],
    )


@dataclass(frozen=True)
class Served:
    """A filled bench database, served by gunicorn."""

    size: Size
    fill_seconds: float
    base_url: str
    ranks: list[RankMeasurement]


def measure_sizes(served: list[Served], seconds: float) -> list[SizeResult]:
    """Each page at every size in turn, so the sizes it is compared at share the conditions."""
    problems: dict[Page, str] = {}  # a page that fails its check at one size is measured at none
    cookies = [cookies_by_person(at.base_url, problems) for at in served]
    print(f"bench: logged in as {', '.join(LOGINS.values())}; every page checked", flush=True)
    baselines = [measure(at.base_url, BASELINE, None, seconds) for at in served]
    print(progress(BASELINE, served, baselines), flush=True)
    by_size: list[list[Measurement]] = [[] for _ in served]
    for page in PAGES:
        for at, their_cookies, measured in zip(served, cookies, by_size, strict=True):
            if page in problems:
                measured.append(Measurement.not_measured(page, problems[page]))
            else:
                measured.append(measure(at.base_url, page, their_cookies[page.who], seconds))
        print(progress(page, served, [measured[-1] for measured in by_size]), flush=True)
    return [
        SizeResult(at.size, at.fill_seconds, baseline, measured, at.ranks)
        for at, baseline, measured in zip(served, baselines, by_size, strict=True)
    ]


def progress(page: Page, served: list[Served], measured: list[Measurement]) -> str:
    rates = ", ".join(
        f"{at.size.label} {m.per_second:,.1f}" + (" ERROR" if m.failed else "")
        for at, m in zip(served, measured, strict=True)
    )
    return f"bench:   {page.label}: {rates} req/s"


# --- a size, served -----------------------------------------------------------------------


def serve_size(stack: ExitStack, server: URL, size: Size, logs: Path) -> Served:
    """A database filled to this size and served, both until the stack closes."""
    name = f"vouch_pages_{os.getpid()}_{size.label}"
    print(f"\n== {size.label}: {size.advocates:,} advocates, {size.entries:,} ledger entries "
          f"(database {name})", flush=True)  # fmt: skip
    url = stack.enter_context(throwaway_database(server, name))
    fill_seconds = fill(url, size)
    print(f"bench: filled in {fill_seconds:.1f}s", flush=True)
    ranks = measure_my_rank(url)  # before the server starts: nothing else on the database
    for measured in ranks:
        print(f"bench:   my rank, {measured.board}: p50 {measured.p50_ms:.2f} ms, "
              f"p99 {measured.p99_ms:.2f} ms ({measured.scan})", flush=True)  # fmt: skip
    base_url = stack.enter_context(serving(url, logs / f"gunicorn-{size.label}.log"))
    return Served(size, fill_seconds, base_url, ranks)


# --- the report ---------------------------------------------------------------------------


def print_size_table(result: SizeResult) -> None:
    size = result.size
    print(f"\n{size.label}: {size.advocates:,} advocates, {size.entries:,} ledger entries, "
          f"filled in {result.fill_seconds:.1f}s")  # fmt: skip
    print(f"{'page':<22} {'path':<36} {'who':<8} {'requests':>8} {'req/s':>8} {'x base':>6} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'KB/resp':>7}  target")  # fmt: skip
    for measured in [result.baseline, *result.pages]:
        page = measured.page
        share = result.share(measured)
        verdict = "baseline" if page.kind == "baseline" else verdict_of(result.misses(measured))
        print(
            f"{page.name:<22} {page.path:<36} {page.who or '-':<8} {measured.requests:>8,} "
            f"{measured.per_second:>8,.1f} {share:>6.2f} {measured.p50_ms:>7.1f} "
            f"{measured.p99_ms:>7.1f} {measured.bytes_per_response / 1024:>7.1f}  {verdict}"
        )


def verdict_of(misses: list[str]) -> str:
    return "MISSED: " + "; ".join(misses) if misses else "ok"


def side_by_side_misses(
    small: SizeResult, large: SizeResult, before: Measurement, after: Measurement
) -> list[str]:
    misses = [f"{small.size.label} {miss}" for miss in small.misses(before)]
    misses += [f"{large.size.label} {miss}" for miss in large.misses(after)]
    if before.failed or after.failed:
        return misses
    growth = after.p50_ms / before.p50_ms
    if growth > P50_GROWTH_LIMIT:
        misses.append(f"p50 grew {growth:.2f}x > {P50_GROWTH_LIMIT:g}x")
    return misses


def growth_of(before: Measurement, after: Measurement) -> str:
    if before.failed or after.failed or not before.p50_ms:
        return "-"
    return f"{after.p50_ms / before.p50_ms:.2f}"


def print_side_by_side(small: SizeResult, large: SizeResult) -> int:
    """Every page at both sizes, with its p50 growth; returns how many pages missed a target."""
    a, b = small.size.label, large.size.label
    print(f"\nside by side: {a} -> {b} advocates (p50, p99 in ms; KB per response at {b})")
    print(f"{'path':<36} {a + ' req/s':>10} {'x base':>6} {'p50':>6} {'p99':>6} "
          f"{b + ' req/s':>11} {'x base':>6} {'p50':>6} {'p99':>6} {'KB':>5} "
          f"{'p50 x':>6}  verdict")  # fmt: skip
    rows = [(small.baseline, large.baseline), *zip(small.pages, large.pages, strict=True)]
    missed_pages = 0
    for before, after in rows:
        if after.page.kind == "baseline":
            verdict = "baseline"
        else:
            misses = side_by_side_misses(small, large, before, after)
            missed_pages += bool(misses)
            verdict = verdict_of(misses)
        print(
            f"{after.page.path:<36} {before.per_second:>10,.1f} {small.share(before):>6.2f} "
            f"{before.p50_ms:>6.1f} {before.p99_ms:>6.1f} {after.per_second:>11,.1f} "
            f"{large.share(after):>6.2f} {after.p50_ms:>6.1f} {after.p99_ms:>6.1f} "
            f"{after.bytes_per_response / 1024:>5.1f} {growth_of(before, after):>6}  {verdict}"
        )
    return missed_pages


def print_fill_times(results: list[SizeResult]) -> None:
    print("\nbench-data fill times")
    for result in results:
        size, took = result.size, result.fill_seconds
        target = "no target"
        if size.fill_limit_s is not None:
            verdict = "ok" if took < size.fill_limit_s else "MISSED"
            target = f"target < {size.fill_limit_s:g}s: {verdict}"
        print(f"  {size.label:<5} {size.advocates:>9,} advocates {size.entries:>12,} entries "
              f"{took:>8.1f}s  {target}")  # fmt: skip


def report(results: list[SizeResult], load: tuple[float, float, float]) -> bool:
    """Print every table; True when no page failed."""
    print(f"\nload average after measuring (1, 5, 15 min): {load[0]:.1f}, {load[1]:.1f}, "
          f"{load[2]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    for result in results:
        print_size_table(result)
        print_ranks(result.ranks)
    missed = print_side_by_side(results[0], results[-1])
    print_fill_times(results)
    failed = [m.page.label for r in results for m in [r.baseline, *r.pages] if m.failed]
    print(f"\npages missing a target: {missed} of {len(PAGES)}; pages with errors: {len(failed)}")
    for label in failed:
        print(f"  ERROR {label}")
    return not failed


# --- the redemption benchmark -------------------------------------------------------------


def run_redemptions(quick: bool) -> bool:
    env = dict(os.environ)
    if quick:
        env.setdefault("BENCH_SECONDS", "5")
        env.setdefault("BENCH_ADVOCATES", "10000")
    print("\n== redemptions (benchmarks/redemptions.py)", flush=True)
    script = PROJECT_ROOT / "benchmarks" / "redemptions.py"
    done = subprocess.run([sys.executable, str(script)], cwd=PROJECT_ROOT, env=env, check=False)  # noqa: S603
    return done.returncode == 0


def run_load() -> bool:
    """The mixed workload on one server and on two (benchmarks/load.py; BENCH_QUICK passes)."""
    print("\n== mixed load (benchmarks/load.py)", flush=True)
    done = subprocess.run([sys.executable, "-m", "benchmarks.load"], cwd=PROJECT_ROOT, check=False)  # noqa: S603
    return done.returncode == 0


def main() -> int:
    quick = os.environ.get("BENCH_QUICK") == "1"
    sizes = QUICK_SIZES if quick else FULL_SIZES
    seconds = env_float("BENCH_SECONDS", 3 if quick else 10)
    server = admin_url()
    print(f"bench: pages at {', '.join(s.label for s in sizes)} advocates, {seconds:g}s per page, "
          f"on {server.host}:{server.port or 5432}")  # fmt: skip
    with ExitStack() as stack:  # closed in reverse: servers stopped, then databases dropped
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vouch-bench-")))
        served = [serve_size(stack, server, size, logs) for size in sizes]
        print(f"\n== measuring {', '.join(s.label for s in sizes)} side by side", flush=True)
        results = measure_sizes(served, seconds)
        load = os.getloadavg()
    pages_ok = report(results, load)
    redemptions_ok = run_redemptions(quick)
    load_ok = run_load()
    print("\n== weekly digest and event reminders (benchmarks/digests.py)", flush=True)
    digests = [sys.executable, "-m", "benchmarks.digests"]  # BENCH_QUICK passes: 2k only
    digests_ok = subprocess.run(digests, cwd=PROJECT_ROOT, check=False).returncode == 0  # noqa: S603
    print("\n== reference candidate matching (benchmarks/matching.py)", flush=True)
    matching = [sys.executable, "-m", "benchmarks.matching"]  # BENCH_QUICK passes: 2k only
    matching_ok = subprocess.run(matching, cwd=PROJECT_ROOT, check=False).returncode == 0  # noqa: S603
    return 0 if pages_ok and redemptions_ok and load_ok and digests_ok and matching_ok else 1


if __name__ == "__main__":
    sys.exit(main())
