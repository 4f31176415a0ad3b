"""The advocate's hub as a game: level and progress, badges, the month's board with my row,
the level banner shown once, the first-visit path, rewards I can have now, profiles, the
activity feed and the program style switch."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from challenges.badges import ensure_default_badges
from challenges.models import Challenge
from challenges.services import approve
from points.levels import ensure_default_levels
from points.models import BadgeAward, GameSettings, LevelReached
from points.program import game_settings
from portal.accounts.models import ConsentRecord, GiftPolicy
from portal.db import utcnow
from tests.factories import SETTINGS, client_for, login

MY_ROW = re.compile(rb'data-testid="my-row">\s*<td class="fw-semibold">#(\d+)</td>')


@pytest.fixture
def game(session):
    """A program as the migration leaves it: default levels, one badge per rule, settings."""
    ensure_default_levels(session)
    ensure_default_badges(session)
    game_settings(session)
    session.commit()
    return session.get(GameSettings, 1)


def completed(make, session, challenge, advocate):
    """The advocate completes the challenge and a manager approves it."""
    submission = make.submission(challenge, advocate)
    if submission.status == "pending":
        approve(session, SETTINGS, make.manager(), submission.id)
        session.commit()
    return submission


def board_names(html: bytes) -> list[str]:
    return [
        name.decode()
        for name in re.findall(
            rb'data-testid="board-row"[^>]*>\s*<td[^>]*>#\d+</td>\s*<td><a [^>]*>([^<]+)</a>', html
        )
    ]


def crowd(make, count: int, top: int = 1_000) -> list:
    """`count` advocates with top, top - 1, ... points this month (the best first)."""
    people = make.many_advocates(count)
    for n, person in enumerate(people):
        make.points(person, top - n)
    return people


def test_home_shows_my_level_progress_badges_and_my_row_below_the_top_ten(
    client, make, session, game
):
    others = crowd(make, 12)
    me = make.advocate()
    completed(make, session, make.challenge("survey", title="Tell us why", points=600), me)
    login(client, me.email)

    home = client.get("/hub/")
    html = home.data
    assert b'data-testid="points-balance">600<' in html
    assert b'data-testid="points-lifetime">600<' in html
    assert b'data-testid="level-name">Contributor<' in html
    assert b"1,400 more points to Champion (600 of 2,000)." in html
    assert b'aria-valuenow="6"' in html  # (600 - 500) / (2,000 - 500)
    assert b"First step" in html  # the first completion's badge, newest first
    names = board_names(html)
    assert names == [person.display_name for person in others[:10]]
    assert MY_ROW.search(html).group(1) == b"13"
    # #12 has 989 points: 390 more takes me past them
    assert b"You are <strong>#13</strong> with 600 points." in html
    assert b"390 points to move up to #12." in html
    assert html.count(b'data-testid="board-row"') == 10
    assert b"Program activity" not in html and b'href="/hub/activity"' in html  # the nav


def test_my_row_is_in_the_top_list_when_i_am_in_the_top_ten(client, make, session, game):
    crowd(make, 3)
    me = make.advocate()
    make.points(me, 5_000)
    login(client, me.email)
    html = client.get("/hub/").data
    assert board_names(html)[0] == me.display_name
    assert b'class="table-primary" aria-current="true"' in html
    assert b'data-testid="my-row"' not in html
    assert b"You lead this board." in html


def test_a_level_reached_is_announced_once(client, make, session, game):
    me = make.advocate()
    login(client, me.email)
    assert b"You reached" not in client.get("/hub/").data
    completed(make, session, make.challenge("survey", points=2_000), me)

    first = client.get("/hub/")
    assert b"You reached Contributor!" in first.data
    assert b"You reached Champion!" in first.data
    assert b"Invitations to the customer advisory board" in first.data  # the perk
    again = client.get("/hub/")
    assert b"You reached" not in again.data
    assert b'data-testid="level-name">Champion<' in again.data
    seen = session.scalars(select(LevelReached.seen_at).where(LevelReached.advocate_id == me.id))
    assert all(when is not None for when in seen)


def test_a_year_in_the_program_earns_its_badge_on_a_visit(client, make, session, game):
    me = make.advocate()
    session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.user_id == me.id)
        .values(opted_in_at=utcnow() - timedelta(days=400))
    )
    me.profile_confirmed_at = utcnow()  # the yearly "still at this company?" answered
    session.commit()
    login(client, me.email)
    assert b"One year strong" in client.get("/hub/").data
    assert session.scalar(select(BadgeAward).where(BadgeAward.advocate_id == me.id)) is not None
    client.get("/hub/")  # a second visit gives nothing twice (and does not fail)
    awards = session.scalars(select(BadgeAward).where(BadgeAward.advocate_id == me.id)).all()
    assert len(awards) == 1


def test_the_first_visit_path_shows_progress_then_goes_away(client, make, session, game):
    manager = make.manager()
    profile = make.challenge("survey", title="Complete your profile", manager=manager)
    guide = make.challenge("content", title="Read the program guide", manager=manager)
    make.challenge("survey", title="Not a starter", manager=manager)
    session.execute(
        update(Challenge).where(Challenge.id.in_([profile.id, guide.id])).values(starter=True)
    )
    session.commit()
    me = make.advocate()
    login(client, me.email)

    home = client.get("/hub/").data
    assert b"Get started" in home and b"0 of 2 done" in home
    assert home.count(b'data-testid="starter-step"') == 2
    assert f'href="/hub/challenges/{guide.id}">Read the program guide'.encode() in home
    assert b"earn the <strong>Off to a flying start</strong> badge" in home

    completed(make, session, profile, me)
    home = client.get("/hub/").data
    assert b"1 of 2 done" in home
    assert b'<span class="text-decoration-line-through text-muted">Complete your profile' in home

    completed(make, session, guide, me)
    home = client.get("/hub/").data
    assert b"Get started" not in home
    assert b"Off to a flying start" in home  # the path's badge, among the newest


def test_rewards_i_can_have_now_cheapest_first_within_my_gift_policy(client, make, session, game):
    me = make.advocate(account=make.account("Careful Co", policy=GiftPolicy.NO_GIFTS))
    make.points(me, 300)
    make.reward("Coffee card", "gift_card", cost=50)
    make.reward("Plant a tree", "charity", cost=200)
    make.reward("Thank-you post", "recognition", cost=100)
    make.reward("Big donation", "charity", cost=301)
    make.reward("Retired", "charity", cost=10, active=False)
    make.reward("Elsewhere", "charity", cost=20, regions="EMEA")
    login(client, me.email)
    home = client.get("/hub/").data.decode()
    shown = re.findall(r'data-testid="affordable-reward">\s*<a href="[^"]+">([^<]+)</a>', home)
    assert shown == ["Thank-you post", "Plant a tree"]


def test_hiding_from_boards_keeps_my_rank_for_me_only(client, make, session, game):
    crowd(make, 3)
    me = make.advocate()
    make.points(me, 999)  # ties with #2, who got there first: #3
    other = client_for(client.application, make.advocate().email)
    login(client, me.email)
    profile = {"name": me.name, "hide_from_leaderboard": "y", "email_digests": "y"}
    assert client.post("/hub/profile", data=profile).status_code == 302

    mine = client.get("/hub/leaderboard").data
    assert me.display_name not in board_names(mine)
    assert MY_ROW.search(mine).group(1) == b"3"
    assert b"1 point to move up to #2." in mine
    assert b"only you see your rank, and others don't see you" in mine
    theirs = other.get("/hub/leaderboard").data
    assert me.display_name.encode() not in theirs
    assert len(board_names(theirs)) == 3
    assert other.get(f"/hub/people/{me.id}").status_code == 404
    assert client.get(f"/hub/people/{me.id}").status_code == 200  # myself
    staff = client_for(client.application, make.manager().email)
    assert b"hides from leaderboards" in staff.get(f"/hub/people/{me.id}").data


def test_an_advocate_who_left_is_on_no_board_and_no_page(client, make, session, game):
    leaver = make.advocate()
    completed(make, session, make.challenge("survey", title="Said hello", points=700), leaver)
    crowd(make, 2)
    login(client, leaver.email)
    assert client.post("/hub/leave", data={"confirm": "y"}).status_code == 302

    other = client_for(client.application, make.advocate().email)
    for path in ("/hub/", "/hub/leaderboard", "/hub/leaderboard?period=all", "/hub/activity"):
        assert leaver.display_name.encode() not in other.get(path).data, path
    assert other.get(f"/hub/people/{leaver.id}").status_code == 404


def test_the_rewarded_style_hides_point_totals_and_can_switch_boards_off(
    client, make, session, game
):
    crowd(make, 2)
    me = make.advocate()
    completed(make, session, make.challenge("survey", points=600), me)
    game.show_points = False
    session.commit()
    login(client, me.email)

    home = client.get("/hub/").data
    assert b'data-testid="points-balance"' not in home
    assert b'data-testid="level-name">Contributor<' in home
    assert b"more points to" not in home and b"600 of 2,000" not in home
    assert b'data-testid="home-board"' in home
    board = client.get("/hub/leaderboard").data
    assert b"1,000" not in board and b"Points</th>" not in board
    assert b"You are <strong>#3</strong>." in board and b"Keep going to move up to #2." in board
    assert b"points earned in all" not in client.get(f"/hub/people/{me.id}").data

    game.show_leaderboards = False
    session.commit()
    home = client.get("/hub/").data
    assert b'data-testid="home-board"' not in home
    assert b'href="/hub/leaderboard"' not in home  # neither the box nor the nav link
    off = client.get("/hub/leaderboard")
    assert off.status_code == 404
    assert b"This program does not show leaderboards." in off.data

    staff = client_for(client.application, make.manager().email)
    board = staff.get("/manage/leaderboard").data
    assert b"1,000" in board and me.display_name.encode() in board  # staff see everything
    assert b"points earned in all" in staff.get(f"/hub/people/{me.id}").data


def test_a_profile_shows_level_badges_completions_and_respects_a_hidden_company(
    client, make, session, game
):
    me = make.advocate(account=make.account("Globex Corporation"))
    completed(make, session, make.challenge("survey", points=100), me)
    completed(make, session, make.challenge("survey", points=100), me)
    completed(make, session, make.challenge("social_share", points=400), me)
    other = client_for(client.application, make.advocate().email)

    page = other.get(f"/hub/people/{me.id}").data.decode()
    assert "Globex Corporation" in page
    assert 'data-testid="level-name">Contributor<' in page
    rows = re.findall(r'data-testid="completion-type"><td>([^<]+)</td><td[^>]*>(\d+)<', page)
    assert rows == [("Survey / question", "2"), ("Social share", "1")]
    assert "First step" in page and "Earned " in page

    login(client, me.email)
    profile = {"name": me.name, "hide_company": "y", "email_digests": "y"}
    assert client.post("/hub/profile", data=profile).status_code == 302
    assert b"Globex Corporation" not in other.get(f"/hub/people/{me.id}").data
    own = client.get(f"/hub/people/{me.id}").data
    assert b"Globex Corporation" in own and b"Company hidden from other advocates" in own
    assert re.search(
        rb'<input [^>]*checked [^>]*id="hide_company"', client.get("/hub/profile").data
    )
    assert other.get("/hub/people/999999").status_code == 404
    assert other.get("/hub/people/99999999999").status_code == 404  # beyond any row id
    anonymous = client.application.test_client()
    assert anonymous.get(f"/hub/people/{me.id}").headers["Location"].startswith("/login")
    outsider = client_for(client.application, make.advocate(opted_in=False).email)
    assert outsider.get(f"/hub/people/{me.id}").headers["Location"] == "/hub/join"
    staff = make.manager()
    assert other.get(f"/hub/people/{staff.id}").status_code == 404  # staff have no profile


def test_the_activity_feed_pages_newest_first_without_hidden_people(client, make, session, game):
    shy = make.advocate()
    shy.hide_from_leaderboard = True
    session.commit()
    completed(make, session, make.challenge("survey", title="Shy answer"), shy)
    busy = make.advocate()
    repeatable = make.challenge(
        "survey", title="Weekly pulse", approval="auto", limit_kind="times", limit_count=99
    )
    for _ in range(34):
        make.submission(repeatable, busy)  # 34 completions, 2 badges, 0 levels (50 each...)
    login(client, make.advocate().email)

    first = client.get("/hub/activity")
    events = first.data.count(b'data-testid="feed-event"')
    assert events == 30
    assert b"Shy answer" not in first.data and shy.display_name.encode() not in first.data
    assert f'href="/hub/people/{busy.id}">{busy.display_name}</a>'.encode() in first.data
    assert b"completed \xe2\x80\x9cWeekly pulse\xe2\x80\x9d" in first.data
    older = re.search(rb'rel="next" href="([^"]+)">Older', first.data).group(1)
    second = client.get(older.decode().replace("&amp;", "&"))
    assert 0 < second.data.count(b'data-testid="feed-event"') <= 30
    assert b">Newer</a>" in second.data
    assert b"earned the badge" in first.data + second.data
    assert client.get("/hub/activity?after=nonsense").status_code == 200


def test_home_reads_a_fixed_number_of_queries_however_much_there_is(
    client, make, session, game, count_queries
):
    me = make.advocate()
    repeatable = make.challenge(
        "survey", approval="auto", points=10, limit_kind="times", limit_count=99
    )
    make.reward("Sticker", "swag", cost=5)
    make.submission(repeatable, me)
    crowd(make, 2)
    login(client, me.email)
    client.get("/hub/")  # the banner and badges of the first visit

    def home_queries() -> int:
        with count_queries() as counted:
            assert client.get("/hub/").status_code == 200
        return counted.n

    few = home_queries()
    for _ in range(12):
        make.submission(repeatable, me)
    for n in range(6):
        make.reward(f"Sticker {n}", "swag", cost=5 + n)
    crowd(make, 25, top=5_000)
    client.get("/hub/")
    assert home_queries() == few
    assert few <= 26
