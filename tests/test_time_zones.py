"""Every date and time in the reader's zone, with the zone named; a person's zone comes from
their browser at the first login; an author's times are read in the author's zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update

from challenges.models import Challenge
from points.program import game_settings
from portal.accounts.models import User
from tests.factories import PASSWORD, link_in, login

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
AT_16_UTC = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # a Thursday in CET (UTC+1)


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def set_zone(session, user, zone: str | None, locale: str | None = None) -> None:
    row = session.get(User, user.id)
    row.time_zone, row.locale = zone, locale
    session.commit()


def log_in_from(client, email: str, zone: str):
    return client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "time_zone": zone},
        follow_redirects=True,
    )


# --- the zone from the browser -------------------------------------------------------------


def test_the_login_form_asks_the_browser_for_its_zone(client):
    page = client.get("/login").get_data(as_text=True)
    assert re.search(r'<input[^>]*data-browser-time-zone[^>]*name="time_zone"', page) or (
        re.search(r'<input[^>]*name="time_zone"[^>]*data-browser-time-zone', page)
    )
    assert "/static/js/time-zone.js" in page
    script = (TEMPLATES.parent / "static" / "js" / "time-zone.js").read_text()
    assert "Intl.DateTimeFormat().resolvedOptions().timeZone" in script


def test_the_first_login_keeps_the_browsers_zone_and_later_ones_never_change_it(
    client, make, session
):
    advocate = make.advocate()
    home = log_in_from(client, advocate.email, "Europe/Madrid")
    assert "Log out" in text_of(home)
    session.expire_all()
    assert session.get(User, advocate.id).time_zone == "Europe/Madrid"
    client.post("/logout")
    log_in_from(client, advocate.email, "America/New_York")  # travelling: still Madrid
    session.expire_all()
    assert session.get(User, advocate.id).time_zone == "Europe/Madrid"


def test_staff_get_their_zone_too_and_a_made_up_zone_is_ignored(client, make, session):
    manager = make.manager()
    log_in_from(client, manager.email, "Mars/Olympus_Mons")
    session.expire_all()
    assert session.get(User, manager.id).time_zone is None  # the program's zone is used
    client.post("/logout")
    log_in_from(client, manager.email, "Asia/Tokyo")
    session.expire_all()
    assert session.get(User, manager.id).time_zone == "Asia/Tokyo"


def test_a_login_without_javascript_still_works_and_keeps_no_zone(client, make, session):
    advocate = make.advocate()
    assert "Log out" in text_of(login(client, advocate.email))
    session.expire_all()
    assert session.get(User, advocate.id).time_zone is None


def test_accepting_an_invitation_keeps_the_browsers_zone(client, make, outbox, session):
    manager, account = make.manager(), make.account("Northwind Health")
    login(client, manager.email)
    client.post("/manage/invite", data={"account_id": account.id, "addresses": "ana@nw.example"})
    client.post("/logout")
    path = link_in(outbox.deliver()[0].body)
    page = client.get(path).get_data(as_text=True)
    assert 'name="time_zone"' in page and "/static/js/time-zone.js" in page
    password = "a-long-password-1"
    client.post(
        path,
        data={
            "name": "Ana Ruiz",
            "password": password,
            "confirm": password,
            "consent": "y",
            "time_zone": "America/Mexico_City",
        },
    )
    user = session.scalar(select(User).where(User.email == "ana@nw.example"))
    assert user.time_zone == "America/Mexico_City"


# --- dates in the reader's zone ------------------------------------------------------------


def test_a_madrid_advocate_sees_17_00_cet_for_16_00_utc(client, make, session):
    make.challenge("survey", title="Tell us about your week", ends_at=AT_16_UTC)
    advocate = make.advocate()
    set_zone(session, advocate, "Europe/Madrid")
    login(client, advocate.email)
    page = text_of(client.get("/hub/challenges"))
    assert "Closes 3 Dec 2026, 17:00 CET" in page
    assert "16:00" not in page and "UTC" not in page


def test_without_a_zone_the_programs_zone_is_used_and_named(client, make, session):
    make.challenge("survey", ends_at=AT_16_UTC)
    game_settings(session).time_zone = "Pacific/Auckland"  # UTC+13 in December
    session.commit()
    advocate = make.advocate()
    login(client, advocate.email)
    assert "Closes 4 Dec 2026, 05:00 NZDT" in text_of(client.get("/hub/challenges"))


def test_a_spanish_reader_sees_the_date_in_spanish_and_in_their_zone(client, make, session):
    make.challenge("survey", ends_at=AT_16_UTC)
    advocate = make.advocate()
    set_zone(session, advocate, "America/Mexico_City", locale="es")
    login(client, advocate.email)
    assert "3 dic 2026, 10:00 CST" in text_of(client.get("/hub/challenges"))


def test_staff_read_submissions_in_their_own_zone(client, make, session):
    challenge = make.challenge("survey", approval="manual")
    submission = make.submission(challenge, answer="Support")
    submission.created_at = AT_16_UTC
    session.commit()
    reviewer = make.manager()
    set_zone(session, reviewer, "America/New_York")
    login(client, reviewer.email)
    page = text_of(client.get(f"/manage/review/{submission.id}"))
    assert "3 Dec 2026, 11:00 EST" in page and "UTC" not in page


def test_no_template_formats_a_date_by_hand():
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html")) + sorted(TEMPLATES.rglob("*.txt"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if ".strftime(" in line or "|program_time" in line or re.search(r"\bUTC\b", line)
    ]
    assert offenders == [], "use |moment or |day (the reader's zone, named): " + ", ".join(
        offenders
    )


# --- an author's times ----------------------------------------------------------------------


def test_an_authors_times_are_read_and_shown_in_the_authors_zone(client, make, session):
    manager = make.manager()
    set_zone(session, manager, "Europe/Madrid")
    login(client, manager.email)
    form = text_of(client.get("/manage/challenges/new"))
    assert "Times are in your time zone (CET)." in form
    client.post(
        "/manage/challenges/new",
        data={
            "type": "survey",
            "title": "Winter survey",
            "points": "10",
            "question": "What do you use us for?",
            "starts_at": "2026-12-10T10:00",
            "ends_at": "2027-07-01T10:00",
            "limit_kind": "once",
            "limit_period": "month",
            "approval": "auto",
        },
    )
    challenge = session.scalar(select(Challenge).where(Challenge.title == "Winter survey"))
    assert challenge.starts_at == datetime(2026, 12, 10, 9, 0, tzinfo=UTC)  # CET: UTC+1
    assert challenge.ends_at == datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # CEST: UTC+2
    edit = client.get(f"/manage/challenges/{challenge.id}/edit").get_data(as_text=True)
    assert 'value="2026-12-10T10:00"' in edit and 'value="2027-07-01T10:00"' in edit


def test_only_zones_that_can_be_written_are_offered_or_kept(app, make, session):
    """zoneinfo knows "localtime" and "Factory"; pytz (Flask-Babel's dates) does not: such a
    zone on the profile, the login form, or already stored must never break a page."""
    from points.program import time_zones

    assert "localtime" not in time_zones() and "Factory" not in time_zones()
    advocate = make.advocate("zed@zones.example")
    client = app.test_client()
    login(client, advocate.email)
    refused = client.post("/hub/profile", data={"name": "Zed", "time_zone": "localtime"})
    assert refused.status_code == 422
    session.execute(update(User).where(User.id == advocate.id).values(time_zone="Factory"))
    session.commit()
    for path in ("/hub/", "/hub/profile", "/hub/notifications"):  # the program's zone instead
        assert client.get(path).status_code == 200, path
