"""Property tests for per-advocate limits, global caps and the points they award.

The pure half checks `free_slot` and `period_key` against rules written independently of
them. The database half plays random sequences of submit / withdraw / approve / reject
through the real services and, after every step, checks the books against a simple model
and against each other. Runs on SQLite and (with TEST_DATABASE_URL) PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import partial

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from challenges import services
from challenges.limits import free_slot, period_key
from challenges.models import (
    ACTIVE,
    Challenge,
    LimitKind,
    Period,
    Submission,
    SubmissionStatus,
)
from points.models import LedgerEntry, PointsBalance
from portal.accounts.models import Role
from portal.auth.services import opt_in
from portal.errors import DomainError, NotFound
from tests.factories import EVIDENCE, SETTINGS

# --- pure: free_slot ----------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(1995, 1, 1), max_value=datetime(2095, 12, 31), timezones=st.just(UTC)
)


@st.composite
def limited_challenges(draw) -> Challenge:
    kind = draw(st.sampled_from([k.value for k in LimitKind]))
    return Challenge(
        limit_kind=kind,
        limit_count=draw(st.integers(1, 6)) if kind == LimitKind.TIMES else 1,
        limit_period=draw(st.sampled_from([p.value for p in Period])),
    )


def allowed_slots(challenge: Challenge, now: datetime) -> set[str]:
    """Every slot the limit has at `now` (the rule in limits.py's docstring)."""
    if challenge.limit_kind == LimitKind.TIMES:
        return {str(n) for n in range(1, challenge.limit_count + 1)}
    if challenge.limit_kind == LimitKind.PER_PERIOD:
        return {period_key(challenge.limit_period, now)}
    return {"1"}


@st.composite
def taken_sets(draw, challenge: Challenge, now: datetime) -> set[str]:
    """Some of the real slots, slots of other periods, and slots no limit would use."""
    pool = sorted(allowed_slots(challenge, now)) + [str(n) for n in range(1, 9)]
    pool += [period_key(challenge.limit_period, draw(moments)) for _ in range(2)]
    pool += ["0", "x", ""]
    return set(draw(st.lists(st.sampled_from(pool), max_size=12)))


@given(data=st.data(), challenge=limited_challenges(), now=moments)
def test_free_slot_is_free_and_none_only_when_the_limit_is_used_up(data, challenge, now):
    taken = data.draw(taken_sets(challenge, now))
    slot = free_slot(challenge, taken, now)
    allowed = allowed_slots(challenge, now)
    assert slot not in taken
    assert (slot is None) == allowed.issubset(taken)
    if slot is not None:
        assert slot in allowed


@given(data=st.data(), challenge=limited_challenges(), now=moments)
def test_taking_free_slots_in_a_loop_stops_at_the_limit(data, challenge, now):
    taken = data.draw(taken_sets(challenge, now))
    allowed = allowed_slots(challenge, now)
    got = []
    while (slot := free_slot(challenge, taken, now)) is not None:
        assert slot not in taken
        taken.add(slot)
        got.append(slot)
        assert len(got) <= len(allowed), f"free_slot keeps giving slots: {got}"
    assert len(set(got)) == len(got)
    assert allowed.issubset(taken)
    if challenge.limit_kind == LimitKind.TIMES:
        assert len(allowed & taken) == challenge.limit_count  # never more than N slots
    else:
        assert len(got) <= 1


@given(
    period=st.sampled_from([p.value for p in Period]),
    times=st.lists(moments, min_size=1, max_size=12),
)
def test_once_per_period_allows_one_submission_in_each_period(period, times):
    challenge = Challenge(limit_kind=LimitKind.PER_PERIOD.value, limit_count=1, limit_period=period)
    taken: set[str] = set()
    accepted = []
    for now in times:
        slot = free_slot(challenge, taken, now)
        if slot is not None:
            taken.add(slot)
            accepted.append(now)
    assert len(accepted) == len(distinct_periods(period, times))
    assert len(distinct_periods(period, accepted)) == len(accepted)


# --- pure: period_key ---------------------------------------------------------------------

QUARTERS = ({1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12})


def _monday(moment: datetime) -> date:
    return moment.date() - timedelta(days=moment.weekday())


def same_period(period: str, a: datetime, b: datetime) -> bool:
    """The calendar rule, stated without isocalendar() or month arithmetic."""
    if period == Period.WEEK:  # ISO weeks run Monday to Sunday, across New Year too
        return _monday(a) == _monday(b)
    if period == Period.MONTH:
        return (a.year, a.month) == (b.year, b.month)
    if period == Period.QUARTER:
        return a.year == b.year and any({a.month, b.month} <= q for q in QUARTERS)
    return a.year == b.year


def distinct_periods(period: str, times: list[datetime]) -> list[datetime]:
    """One representative per calendar period among `times`."""
    seen: list[datetime] = []
    for moment in times:
        if not any(same_period(period, moment, other) for other in seen):
            seen.append(moment)
    return seen


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@st.composite
def close_pairs(draw) -> tuple[datetime, datetime]:
    """Two moments, often either side of a period boundary."""
    a = draw(moments)
    spread = draw(st.sampled_from([timedelta(days=2), timedelta(days=10), timedelta(days=120)]))
    offset = draw(st.integers(-int(spread.total_seconds()), int(spread.total_seconds())))
    return a, a + timedelta(seconds=offset)


@given(
    period=st.sampled_from([p.value for p in Period]),
    pair=st.one_of(close_pairs(), st.tuples(moments, moments)),
)
@example(period="week", pair=(utc(2024, 12, 30), utc(2025, 1, 5)))  # ISO week 2025-W01
@example(period="week", pair=(utc(2020, 12, 31), utc(2021, 1, 3)))  # ISO week 2020-W53
@example(period="week", pair=(utc(2021, 1, 3), utc(2021, 1, 4)))  # Sunday, then Monday
@example(period="month", pair=(utc(2026, 1, 31, 23, 59), utc(2026, 2, 1)))
@example(period="quarter", pair=(utc(2026, 3, 31), utc(2026, 4, 1)))
@example(period="quarter", pair=(utc(2026, 1, 1), utc(2027, 1, 1)))
@example(period="year", pair=(utc(2026, 12, 31), utc(2027, 1, 1)))
def test_period_key_is_equal_exactly_within_one_calendar_period(period, pair):
    a, b = pair
    assert (period_key(period, a) == period_key(period, b)) == same_period(period, a, b)


# --- against the database: random sequences through the services -------------------------

MONTH = Period.MONTH.value


@st.composite
def plans(draw) -> dict:
    limit_kind = draw(st.sampled_from([k.value for k in LimitKind]))
    advocates = draw(st.integers(2, 3))
    actions = st.one_of(
        st.tuples(st.just("submit"), st.integers(0, advocates - 1)),
        st.tuples(st.just("submit"), st.integers(0, advocates - 1)),  # twice as likely
        st.tuples(st.just("withdraw"), st.integers(0, advocates - 1), st.integers(0, 20)),
        st.tuples(st.just("withdraw_other"), st.integers(0, advocates - 1), st.integers(0, 20)),
        st.tuples(st.just("approve"), st.integers(0, 20)),
        st.tuples(st.just("reject"), st.integers(0, 20)),
        st.tuples(st.just("tick"), st.integers(0, 45)),  # days; matters for once a month
    )
    return {
        "advocates": advocates,
        "cap": draw(st.one_of(st.none(), st.integers(1, 4))),
        "limit_kind": limit_kind,
        "limit_count": draw(st.integers(1, 3)) if limit_kind == LimitKind.TIMES else 1,
        "approval": draw(st.sampled_from(["manual", "manual", "auto"])),
        "points": draw(st.integers(1, 100)),
        "actions": draw(st.lists(actions, min_size=8, max_size=24)),
    }


class Books:
    """What the database says, read afresh, for one challenge and its advocates."""

    def __init__(self, session, challenge_id: int, advocate_ids: list[int]):
        self.session, self.challenge_id, self.advocate_ids = session, challenge_id, advocate_ids

    def taken(self) -> int:
        return self.session.scalar(select(Challenge.taken).where(Challenge.id == self.challenge_id))

    def submissions(self) -> list[Submission]:
        self.session.expire_all()
        return list(
            self.session.scalars(
                select(Submission)
                .where(Submission.challenge_id == self.challenge_id)
                .order_by(Submission.id)
            )
        )

    def entries(self) -> Counter:
        rows = self.session.execute(
            select(LedgerEntry.idempotency_key, LedgerEntry.amount).where(
                LedgerEntry.advocate_id.in_(self.advocate_ids)
            )
        )
        return Counter(rows)

    def balances(self) -> dict[int, tuple[int, int]]:
        """advocate -> (balance row, sum of their ledger entries)."""
        books = {}
        for advocate_id in self.advocate_ids:
            balance = self.session.scalar(
                select(PointsBalance.balance).where(PointsBalance.advocate_id == advocate_id)
            )
            total = self.session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                    LedgerEntry.advocate_id == advocate_id
                )
            )
            books[advocate_id] = (balance or 0, total)
        return books

    def snapshot(self):
        rows = [(s.id, s.status, s.slot, s.points_awarded) for s in self.submissions()]
        return self.taken(), rows, sorted(self.entries().items()), self.balances()


def _advocate(make):
    """An opted-in advocate without a password (no argon2 hashing: keeps examples fast)."""
    user = make.user(Role.ADVOCATE, account=make.account(), password=None)
    opt_in(make.session, SETTINGS, user)
    make.session.commit()
    return user


def _limit_of(plan: dict) -> int:
    return plan["limit_count"] if plan["limit_kind"] == LimitKind.TIMES else 1


def _check_books(books: Books, plan: dict, model: dict[int, dict], advocates) -> None:
    submissions = books.submissions()
    # the model and the database agree on every submission
    assert {s.id: s.status for s in submissions} == {i: m["status"] for i, m in model.items()}
    active = [s for s in submissions if s.status in ACTIVE]
    # the global cap: taken counts exactly the active submissions, never beyond the cap
    assert books.taken() == len(active)
    if plan["cap"] is not None:
        assert books.taken() <= plan["cap"]
    # slots: held by active submissions only, never two alike
    for submission in submissions:
        assert (submission.slot is not None) == (submission.status in ACTIVE)
    assert len({(s.advocate_id, s.slot) for s in active}) == len(active)
    # the per-advocate limit
    for advocate in advocates:
        mine = [s for s in active if s.advocate_id == advocate.id]
        if plan["limit_kind"] == LimitKind.PER_PERIOD:
            assert len(distinct_periods(MONTH, [s.created_at for s in mine])) == len(mine)
        else:
            assert len(mine) <= _limit_of(plan)
    # one award per approved submission, none for the rest
    entries = books.entries()
    for submission in submissions:
        key = f"submission:{submission.id}"
        got = {amount: n for (k, amount), n in entries.items() if k == key}
        if submission.status == SubmissionStatus.APPROVED:
            assert submission.points_awarded == plan["points"]
            assert got == {plan["points"]: 1}
        else:
            assert got == {}
    # the balance equals the sum of the ledger
    for balance, total in books.balances().values():
        assert balance == total


def _expect_submit(plan: dict, model: dict[int, dict], who: int, now: datetime) -> bool:
    active = [m for m in model.values() if m["status"] in ACTIVE]
    if plan["cap"] is not None and len(active) >= plan["cap"]:
        return False
    mine = [m for m in active if m["who"] == who]
    if plan["limit_kind"] == LimitKind.PER_PERIOD:
        return not any(same_period(MONTH, m["at"], now) for m in mine)
    return len(mine) < _limit_of(plan)


def _attempt(session, act):
    """Run one action: commit what it did, or roll back a refusal and return it."""
    try:
        done = act()
    except DomainError as refusal:
        session.rollback()
        return None, refusal
    session.commit()
    return done, None


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans())
def test_random_submit_withdraw_review_sequences_keep_the_books(session, make, plan):
    session.rollback()  # a clean start even after a failed example
    manager = make.user(Role.MANAGER, password=None)
    challenge = make.challenge(
        "social_share",
        manager=manager,
        cap=plan["cap"],
        limit_kind=plan["limit_kind"],
        limit_count=plan["limit_count"],
        limit_period=MONTH,
        approval=plan["approval"],
        points=plan["points"],
    )
    advocates = [_advocate(make) for _ in range(plan["advocates"])]
    books = Books(session, challenge.id, [a.id for a in advocates])
    model: dict[int, dict] = {}  # submission id -> who, status, created at
    clock = challenge.starts_at + timedelta(minutes=1)
    pending, approved = SubmissionStatus.PENDING, SubmissionStatus.APPROVED

    for step in plan["actions"]:
        verb = step[0]
        if verb == "tick":
            clock += timedelta(days=step[1])
            continue
        ids = sorted(model)
        if verb == "submit":
            who = step[1]
            expected = _expect_submit(plan, model, who, clock)
            act = partial(
                services.submit,
                session,
                SETTINGS,
                advocates[who],
                challenge.id,
                EVIDENCE["social_share"],
                now=clock,
            )
        elif verb in ("withdraw", "withdraw_other"):
            who, pick = step[1], step[2]
            if verb == "withdraw":
                choices = [i for i in ids if model[i]["who"] == who]
            else:
                choices = [i for i in ids if model[i]["who"] != who]
            if not choices:
                continue
            target = choices[pick % len(choices)]
            expected = verb == "withdraw" and model[target]["status"] == pending
            act = partial(services.withdraw, session, advocates[who], target)
        else:
            if not ids:
                continue
            target = ids[step[1] % len(ids)]
            expected = model[target]["status"] == pending
            if verb == "approve":
                act = partial(services.approve, session, SETTINGS, manager, target)
            else:
                act = partial(services.reject, session, SETTINGS, manager, target, "Not public.")

        before = books.snapshot()
        done, refusal = _attempt(session, act)
        event(f"{verb}: {'refused' if refusal else 'done'}")
        if refusal is not None:
            assert not expected, f"{step} was refused: {refusal.message}"
            if verb == "withdraw_other":
                assert isinstance(refusal, NotFound)
            assert books.snapshot() == before, f"refused {step} changed the books"
        else:
            assert expected, f"{step} should have been refused"
            if verb == "submit":
                status = approved if plan["approval"] == "auto" else pending
                model[done.id] = {"who": step[1], "status": status, "at": clock}
            else:
                model[target]["status"] = {
                    "withdraw": SubmissionStatus.WITHDRAWN,
                    "approve": approved,
                    "reject": SubmissionStatus.REJECTED,
                }[verb]
        _check_books(books, plan, model, advocates)
