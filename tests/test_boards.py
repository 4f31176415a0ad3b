"""Leaderboards: the advocate's board by period and scope (overall, a group, their segment)
with their own standing always shown, and the staff board with filters, pages and CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from challenges.models import AdvocateGroup, group_members
from points.program import game_settings
from portal.db import utcnow
from tests.factories import book_at, client_for, login

MY_ROW = re.compile(rb'data-testid="my-row">\s*<td class="fw-semibold">#(\d+)</td>')


def board_names(html: bytes) -> list[str]:
    return [
        name.decode()
        for name in re.findall(
            rb'data-testid="board-row"[^>]*>\s*<td[^>]*>#\d+</td>\s*<td><a [^>]*>([^<]+)</a>', html
        )
    ]


@pytest.fixture
def program(make, session):
    """Two regions, two segments, a few advocates with this month's points, and me."""
    game_settings(session)
    session.commit()
    emea = make.account("Initech", region="EMEA", segment="Enterprise")
    americas = make.account("Globex", region="North America", segment="SMB")
    people = {}
    for name, account, points in (
        ("Ana", emea, 900),
        ("Ben", americas, 800),
        ("Cleo", emea, 700),
        ("Dev", americas, 600),
    ):
        person = make.advocate(f"{name.lower()}@example.com", account=emea)
        person.name, person.account_id = name, account.id
        session.commit()
        make.points(person, points)
        people[name] = person
    me = make.advocate("me@example.com", account=emea)
    me.name = "Me"
    session.commit()
    make.points(me, 650)
    people["Me"] = me
    # Dev earned a lot in earlier months: first of all time, fourth this month
    book_at(session, people["Dev"], 5_000, utcnow() - timedelta(days=120))
    session.commit()
    return people


def test_the_overall_board_by_period_with_names_linking_to_profiles(client, make, program):
    login(client, "me@example.com")
    month = client.get("/hub/leaderboard").data
    assert board_names(month) == ["Ana", "Ben", "Cleo", "Me", "Dev"]
    assert f'href="/hub/people/{program["Ana"].id}">Ana</a>'.encode() in month
    assert b"You are <strong>#4</strong> with 650 points." in month
    assert b"51 points to move up to #3." in month
    assert b'<option selected value="month">This month (' in month

    ever = client.get("/hub/leaderboard?period=all").data
    assert board_names(ever) == ["Dev", "Ana", "Ben", "Cleo", "Me"]
    assert b"You are <strong>#5</strong>" in ever
    assert board_names(client.get("/hub/leaderboard?period=quarter").data)[0] == "Ana"


def test_a_group_board_and_a_segment_board_rank_me_among_them(client, make, session, program):
    emea = AdvocateGroup(name="EMEA customers", region="EMEA")
    named = AdvocateGroup(name="Beta testers")
    elsewhere = AdvocateGroup(name="Americas", region="North America")
    session.add_all([emea, named, elsewhere])
    session.flush()
    session.execute(
        group_members.insert(),
        [{"group_id": named.id, "user_id": program[n].id} for n in ("Me", "Dev")],
    )
    session.commit()
    login(client, "me@example.com")

    page = client.get("/hub/leaderboard").data
    assert b"Group: EMEA customers" in page and b"Group: Beta testers" in page
    assert b"Group: Americas" not in page  # not a group of mine
    assert b'value="segment">Enterprise accounts' in page

    group = client.get(f"/hub/leaderboard?scope=group-{emea.id}").data
    assert board_names(group) == ["Ana", "Cleo", "Me"]
    assert b"You are <strong>#3</strong> with 650 points." in group
    beta = client.get(f"/hub/leaderboard?scope=group-{named.id}").data
    assert board_names(beta) == ["Me", "Dev"] and b"You lead this board." in beta
    segment = client.get("/hub/leaderboard?scope=segment&period=all").data
    assert board_names(segment) == ["Ana", "Cleo", "Me"]

    refused = client.get(f"/hub/leaderboard?scope=group-{elsewhere.id}&period=year")
    assert refused.status_code == 200
    assert b"Choose a board from the list." in refused.data
    assert b"Choose this month, this quarter or all time." in refused.data
    assert board_names(refused.data) == ["Ana", "Ben", "Cleo", "Me", "Dev"]  # the default


def test_the_board_is_for_members_and_staff_go_to_their_own(client, make, program):
    assert client.get("/hub/leaderboard").headers["Location"].startswith("/login")
    outsider = client_for(client.application, make.advocate(opted_in=False).email)
    assert outsider.get("/hub/leaderboard").headers["Location"] == "/hub/join"
    staff = client_for(client.application, make.manager().email)
    moved = staff.get("/hub/leaderboard?period=all")
    assert moved.headers["Location"] == "/manage/leaderboard?period=all"
    advocate = client_for(client.application, "me@example.com")
    assert advocate.get("/manage/leaderboard").status_code == 403
    assert advocate.get("/manage/leaderboard.csv").status_code == 403


def test_the_staff_board_filters_by_group_and_segment_and_exports_them(
    client, make, session, program
):
    emea = AdvocateGroup(name="EMEA customers", region="EMEA")
    session.add(emea)
    session.commit()
    program["Cleo"].hide_from_leaderboard = True
    session.commit()
    login(client, make.manager().email)

    everyone = client.get("/manage/leaderboard").data
    assert board_names(everyone) == ["Ana", "Ben", "Me", "Dev"]  # Cleo hides
    assert b"ana@example.com" in everyone and b"Initech" in everyone
    assert b'<option value="Enterprise">Enterprise</option>' in everyone
    assert b'<option value="SMB">SMB</option>' in everyone

    group = client.get(f"/manage/leaderboard?group={emea.id}").data
    assert board_names(group) == ["Ana", "Me"]
    smb = client.get("/manage/leaderboard?segment=SMB&period=all").data
    assert board_names(smb) == ["Dev", "Ben"]
    assert b"5,600" in smb
    both = client.get(f"/manage/leaderboard?group={emea.id}&segment=SMB").data
    assert board_names(both) == [] and b"Nobody on this board has scored yet." in both
    assert f'href="/manage/leaderboard.csv?group={emea.id}&amp;segment=SMB"'.encode() in both

    exported = client.get("/manage/leaderboard.csv?segment=SMB&period=all")
    assert exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0] == ["rank", "name", "email", "account", "segment", "points", "reached_at"]
    assert [row[:6] for row in rows[1:]] == [
        ["1", "Dev", "dev@example.com", "Globex", "SMB", "5600"],
        ["2", "Ben", "ben@example.com", "Globex", "SMB", "800"],
    ]
    exported.close()

    for bad in ("?group=abc", "?group=99999999999", "?segment=%3Cscript%3E", "?period=year"):
        page = client.get(f"/manage/leaderboard{bad}")
        assert page.status_code == 200, bad
        assert b"from the list." in page.data or b"Choose this month" in page.data, bad
        assert board_names(page.data) == ["Ana", "Ben", "Me", "Dev"], bad
    assert client.get("/manage/leaderboard?page=abc").status_code == 200


def test_the_staff_board_pages_fifty_at_a_time_and_exports_every_row(
    client, make, session, count_queries
):
    game_settings(session)
    session.commit()
    people = make.many_advocates(55)
    for n, person in enumerate(people):
        make.points(person, 1_000 - n)
    login(client, make.manager().email)

    def page_queries(path: str) -> int:
        with count_queries() as counted:
            assert client.get(path).status_code == 200
        return counted.n

    first = client.get("/manage/leaderboard").data
    assert first.count(b'data-testid="board-row"') == 50
    assert b"1\xe2\x80\x9350 of 55 advocates" in first
    assert b'rel="next" href="/manage/leaderboard?page=2"' in first
    second = client.get("/manage/leaderboard?page=2").data
    assert board_names(second) == [person.display_name for person in people[50:]]
    assert b"#51" in second
    beyond = client.get("/manage/leaderboard?page=9").data
    assert b"Back to the first page" in beyond

    exported = client.get("/manage/leaderboard.csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    exported.close()
    assert len(rows) == 56 and rows[55][0] == "55" and rows[55][1] == people[54].display_name

    few = page_queries("/manage/leaderboard?page=2")
    assert page_queries("/manage/leaderboard") == few  # 50 rows cost what 5 rows cost


def test_the_advocate_board_reads_a_fixed_number_of_queries(
    client, make, session, program, count_queries
):
    login(client, "me@example.com")
    client.get("/hub/leaderboard")

    def board_queries() -> int:
        with count_queries() as counted:
            assert client.get("/hub/leaderboard?period=all").status_code == 200
        return counted.n

    few = board_queries()
    for n, person in enumerate(make.many_advocates(20)):
        make.points(person, 2_000 - n)
    assert board_queries() == few
    assert few <= 12
