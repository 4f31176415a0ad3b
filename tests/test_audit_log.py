"""The admin's audit log: filters by actor, target, action and days on the program's
calendar, combined; bad input named beside its field (never a 5xx); pages by id with the
filters kept; the action names offered are every one the code records; the CSV."""

from __future__ import annotations

import csv
import html
import io
import pathlib
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select

from points.program import game_settings
from portal.accounts.models import AuditEvent
from portal.accounts.queries import AUDIT_ACTIONS
from portal.inputs import ADDRESS_MESSAGE
from tests.factories import client_for

ROOT = pathlib.Path(__file__).resolve().parent.parent


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def log(app, make, session):
    """Six events, told apart by their summaries E1..E6, in a program on Paris time."""
    alice = make.admin("alice@vouch.example")
    maya = make.manager("maya@vouch.example")
    northwind = make.account("Northwind Health")
    ana = make.advocate("ana@northwind.example", account=northwind)
    game_settings(session).time_zone = "Europe/Paris"  # UTC+1 in March
    session.execute(delete(AuditEvent))  # what the set-up itself recorded
    rows = [
        (alice, "account.gift_policy", "account", northwind.id, at(1, 10)),
        (alice, "user.role", "user", ana.id, at(2, 23, 30)),  # 3 March, 00:30 in Paris
        (maya, "challenge.create", "challenge", 7, at(3, 12)),
        (maya, "redemption.approve", "redemption", 1, at(4, 9)),
        (alice, "redemption.reject", "redemption", 2, at(5, 9)),
        (maya, "user.role", "user", ana.id, at(6, 22, 59)),  # 6 March, 23:59 in Paris
    ]
    session.add_all(
        AuditEvent(
            actor_id=actor.id,
            action=action,
            target_type=kind,
            target_id=target_id,
            summary=f"E{n}",
            details={},
            created_at=when,
        )
        for n, (actor, action, kind, target_id, when) in enumerate(rows, start=1)
    )
    session.commit()
    return client_for(app, alice.email)


def listed(page) -> list[str]:
    """The events on a page, newest first, by their summaries."""
    assert page.status_code == 200, page.status_code
    return re.findall(r"<td>(E\d+)</td>", page.get_data(as_text=True))


def field_error(page, name: str) -> str:
    found = re.search(rf'id="{name}-errors">([^<]*)<', page.get_data(as_text=True), flags=re.DOTALL)
    return html.unescape(found.group(1)) if found else ""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["E6", "E5", "E4", "E3", "E2", "E1"]),
        ({"actor": "alice@vouch.example"}, ["E5", "E2", "E1"]),
        ({"actor": "  MAYA@vouch.example "}, ["E6", "E4", "E3"]),  # an email as typed
        ({"target": "ana@northwind.example"}, ["E6", "E2"]),
        ({"target": "northwind health"}, ["E1"]),  # an account's name, any case
        ({"action": "redemption."}, ["E5", "E4"]),  # the start of some
        ({"action": "user.role"}, ["E6", "E2"]),  # one known action
        ({"action": "user.rol"}, ["E6", "E2"]),
        ({"action": "nothing.like.it"}, []),
        ({"date_from": "2026-03-05"}, ["E6", "E5"]),
        ({"date_to": "2026-03-02"}, ["E1"]),  # E2 happened on 3 March in Paris
        ({"date_from": "2026-03-03", "date_to": "2026-03-03"}, ["E3", "E2"]),
        ({"date_from": "2026-03-06", "date_to": "2026-03-06"}, ["E6"]),  # 23:59 local
        ({"actor": "maya@vouch.example", "action": "user.role"}, ["E6"]),
        ({"actor": "alice@vouch.example", "target": "ana@northwind.example"}, ["E2"]),
        (
            {"actor": "alice@vouch.example", "action": "redemption.", "date_to": "2026-03-04"},
            [],
        ),
        (
            {
                "actor": "alice@vouch.example",
                "action": "user.",
                "target": "ana@northwind.example",
                "date_from": "2026-03-03",
                "date_to": "2026-03-03",
            },
            ["E2"],
        ),
    ],
)
def test_each_filter_and_their_combinations(log, query, expected):
    assert listed(log.get("/admin/audit", query_string=query)) == expected


def test_the_link_from_a_users_page_is_the_target_filter(log, session):
    ana = session.scalar(select(AuditEvent.target_id).where(AuditEvent.summary == "E2"))
    page = log.get(f"/admin/audit?user_id={ana}")
    assert listed(page) == ["E6", "E2"]
    assert 'value="ana@northwind.example"' in page.get_data(as_text=True)
    # a typed target replaces it
    assert listed(log.get(f"/admin/audit?user_id={ana}&target=northwind+health")) == ["E1"]


def test_each_row_shows_time_actor_action_target_and_summary(log):
    text = log.get("/admin/audit?action=user.role&actor=alice@vouch.example").get_data(as_text=True)
    assert "3 Mar 2026, 00:30 CET" in text  # the program's clock
    assert ">alice</a>" in text and "<code>user.role</code>" in text
    assert re.search(r'href="/admin/users/\d+">ana</a>', text)  # the target, linked
    account = log.get("/admin/audit?target=Northwind+Health").get_data(as_text=True)
    assert re.search(r'href="/admin/accounts/\d+">Northwind Health</a>', account)
    redemption = log.get("/admin/audit?action=redemption.reject").get_data(as_text=True)
    assert 'href="/admin/redemptions/2">Redemption #2</a>' in redemption


BAD = [
    ({"actor": "nobody@vouch.example"}, "actor", "Nobody here has this email."),
    ({"actor": "x" * 300}, "actor", "An email is at most 254 characters."),
    ({"target": "ghost@northwind.example"}, "target", "No user has this email."),
    ({"target": "Southwind"}, "target", "No account has this name"),
    ({"target": "n" * 5000}, "target", "Keep it under 200 characters."),
    ({"action": "a" * 61}, "action", "An action is at most 60 characters."),
    ({"date_from": "2026-13-01"}, "date_from", "Give the day as YYYY-MM-DD"),
    ({"date_from": "yesterday"}, "date_from", "Give the day as YYYY-MM-DD"),
    ({"date_to": "2026-02-30"}, "date_to", "Give the day as YYYY-MM-DD"),
    ({"date_to": "99999-01-01"}, "date_to", "Give the day as YYYY-MM-DD"),
    ({"date_from": "0001-01-01"}, "date_from", "Give a day from the year 2000 to 2999."),
    ({"date_to": "9999-12-31"}, "date_to", "Give a day from the year 2000 to 2999."),
    ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "date_to", "on or after the first"),
    ({"date_from": ["2026-03-01", "2026-03-02"]}, "date_from", "Give the day as YYYY-MM-DD"),
]


@pytest.mark.parametrize(("query", "name", "message"), BAD)
def test_bad_input_is_named_beside_its_field_and_lists_nothing(log, query, name, message):
    page = log.get("/admin/audit", query_string=query)
    assert page.status_code == 200
    assert message in field_error(page, name)
    assert 'data-testid="audit-filter-problem"' in page.get_data(as_text=True)
    assert listed(page) == []  # never the whole log under a filter that did not apply
    # the CSV of a bad filter goes back to the page that says what is wrong
    export = log.get("/admin/audit.csv", query_string=query)
    assert export.status_code == 302 and export.location.startswith("/admin/audit?")


@pytest.mark.parametrize(
    "query",
    [
        {"user_id": "9" * 40},  # an id past any integer column
        {"user_id": "-1"},
        {"user_id": "abc"},
        {"after": "9" * 80},
        {"after": "-99999999999999999999"},
        {"before": "x"},
        {"page": "9" * 30},
        {"action": "\u202eevil\u200f 🎉"},  # right-to-left marks and emoji are text
        {"action": "%_"},  # LIKE's wildcards are escaped
        {"actor": "a" * 254},
    ],
)
def test_odd_but_harmless_input_answers_200(log, query):
    page = log.get("/admin/audit", query_string=query)
    assert page.status_code == 200
    assert log.get("/admin/audit.csv", query_string=query).status_code in (200, 302)


@pytest.mark.parametrize("name", ["actor", "target", "action", "date_from", "date_to"])
def test_a_nul_in_any_filter_is_refused_with_a_message(log, name):
    page = log.get("/admin/audit", query_string={name: "ana\x00@northwind.example"})
    assert page.status_code == 400
    assert ADDRESS_MESSAGE in html.unescape(page.get_data(as_text=True))


def test_pages_by_id_newest_first_keeping_every_filter(log, make, session):
    bob = make.admin("bob@vouch.example")
    alice_id = session.scalar(select(AuditEvent.actor_id).where(AuditEvent.summary == "E1"))
    session.add_all(
        AuditEvent(
            actor_id=(alice_id if n % 3 else bob.id),
            action="points.adjust" if n % 2 else "user.active",
            target_type="",
            summary=f"P{n:03d}",
            details={},
            created_at=at(10, 9, n % 60),
        )
        for n in range(300)
    )
    session.commit()
    wanted = {"actor": "alice@vouch.example", "action": "points.", "date_from": "2026-03-10"}
    expected = [f"P{n:03d}" for n in reversed(range(300)) if n % 3 and n % 2]  # 100 of them
    seen, path, query = [], "/admin/audit", wanted
    for _ in range(5):
        page = log.get(path, query_string=query)
        text = page.get_data(as_text=True)
        seen += re.findall(r"<td>(P\d+)</td>", text)
        found = re.search(r'rel="next" href="([^"]+)"', text)
        if not found:
            break
        path, query = html.unescape(found.group(1)), None
        for name, value in wanted.items():  # each page's link keeps the filters
            assert f"{name}={value}" in path
    assert seen == expected
    back = re.search(r'rel="prev" href="([^"]+)"', text)
    assert back and "actor=alice" in html.unescape(back.group(1))


def test_the_action_names_offered_are_every_one_the_code_records():
    recorded = set()
    for path in ROOT.glob("*/**/*.py"):
        if {".venv", "tests", "migrations", "benchmarks"} & set(path.relative_to(ROOT).parts):
            continue
        source = path.read_text()
        recorded |= set(re.findall(r'record_audit\(\s*[\w.]+,\s*[\w.]+,\s*"([^"]+)"', source))
        if path.name == "redemptions.py":  # its transitions record "redemption.<verb>"
            verbs = re.findall(r'\b_audit\(\s*\w+,\s*\w+,\s*\w+,\s*"(\w+)"', source)
            recorded |= {f"redemption.{verb}" for verb in verbs}
    assert len(recorded) > 25
    assert recorded == set(AUDIT_ACTIONS)


def test_the_page_offers_the_known_actions(log):
    text = log.get("/admin/audit").get_data(as_text=True)
    assert 'list="audit-actions"' in text
    assert all(f'<option value="{name}">' in text for name in AUDIT_ACTIONS)


def test_the_csv_is_the_filtered_log_with_no_formula(log, session):
    session.add(
        AuditEvent(
            actor_id=None,
            action="user.role",
            target_type="user",
            summary='=HYPERLINK("http://evil.example","E7")',
            details={"reason": "+cmd"},
            created_at=at(7, 9),
        )
    )
    session.commit()
    export = log.get("/admin/audit.csv?action=user.role")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [row["summary"] for row in rows] == [
        '\'=HYPERLINK("http://evil.example","E7")',
        "E6",
        "E2",
    ]
    assert rows[0]["actor"] == "system" and rows[1]["actor"] == "maya@vouch.example"
    assert rows[0]["details"] == '{"reason": "+cmd"}'
    assert rows[2]["at_utc"].startswith("2026-03-02T23:30")


def test_the_csv_streams_the_whole_filtered_log_in_chunks(log, session):
    session.add_all(
        AuditEvent(action="points.adjust", target_type="", summary=f"C{n}", details={})
        for n in range(2100)
    )
    session.commit()
    export = log.get("/admin/audit.csv?action=points.adjust")
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert len(rows) == 2100
    ids = [int(row["id"]) for row in rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 2100
