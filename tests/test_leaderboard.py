"""Leaderboards from stored period totals: what counts toward a score and what does not,
the order of a board and its ties, one advocate's standing, who is listed, boards among a
segment or a group, the program's calendar, and the totals always agreeing with the ledger
(live, rebuilt, and backfilled by migration 0005)."""

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from challenges.models import AdvocateGroup, group_members
from points import redemptions as flow
from points.leaderboard import (
    TotalDifference,
    add_to_totals,
    current_periods,
    expected_totals,
    listed_count,
    rebuild_totals,
    segment_advocates,
    standing,
    top,
    totals_differences,
)
from points.models import EntrySource, PeriodTotal, PointsBalance
from points.program import period_keys
from points.services import adjust, balance_of, reconcile
from points.settings import GameChoices, update_game_settings
from portal.accounts.models import User
from portal.accounts.services import set_active
from portal.auth.services import opt_in, opt_out
from portal.cli import alembic_config
from portal.db import make_engine
from tests.factories import SETTINGS, book_at, client_for, expire_points, period_rows

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def scores(session, advocate_id: int) -> dict[str, int]:
    return {
        period: points for (_, period), (points, _, _) in period_rows(session, advocate_id).items()
    }


def board(session, period: str = "all", **options) -> list[tuple[int, int, int]]:
    session.expire_all()
    return [(p.rank, p.advocate.id, p.points) for p in top(session, period, **options)]


def in_zone(session, admin, zone: str) -> None:
    update_game_settings(session, admin, GameChoices(zone, True, True, None, None, "month"))
    session.commit()


def books_agree(session) -> None:
    session.expire_all()
    assert totals_differences(session) == []
    assert reconcile(session) == []


# --- what counts toward a score -------------------------------------------------------------


def test_approvals_and_adjustments_count_in_this_month_quarter_and_all_time(make, session):
    advocate, admin = make.advocate(), make.admin()
    survey = make.challenge("survey", points=120)  # approved as soon as it is answered
    make.submission(survey, advocate)
    adjust(session, admin, advocate, 30, "Spoke at the user group", "adjust:1")
    adjust(session, admin, advocate, -50, "Booked twice by mistake", "adjust:2")
    session.commit()

    now = current_periods(session)
    assert scores(session, advocate.id) == {now["all"]: 100, now["month"]: 100, now["quarter"]: 100}
    assert standing(session, advocate.id, now["month"]).points == 100
    books_agree(session)


def test_a_negative_adjustment_reduces_the_period_it_is_booked_in(make, session):
    advocate = make.advocate()
    book_at(session, advocate, 300, T0)  # November
    book_at(session, advocate, -100, T0 + timedelta(days=25), EntrySource.ADJUSTMENT)  # December
    book_at(session, advocate, 80, T0 + timedelta(days=60))  # January, next quarter
    session.commit()

    assert scores(session, advocate.id) == {
        "2026-11": 300,
        "2026-12": -100,
        "2026-Q4": 200,
        "2027-01": 80,
        "2027-Q1": 80,
        "all": 280,
    }
    # a score below zero is no place on the board
    assert board(session, "2026-12") == []
    assert standing(session, advocate.id, "2026-12").rank is None
    books_agree(session)


def test_redeeming_refunds_and_expiry_never_change_a_score(make, session):
    advocate, admin = make.advocate(), make.admin()
    make.points(advocate, 1_000)
    before = period_rows(session, advocate.id)

    gift = make.reward(cost=300)  # below the auto-approval threshold: approved at once
    fulfilled = make.redemption(advocate, gift)
    flow.fulfil_redemption(session, SETTINGS, admin, fulfilled.id, "CODE-1234")
    session.commit()
    flow.refund_redemption(session, SETTINGS, admin, fulfilled.id, "The code did not work")
    session.commit()
    cancelled = make.redemption(advocate, make.reward(cost=200))
    flow.cancel_redemption(session, SETTINGS, advocate, cancelled.id)
    session.commit()
    expire_points(session, advocate, 250)
    session.commit()

    assert period_rows(session, advocate.id) == before
    session.expire_all()
    books = balance_of(session, advocate.id)
    assert (books.balance, books.held, books.lifetime_earned) == (750, 0, 1_000)
    books_agree(session)


# --- the order of a board -------------------------------------------------------------------


def test_the_board_is_by_points_and_ties_go_to_whoever_got_there_first(make, session):
    first, second, third, fourth, fifth = make.many_advocates(5)
    book_at(session, third, 100, T0 + timedelta(minutes=1))
    book_at(session, second, 100, T0)
    book_at(session, first, 150, T0 + timedelta(minutes=9))
    book_at(session, fourth, 60, T0 + timedelta(minutes=2))
    book_at(session, fourth, 40, T0 + timedelta(minutes=5))  # 100, reached last
    book_at(session, fifth, 100, T0)  # the same moment as `second`: the older account first
    session.commit()

    expected = [
        (1, first.id, 150),
        (2, second.id, 100),
        (3, fifth.id, 100),
        (4, third.id, 100),
        (5, fourth.id, 100),
    ]
    assert board(session, "2026-11") == expected
    assert board(session, "all", limit=2, offset=2) == expected[2:4]
    # each advocate's own rank agrees with the board
    for rank, advocate_id, _points in expected:
        assert standing(session, advocate_id, "all").rank == rank
    # the same order after the totals are rebuilt from the ledger
    rebuild_totals(session)
    session.commit()
    assert board(session, "2026-11") == expected


def test_overtaking_moves_an_advocate_up_at_once(make, session):
    leader, chaser = make.many_advocates(2)
    make.points(leader, 200)
    make.points(chaser, 150)
    assert board(session)[0][1] == leader.id
    gap = standing(session, chaser.id, "all")
    assert (gap.rank, gap.ahead_points, gap.to_move_up) == (2, 200, 51)

    make.points(chaser, 50)  # level on points, but the leader got there first
    assert [row[1] for row in board(session)] == [leader.id, chaser.id]
    make.points(chaser, 1)
    assert [row[1] for row in board(session)] == [chaser.id, leader.id]


def test_my_standing_outside_the_top_ten_and_the_gap_to_the_next_place(make, session):
    advocates = make.many_advocates(16)
    for number, advocate in enumerate(advocates[:15]):
        make.points(advocate, 1_500 - 100 * number)  # 1,500, 1,400 ... 100
    make.points(advocates[15], 300)  # level with the 13th, who got there first
    period = current_periods(session)["month"]

    assert len(top(session, period)) == 10
    assert listed_count(session, period) == 16
    thirteenth = standing(session, advocates[12].id, period)
    assert (thirteenth.points, thirteenth.rank, thirteenth.ahead_points) == (300, 13, 400)
    assert thirteenth.to_move_up == 101
    level = standing(session, advocates[15].id, period)
    assert (level.points, level.rank, level.ahead_points, level.to_move_up) == (300, 14, 300, 1)
    last = standing(session, advocates[14].id, period)
    assert (last.rank, last.ahead_points) == (16, 200)
    leader = standing(session, advocates[0].id, period)
    assert (leader.rank, leader.ahead_points, leader.to_move_up) == (1, None, None)

    newcomer = make.advocate()
    nothing_yet = standing(session, newcomer.id, period)
    assert (nothing_yet.points, nothing_yet.rank) == (0, None)
    assert (nothing_yet.ahead_points, nothing_yet.to_move_up) == (100, 101)


# --- who is listed ----------------------------------------------------------------------------


def test_a_hidden_advocate_still_sees_their_rank_but_no_one_else_sees_them(app, make, session):
    ahead, hiding, behind = make.advocate(), make.advocate(), make.advocate()
    for advocate, points in ((ahead, 300), (hiding, 200), (behind, 100)):
        make.points(advocate, points)
    browser = client_for(app, hiding.email)

    saved = browser.post(
        "/hub/profile", data={"name": "Hana", "hide_from_leaderboard": "y"}, follow_redirects=True
    )
    assert "Profile saved." in saved.get_data(as_text=True)

    assert board(session) == [(1, ahead.id, 300), (2, behind.id, 100)]
    assert listed_count(session, "all") == 2
    mine = standing(session, hiding.id, "all")
    assert (mine.rank, mine.points, mine.ahead_points, mine.listed) == (2, 200, 300, False)
    assert standing(session, behind.id, "all").rank == 2
    # points earned while hidden stay off the board too
    make.points(hiding, 500)
    assert [row[1] for row in board(session)] == [ahead.id, behind.id]
    assert standing(session, hiding.id, "all").rank == 1

    shy = make.advocate()  # hidden before scoring anything
    shy.hide_from_leaderboard = True
    session.commit()
    assert standing(session, shy.id, "all").listed is False
    assert standing(session, ahead.id, "2031-01").listed is True  # no score that month

    browser.post("/hub/profile", data={"name": "Hana"})
    assert board(session) == [(1, hiding.id, 700), (2, ahead.id, 300), (3, behind.id, 100)]


def test_leaving_the_program_or_being_deactivated_takes_an_advocate_off_at_once(app, make, session):
    leaving, deactivated, staying = make.advocate(), make.advocate(), make.advocate()
    for advocate in (leaving, deactivated, staying):
        make.points(advocate, 100)
    assert listed_count(session, "all") == 3

    left = client_for(app, leaving.email).post("/hub/leave", data={"confirm": "y"})
    assert left.status_code == 302
    set_active(session, make.admin(), deactivated.id, False)
    session.commit()

    assert [row[1] for row in board(session)] == [staying.id]
    assert not any(listed for _, _, listed in period_rows(session, leaving.id).values())
    assert not any(listed for _, _, listed in period_rows(session, deactivated.id).values())
    assert listed_count(session, current_periods(session)["month"]) == 1
    books_agree(session)

    session.expire_all()
    opt_in(session, SETTINGS, session.get(User, leaving.id))
    session.commit()
    assert sorted(row[1] for row in board(session)) == sorted([leaving.id, staying.id])


def test_opting_out_in_a_service_call_unlists_in_the_same_transaction(make, session):
    advocate = make.advocate()
    make.points(advocate, 100)
    opt_out(session, advocate)  # flushed, not committed: the listener already ran
    assert board(session) == []
    session.rollback()
    assert board(session) == [(1, advocate.id, 100)]


# --- boards among some advocates ------------------------------------------------------------


def test_boards_among_an_account_segment(make, session):
    big = make.account(segment="Enterprise")
    small = make.account(segment="SMB")
    e1, e2 = make.many_advocates(2, account=big)
    (s1,) = make.many_advocates(1, account=small)
    for advocate, points in ((e1, 100), (s1, 300), (e2, 200)):
        make.points(advocate, points)
    enterprise = segment_advocates("enterprise")

    assert board(session, among=enterprise) == [(1, e2.id, 200), (2, e1.id, 100)]
    assert listed_count(session, "all", among=enterprise) == 2
    mine = standing(session, e1.id, "all", among=enterprise)
    assert (mine.rank, mine.ahead_points) == (2, 200)
    assert standing(session, e1.id, "all").rank == 3  # overall
    assert board(session, among=segment_advocates("Mid-market")) == []


def test_boards_among_a_group_of_advocates(make, session):
    a, b, c, d = make.many_advocates(4)
    for advocate, points in ((a, 400), (b, 300), (c, 200), (d, 100)):
        make.points(advocate, points)
    group = AdvocateGroup(name="Design partners")
    session.add(group)
    session.flush()
    session.execute(
        insert(group_members), [{"group_id": group.id, "user_id": u.id} for u in (b, d)]
    )
    session.commit()
    members = User.id.in_(
        select(group_members.c.user_id).where(group_members.c.group_id == group.id)
    )

    assert board(session, among=members) == [(1, b.id, 300), (2, d.id, 100)]
    assert standing(session, d.id, "all", among=members).rank == 2
    assert standing(session, d.id, "all").rank == 4


# --- the program's calendar -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "zone", "month", "quarter"),
    [
        # Los Angeles, winter (UTC-8): midnight on 1 December is 08:00 UTC
        (datetime(2026, 12, 1, 7, 59, 59, tzinfo=UTC), "America/Los_Angeles", "2026-11", "2026-Q4"),
        (datetime(2026, 12, 1, 8, 0, tzinfo=UTC), "America/Los_Angeles", "2026-12", "2026-Q4"),
        (datetime(2027, 1, 1, 7, 59, 59, tzinfo=UTC), "America/Los_Angeles", "2026-12", "2026-Q4"),
        (datetime(2027, 1, 1, 8, 0, tzinfo=UTC), "America/Los_Angeles", "2027-01", "2027-Q1"),
        # Los Angeles, summer (UTC-7)
        (datetime(2026, 7, 1, 6, 59, 59, tzinfo=UTC), "America/Los_Angeles", "2026-06", "2026-Q2"),
        (datetime(2026, 7, 1, 7, 0, tzinfo=UTC), "America/Los_Angeles", "2026-07", "2026-Q3"),
        # Kolkata (UTC+5:30): the new year begins at 18:30 UTC on 31 December
        (datetime(2026, 12, 31, 18, 29, 59, tzinfo=UTC), "Asia/Kolkata", "2026-12", "2026-Q4"),
        (datetime(2026, 12, 31, 18, 30, tzinfo=UTC), "Asia/Kolkata", "2027-01", "2027-Q1"),
        (datetime(2026, 9, 30, 18, 30, tzinfo=UTC), "Asia/Kolkata", "2026-10", "2026-Q4"),
        (datetime(2026, 9, 30, 23, 0, tzinfo=UTC), "UTC", "2026-09", "2026-Q3"),
        (datetime(2026, 9, 30, 23, 0, tzinfo=UTC), "Not/AZone", "2026-09", "2026-Q3"),
    ],
)
def test_periods_roll_over_at_midnight_in_the_programs_time_zone(moment, zone, month, quarter):
    assert period_keys(moment, zone) == {"all": "all", "month": month, "quarter": quarter}


BOUNDARIES = {
    # (entry time, points): either side of local midnight in Los Angeles and Kolkata
    "America/Los_Angeles": [
        (datetime(2026, 9, 30, 23, 0, tzinfo=UTC), 10),  # 30 Sep 16:00 local: Q3
        (datetime(2026, 10, 1, 6, 59, 59, tzinfo=UTC), 20),  # still 30 Sep local
        (datetime(2026, 10, 1, 7, 0, tzinfo=UTC), 40),  # 1 Oct local: Q4
        (datetime(2026, 12, 1, 7, 59, 59, 999999, tzinfo=UTC), 80),  # 30 Nov local
        (datetime(2026, 12, 1, 8, 0, tzinfo=UTC), 160),  # 1 Dec local
    ],
    "Asia/Kolkata": [
        (datetime(2026, 9, 30, 18, 29, 59, tzinfo=UTC), 10),  # 30 Sep 23:59 local
        (datetime(2026, 9, 30, 18, 30, tzinfo=UTC), 20),  # 1 Oct 00:00 local
        (datetime(2026, 11, 30, 18, 30, tzinfo=UTC), 40),  # 1 Dec 00:00 local
        (datetime(2026, 12, 31, 18, 29, 59, tzinfo=UTC), 80),  # 31 Dec local
        (datetime(2026, 12, 31, 18, 30, tzinfo=UTC), 160),  # 1 Jan local
    ],
}
EXPECTED = {
    "America/Los_Angeles": {
        "2026-09": 30,
        "2026-Q3": 30,
        "2026-10": 40,
        "2026-11": 80,
        "2026-12": 160,
        "2026-Q4": 280,
        "all": 310,
    },
    "Asia/Kolkata": {
        "2026-09": 10,
        "2026-Q3": 10,
        "2026-10": 20,
        "2026-12": 120,
        "2026-Q4": 140,
        "2027-01": 160,
        "2027-Q1": 160,
        "all": 310,
    },
}


@pytest.mark.parametrize("zone", sorted(BOUNDARIES))
def test_live_and_rebuilt_totals_agree_at_local_midnight(make, session, zone):
    in_zone(session, make.admin(), zone)
    advocate = make.advocate()
    for when, points in BOUNDARIES[zone]:
        book_at(session, advocate, points, when)
    session.commit()

    assert scores(session, advocate.id) == EXPECTED[zone]
    assert {period: n for (_, period), n in expected_totals(session).items()} == EXPECTED[zone]
    live = period_rows(session)
    rebuild_totals(session)
    session.commit()
    assert period_rows(session) == live  # the same points, reached_at and listing
    books_agree(session)


def test_a_new_time_zone_rebuckets_every_total(make, session):
    admin, advocate = make.admin(), make.advocate()
    for when, points in BOUNDARIES["Asia/Kolkata"]:
        book_at(session, advocate, points, when)
    session.commit()
    assert scores(session, advocate.id)["2026-11"] == 40  # on the UTC calendar

    in_zone(session, admin, "Asia/Kolkata")
    assert scores(session, advocate.id) == EXPECTED["Asia/Kolkata"]
    in_zone(session, admin, "America/Los_Angeles")
    assert scores(session, advocate.id)["2026-09"] == 30
    books_agree(session)


# --- the totals against the ledger ----------------------------------------------------------


def test_rebuilt_totals_equal_the_live_ones(make, session):
    admin = make.admin()
    listed, hidden, gone = make.advocate(), make.advocate(), make.advocate()
    for number, advocate in enumerate((listed, hidden, gone)):
        book_at(session, advocate, 100 + number, T0 - timedelta(days=40))
        book_at(session, advocate, 50, T0)
        book_at(session, advocate, -20 - number, T0 + timedelta(days=1), EntrySource.ADJUSTMENT)
        book_at(session, advocate, 75, T0 + timedelta(days=70))
    session.commit()
    make.points(listed, 35)  # and one now, through the real award
    adjust(session, admin, hidden, 12, "Hosted a meetup", "adjust:hidden")
    hidden.hide_from_leaderboard = True
    session.commit()
    opt_out(session, gone)
    session.commit()

    live = period_rows(session)
    assert rebuild_totals(session) == len(live)
    session.commit()
    assert period_rows(session) == live
    books_agree(session)


def test_the_check_catches_a_total_that_left_the_ledger(make, session):
    first, second = make.advocate(), make.advocate()
    book_at(session, first, 100, T0)
    book_at(session, second, 40, T0)
    session.commit()
    assert totals_differences(session) == []

    session.execute(
        update(PeriodTotal)
        .where(PeriodTotal.advocate_id == first.id, PeriodTotal.period == "2026-Q4")
        .values(points=PeriodTotal.points + 5)
    )
    session.execute(
        delete(PeriodTotal).where(PeriodTotal.advocate_id == second.id, PeriodTotal.period == "all")
    )
    add_to_totals(session, second, 7, T0 + timedelta(days=400))  # a period with no entries
    session.commit()

    assert totals_differences(session) == [
        TotalDifference(first.id, "2026-Q4", 105, 100),
        TotalDifference(second.id, "2027-12", 7, 0),
        TotalDifference(second.id, "2027-Q4", 7, 0),
        TotalDifference(second.id, "all", 7, 40),
    ]


def test_migration_0005_backfills_the_same_totals_rebuild_computes(tmp_path):
    """A database at 0004 with a ledger (scored and unscored entries, hidden and departed
    advocates) upgraded to 0005: its totals are the ones rebuild_totals makes."""
    url = f"sqlite:///{tmp_path / 'backfill.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0004")
    engine = make_engine(url)
    at = "2026-{}-{} {}:00:00.000000"
    entries = [  # advocate, amount, source, created_at (UTC)
        (1, 300, "submission", at.format("09", "30", "23")),
        (1, 200, "submission", at.format("10", "01", "00")),
        (1, -50, "adjustment", at.format("10", "15", "10")),
        (1, -100, "redemption_post", at.format("10", "16", "10")),
        (1, 100, "refund", at.format("10", "17", "10")),
        (2, 400, "submission", at.format("11", "30", "23")),
        (2, 25, "adjustment", at.format("12", "01", "00")),
        (2, -60, "expiry", at.format("12", "02", "00")),
        (3, 700, "submission", at.format("12", "31", "23")),
        (4, 90, "submission", at.format("12", "05", "09")),
    ]
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run(
            "INSERT INTO accounts (id, name, industry, segment, region, gift_policy, "
            "gift_policy_reason, created_at) VALUES (1, 'Northwind', '', '', '', 'allowed', '', "
            "'2026-01-01 00:00:00.000000')"
        )
        for user_id, in_program, hidden in ((1, 1, 0), (2, 1, 1), (3, 0, 0), (4, 1, 0)):
            run(
                "INSERT INTO users (id, email, name, role, account_id, title, active, "
                "session_token, declines_gifts, hide_from_leaderboard, email_digests, "
                "created_at, in_program) VALUES (?, ?, '', 'advocate', 1, '', 1, ?, 0, ?, 1, "
                "'2026-01-01 00:00:00.000000', ?)",
                (user_id, f"a{user_id}@northwind.example", f"t{user_id}", hidden, in_program),
            )
        for number, (user_id, amount, source, created_at) in enumerate(entries):
            run(
                "INSERT INTO ledger_entries (advocate_id, amount, hold_change, source, "
                "idempotency_key, note, created_at) VALUES (?, ?, 0, ?, ?, '', ?)",
                (user_id, amount, source, f"k{number}", created_at),
            )
        for user_id in (1, 2, 3, 4):
            run(
                "INSERT INTO points_balances (advocate_id, balance, held, lifetime_earned, "
                "updated_at) SELECT advocate_id, sum(amount), 0, sum(CASE WHEN source = "
                "'submission' THEN amount ELSE 0 END), '2026-12-31 00:00:00.000000' "
                "FROM ledger_entries WHERE advocate_id = ? GROUP BY advocate_id",
                (user_id,),
            )
    command.upgrade(config, "head")  # 0005 backfills; the models need the later columns too

    with Session(engine) as session:
        backfilled = period_rows(session)
        assert totals_differences(session) == []
        rebuild_totals(session)
        assert period_rows(session) == backfilled
        session.rollback()
        assert {key: row[0] for key, row in backfilled.items() if key[0] == 1} == {
            (1, "2026-09"): 300,
            (1, "2026-10"): 150,
            (1, "2026-Q3"): 300,
            (1, "2026-Q4"): 150,
            (1, "all"): 450,
        }
        listed = {advocate for (advocate, _), (_, _, shown) in backfilled.items() if shown}
        assert listed == {1, 4}  # 2 hides from boards, 3 left the program
        assert session.get(PointsBalance, 2).balance == 365
    engine.dispose()
