"""Redemptions that wait too long: the two age limits on the game settings page (bounded,
audited), the open queues oldest-in-status first so the overdue lead every page, each
overdue row marked and counted (queue and dashboard), the advocate told when to expect
it on the program's calendar, and demo data with overdue ones."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from points import queries
from points.models import GameSettings, Redemption
from points.program import game_settings
from points.redemptions import approve_redemption, fulfil_redemption
from portal.accounts.models import AuditEvent
from portal.db import utcnow
from portal.seed import DEMO_PASSWORD
from tests.factories import SETTINGS, client_for, login

OVER_THRESHOLD = 600  # over the default auto-approval threshold (500): the request waits
GAME = {  # the rest of the game settings form, as the page would post it
    "time_zone": "UTC",
    "show_leaderboards": "y",
    "show_points": "y",
    "earn_cap_period": "month",
}


def queue_ids(page) -> list[int]:
    return [
        int(n) for n in re.findall(rb'data-testid="redemption-row">\s*<td>(\d+)</td>', page.data)
    ]


def overdue_marks(page) -> list[str]:
    return re.findall(r'data-testid="overdue">([^<]+)<', page.get_data(as_text=True))


def next_link(page) -> str | None:
    found = re.search(rb'rel="next" href="([^"]+)"', page.data)
    return html.unescape(found.group(1).decode()) if found else None


def requests_of(make, count: int, advocate=None) -> list[Redemption]:
    advocate = advocate or make.advocate()
    reward = make.reward(cost=OVER_THRESHOLD)
    make.points(advocate, OVER_THRESHOLD * count)
    return [make.redemption(advocate, reward) for _ in range(count)]


def entered_status(session, redemptions, ago: timedelta) -> None:
    session.execute(
        update(Redemption)
        .where(Redemption.id.in_([r.id for r in redemptions]))
        .values(updated_at=utcnow() - ago)
    )
    session.commit()


# --- the settings -----------------------------------------------------------------------


def test_the_age_limits_are_saved_and_audited(app, make, session):
    admin = client_for(app, make.admin("root@vouch.example").email)
    page = admin.get("/admin/game").get_data(as_text=True)
    assert 'name="approve_within_days"' in page and 'value="3"' in page
    assert 'name="fulfil_within_days"' in page and 'value="10"' in page
    saved = admin.post(
        "/admin/game",
        data={**GAME, "approve_within_days": "2", "fulfil_within_days": "14"},
        follow_redirects=True,
    )
    assert "Game settings saved." in saved.get_data(as_text=True)
    session.expire_all()
    row = session.get(GameSettings, 1)
    assert (row.approve_within_days, row.fulfil_within_days) == (2, 14)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "program.game"))
    assert "approved within 2 days, delivered within 14" in event.summary
    assert event.details["approve_within_days"] == 2 and event.details["fulfil_within_days"] == 14


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "From 1 to 365 days."),
        ("366", "From 1 to 365 days."),
        ("-3", "From 1 to 365 days."),
        ("99999999999999999999", "From 1 to 365 days."),  # past any integer column
        ("abc", "Enter a whole number, such as 25."),
        ("3.5", "Enter a whole number, such as 25."),
        ("", "Give the days"),
        ("3\x00", "Enter a whole number, such as 25."),
        ("٣", "From 1 to 365 days."),  # an Arabic-Indic 3 is a number, yet in range
    ],
)
@pytest.mark.parametrize("name", ["approve_within_days", "fulfil_within_days"])
def test_bad_age_limits_are_named_beside_the_field(app, make, session, name, value, message):
    admin = client_for(app, make.admin().email)
    other = "fulfil_within_days" if name == "approve_within_days" else "approve_within_days"
    refused = admin.post("/admin/game", data={**GAME, other: "5", name: value})
    text = html.unescape(refused.get_data(as_text=True))
    if value == "٣":  # Python reads it as 3: accepted, and nothing odd is stored
        assert refused.status_code == 302
        return
    assert refused.status_code == 422
    errors = re.search(rf'id="{name}-errors">([^<]*)<', text)
    assert errors and message in errors.group(1), text[:200]
    session.expire_all()
    row = game_settings(session)
    assert (row.approve_within_days, row.fulfil_within_days) == (3, 10)  # nothing saved


def test_a_post_without_the_limits_keeps_them(app, make, session):
    game_settings(session).approve_within_days = 7
    session.commit()
    admin = client_for(app, make.admin().email)
    assert admin.post("/admin/game", data=GAME).status_code == 302
    session.expire_all()
    assert game_settings(session).approve_within_days == 7


# --- the queue --------------------------------------------------------------------------


def test_the_overdue_lead_the_queue_across_pages_and_are_marked(app, make, session):
    made = requests_of(make, 70)
    late = made[-5:]  # asked last, but waiting longest: say a policy hold was lifted
    entered_status(session, late, timedelta(days=5, hours=1))
    entered_status(session, made[-10:-5], timedelta(days=2))  # waiting, not yet overdue
    admin = client_for(app, make.admin().email)

    first = admin.get("/admin/redemptions?status=requested")
    ids = queue_ids(first)
    assert ids[:10] == [r.id for r in late + made[-10:-5]]
    assert ids[10:] == [r.id for r in made[:40]]
    assert overdue_marks(first) == ["2 days overdue"] * 5
    assert 'data-testid="overdue-requested">5 overdue' in first.get_data(as_text=True)
    text = first.get_data(as_text=True)
    summary = re.search(r'data-testid="overdue-summary">(.*?)</div>', text, re.S)
    assert "5 waiting for a decision</a> longer than 3 days" in summary.group(1)

    second = admin.get(next_link(first))
    assert "status=requested" in next_link(first)
    assert queue_ids(second) == [r.id for r in made[40:60]]
    assert overdue_marks(second) == []

    # a shorter limit makes more of them overdue, without moving any
    game_settings(session).approve_within_days = 1
    session.commit()
    again = admin.get("/admin/redemptions?status=requested")
    assert queue_ids(again) == ids
    assert overdue_marks(again) == ["4 days overdue"] * 5 + ["1 day overdue"] * 5


def test_an_approved_one_is_overdue_by_the_delivery_limit(app, make, session):
    admin_user = make.admin()
    made = requests_of(make, 3)
    for redemption in made:
        approve_redemption(session, SETTINGS, admin_user, redemption.id)
    session.commit()
    entered_status(session, made[1:2], timedelta(days=10, hours=5))  # past 10 days by 5 h
    entered_status(session, made[2:], timedelta(days=12, hours=1))
    admin = client_for(app, admin_user.email)
    page = admin.get("/admin/redemptions?status=approved")
    assert queue_ids(page) == [made[2].id, made[1].id, made[0].id]
    assert overdue_marks(page) == ["2 days overdue", "5 hours overdue"]
    assert 'data-testid="overdue-approved">2 overdue' in page.get_data(as_text=True)
    assert queries.overdue_counts(session) == {"requested": 0, "approved": 2}


def test_closed_and_flagged_queues_keep_their_order(app, make, session):
    admin_user = make.admin()
    made = requests_of(make, 2)
    entered_status(session, made[1:], timedelta(days=30))
    for redemption in made:
        approve_redemption(session, SETTINGS, admin_user, redemption.id)
        fulfil_redemption(session, SETTINGS, admin_user, redemption.id, "CODE")
    session.commit()
    admin = client_for(app, admin_user.email)
    fulfilled = admin.get("/admin/redemptions?status=fulfilled")
    assert queue_ids(fulfilled) == [r.id for r in made]  # by request, as before
    assert overdue_marks(fulfilled) == []


def test_the_dashboard_counts_the_overdue_in_each_queue(app, make, session, count_queries):
    admin_user = make.admin()
    made = requests_of(make, 4)
    entered_status(session, made[:3], timedelta(days=4))
    approve_redemption(session, SETTINGS, admin_user, made[3].id)
    session.commit()
    entered_status(session, made[3:], timedelta(days=11))
    admin = client_for(app, admin_user.email)
    with count_queries() as counted:
        page = admin.get("/admin/").get_data(as_text=True)
    overdue = re.search(r'data-testid="dashboard-overdue">(.*?)</ul>', page, re.S).group(1)
    assert re.search(r"decision</a>: <strong>3</strong> overdue", overdue)
    assert re.search(r"delivery</a>: <strong>1</strong> overdue", overdue)
    assert sum("redemptions" in s for s in counted.statements) == 1  # one aggregate


# --- what the advocate is told ----------------------------------------------------------


def day(moment: datetime, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone)).strftime("%-d %b %Y")


def expected_lines(page) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", "", html.unescape(line)).split())
        for line in re.findall(
            r'data-testid="expected">(.*?)</div>', page.get_data(as_text=True), re.S
        )
    ]


def test_the_advocate_sees_when_to_expect_it_on_the_programs_calendar(app, make, session):
    game_settings(session).time_zone = "Pacific/Auckland"  # UTC+12 or +13: a day ahead
    session.commit()
    advocate = make.advocate()
    admin_user = make.admin()
    waiting, approved = requests_of(make, 2, advocate)
    approve_redemption(session, SETTINGS, admin_user, approved.id)
    session.commit()
    # entered at 20:00 UTC yesterday: the day it is due in Auckland is the next UTC day
    yesterday = datetime.now(UTC).replace(hour=20, minute=0, second=0, microsecond=0)
    yesterday -= timedelta(days=1)
    entered_status(session, [waiting, approved], utcnow() - yesterday)
    decide_by = yesterday + timedelta(days=3)
    assert day(decide_by, "Pacific/Auckland") != day(decide_by, "UTC")

    page = client_for(app, advocate.email).get("/hub/redemptions")
    lines = expected_lines(page)
    assert lines == [
        f"Expect delivery by {day(yesterday + timedelta(days=10), 'Pacific/Auckland')}.",
        f"Expect a decision by {day(decide_by, 'Pacific/Auckland')}, delivery by "
        f"{day(decide_by + timedelta(days=10), 'Pacific/Auckland')}.",
    ]  # newest first: the approved one was requested second


def test_the_advocate_is_told_honestly_when_it_runs_late(app, make, session):
    advocate = make.advocate()
    admin_user = make.admin()
    waiting, approved, delivered = requests_of(make, 3, advocate)
    approve_redemption(session, SETTINGS, admin_user, approved.id)
    approve_redemption(session, SETTINGS, admin_user, delivered.id)
    fulfil_redemption(session, SETTINGS, admin_user, delivered.id, "CODE-1")
    session.commit()
    entered_status(session, [waiting], timedelta(days=4))
    entered_status(session, [approved], timedelta(days=11))
    session.refresh(delivered)
    lines = expected_lines(client_for(app, advocate.email).get("/hub/redemptions"))
    due = day(delivered.updated_at, "UTC")
    assert lines[0].startswith(f"Delivered {due}, ")
    assert lines[1].startswith("Running late. We meant to deliver it by ")
    assert lines[2].startswith("Running late. We meant to decide by ")
    assert "once approved, expect it within 10 days" in lines[2]


def test_expectations_are_counted_from_the_time_in_status():
    limits = queries.AgeLimits(timedelta(days=3), timedelta(days=10))
    entered = datetime(2026, 12, 1, 12, tzinfo=UTC)
    requested = Redemption(id=1, status="requested", updated_at=entered)
    assert limits.due(requested) == datetime(2026, 12, 4, 12, tzinfo=UTC)
    assert limits.overdue_by(requested, datetime(2026, 12, 4, 11, tzinfo=UTC)) is None
    late = limits.overdue_by(requested, datetime(2026, 12, 6, 13, tzinfo=UTC))
    assert queries.overdue_text(late) == "2 days overdue"
    assert queries.overdue_text(timedelta(minutes=5)) == "1 hour overdue"
    assert limits.due(Redemption(status="fulfilled", updated_at=entered)) is None


# --- the demo ---------------------------------------------------------------------------


def test_the_demo_has_overdue_redemptions_that_lead_their_queues(app, session):
    assert "records created" in app.test_cli_runner().invoke(args=["seed-demo"]).output
    counts = queries.overdue_counts(session)
    assert counts["requested"] >= 1 and counts["approved"] >= 1
    admin = app.test_client()
    login(admin, "admin@vouch.example", DEMO_PASSWORD)
    for status in ("requested", "approved"):
        page = admin.get(f"/admin/redemptions?status={status}")
        marks = overdue_marks(page)
        assert marks and marks[0].endswith("overdue"), status  # the first row is overdue
        assert len(marks) < len(queue_ids(page)) or status == "requested"
