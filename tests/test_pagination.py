"""Long lists show one page at a time, keep their filters across pages, and cost the same
number of queries however long they grow."""

import re

from portal.accounts.models import AuditEvent
from portal.pagination import PageRequest
from tests.factories import login


def rows(page) -> int:
    return len(re.findall(rb"<tr>\s*<td", page.data))


def test_users_page_by_fifty_keeping_the_search(client, make):
    admin = make.admin("root@vouch.example")
    account = make.account("Northwind")
    make.many_advocates(120, account)
    login(client, admin.email)

    first = client.get("/admin/users?q=bulk")
    assert rows(first) == 50
    assert b"1\xe2\x80\x9350 of 120 users" in first.data
    assert b'href="/admin/users?q=bulk&amp;page=2"' in first.data
    third = client.get("/admin/users?q=bulk&page=3")
    assert rows(third) == 20
    assert b"101\xe2\x80\x93120 of 120 users" in third.data
    assert b"Bulk advocate 0119" in third.data
    assert b"Bulk advocate 0099" not in third.data
    beyond = client.get("/admin/users?q=bulk&page=999999999999")
    assert beyond.status_code == 200
    assert b"Nobody here." in beyond.data


def test_users_and_accounts_searched_by_name(client, make):
    admin = make.admin("root@vouch.example")
    make.account("Northwind Health")
    make.account("Contoso")
    make.advocate("maya@northwind.example")
    login(client, admin.email)
    found = client.get("/admin/accounts?q=north")
    assert b"Northwind Health" in found.data
    assert b"Contoso" not in found.data
    people = client.get("/admin/users?q=MAYA")
    assert b"maya@northwind.example" in people.data
    assert b"root@vouch.example" not in people.data


def test_list_queries_do_not_grow_with_the_list(client, make, count_queries):
    admin = make.admin("root@vouch.example")
    account = make.account("Northwind")
    make.many_advocates(5, account)
    login(client, admin.email)
    pages = ("/admin/users", "/admin/accounts", f"/admin/accounts/{account.id}", "/admin/")
    small = {}
    for path in pages:
        with count_queries() as counted:
            assert client.get(path).status_code == 200
        small[path] = counted.n
    for n in range(30):
        make.account(f"More {n}")
    make.many_advocates(200, account)
    for path in pages:
        with count_queries() as counted:
            assert client.get(path).status_code == 200
        assert counted.n == small[path], (path, counted.statements)


def test_audit_log_pages_by_id_newest_first(client, make, session):
    admin = make.admin("root@vouch.example")
    session.add_all(
        AuditEvent(actor_id=admin.id, action="test.event", target_type="user", summary=f"E{n:03d}")
        for n in range(75)
    )
    session.commit()
    login(client, admin.email)
    first = client.get("/admin/audit?action=test")
    assert rows(first) == 50
    assert b"E074" in first.data and b"E025" in first.data and b"E024" not in first.data
    after = re.search(rb'href="(/admin/audit\?action=test&amp;after=\d+)"', first.data)
    second = client.get(after.group(1).decode().replace("&amp;", "&"))
    assert rows(second) == 25
    assert b"E024" in second.data and b"E000" in second.data
    assert b'rel="prev"' in second.data


def test_a_users_whole_history_pages_from_their_page(client, make, session):
    admin = make.admin("root@vouch.example")
    ana, ben = make.advocate("ana@northwind.example"), make.advocate("ben@northwind.example")
    session.add_all(
        AuditEvent(
            actor_id=admin.id,
            action="test.event",
            target_type="user",
            target_id=(ana if n % 2 else ben).id,
            summary=f"{'Ana' if n % 2 else 'Ben'} {n:03d}",
        )
        for n in range(130)
    )
    session.commit()
    login(client, admin.email)
    detail = client.get(f"/admin/users/{ana.id}")
    assert f'href="/admin/audit?user_id={ana.id}"'.encode() in detail.data
    history = client.get(f"/admin/audit?user_id={ana.id}")
    assert rows(history) == 50
    assert b"Ana 129" in history.data and b"Ben" not in history.data
    assert f"user_id={ana.id}&amp;after=".encode() in history.data


def test_a_page_request_from_hostile_input_is_the_first_page():
    for args in ({"page": "x"}, {"page": "-5"}, {"page": "1e9"}, {"page": "\x00"}):
        assert PageRequest.from_args(args).number == 1
    assert PageRequest.from_args({"page": "10" * 30}).number == 100_000


def test_hostile_page_arguments_answer_pages_never_errors(client, make):
    admin = make.admin("root@vouch.example")
    account = make.account("Northwind")
    make.many_advocates(60, account)
    login(client, admin.email)
    for path in (
        "/admin/users?endpoint=x",
        "/admin/users?_external=1&_scheme=javascript",
        "/admin/users?_anchor=x&_method=POST",
        f"/admin/accounts/{account.id}?account_id=1",
        "/admin/audit?after=0001-01-01T00:00:00%2B01:00_1",
        "/admin/audit?after=9999-12-31T23:59:59-01:00_1&before=1",
        "/admin/redemptions?after=0001-01-01T00:00:00%2B01:00_1",
        "/admin/redemptions?after=9999-12-31T23:59:59-01:00_1",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert b'href="http' not in page.data.split(b"<main")[1], path  # links stay on the site
    found = client.get("/admin/users?endpoint=x&q=bulk")
    assert b'href="/admin/users?endpoint=x&amp;q=bulk&amp;page=2"' in found.data


def test_search_takes_wildcards_as_text(client, make):
    admin = make.admin("root@vouch.example")
    make.advocate("john_smith@northwind.example")
    make.advocate("johnxsmith@northwind.example")
    login(client, admin.email)
    found = client.get("/admin/users?q=john_s")
    assert b"john_smith@northwind.example" in found.data
    assert b"johnxsmith@northwind.example" not in found.data


def test_reconcile_checks_the_counters_kept_beside_their_rows(app, make, session):
    from sqlalchemy import update

    from portal.accounts.models import User

    runner = app.test_cli_runner()
    make.advocate("ana@northwind.example")
    clean = runner.invoke(args=["points", "reconcile"])
    assert clean.exit_code == 0, clean.output
    session.execute(
        update(User).where(User.email == "ana@northwind.example").values(in_program=False)
    )
    session.commit()
    drifted = runner.invoke(args=["points", "reconcile"])
    assert drifted.exit_code == 1
    assert "in_program is False, the consents say True" in drifted.output
