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


def test_a_page_request_from_hostile_input_is_the_first_page():
    for args in ({"page": "x"}, {"page": "-5"}, {"page": "1e9"}, {"page": "\x00"}):
        assert PageRequest.from_args(args).number == 1
    assert PageRequest.from_args({"page": "10" * 30}).number == 100_000
