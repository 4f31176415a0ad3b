"""An event challenge, clicked through in a browser set to Madrid's time zone: the manager's
first login takes the zone from the browser, the webinar's time is typed in Madrid time,
the advocate sees it in their zone with the zone named, RSVPs, then sees the join link and
downloads the calendar invite (its time in UTC)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from challenges.models import Challenge
from portal.accounts.models import User
from tests.e2e.steps import log_in, log_out, nav

PORTS = range(5110, 5120)  # this part's ports
TITLE = "Roadmap preview webinar"
JOIN = "https://meet.vouch.example/roadmap"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A browser in Madrid (CET), as an advocate's laptop there would be."""
    return {**browser_context_args, "timezone_id": "Europe/Madrid", "accept_downloads": True}


@pytest.fixture
def live_server(app) -> Iterator[str]:
    for port in PORTS:
        try:
            server = make_server("127.0.0.1", port, app, threaded=True)
            break
        except OSError:
            continue
    else:
        pytest.skip("no free port in 5110-5119")
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_webinar_written_in_madrid_time_rsvpd_joined_and_put_in_a_calendar(
    page: Page, live_server, make, session, tmp_path: Path, screenshot
):
    manager = make.manager("maya.patel@vouch.example")
    advocate = make.advocate("ana.ruiz@northwind.example", account=make.account("Northwind"))

    # --- The manager logs in (the browser's zone is kept) and writes the webinar. ---
    log_in(page, live_server, manager.email)
    expect(nav(page, "Challenges")).to_be_visible()
    session.expire_all()
    assert session.get(User, manager.id).time_zone == "Europe/Madrid"
    nav(page, "Challenges").click()
    page.get_by_role("link", name="New challenge").click()
    page.get_by_label("Type", exact=True).select_option(label="Webinar / event")
    details = page.get_by_role("group", name="Webinar / event details")
    expect(details).to_be_visible()
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Points", exact=True).fill("50")
    details.get_by_label("Advocate's role").select_option(label="Attend")
    expect(details.get_by_text("In your time zone (CET).")).to_be_visible()
    details.get_by_label("When the event starts").fill("2030-03-14T18:00")
    details.get_by_label("Length (minutes)").fill("45")
    details.get_by_label("Join link").fill(JOIN)
    screenshot("event-1-form")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert")).to_contain_text("Draft saved.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert")).to_contain_text("is live")
    challenge = session.scalar(select(Challenge).where(Challenge.title == TITLE))
    assert challenge.event_at == datetime(2030, 3, 14, 17, 0, tzinfo=UTC)  # stored in UTC
    log_out(page)

    # --- The advocate sees the event's time (not "No deadline") and RSVPs. ---
    log_in(page, live_server, advocate.email)
    page.goto(f"{live_server}/hub/challenges")
    card = page.get_by_test_id("challenge-card").filter(has_text=TITLE)
    expect(card.get_by_test_id("event-time")).to_have_text("Event: 14 Mar 2030, 18:00 CET")
    expect(card).not_to_contain_text("No deadline")
    card.get_by_role("link", name=TITLE).click()
    event = page.get_by_test_id("event")
    expect(event).to_contain_text("When: 14 Mar 2030, 18:00 CET · 45 minutes")
    expect(page.get_by_test_id("join-link")).to_have_count(0)
    expect(event).to_contain_text("RSVP to get the link to join.")
    page.get_by_role("button", name="RSVP").click()
    expect(page.get_by_role("alert")).to_contain_text("You're on the list.")

    # --- Back on the event's page: the join link, and the invite for the calendar. ---
    page.goto(f"{live_server}/hub/challenges/{challenge.id}")
    join = page.get_by_test_id("join-link")
    expect(join).to_have_attribute("href", JOIN)
    screenshot("event-2-rsvpd")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add to my calendar (.ics)").click()
    download = download_info.value
    assert download.suggested_filename == f"event-{challenge.id}.ics"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    [vevent] = Calendar.from_ical(saved.read_text()).walk("VEVENT")
    assert vevent.decoded("dtstart") == datetime(2030, 3, 14, 17, 0, tzinfo=UTC)
    assert "DTSTART:20300314T170000Z" in saved.read_text()
    assert str(vevent["summary"]) == TITLE and str(vevent["url"]) == JOIN
