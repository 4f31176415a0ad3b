"""Property tests for the game's books: random sequences of approvals (under a random
earning cap), awards booked either side of local midnight, staff adjustments either way,
redemptions (fulfilled, cancelled, refunded), expiry, hiding from boards and rebuilds, in a
random program time zone, through the real services.

After every step: the period totals equal the ledger's sums per period, reconcile finds
nothing, a rebuild would change nothing, the board is a strict order (points, then who got
there first) that agrees with each advocate's own standing, no level is ever lost (a
redemption never lowers one), and approvals never earn more than the cap. Runs on SQLite
and (with TEST_DATABASE_URL) PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from challenges import services
from challenges.badges import ensure_default_badges
from challenges.models import LimitKind, Submission, SubmissionStatus
from points import redemptions as flow
from points.leaderboard import (
    current_periods,
    rebuild_totals,
    score_count_differences,
    standing,
    top,
    totals_differences,
)
from points.levels import all_levels, ensure_default_levels, progress
from points.models import EntrySource, LevelReached, PeriodTotal, RedemptionStatus
from points.program import period_keys
from points.services import adjust, award, balance_of, reconcile
from points.settings import GameChoices, update_game_settings
from portal.accounts.models import Role
from portal.auth.services import opt_in
from portal.errors import DomainError
from tests.factories import EVIDENCE, SETTINGS, book_at, expire_points, period_rows

ZONES = ("UTC", "America/Los_Angeles", "Asia/Kolkata")
ADVOCATES = 3
_keys = itertools.count(1)
who = st.integers(0, ADVOCATES - 1)
actions = st.one_of(
    st.tuples(st.just("approve"), who),
    st.tuples(st.just("award"), who, st.integers(1, 900)),
    # an entry at a local month's first midnight, give or take a few seconds
    st.tuples(
        st.just("award_at"), who, st.integers(1, 400), st.integers(0, 13), st.integers(-3, 3)
    ),
    st.tuples(st.just("adjust"), who, st.integers(-600, 600).filter(bool)),
    # a redemption left open, or fulfilled, or fulfilled and then refunded
    st.tuples(
        st.just("redeem"),
        who,
        st.sampled_from([100, 300, 700]),
        st.sampled_from(["open", "fulfil", "refund"]),
    ),
    st.tuples(st.just("fulfil"), st.integers(0, 50)),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("refund"), st.integers(0, 50)),
    st.tuples(st.just("expire"), who, st.integers(1, 500)),
    st.tuples(st.just("hide"), who),
    st.tuples(
        st.just("rebuild"),
    ),
)
plans = st.fixed_dictionaries(
    {
        "zone": st.sampled_from(ZONES),
        "cap": st.one_of(st.none(), st.integers(200, 1_500)),
        "points": st.sampled_from([150, 400, 1_100]),
        "actions": st.lists(actions, min_size=1, max_size=18),
    }
)


def local_month_start(zone: str, months_after: int, seconds: int) -> datetime:
    """Midnight on the first of a month (from October 2026) in `zone`, in UTC, +- seconds."""
    year, month = divmod(9 + months_after, 12)
    start = datetime(2026 + year, month + 1, 1, tzinfo=ZoneInfo(zone))
    return start.astimezone(UTC) + timedelta(seconds=seconds)


def _attempt(session, act) -> DomainError | None:
    """Run one step like a request: commit it, or roll back a refusal and return it."""
    try:
        act()
    except DomainError as refusal:
        session.rollback()
        return refusal
    session.commit()
    return None


def _check_boards(session, advocates, periods) -> None:
    listed_ids = {a.id for a in advocates if not a.hide_from_leaderboard}
    for period in periods:
        places = top(session, period, limit=1_000)
        assert [p.rank for p in places] == list(range(1, len(places) + 1))
        order = [(-p.points, p.reached_at, p.advocate.id) for p in places]
        assert order == sorted(order) and len(set(order)) == len(order), period
        assert all(p.points > 0 for p in places)
        for place in places:
            assert standing(session, place.advocate.id, period).rank == place.rank
        ours = {p.advocate.id for p in places} & {a.id for a in advocates}
        scored = {
            a.id
            for a in advocates
            if (session.get(PeriodTotal, (a.id, period)) or PeriodTotal(points=0)).points > 0
        }
        assert ours == scored & listed_ids, period
        for advocate in advocates:  # a hidden advocate sees where they would stand
            mine = standing(session, advocate.id, period)
            if advocate.id in scored and advocate.id not in listed_ids:
                me = (-mine.points, _at(session, advocate.id, period), advocate.id)
                ahead = [p for p in places if (-p.points, p.reached_at, p.advocate.id) < me]
                assert mine.rank == len(ahead) + 1
                assert not mine.listed


def _at(session, advocate_id: int, period: str):
    return session.get(PeriodTotal, (advocate_id, period)).reached_at


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans)
def test_random_game_sequences_keep_totals_levels_and_boards_true(session, make, plan):
    session.rollback()  # a clean start even after a failed example
    admin = make.user(Role.ADMIN, password=None)
    manager = make.user(Role.MANAGER, password=None)
    ensure_default_levels(session)
    ensure_default_badges(session)
    update_game_settings(
        session, admin, GameChoices(plan["zone"], True, True, None, plan["cap"], "month")
    )
    session.commit()
    challenge = make.challenge(
        "social_share",
        manager=manager,
        approval="manual",
        points=plan["points"],
        limit_kind=LimitKind.TIMES,
        limit_count=50,
    )
    advocates = []
    for _ in range(ADVOCATES):
        advocate = make.user(Role.ADVOCATE, account=make.account(), password=None)
        opt_in(session, SETTINGS, advocate)
        # points from earlier in the year, so redemptions have something to spend
        book_at(session, advocate, 1_000, datetime(2026, 1, 15, tzinfo=UTC))
        advocates.append(advocate)
    session.commit()
    rewards = {cost: make.reward(cost=cost) for cost in (100, 300, 700)}
    redemptions: list[int] = []
    best_level = defaultdict(int)  # advocate -> highest level threshold ever reached
    approved_this_month = defaultdict(int)  # advocate -> points approvals gave this month

    for step in plan["actions"]:
        verb = step[0]
        if verb == "approve":
            advocate = advocates[step[1]]

            def act(advocate=advocate):
                made = services.submit(
                    session, SETTINGS, advocate, challenge.id, EVIDENCE["social_share"]
                )
                services.approve(session, SETTINGS, manager, made.id)
                approved_this_month[advocate.id] += made.points_awarded or 0
        elif verb == "award":

            def act(advocate=advocates[step[1]], amount=step[2]):
                award(session, advocate, amount, f"prop:{next(_keys)}", EntrySource.SUBMISSION)
        elif verb == "award_at":
            when = local_month_start(plan["zone"], step[3], step[4])

            def act(advocate=advocates[step[1]], amount=step[2], when=when):
                book_at(session, advocate, amount, when)
        elif verb == "adjust":

            def act(advocate=advocates[step[1]], amount=step[2]):
                adjust(session, admin, advocate, amount, "Correction", f"prop:{next(_keys)}")
        elif verb == "redeem":

            def act(advocate=advocates[step[1]], cost=step[2], then=step[3]):
                made = flow.redeem(
                    session, SETTINGS, advocate, rewards[cost].id, f"prop:{next(_keys)}"
                )
                if made.status == RedemptionStatus.REQUESTED:
                    flow.approve_redemption(session, SETTINGS, admin, made.id)
                if then != "open":
                    flow.fulfil_redemption(session, SETTINGS, admin, made.id, "CODE")
                if then == "refund":
                    flow.refund_redemption(session, SETTINGS, admin, made.id, "Never arrived")
                redemptions.append(made.id)
        elif verb in ("fulfil", "cancel", "refund"):
            if not redemptions:
                continue
            target = redemptions[step[1] % len(redemptions)]
            act = {
                "fulfil": lambda t=target: flow.fulfil_redemption(
                    session, SETTINGS, admin, t, "CODE"
                ),
                "cancel": lambda t=target: flow.cancel_redemption(
                    session, SETTINGS, admin, t, "Out of stock"
                ),
                "refund": lambda t=target: flow.refund_redemption(
                    session, SETTINGS, admin, t, "Never arrived"
                ),
            }[verb]
        elif verb == "expire":
            advocate = advocates[step[1]]
            session.expire_all()
            amount = min(step[2], balance_of(session, advocate.id).available)
            if amount <= 0:
                continue

            def act(advocate=advocate, amount=amount):
                expire_points(session, advocate, amount)
        elif verb == "hide":

            def act(advocate=advocates[step[1]]):
                advocate.hide_from_leaderboard = not advocate.hide_from_leaderboard
                session.flush()
        else:
            before = period_rows(session)
            act = lambda: rebuild_totals(session)  # noqa: E731

        refusal = _attempt(session, act)
        event(f"{verb}: {'refused' if refusal else 'done'}")
        if verb == "rebuild":
            assert period_rows(session) == before, "a rebuild changed the live totals"

        session.expire_all()
        assert totals_differences(session) == []
        assert score_count_differences(session) == []
        assert reconcile(session) == []
        levels = all_levels(session)
        for advocate in advocates:
            lifetime = balance_of(session, advocate.id).lifetime_earned
            level = progress(levels, lifetime).level
            assert level.threshold >= best_level[advocate.id], f"{verb} lowered a level"
            best_level[advocate.id] = level.threshold
            recorded = session.scalars(
                select(LevelReached.level_id).where(LevelReached.advocate_id == advocate.id)
            ).all()
            thresholds = {lv.id: lv.threshold for lv in levels}
            assert all(thresholds[i] <= lifetime for i in recorded)  # never ahead of points
            if plan["cap"] is not None:
                assert approved_this_month[advocate.id] <= plan["cap"]
        _check_boards(session, advocates, ("all", *current_periods(session).values()))

    # approvals counted once each: the ledger's submission entries match the approvals
    session.expire_all()
    approved = session.scalar(
        select(func.count())
        .select_from(Submission)
        .where(
            Submission.challenge_id == challenge.id, Submission.status == SubmissionStatus.APPROVED
        )
    )
    assert approved == sum(1 for s in plan["actions"] if s[0] == "approve")


def test_the_month_start_helper_is_local_midnight():
    start = local_month_start("Asia/Kolkata", 3, 0)  # 1 January 2027, 00:00 IST
    assert start == datetime(2026, 12, 31, 18, 30, tzinfo=UTC)
    assert period_keys(start, "Asia/Kolkata")["month"] == "2027-01"
    assert period_keys(start - timedelta(seconds=1), "Asia/Kolkata")["month"] == "2026-12"
