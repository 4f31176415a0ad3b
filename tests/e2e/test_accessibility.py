"""Accessible on any screen: every main page of every role, filled with the demo program,
passes axe-core (vendored in static/vendor/axe) with no serious or critical violation (nor
one of FAILING_RULES), at a desktop width and at 360 px, where nothing scrolls sideways
either, not even inside a box of its own. The keyboard alone logs in, skips to the content,
saves the profile and opens the phone's menu, with the focus visible at every stop; and the
hub, the rewards, the review queue and the admin redemptions pass in Spanish at 360 px.

VOUCH_SCREENS=1 also saves each page at both widths to test-screens/a11y-*.png;
VOUCH_AXE_REPORT=FILE appends every violation, of any impact, to FILE as JSON lines.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.support import Translations
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from challenges.models import (
    AdvocateGroup,
    Challenge,
    ChallengeStatus,
    Submission,
    SubmissionStatus,
    ThankYou,
)
from points.models import GiftOffer, Redemption, Reward
from portal.accounts.models import Account, Role, User
from portal.config import PROJECT_ROOT
from portal.notifications.models import Topic
from portal.notifications.services import unsubscribe_url
from portal.seed import DEMO_PASSWORD
from references.models import ReferenceRequest
from tests.e2e.conftest import SCREENS_DIR
from tests.e2e.steps import log_in
from tests.factories import PASSWORD, SETTINGS

AXE = "/static/vendor/axe/axe.min.js"  # served by the app itself: the CSP allows 'self'
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
FAILING_IMPACTS = ("serious", "critical")
# and these of lesser impact, which the issue names: headers over action columns, the
# order of headings, content outside the landmarks
FAILING_RULES = (
    "empty-table-header",
    "heading-order",
    "page-has-heading-one",
    "landmark-one-main",
    "landmark-unique",
    "region",
)
ADVOCATE = "ana.ruiz@northwind.example"  # the demo's advocate, with a history to show
MANAGER = "manager@vouch.example"
ADMIN = "admin@vouch.example"
SALES = "sam.rivera@vouch.example"  # the demo's sales user, with requests in every state
SCREENS = os.environ.get("VOUCH_SCREENS") == "1"
REPORT = Path(os.environ["VOUCH_AXE_REPORT"]) if os.environ.get("VOUCH_AXE_REPORT") else None

RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    summary: v.nodes[0].failureSummary,
    html: v.nodes[0].html.slice(0, 200),
    count: v.nodes.length,
  }));
}"""

# the widest element that sticks out past the right edge, to name it in the failure
WIDEST = """() => {
  const width = document.documentElement.clientWidth;
  let worst = null;
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && (!worst || box.right > worst.right)) {
      const style = getComputedStyle(el);
      if (style.position === "fixed" || style.visibility === "hidden") continue;
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (el.className && typeof el.className === "string"
           ? "." + el.className.trim().split(/\\s+/).join(".") : "");
      worst = {right: box.right, name};
    }
  }
  return worst ? `${worst.name} reaches ${Math.round(worst.right)}px` : "";
}"""


# a box of its own that scrolls sideways (a .table-responsive around a table too wide)
SCROLLING_BOXES = """() => Array.from(document.querySelectorAll("main *"))
  .filter((el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX)
    && el.scrollWidth > el.clientWidth + 1)
  .map((el) => `${el.tagName.toLowerCase()}.${(el.className || "").toString().trim()
    .split(/\\s+/).join(".")} (${el.scrollWidth}px in ${el.clientWidth}px)`)"""


@dataclass
class Problems:
    found: list[str]

    def check(self, page: Page, where: str, width: str) -> None:
        """axe on the page as it is now; at phone width, no sideways scrolling either."""
        if not page.evaluate("typeof axe !== 'undefined'"):
            page.add_script_tag(url=AXE)
        for violation in page.evaluate(RUN_AXE):
            if REPORT:
                with REPORT.open("a") as report:
                    report.write(json.dumps({"page": where, "width": width, **violation}) + "\n")
            if violation["impact"] in FAILING_IMPACTS or violation["rule"] in FAILING_RULES:
                self.found.append(
                    f"{where} [{width}] {violation['rule']} ({violation['impact']}, "
                    f"{violation['count']}x): {violation['help']} -> "
                    + " | ".join(violation["targets"])
                )
        if width == "phone":
            scroll, inner = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            if scroll > inner:
                self.found.append(
                    f"{where} [phone] scrolls sideways: {scroll}px wide in {inner}px; "
                    + page.evaluate(WIDEST)
                )
            for box in page.evaluate(SCROLLING_BOXES):
                self.found.append(f"{where} [phone] {box} scrolls sideways inside the page")

    def assert_none(self) -> None:
        assert not self.found, "\n".join(["", *self.found])


def visit_all(page: Page, base: str, pages: dict[str, str]) -> Problems:
    """Each page at desktop width, then at 360 px: axe, the width, and (VOUCH_SCREENS) a
    screenshot of each."""
    problems = Problems([])
    for name, path in pages.items():
        page.set_viewport_size(DESKTOP)
        response = page.goto(base + path)
        page.wait_for_load_state("load")
        want = ANSWERS.get(name, 200)
        if response is None or response.status != want:
            problems.found.append(f"{name} {path} answered {response and response.status}")
            continue
        for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)  # the same page, its layout for the new width
            problems.check(page, f"{name} {path}", width)
            if SCREENS:
                SCREENS_DIR.mkdir(parents=True, exist_ok=True)
                shot = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"a11y-{name}-{width}")
                height = min(page.evaluate("document.documentElement.scrollHeight"), 2400)
                clip = {"x": 0, "y": 0, "width": viewport["width"], "height": height}
                page.screenshot(path=str(SCREENS_DIR / f"{shot}.png"), full_page=True, clip=clip)
    return problems


@pytest.fixture
def demo(app, session):
    """The demo program (portal.seed): months of history, every kind of record."""
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert "records created" in result.output, result.output
    session.expire_all()
    return session


def one(session, statement):
    found = session.scalars(statement.limit(1)).first()
    assert found is not None, f"the demo has no {statement}"
    return found


def user(session, email: str) -> User:
    return one(session, select(User).where(User.email == email))


def has_route(app, endpoint: str) -> bool:
    return endpoint in app.view_functions


def advocate_pages(app, session) -> dict[str, str]:
    ana = user(session, ADVOCATE)
    challenge = one(
        session,
        select(Challenge)
        .where(Challenge.status == ChallengeStatus.PUBLISHED)
        .order_by(Challenge.id),
    )
    reward = one(session, select(Reward).where(Reward.active.is_(True)).order_by(Reward.id))
    peer = one(
        session,
        select(User).where(User.role == Role.ADVOCATE, User.id != ana.id).order_by(User.id),
    )
    pages = {
        "hub home": "/hub/",
        "challenges": "/hub/challenges",
        "a challenge": f"/hub/challenges/{challenge.id}",
        "my submissions": "/hub/submissions",
        "rewards catalog": "/hub/rewards",
        "a reward": f"/hub/rewards/{reward.id}",
        "my redemptions": "/hub/redemptions",
        "leaderboard": "/hub/leaderboard",
        "activity": "/hub/activity",
        "profile": "/hub/profile",
        "leave": "/hub/leave",
        "person page": f"/hub/people/{peer.id}",
        "change password": "/password",
    }
    offer = session.scalars(select(GiftOffer).where(GiftOffer.advocate_id == ana.id)).first()
    if offer is not None:
        pages["a gift offer"] = f"/hub/offers/{offer.id}"
    # pages being built beside this test: checked once they exist
    if has_route(app, "inbox.notifications"):
        pages["notifications"] = "/hub/notifications"
    if has_route(app, "hub.confirm"):
        pages["confirm the profile"] = "/hub/confirm"
    if has_route(app, "hub_asks.list"):
        pages["reference asks"] = "/hub/references/"
    return pages


def reference_pages(session, requester: User | None = None) -> dict[str, str]:
    """The reference process's pages: a request (the requester's own, for sales) first."""
    wanted = select(ReferenceRequest).order_by(ReferenceRequest.id.desc())
    if requester is not None:
        wanted = wanted.where(ReferenceRequest.requester_id == requester.id)
    request = one(session, wanted)
    return {
        "reference requests": "/references/",
        "new request": "/references/new",
        "a request": f"/references/{request.id}",
        "sales leaderboard": "/references/leaderboard",
    }


def sales_pages(app, session) -> dict[str, str]:
    return {**reference_pages(session, user(session, SALES)), "change password": "/password"}


def staff_pages(app, session) -> dict[str, str]:
    challenge = one(
        session,
        select(Challenge)
        .where(Challenge.status == ChallengeStatus.PUBLISHED)
        .order_by(Challenge.id),
    )
    pending = one(
        session,
        select(Submission)
        .where(Submission.status == SubmissionStatus.PENDING)
        .order_by(Submission.id),
    )
    thank_you = one(session, select(ThankYou).order_by(ThankYou.id))
    group = one(session, select(AdvocateGroup).order_by(AdvocateGroup.id))
    ana = user(session, ADVOCATE)
    return {
        "program dashboard": "/manage/",
        "challenges list": "/manage/challenges",
        "challenge detail": f"/manage/challenges/{challenge.id}",
        "challenge preview": f"/manage/challenges/{challenge.id}/preview",
        "challenge form": f"/manage/challenges/{challenge.id}/edit",
        "new challenge": "/manage/challenges/new",
        "review queue": "/manage/review",
        "a submission": f"/manage/review/{pending.id}",
        "thank-yous": "/manage/thanks",
        "a thank-you": f"/manage/thanks/{thank_you.id}",
        "groups": "/manage/groups",
        "a group": f"/manage/groups/{group.id}",
        "referral leads": "/manage/leads",
        "log activity": "/manage/activities/new",
        "offers": "/manage/offers",
        "program settings": "/manage/settings",
        "staff leaderboard": "/manage/leaderboard",
        "invite": "/manage/invite",
        "accounts (manager)": "/manage/accounts",
        "near the cap": "/manage/near-cap",
        "an advocate": f"/manage/advocates/{ana.id}",
        **manager_reference_pages(session),
    }


def manager_reference_pages(session) -> dict[str, str]:
    pages = reference_pages(session)
    request = pages["a request"]
    return {
        **pages,
        "candidates": f"{request}/candidates",
        "asks to make": "/references/asks/",
        "surveys": "/references/surveys/",
        "promoters": "/references/surveys/promoters",
        "flags": "/references/surveys/flags",
        "timing": "/references/timing",
        "boundaries": "/references/settings",
    }


def admin_pages(app, session) -> dict[str, str]:
    account = one(session, select(Account).where(Account.name == "Initech Bank"))
    ana = user(session, ADVOCATE)
    redemption = one(session, select(Redemption).order_by(Redemption.id))
    reward = one(session, select(Reward).order_by(Reward.id))
    return {
        "admin dashboard": "/admin/",
        "accounts": "/admin/accounts",
        "an account": f"/admin/accounts/{account.id}",
        "account form": f"/admin/accounts/{account.id}/edit",
        "users": "/admin/users",
        "a user": f"/admin/users/{ana.id}",
        "a user's points": f"/admin/users/{ana.id}/points",
        "invite a user": "/admin/users/invite",
        "audit log": "/admin/audit",
        "redemptions queue": "/admin/redemptions",
        "a redemption": f"/admin/redemptions/{redemption.id}",
        "rewards catalog (admin)": "/admin/rewards",
        "reward form": f"/admin/rewards/{reward.id}",
        "new reward": "/admin/rewards/new",
        "levels": "/admin/levels",
        "badges": "/admin/badges",
        "game settings": "/admin/game",
        "not found": "/admin/users/999999",
    }


ANSWERS = {"not found": 404, "reset with a bad token": 400, "invitation with a bad token": 400}
LOGGED_OUT = {
    "login": "/login",
    "forgot password": "/forgot",
    "reset with a bad token": "/reset/made-up-token",
    "invitation with a bad token": "/invite/made-up-token",
    "not found": "/no-such-page",
}


def test_every_page_of_every_role_passes_axe_at_both_widths(
    page: Page, context, live_server, app, demo
):
    """Logged out, then as the demo's advocate, manager, admin and sales user; every problem
    of every page is listed in the one failure (one demo program, seeded once, serves them
    all)."""
    found: list[str] = []
    logged_out = dict(LOGGED_OUT)
    if has_route(app, "notifications.unsubscribe"):
        link = unsubscribe_url(SETTINGS, user(demo, ADVOCATE), Topic.RESULTS)
        logged_out["unsubscribe"] = "/" + link.split("/", 3)[3]
    found += visit_all(page, live_server, logged_out).found
    # a form sent with its fields empty: the errors beside the fields pass too
    page.goto(f"{live_server}/login")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    errors = Problems([])
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        errors.check(page, "login with errors", width)
    found += errors.found
    for email, pages_of in (
        (ADVOCATE, advocate_pages),
        (MANAGER, staff_pages),
        (ADMIN, admin_pages),
        (SALES, sales_pages),
    ):
        pages = pages_of(app, demo)
        context.clear_cookies()
        log_in(page, live_server, email, DEMO_PASSWORD)
        expect(page.locator("nav form button[type=submit]")).to_be_attached()  # "Log out"
        found += [f"{email}: {line}" for line in visit_all(page, live_server, pages).found]
    Problems(found).assert_none()


# what the keyboard's focus is on, and whether a sighted person can see where it is
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
    || style.boxShadow !== "none";
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    text: (el.getAttribute("aria-label") || el.innerText || el.value || "").trim().slice(0, 60),
    visible: el.matches(":focus-visible") && ring && box.width > 0 && box.height > 0,
    inMain: !!el.closest("main"),
  };
}"""


def tab_until(page: Page, wanted: Callable[[dict], bool], most: int = 80, key: str = "Tab") -> dict:
    """Press Tab (or `key`) until the focus is on what `wanted` says, checking that every
    stop on the way shows a focus ring."""
    for _ in range(most):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUSED)
        assert focused["visible"], f"no visible focus on {focused} at {page.url}"
        if wanted(focused):
            return focused
    raise AssertionError(f"Tab never reached the element wanted on {page.url}")


def test_the_keyboard_alone_logs_in_moves_around_and_saves_the_profile(
    page: Page, live_server, make, session
):
    advocate = make.advocate("kim.keys@northwind.example")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server}/login")

    # the first stop is the skip link, shown while it has the focus
    first = tab_until(page, lambda f: True, most=1)
    assert first["text"] == "Skip to content", first
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()

    tab_until(page, lambda f: f["id"] == "email")
    page.keyboard.type(advocate.email)
    tab_until(page, lambda f: f["id"] == "password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/hub/$"))

    # skip link, then Enter: the next Tab lands inside the main content, past the menu
    tab_until(page, lambda f: f["text"] == "Skip to content", most=1)
    page.keyboard.press("Enter")
    assert tab_until(page, lambda f: True, most=1)["inMain"]

    # back up into the menu to the profile; the form filled in and sent by keyboard
    tab_until(page, lambda f: f["tag"] == "a" and f["text"] == "Profile", key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/hub/profile$"))
    tab_until(page, lambda f: f["id"] == "title")
    page.keyboard.type("Head of Keyboards")
    tab_until(page, lambda f: f["id"] == "hide_from_leaderboard")
    page.keyboard.press("Space")
    tab_until(page, lambda f: f["tag"] == "button" and f["text"] == "Save profile")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Profile saved.")
    session.refresh(advocate)
    assert advocate.title == "Head of Keyboards"
    assert advocate.hide_from_leaderboard is True

    # on a phone the menu folds behind its button, which the keyboard opens
    page.set_viewport_size(PHONE)
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Rewards")
    ).to_be_hidden()
    tab_until(page, lambda f: f["tag"] == "button" and f["text"] == "Menu", key="Shift+Tab")
    page.keyboard.press("Enter")
    tab_until(page, lambda f: f["tag"] == "a" and f["text"] == "Rewards")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/hub/rewards$"))


def spanish(text: str) -> str:
    """`text` in the Spanish catalog as compiled (the text itself while it is missing)."""
    catalog = Translations.load(str(PROJECT_ROOT / "translations"), ["es"])
    return catalog.gettext(text)


def test_in_spanish_at_phone_width_the_main_pages_pass_axe(browser: Browser, live_server, demo):
    context = browser.new_context(locale="es-ES", viewport=PHONE)
    page = context.new_page()
    try:
        problems = Problems([])
        for email, paths in (
            (ADVOCATE, ["/hub/", "/hub/rewards"]),
            (MANAGER, ["/manage/review"]),
            (ADMIN, ["/admin/redemptions"]),
        ):
            page.goto(f"{live_server}/login")
            page.locator("#email").fill(email)
            page.locator("#password").fill(DEMO_PASSWORD)
            page.locator("main form button[type=submit]").click()
            expect(page.locator("nav form button[type=submit]")).to_be_attached()
            for path in paths:
                page.goto(live_server + path)
                expect(page.locator("html")).to_have_attribute("lang", "es")
                problems.check(page, path, "phone")
            context.clear_cookies()  # logged out, without opening the phone's menu
        problems.assert_none()
        # the menu in Spanish (once the catalog has the word)
        page.goto(f"{live_server}/login")
        expect(page.locator("h1")).to_have_text(spanish("Log in to Vouch"))
    finally:
        context.close()
