"""The game, clicked through in a browser: an advocate reaches a level and sees it announced
once, earns a badge and is given one by a manager, hides from the board, reads their rank
outside the top 10 with the gap to the place above; a manager filters the staff board and
downloads it as CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from challenges.badges import ensure_default_badges
from challenges.models import AdvocateGroup
from points.levels import ensure_default_levels
from points.program import game_settings
from tests.e2e.steps import log_in, log_out, nav
from tests.factories import book_at

SHOTS_DIR = Path("/tmp/e2e-game")  # noqa: S108 - where the brief asks for screenshots
SURVEY_TITLE = "Why did you choose Vouch?"
SURVEY_QUESTION = "What made you choose Vouch?"
CONTRIBUTOR_PERK = "A seat in quarterly product feedback sessions."
MANUAL_BADGE = "Above and beyond"
BADGE_REASON = "Spoke for us at the Northwind user group, unasked."


@pytest.fixture
def game(session):
    """The program as the migration leaves it (the tables are emptied after every test):
    the default levels, one badge per rule, the settings row."""
    ensure_default_levels(session)
    ensure_default_badges(session)
    game_settings(session)
    session.commit()


@pytest.fixture
def shot(page: Page) -> Callable[[str], Path]:
    """shot("game-1-hub") saves the whole page to /tmp/e2e-game/NAME.png."""

    def take(name: str) -> Path:
        SHOTS_DIR.mkdir(parents=True, exist_ok=True)
        path = SHOTS_DIR / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def survey(make, points: int):
    """A published survey with three choices; a survey is approved automatically."""
    return make.challenge(
        "survey",
        title=SURVEY_TITLE,
        points=points,
        config={"question": SURVEY_QUESTION, "choices": "Support\nPrice\nFeatures"},
    )


def answer_the_survey(page: Page) -> None:
    """From the hub, open the survey's card, answer it and see it approved at once."""
    card = page.get_by_test_id("challenge-card").filter(has_text=SURVEY_TITLE)
    card.get_by_role("link", name=SURVEY_TITLE).click()
    expect(page.get_by_role("heading", name=SURVEY_TITLE, level=1)).to_be_visible()
    page.get_by_role("group", name=SURVEY_QUESTION).get_by_label("Support").check()
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_role("alert")).to_have_text("Thank you! That's done.")


def today(fmt: str) -> str:
    """Today's date as the pages print it (badges are stamped in UTC)."""
    return datetime.now(UTC).strftime(fmt)


def row_text(rank: int, name: str, points: int | None = None):
    """A board row's text: '#3 ana.ruiz 1,200' (cells run together in textContent)."""
    shown = rf"\s*{points:,}" if points is not None else ""
    return re.compile(rf"^\s*#{rank}\s*{re.escape(name)}(\s*You)?(\s*Hidden)?{shown}\s*$")


def test_completing_a_survey_reaches_contributor_announced_once(
    page: Page, live_server, make, game, shot
):
    advocate = make.advocate("ana.ruiz@northwind.example", account=make.account("Northwind"))
    survey(make, 600)

    log_in(page, live_server, advocate.email)
    expect(page).to_have_url(f"{live_server}/hub/")
    expect(page.get_by_test_id("level-name")).to_have_text("Insider")
    expect(page.get_by_test_id("level-progress")).to_have_text(
        "500 more points to Contributor (0 of 500)."
    )
    expect(page.get_by_test_id("level-reached")).to_have_count(0)
    shot("level-1-hub-insider")

    answer_the_survey(page)
    expect(page).to_have_url(f"{live_server}/hub/submissions")
    shot("level-2-submissions")

    # --- Back on the hub: the new level is announced, with its perk. ---
    nav(page, "Hub").click()
    banner = page.get_by_test_id("level-reached")
    expect(banner).to_have_count(1)
    expect(banner).to_have_role("status")
    expect(banner).to_have_text(f"You reached Contributor! Your new perk: {CONTRIBUTOR_PERK}")
    expect(page.get_by_test_id("points-balance")).to_have_text("600")
    expect(page.get_by_test_id("points-lifetime")).to_have_text("600")
    level = page.get_by_role("region", name="Your level")
    expect(level.get_by_test_id("level-name")).to_have_text("Contributor")
    expect(level.get_by_text(CONTRIBUTOR_PERK)).to_be_visible()
    expect(level.get_by_test_id("level-progress")).to_have_text(
        "1,400 more points to Champion (600 of 2,000)."
    )
    # (600 - 500) of the 1,500 between Contributor and Champion, in whole percent
    bar = level.get_by_role("progressbar", name="Progress to Champion")
    expect(bar).to_have_attribute("aria-valuenow", str((600 - 500) * 100 // (2_000 - 500)))
    shot("level-3-hub-banner")

    # --- Shown once: a reload no longer has it; the level stays. ---
    page.reload()
    expect(page.get_by_test_id("level-name")).to_have_text("Contributor")
    expect(page.get_by_test_id("level-reached")).to_have_count(0)
    expect(page.get_by_text("You reached Contributor!")).to_have_count(0)
    expect(page.get_by_test_id("level-progress")).to_have_text(
        "1,400 more points to Champion (600 of 2,000)."
    )
    shot("level-4-hub-after-reload")


def test_first_completion_badge_then_a_manager_gives_a_manual_badge(
    page: Page, live_server, make, game, shot
):
    manager = make.manager("maya.patel@vouch.example")
    advocate = make.advocate("ana.ruiz@northwind.example", account=make.account("Northwind"))
    survey(make, 50)
    # a share waiting for review puts Ana in the manager's queue
    share = make.challenge("social_share", title="Share the launch", approval="manual")
    make.submission(share, advocate)

    # --- Ana answers the survey: her first completion earns "First step". ---
    log_in(page, live_server, advocate.email)
    expect(page.get_by_role("region", name="Your newest badges")).to_contain_text(
        "Complete challenges to earn badges"
    )
    answer_the_survey(page)
    nav(page, "Hub").click()
    newest = page.get_by_role("region", name="Your newest badges")
    badges = newest.get_by_test_id("badge")
    expect(badges).to_have_count(1)
    expect(badges).to_have_text(re.compile(rf"First step\s*{today('%-d %b %Y')}"))
    shot("badge-1-hub-first-step")

    newest.get_by_role("link", name="Your profile and every badge").click()
    expect(page).to_have_url(f"{live_server}/hub/people/{advocate.id}")
    expect(page.get_by_role("heading", name="ana.ruiz", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Badges"), level=2)).to_have_text(
        re.compile(r"^Badges\s*1$")
    )
    card = page.get_by_test_id("badge")
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", name="First step", level=3)).to_be_visible()
    expect(card).to_contain_text("Completed a first challenge.")
    expect(card).to_contain_text(f"Earned {today('%-d %B %Y')}")
    expect(page.get_by_test_id("completion-type")).to_have_text(
        [re.compile(r"^Survey / question\s*1$")]
    )
    shot("badge-2-profile-first-step")
    log_out(page)

    # --- The manager opens Ana's page from the review queue and gives a badge. ---
    log_in(page, live_server, manager.email)
    nav(page, "Review").click()
    row = page.get_by_test_id("queue-row").filter(has_text="Share the launch")
    expect(row).to_have_count(1)
    row.get_by_role("link", name="ana.ruiz").click()
    expect(page).to_have_url(f"{live_server}/manage/advocates/{advocate.id}")
    expect(page.get_by_role("heading", name="ana.ruiz", level=1)).to_be_visible()
    expect(page.get_by_test_id("advocate-level")).to_have_text(
        re.compile(r"^\s*Insider · 50 lifetime points\s*$")
    )
    expect(page.get_by_test_id("advocate-badges").get_by_role("listitem")).to_have_text(
        [re.compile(rf"^\s*First step · {today('%-d %b %Y')}\s*$")]
    )
    badge = page.get_by_label("Badge", exact=True)
    expect(badge.locator("option", has_text=MANUAL_BADGE)).to_have_count(1)
    badge.select_option(label=MANUAL_BADGE)
    shot("badge-3-manager-advocate-page")

    # Giving it without a reason is refused beside the field.
    page.get_by_role("button", name="Give the badge").click()
    reason = page.get_by_label("Reason")
    expect(page.get_by_text("Say why they earned it: they will see it.")).to_be_visible()
    expect(reason).to_have_accessible_description(re.compile(r"Say why they earned it"))
    expect(page.get_by_test_id("advocate-badges").get_by_role("listitem")).to_have_count(1)
    shot("badge-4-manager-reason-missing")

    page.get_by_label("Badge", exact=True).select_option(label=MANUAL_BADGE)
    reason.fill(BADGE_REASON)
    page.get_by_role("button", name="Give the badge").click()
    expect(page).to_have_url(f"{live_server}/manage/advocates/{advocate.id}")
    expect(page.get_by_role("alert")).to_have_text(f"Gave ana.ruiz the “{MANUAL_BADGE}” badge.")
    given = page.get_by_test_id("advocate-badges").get_by_role("listitem")
    expect(given).to_have_count(2)
    expect(given.first).to_contain_text(MANUAL_BADGE)
    expect(given.first).to_contain_text(f"“{BADGE_REASON}”")
    shot("badge-5-manager-badge-given")
    log_out(page)

    # --- Ana sees it, newest first, with the reason on her profile. ---
    log_in(page, live_server, advocate.email)
    newest = page.get_by_role("region", name="Your newest badges").get_by_test_id("badge")
    expect(newest).to_have_count(2)
    expect(newest.first).to_contain_text(MANUAL_BADGE)
    nav(page, "Profile").click()
    page.get_by_role("link", name="See your profile").click()
    expect(page).to_have_url(f"{live_server}/hub/people/{advocate.id}")
    cards = page.get_by_test_id("badge")
    expect(cards).to_have_count(2)
    manual = cards.filter(has=page.get_by_role("heading", name=MANUAL_BADGE))
    expect(manual).to_contain_text(f"“{BADGE_REASON}”")
    expect(manual).to_contain_text(f"Earned {today('%-d %B %Y')}")
    expect(cards.filter(has=page.get_by_role("heading", name="First step"))).to_have_count(1)
    shot("badge-6-profile-both-badges")


def test_hiding_from_the_board_keeps_my_rank_for_me_only(page: Page, live_server, make, game, shot):
    account = make.account("Northwind")
    ben = make.advocate("ben.okafor@northwind.example", account=account)
    ana = make.advocate("ana.ruiz@northwind.example", account=account)
    carla = make.advocate("carla.diaz@northwind.example", account=account)
    dev = make.advocate("dev.shah@northwind.example", account=account)
    for person, points in ((ben, 900), (ana, 700), (carla, 400), (dev, 150)):
        make.points(person, points)

    # --- Ana sees herself at #2 on this month's board. ---
    log_in(page, live_server, ana.email)
    nav(page, "Leaderboard").click()
    expect(page.get_by_role("heading", name="Leaderboard", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Everyone · This month"))).to_be_visible()
    rows = page.get_by_test_id("board-row")
    expect(rows).to_have_text(
        [
            row_text(1, "ben.okafor", 900),
            row_text(2, "ana.ruiz", 700),
            row_text(3, "carla.diaz", 400),
            row_text(4, "dev.shah", 150),
        ]
    )
    expect(rows.nth(1)).to_have_attribute("aria-current", "true")
    expect(page.get_by_test_id("my-standing")).to_have_text(
        "You are #2 with 700 points. 201 points to move up to #1."
    )
    shot("hide-1-board-listed")

    # --- She hides herself from leaderboards in her profile. ---
    nav(page, "Profile").click()
    hide = page.get_by_label("Hide me from leaderboards")
    expect(hide).not_to_be_checked()
    expect(hide).to_have_accessible_description(re.compile(r"you still see your own rank"))
    hide.check()
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("alert")).to_have_text("Profile saved.")
    expect(page.get_by_label("Hide me from leaderboards")).to_be_checked()
    shot("hide-2-profile-saved")

    # --- Her board lists the others; her own row and rank stay, with a note. ---
    nav(page, "Leaderboard").click()
    expect(rows).to_have_text(
        [
            row_text(1, "ben.okafor", 900),
            row_text(2, "carla.diaz", 400),
            row_text(3, "dev.shah", 150),
        ]
    )
    mine = page.get_by_test_id("my-row")
    expect(mine).to_have_text(row_text(2, "ana.ruiz", 700))
    expect(mine).to_contain_text("Hidden")
    expect(page.get_by_test_id("my-standing")).to_contain_text(
        "You are #2 with 700 points. 201 points to move up to #1."
    )
    expect(page.get_by_test_id("hidden-note")).to_have_text(
        "You are hidden from leaderboards: only you see your rank, and others don't see you. "
        "Change this in your profile."
    )
    shot("hide-3-board-hidden-own-view")
    log_out(page)

    # --- Ben no longer sees her, nor her profile page. ---
    log_in(page, live_server, ben.email)
    nav(page, "Leaderboard").click()
    expect(rows).to_have_text(
        [
            row_text(1, "ben.okafor", 900),
            row_text(2, "carla.diaz", 400),
            row_text(3, "dev.shah", 150),
        ]
    )
    expect(page.get_by_text("ana.ruiz")).to_have_count(0)
    expect(page.get_by_test_id("my-row")).to_have_count(0)
    expect(page.get_by_test_id("my-standing")).to_have_text(
        re.compile(r"^\s*You are #1 with 900 points.\s*You lead this board.\s*$")
    )
    shot("hide-4-board-others-view")
    response = page.goto(f"{live_server}/hub/people/{ana.id}")
    assert response is not None and response.status == 404
    # the hub home's board leaves her out too
    nav(page, "Hub").click()
    home_board = page.get_by_test_id("home-board")
    expect(home_board.get_by_test_id("board-row")).to_have_count(3)
    expect(home_board.get_by_text("ana.ruiz")).to_have_count(0)
    shot("hide-5-hub-others-view")


def test_my_rank_outside_the_top_ten_with_the_gap_to_the_place_above(
    page: Page, live_server, make, session, game, shot
):
    account = make.account("Northwind")
    crowd = make.many_advocates(12, account)
    crowd_points = [2_000 - 37 * n for n in range(12)]  # 2,000 down to 1,593
    for person, points in zip(crowd, crowd_points, strict=True):
        make.points(person, points)
    ana = make.advocate("ana.ruiz@northwind.example", account=account)
    make.points(ana, 700)
    # ahead of Ana but not counted: one hides from boards, one scored only last month
    hidden, earlier = make.many_advocates(2, account)
    hidden.name, earlier.name = "Hana Hidden", "Luis Last-Month"  # bulk names repeat per call
    make.points(hidden, 5_000)
    hidden.hide_from_leaderboard = True
    book_at(session, earlier, 9_000, datetime.now(UTC) - timedelta(days=40))
    session.commit()

    my_rank = len(crowd) + 1
    gap = crowd_points[-1] - 700 + 1  # to pass #12 (ties go to whoever got there first)
    top_ten = [
        row_text(rank, person.display_name, points)
        for rank, (person, points) in enumerate(zip(crowd[:10], crowd_points[:10], strict=True), 1)
    ]
    standing = f"You are #{my_rank} with 700 points. {gap:,} points to move up to #{my_rank - 1}."

    # --- The hub home's board: the top 10, then Ana's own row and the gap. ---
    log_in(page, live_server, ana.email)
    home_board = page.get_by_test_id("home-board")
    expect(home_board.get_by_test_id("board-row")).to_have_text(top_ten)
    expect(home_board.get_by_test_id("my-row")).to_have_text(row_text(my_rank, "ana.ruiz", 700))
    expect(home_board.get_by_test_id("my-standing")).to_have_text(standing)
    shot("rank-1-hub-board")

    # --- The leaderboard page says the same for this month. ---
    nav(page, "Leaderboard").click()
    rows = page.get_by_test_id("board-row")
    expect(rows).to_have_text(top_ten)
    expect(page.get_by_text(hidden.display_name)).to_have_count(0)
    expect(page.get_by_text(earlier.display_name)).to_have_count(0)
    mine = page.get_by_test_id("my-row")
    expect(mine).to_have_text(row_text(my_rank, "ana.ruiz", 700))
    expect(mine).not_to_contain_text("Hidden")
    expect(page.get_by_test_id("my-standing")).to_have_text(standing)
    expect(page.get_by_test_id("hidden-note")).to_have_count(0)
    shot("rank-2-board-month")

    # --- All time, last month's 9,000 points count: one more place ahead of her. ---
    page.get_by_label("Period").select_option(value="all")  # "All time"
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Everyone · All time")).to_be_visible()
    expect(page.get_by_label("Period").locator("option:checked")).to_have_text("All time")
    expect(rows.first).to_have_text(row_text(1, earlier.display_name, 9_000))
    expect(rows).to_have_count(10)
    expect(mine).to_have_text(row_text(my_rank + 1, "ana.ruiz", 700))
    expect(page.get_by_test_id("my-standing")).to_have_text(
        f"You are #{my_rank + 1} with 700 points. {gap:,} points to move up to #{my_rank}."
    )
    shot("rank-3-board-all-time")


def test_manager_filters_the_staff_board_and_downloads_it(
    page: Page, live_server, make, session, game, shot
):
    northwind = make.account("Northwind", segment="Enterprise")
    contoso = make.account("Contoso", segment="SMB")
    people = {
        "ana.ruiz": (northwind, 1_200),
        "ben.okafor": (contoso, 1_000),
        "carla.diaz": (northwind, 800),
        "dev.shah": (contoso, 600),
        "eli.stone": (northwind, 400),
    }
    made = {}
    for name, (account, points) in people.items():
        made[name] = make.advocate(f"{name}@{account.name.lower()}.example", account=account)
        make.points(made[name], points)
    shy = make.advocate("shy.one@northwind.example", account=northwind)
    make.points(shy, 5_000)
    shy.hide_from_leaderboard = True
    session.add(AdvocateGroup(name="Beta testers", members=[made["ben.okafor"], made["eli.stone"]]))
    session.commit()
    manager = make.manager("maya.patel@vouch.example")

    def expected_rows(names: list[str]) -> list[list[str]]:
        return [
            [
                str(rank),
                name,
                made[name].email,
                people[name][0].name,
                people[name][0].segment,
                str(people[name][1]),
            ]
            for rank, name in enumerate(names, 1)
        ]

    def download_csv(name: str) -> list[list[str]]:
        with page.expect_download() as info:
            page.get_by_role("link", name="Download this board (CSV)").click()
        download = info.value
        assert re.fullmatch(r"leaderboard-\d{4}-\d{2}\.csv", download.suggested_filename)
        text = Path(download.path()).read_text(encoding="utf-8")
        (SHOTS_DIR / name).write_text(text, encoding="utf-8")
        header, *rows = list(csv.reader(io.StringIO(text)))
        assert header == ["rank", "name", "email", "account", "segment", "points", "reached_at"]
        for row in rows:  # reached today, this month
            assert datetime.fromisoformat(row[6]).date() == datetime.now(UTC).date()
        return [row[:6] for row in rows]

    def board_rows(names: list[str]):
        return [
            re.compile(
                rf"^\s*#{rank}\s*{re.escape(name)}\s*{re.escape(made[name].email)}\s*"
                rf"{people[name][0].name}\s*{people[name][0].segment}\s*"
                rf"{people[name][1]:,}\s*\d{{1,2}} \w{{3}} \d{{4}}, \d\d:\d\d \w+\s*$"
            )
            for rank, name in enumerate(names, 1)
        ]

    log_in(page, live_server, manager.email)
    nav(page, "Leaderboard").click()
    expect(page.get_by_role("heading", name="Leaderboard", level=1)).to_be_visible()
    rows = page.get_by_test_id("board-row")
    everyone = ["ana.ruiz", "ben.okafor", "carla.diaz", "dev.shah", "eli.stone"]
    expect(rows).to_have_text(board_rows(everyone))
    expect(page.get_by_text("shy.one")).to_have_count(0)
    shot("staff-1-board")
    assert download_csv("staff-board-all.csv") == expected_rows(everyone)

    # --- Enterprise accounts only. ---
    page.get_by_label("Account segment").select_option(label="Enterprise")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("· Enterprise accounts.")).to_be_visible()
    enterprise = ["ana.ruiz", "carla.diaz", "eli.stone"]
    expect(rows).to_have_text(board_rows(enterprise))
    expect(page.get_by_label("Account segment")).to_have_value("Enterprise")
    shot("staff-2-board-enterprise")
    assert download_csv("staff-board-enterprise.csv") == expected_rows(enterprise)

    # --- One group, every segment. ---
    page.get_by_label("Account segment").select_option(label="Every segment")
    page.get_by_label("Group").select_option(label="Beta testers")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("· group “Beta testers”.")).to_be_visible()
    testers = ["ben.okafor", "eli.stone"]
    expect(rows).to_have_text(board_rows(testers))
    shot("staff-3-board-group")
    assert download_csv("staff-board-group.csv") == expected_rows(testers)
