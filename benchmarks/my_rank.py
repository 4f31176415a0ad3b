""" "My rank" at the database, for `make bench`: points.leaderboard.standing for the bench
advocate (advocate1, somewhere mid-board) on this month's, this quarter's and the all-time
board, called many times straight against the filled PostgreSQL database, with the
EXPLAIN (ANALYZE, BUFFERS) plan of its one query: the advocates level on points but there
first, an Index Only Scan on ix_period_totals_rank, plus the sum of the score counts above
(score_counts: one row per score, so the work grows with the scores above, not the rank).

Target: p99 under 15 ms on every board.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from points.leaderboard import current_periods, listed_count, standing
from portal.accounts.models import User
from portal.db import make_engine

EMAIL = "advocate1@bench.example"
RUNS = int(os.environ.get("BENCH_RANK_RUNS") or 300)
WARMUP_RUNS = 20
TARGET_MS = 15.0
RANK_INDEX = "ix_period_totals_rank"
BOARDS = (("this month", "month"), ("this quarter", "quarter"), ("all time", "all"))


@dataclass(frozen=True)
class RankMeasurement:
    board: str  # "this month"
    period: str  # its key: "2026-12"
    listed: int  # advocates on the board
    rank: int | None
    points: int
    runs: int
    p50_ms: float
    p99_ms: float
    plan: tuple[str, ...]  # EXPLAIN (ANALYZE, BUFFERS) of the count of places ahead

    @property
    def index_only(self) -> bool:
        return any(f"Index Only Scan using {RANK_INDEX}" in line for line in self.plan)

    @property
    def scan(self) -> str:
        """The plan's scan of period_totals, in a few words."""
        for line in self.plan:
            text = line.strip().removeprefix("->").strip()
            if " on period_totals" in text or f"using {RANK_INDEX}" in text:
                return text.split("  (")[0]
        return "no scan of period_totals found"

    def misses(self) -> list[str]:
        missed = []
        if self.p99_ms >= TARGET_MS:
            missed.append(f"p99 {self.p99_ms:.1f} >= {TARGET_MS:g} ms")
        if not self.index_only:
            missed.append(f"the count is not an Index Only Scan on {RANK_INDEX}")
        if self.rank is not None and self.rank <= 10:
            missed.append("advocate1 is in the top 10: not the case measured")
        return missed


def _p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[98]


def measure_my_rank(url: str, runs: int = RUNS) -> list[RankMeasurement]:
    """Time standing() for advocate1 on each board, in a transaction per call, as a
    request makes it."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            advocate_id = session.scalar(select(User.id).where(func.lower(User.email) == EMAIL))
            if advocate_id is None:
                raise RuntimeError(f"{EMAIL} is not in the database: was bench-data run?")
            periods = current_periods(session)
            session.rollback()
            return [
                _measure_board(engine, session, advocate_id, board, periods[kind], runs)
                for board, kind in BOARDS
            ]
    finally:
        engine.dispose()


def _measure_board(engine, session: Session, advocate_id: int, board: str, period: str, runs):
    for _ in range(WARMUP_RUNS):
        standing(session, advocate_id, period)
        session.rollback()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        mine = standing(session, advocate_id, period)
        times.append((time.perf_counter() - started) * 1000)
        session.rollback()
    plan = _count_plan(engine, session, advocate_id, period)
    listed = listed_count(session, period)
    session.rollback()
    return RankMeasurement(
        board=board,
        period=period,
        listed=listed,
        rank=mine.rank,
        points=mine.points,
        runs=runs,
        p50_ms=statistics.median(times),
        p99_ms=_p99(times),
        plan=plan,
    )


def _count_plan(engine, session: Session, advocate_id: int, period: str) -> tuple[str, ...]:
    """The plan of the count query standing() sends, as it sent it (caught on its way out)."""
    sent: list[tuple[str, object]] = []

    def catch(_connection, _cursor, statement, parameters, _context, _many):
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", catch)
    try:
        standing(session, advocate_id, period)
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    counts = [(statement, parameters) for statement, parameters in sent if "count(" in statement]
    if not counts:
        return ("standing() sent no count query: the advocate has no score on this board",)
    statement, parameters = counts[0]
    explained = session.connection().exec_driver_sql(
        "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
    )
    return tuple(row[0] for row in explained)


def print_ranks(ranks: list[RankMeasurement]) -> None:
    if not ranks:
        return
    print(
        f"\nmy rank at the database: points.leaderboard.standing({EMAIL}), "
        f"{ranks[0].runs} calls per board (target p99 < {TARGET_MS:g} ms)"
    )
    print(f"{'board':<13} {'period':<8} {'listed':>8} {'rank':>8} {'points':>7} "
          f"{'p50 ms':>7} {'p99 ms':>7}  {'count of places ahead':<40} target")  # fmt: skip
    for measured in ranks:
        rank = f"{measured.rank:,}" if measured.rank is not None else "-"
        misses = measured.misses()
        verdict = "MISSED: " + "; ".join(misses) if misses else "ok"
        print(
            f"{measured.board:<13} {measured.period:<8} {measured.listed:>8,} {rank:>8} "
            f"{measured.points:>7,} {measured.p50_ms:>7.2f} {measured.p99_ms:>7.2f}  "
            f"{measured.scan[:40]:<40} {verdict}"
        )
    for measured in ranks:
        print(f"  EXPLAIN (ANALYZE, BUFFERS), {measured.board} ({measured.period}):")
        for line in measured.plan:
            print(f"    {line}")
