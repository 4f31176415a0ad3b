"""The Content-Security-Policy in a real browser: an advocate, a manager and an admin open
their main pages and Chromium refuses nothing (no inline script or style left anywhere),
the progress bars are still drawn at their width, and the challenge form's script works.
A style attribute slipped in by hand is refused, and its report reaches /csp-report."""

from __future__ import annotations

import logging
import time

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from challenges.badges import ensure_default_badges
from challenges.models import Challenge
from points.levels import ensure_default_levels
from points.program import game_settings
from tests.e2e.steps import log_in, log_out, nav
from tests.factories import complete

LISTEN_FOR_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push({
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    page: document.location.pathname,
  });
});
"""


@pytest.fixture
def watched(page: Page):
    """The page, with every CSP violation and every console error about the policy kept."""
    console: list[str] = []
    page.add_init_script(LISTEN_FOR_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            console.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: console.append(f"page error: {error}"))
    return page, console


def assert_nothing_refused(page: Page, console: list[str], where: str) -> None:
    page.wait_for_load_state("load")
    assert page.evaluate("window.__csp") == [], where
    assert console == [], where


def wait_for_bar_width(page: Page, test_id: str, percent: int) -> None:
    """The bar (drawn by static/js/progress.js) fills `percent` of its track, within 1%."""
    page.wait_for_function(
        """([testId, percent]) => {
            const track = document.querySelector(`[data-testid="${testId}"]`);
            const bar = track && track.querySelector(".progress-bar");
            if (!bar) return false;
            const share = bar.getBoundingClientRect().width / track.getBoundingClientRect().width;
            return Math.abs(share * 100 - percent) < 1;
        }""",
        arg=[test_id, percent],
        timeout=5_000,
    )


@pytest.fixture
def program(make, session):
    """Levels and badges; an advocate halfway through the starter path and halfway from
    Contributor (500) to Champion (2,000); a reward they asked for; a review to do."""
    ensure_default_levels(session)
    ensure_default_badges(session)
    game_settings(session)
    session.commit()
    manager = make.manager("maya.patel@vouch.example")
    admin = make.admin("ade.okafor@vouch.example")
    advocate = make.advocate("ana.ruiz@northwind.example", account=make.account("Northwind"))
    profile = make.challenge("survey", title="Complete your profile", manager=manager)
    guide = make.challenge("content", title="Read the program guide", manager=manager)
    session.execute(
        update(Challenge).where(Challenge.id.in_([profile.id, guide.id])).values(starter=True)
    )
    session.commit()
    complete(make, profile, advocate)
    make.points(advocate, 1_250 - profile.points)
    reward = make.reward("Vouch hoodie", kind="swag", cost=200)
    redemption = make.redemption(advocate, reward, shipping_address="1 Main St\nSpringfield")
    review = make.challenge("review", title="Review Vouch on G2", manager=manager)
    make.submission(review, advocate)
    return {"advocate": advocate, "manager": manager, "admin": admin, "redemption": redemption}


def test_every_role_s_main_pages_break_no_rule_of_the_policy(
    watched, live_server, program, screenshot
):
    page, console = watched

    # --- The advocate: hub home with its two progress bars, the board, the rewards. ---
    log_in(page, live_server, program["advocate"].email)
    expect(page.get_by_role("heading", name="Get started")).to_be_visible()
    starter = page.get_by_role("progressbar", name="Steps done")
    expect(starter).to_have_attribute("aria-valuenow", "1")
    expect(starter).to_have_attribute("aria-valuemax", "2")
    level = page.get_by_role("progressbar", name="Progress to Champion")
    expect(level).to_have_attribute("aria-valuenow", "50")
    starter.evaluate("track => track.dataset.testid = 'starter-bar'")
    level.evaluate("track => track.dataset.testid = 'level-bar'")
    wait_for_bar_width(page, "starter-bar", 50)
    wait_for_bar_width(page, "level-bar", 50)
    screenshot("csp-hub-progress-bars")
    assert_nothing_refused(page, console, "hub home")

    for link, heading in (("Leaderboard", "Leaderboard"), ("Rewards", "Rewards")):
        nav(page, link).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        assert_nothing_refused(page, console, link)
    page.get_by_role("link", name="Vouch hoodie").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Vouch hoodie")
    assert_nothing_refused(page, console, "reward")
    nav(page, "My submissions").click()
    assert_nothing_refused(page, console, "my submissions")
    log_out(page)

    # --- The manager: the review queue and the challenge form, whose script still works. ---
    log_in(page, live_server, program["manager"].email)
    assert_nothing_refused(page, console, "manager dashboard")
    nav(page, "Review").click()
    expect(page.get_by_test_id("queue-row")).to_have_count(1)
    assert_nothing_refused(page, console, "review queue")
    nav(page, "Challenges").click()
    page.get_by_role("link", name="New challenge").click()
    expect(page.get_by_role("heading", name="New challenge", level=1)).to_be_visible()
    page.get_by_label("Type").select_option("survey")
    expect(page.locator('fieldset.type-config[data-type="survey"]')).to_be_visible()
    expect(page.locator('fieldset.type-config[data-type="review"]')).to_be_hidden()
    expect(page.get_by_label("Approval")).to_have_value("auto")
    expect(page.locator('#approval option[value="manual"]')).to_be_disabled()
    expect(page.get_by_label("Number of times")).to_be_hidden()
    page.get_by_label("Each advocate may complete it").select_option("times")
    expect(page.get_by_label("Number of times")).to_be_visible()
    page.get_by_label("Type").select_option("review")
    expect(page.locator('fieldset.type-config[data-type="review"]')).to_be_visible()
    expect(page.locator('#approval option[value="manual"]')).to_be_enabled()
    screenshot("csp-challenge-form")
    assert_nothing_refused(page, console, "challenge form")
    log_out(page)

    # --- The admin: the redemptions queue and one redemption (its address keeps its lines). ---
    log_in(page, live_server, program["admin"].email)
    assert_nothing_refused(page, console, "admin dashboard")
    nav(page, "Redemptions").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Redemptions")
    assert_nothing_refused(page, console, "admin redemptions")
    page.goto(f"{live_server}/admin/redemptions/{program['redemption'].id}")
    address = page.get_by_text("1 Main St")
    expect(address).to_have_css("white-space", "pre-line")
    address_box = address.bounding_box()
    assert address_box and address_box["height"] > 30  # two lines, as typed
    screenshot("csp-admin-redemption")
    assert_nothing_refused(page, console, "admin redemption detail")
    nav(page, "Admin").click()
    assert_nothing_refused(page, console, "admin home")


def test_an_inline_style_is_refused_and_reported(watched, live_server, make, caplog):
    """The policy is in force (the listener above is not blind): a style attribute added
    by hand is refused, the event fires, and the browser's report reaches /csp-report."""
    page, console = watched
    log_in(page, live_server, make.manager().email)
    assert_nothing_refused(page, console, "dashboard")
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        page.evaluate(
            """() => {
                const probe = document.createElement("div");
                probe.innerHTML = '<p id="probe" style="color: rgb(255, 0, 0)">probe</p>';
                document.body.append(probe);
            }"""
        )
        page.wait_for_function("window.__csp.length > 0")
        (violation,) = page.evaluate("window.__csp")
        assert violation["directive"] == "style-src-attr"
        assert violation["blocked"] == "inline"
        assert page.locator("#probe").evaluate("p => getComputedStyle(p).color") != (
            "rgb(255, 0, 0)"
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _reports(caplog):
            time.sleep(0.1)
    assert _reports(caplog) == ["CSP violation: style-src-attr blocked inline on " + page.url]


def _reports(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "portal.security"]
