"""Age limits and the audit log, clicked through in a browser: an admin shortens the limits
on the game settings page, finds the overdue request first in the queue with its mark,
then finds that very change in the audit log by actor, action and day; the advocate sees
when to expect their reward."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update
from werkzeug.serving import make_server

from points.models import Redemption
from points.program import game_settings
from points.redemptions import approve_redemption
from portal.db import utcnow
from tests.e2e.steps import log_in, log_out, nav
from tests.factories import SETTINGS

SHOTS_DIR = Path("/tmp/h11-audit-ages")  # noqa: S108 - where the screenshots are looked at
PORTS = range(5130, 5140)  # this part's ports


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The shared live server, on the first free port of this part's range."""
    for port in PORTS:
        try:
            server = make_server("127.0.0.1", port, app, threaded=True)
            break
        except OSError:
            continue
    else:
        pytest.skip("no free port in 5130-5139")
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def shot(page: Page) -> Callable[[str], Path]:
    def take(name: str) -> Path:
        SHOTS_DIR.mkdir(parents=True, exist_ok=True)
        path = SHOTS_DIR / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def records(page: Page, name: str):
    """A link in the main navigation's Records menu, opened."""
    main = page.get_by_role("navigation", name="Main")
    main.get_by_role("button", name="Records").click()
    return main.get_by_role("link", name=name, exact=True)


def test_admin_shortens_the_limits_sees_the_overdue_first_and_finds_the_change(
    page: Page, live_server, make, session, shot
):
    game_settings(session)
    session.commit()
    advocate = make.advocate("ana.ruiz@northwind.example", account=make.account("Northwind"))
    make.points(advocate, 3000)
    card = make.reward("Amazon.com gift card, $50", "gift_card", 600)
    hoodie = make.reward("Vouch hoodie", "swag", 700)
    admin = make.admin("olu.admin@vouch.example")
    fresh = make.redemption(advocate, card)
    waiting = make.redemption(advocate, card)  # asked second, waiting longest
    shipped = make.redemption(advocate, hoodie, shipping_address="200 Harbor Street, Boston")
    approve_redemption(session, SETTINGS, admin, shipped.id)
    session.execute(
        update(Redemption)
        .where(Redemption.id == waiting.id)
        .values(updated_at=utcnow() - timedelta(days=4, hours=1))
    )
    session.commit()

    # --- The admin makes requests overdue after two days, deliveries after seven. ---
    log_in(page, live_server, admin.email)
    records(page, "Game settings").click()
    expect(page.get_by_role("group", name="Redemption age limits")).to_be_visible()
    page.get_by_label("Approve or reject within (days)").fill("0")
    page.get_by_role("button", name="Save game settings").click()
    expect(page.get_by_text("From 1 to 365 days.")).to_be_visible()  # beside the field
    page.get_by_label("Approve or reject within (days)").fill("2")
    page.get_by_label("Deliver within (days after approval)").fill("7")
    page.get_by_role("button", name="Save game settings").click()
    expect(page.get_by_role("alert")).to_contain_text("Game settings saved.")
    shot("1-game-settings")

    # --- The queue lists the overdue request first, marked. ---
    nav(page, "Redemptions").click()
    rows = page.get_by_test_id("redemption-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(f"{waiting.id}")
    expect(rows.first.get_by_test_id("overdue")).to_have_text("2 days overdue")
    expect(rows.nth(1).get_by_test_id("overdue")).to_have_count(0)
    expect(rows.nth(1)).to_contain_text(f"{fresh.id}")
    expect(page.get_by_test_id("overdue-summary")).to_contain_text("1 waiting for a decision")
    expect(page.get_by_test_id("overdue-requested")).to_have_text("1 overdue")
    shot("2-queue")

    # --- The audit log, filtered by who, what and when, shows that change. ---
    records(page, "Audit log").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    page.get_by_label("Who did it (email)").fill("nobody@vouch.example")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Nobody here has this email.")).to_be_visible()
    page.get_by_label("Who did it (email)").fill(admin.email)
    page.get_by_label("Action").fill("program.game")
    today = datetime.now(UTC).date().isoformat()  # the program's zone is UTC
    page.get_by_label("From", exact=True).fill(today)
    page.get_by_label("To (inclusive)").fill(today)
    page.get_by_role("button", name="Filter").click()
    events = page.locator("table tbody tr")
    expect(events).to_have_count(1)
    expect(events.first).to_contain_text("program.game")
    expect(events.first).to_contain_text("redemptions approved within 2 days, delivered within 7")
    expect(events.first.get_by_role("link", name=admin.display_name)).to_be_visible()
    assert "actor=olu.admin%40vouch.example" in page.url or "actor=olu.admin@" in page.url
    shot("3-audit-log")
    log_out(page)

    # --- The advocate sees when to expect each one. ---
    log_in(page, live_server, advocate.email)
    page.goto(f"{live_server}/hub/redemptions")
    expected = page.get_by_test_id("expected")
    delivery = (datetime.now(UTC) + timedelta(days=7)).strftime("%-d %b %Y")
    expect(expected.first).to_have_text(f"Expect delivery by {delivery}.")
    expect(expected.nth(1)).to_contain_text("Running late.")
    expect(expected.nth(2)).to_contain_text("Expect a decision by")
    shot("4-advocate-redemptions")
