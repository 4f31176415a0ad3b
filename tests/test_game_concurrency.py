"""The game's races fired at PostgreSQL: real requests (and, for a time-zone change, real
service calls) released together by a barrier.

Each test checks what people were answered (never a 500, never a deadlock) and what the
race left behind: period totals equal to the ledger, ranks a strict order, a level or
badge recorded once, the earning cap kept.
"""

import pytest
from sqlalchemy import func, select

from challenges.badges import ensure_default_badges
from challenges.models import Submission
from points import redemptions as flow
from points.leaderboard import (
    current_periods,
    score_count_differences,
    standing,
    top,
    totals_differences,
)
from points.levels import ensure_default_levels
from points.models import BadgeAward, Level, LevelReached, PeriodTotal, PointsBalance
from points.services import reconcile
from points.settings import GameChoices, update_game_settings
from portal.models import OutboxMessage
from tests.factories import SETTINGS, period_rows
from tests.test_challenge_concurrency import codes_of, ledger_sum
from tests.test_concurrency import logged_in, race

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("postgres_only")]

APPROVE = {"approve": "y", "reason": ""}


@pytest.fixture
def game(session):
    ensure_default_levels(session)
    ensure_default_badges(session)
    session.commit()


def approve_all(app, make, submissions):
    """One manager per submission, all approving at the same moment."""
    managers = [make.manager() for _ in submissions]
    return race(
        logged_in(app, [m.email for m in managers]),
        lambda client, i: client.post(f"/manage/review/{submissions[i].id}", data=APPROVE),
    )


def books_agree(session) -> None:
    session.expire_all()
    assert totals_differences(session) == []
    assert score_count_differences(session) == []
    assert reconcile(session) == []


def test_approvals_for_advocates_racing_for_the_same_rank_leave_a_strict_order(
    app, make, session, game
):
    challenge = make.challenge("review", approval="manual", points=250)
    advocates = make.many_advocates(8)
    submissions = [make.submission(challenge, advocate) for advocate in advocates]

    answers = approve_all(app, make, submissions)

    assert codes_of(answers) == [302] * 8
    books_agree(session)
    month = current_periods(session)["month"]
    for period in ("all", month):
        places = top(session, period, limit=20)
        assert [p.rank for p in places] == list(range(1, 9))
        assert {p.advocate.id for p in places} == {a.id for a in advocates}
        assert all(p.points == 250 for p in places)
        # the tie goes to whoever was booked first, then the lower id: no two alike
        order = [(p.reached_at, p.advocate.id) for p in places]
        assert order == sorted(order)
        ranks = sorted(standing(session, a.id, period).rank for a in advocates)
        assert ranks == list(range(1, 9))


@pytest.mark.parametrize("points", [300, 0])
def test_many_approvals_for_one_advocate_at_once_record_levels_and_badges_once(
    app, make, session, game, points
):
    advocate = make.advocate()
    challenges = [make.challenge("review", approval="manual", points=points) for _ in range(8)]
    submissions = [make.submission(challenge, advocate) for challenge in challenges]

    answers = approve_all(app, make, submissions)

    assert codes_of(answers) == [302] * 8
    session.expire_all()
    badges = session.execute(
        select(BadgeAward.badge_id, func.count())
        .where(BadgeAward.advocate_id == advocate.id)
        .group_by(BadgeAward.badge_id)
    ).all()
    assert sorted(n for _, n in badges) == [1, 1]  # First step and Reviewer, once each
    levels = session.scalars(
        select(Level.name)
        .join(LevelReached, LevelReached.level_id == Level.id)
        .where(LevelReached.advocate_id == advocate.id)
        .order_by(Level.threshold)
    ).all()
    assert levels == (["Contributor", "Champion"] if points else [])
    emails = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.kind == "level_reached", OutboxMessage.to_email == advocate.email)
    )
    assert emails == len(levels)  # each level announced once, when it was reached
    assert ledger_sum(session, advocate.id) == 8 * points
    assert period_rows(session, advocate.id).get((advocate.id, "all"), (0,))[0] == 8 * points
    books_agree(session)


@pytest.mark.parametrize("round_", range(3))
def test_a_refund_during_an_approval_leaves_totals_equal_to_the_ledger(
    app, make, session, game, round_
):
    advocate, admin, manager = make.advocate(), make.admin(), make.manager()
    make.points(advocate, 1_000)
    redemption = make.redemption(advocate, make.reward(cost=300))
    flow.fulfil_redemption(session, SETTINGS, admin, redemption.id, "CODE-1")
    session.commit()
    submission = make.submission(make.challenge("review", approval="manual", points=120), advocate)
    requests = [
        (admin, f"/admin/redemptions/{redemption.id}/refund", {"refund-reason": "Lost"}),
        (manager, f"/manage/review/{submission.id}", APPROVE),
    ]
    if round_ % 2:
        requests.reverse()

    answers = race(
        logged_in(app, [who.email for who, _, _ in requests]),
        lambda client, i: client.post(requests[i][1], data=requests[i][2]),
    )

    assert codes_of(answers) == [302, 302]
    session.expire_all()
    row = session.get(PointsBalance, advocate.id)
    assert (row.balance, row.held, row.lifetime_earned) == (1_120, 0, 1_120)
    assert period_rows(session, advocate.id)[advocate.id, "all"][0] == 1_120
    books_agree(session)


@pytest.mark.parametrize("racers", [2, 4])
def test_approvals_racing_past_the_earning_cap_never_award_more_than_it(
    app, make, session, game, racers
):
    admin, advocate = make.admin(), make.advocate()
    update_game_settings(session, admin, GameChoices("UTC", True, True, None, 500, "month"))
    session.commit()
    challenges = [make.challenge("review", approval="manual", points=300) for _ in range(racers)]
    submissions = [make.submission(challenge, advocate) for challenge in challenges]

    answers = approve_all(app, make, submissions)

    assert codes_of(answers) == [302] * racers  # every completion is approved
    session.expire_all()
    awarded = sorted(
        session.scalars(
            select(Submission.points_awarded).where(Submission.advocate_id == advocate.id)
        )
    )
    assert sum(awarded) == 500
    assert awarded[-2:] == [200, 300]
    assert ledger_sum(session, advocate.id) == 500
    month = current_periods(session)["month"]
    assert session.get(PeriodTotal, (advocate.id, month)).points == 500
    books_agree(session)


@pytest.mark.parametrize("round_", range(3))
def test_hiding_from_the_board_during_approvals_does_not_deadlock(app, make, session, game, round_):
    advocate = make.advocate()
    make.points(advocate, 100)  # the totals rows exist: hiding updates them
    challenges = [make.challenge("review", approval="manual", points=50) for _ in range(4)]
    submissions = [make.submission(challenge, advocate) for challenge in challenges]
    managers = [make.manager() for _ in submissions]
    clients = logged_in(app, [advocate.email] + [m.email for m in managers])

    def request(client, i):
        if i == 0:
            return client.post(
                "/hub/profile", data={"name": "Hidden", "hide_from_leaderboard": "y"}
            )
        return client.post(f"/manage/review/{submissions[i - 1].id}", data=APPROVE)

    answers = race(clients, request)

    assert codes_of(answers) == [302] * 5
    rows = period_rows(session, advocate.id)
    assert rows[advocate.id, "all"][0] == 300
    assert not any(listed for _, _, listed in rows.values())
    books_agree(session)


def test_a_time_zone_change_during_approvals_leaves_totals_equal_to_the_ledger(
    app, make, session, game
):
    admin = make.admin()
    challenge = make.challenge("review", approval="manual", points=70)
    advocates = make.many_advocates(6)
    for advocate in advocates[::2]:  # the others' approvals make new totals rows
        make.points(advocate, 10)
    submissions = [make.submission(challenge, advocate) for advocate in advocates]
    managers = [make.manager() for _ in submissions]
    clients = logged_in(app, [admin.email] + [m.email for m in managers])
    sessions = app.extensions["vouch.sessionmaker"]

    def request(client, i):
        if i:
            return client.post(f"/manage/review/{submissions[i - 1].id}", data=APPROVE)
        with sessions() as own:
            update_game_settings(
                own, admin, GameChoices("Asia/Kolkata", True, True, None, None, "month")
            )
            own.commit()
        return True

    answers = race(clients, request)

    assert answers[0] is True
    assert codes_of(answers[1:]) == [302] * 6
    books_agree(session)
    alls = [period_rows(session, a.id)[a.id, "all"][0] for a in advocates]
    assert alls == [80, 70] * 3
