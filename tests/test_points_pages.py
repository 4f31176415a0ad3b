"""The reward lists show one page at a time, keep their filters across pages, and cost the
same number of queries however long they grow: redemption queues, an advocate's own
redemptions, an advocate's ledger, the catalogs and the offers made."""

import html
import re

from sqlalchemy import select

from points.models import EntrySource, GiftOffer, Redemption
from points.services import award
from portal.accounts.models import GiftPolicy
from tests.factories import client_for

OVER_THRESHOLD = 600  # over the default auto-approval threshold (500): the request waits


def queue_ids(page) -> list[int]:
    return [
        int(n) for n in re.findall(rb'data-testid="redemption-row">\s*<td>(\d+)</td>', page.data)
    ]


def own_ids(page) -> list[int]:
    return [int(n) for n in re.findall(rb"<div class=\"small text-muted\">#(\d+) ", page.data)]


def ledger_notes(page) -> list[str]:
    return re.findall(r"submission: (E\d{3})</td>", page.data.decode())


def offer_rows(page) -> int:
    return len(re.findall(rb"<tr><td>", page.data))


def link(page, rel: str) -> str:
    found = re.search(rf'rel="{rel}" href="([^"]+)"'.encode(), page.data)
    assert found, f"no {rel} link"
    return html.unescape(found.group(1).decode())


def requests_of(make, advocate, count: int, cost: int = OVER_THRESHOLD) -> list[Redemption]:
    reward = make.reward(cost=cost)
    make.points(advocate, cost * count)
    return [make.redemption(advocate, reward) for _ in range(count)]


def test_the_queue_pages_oldest_first_and_approving_page_one_skips_nobody(app, make):
    advocate = make.advocate()
    made = [r.id for r in requests_of(make, advocate, 80)]
    admin = client_for(app, make.admin().email)

    first = admin.get("/admin/redemptions?status=requested")
    assert queue_ids(first) == made[:50]
    assert b">Requested <span" in first.data and b">80</span>" in first.data
    assert b">Fulfilled</a>" in first.data  # closed queues grow forever: not counted
    after = link(first, "next")
    assert after.startswith("/admin/redemptions?status=requested&after=")

    for redemption_id in queue_ids(first):
        approved = admin.post(f"/admin/redemptions/{redemption_id}/approve")
        assert approved.status_code == 302

    second = admin.get(after)
    assert queue_ids(second) == made[50:]  # none skipped, though page one emptied
    assert b'rel="next"' not in second.data
    back = admin.get(link(second, "prev"))
    assert "status=requested" in link(second, "prev")
    assert queue_ids(back) == []  # everything before them was approved meanwhile
    now_first = admin.get("/admin/redemptions?status=requested")
    assert queue_ids(now_first) == made[50:]
    approved_tab = admin.get("/admin/redemptions?status=approved")
    assert queue_ids(approved_tab) == made[:50]
    assert b">50</span>" in approved_tab.data


def test_the_flagged_queue_keeps_its_tab_across_pages(app, make):
    account = make.account("Globex")
    advocate = make.advocate(account=account)
    made = [r.id for r in requests_of(make, advocate, 60)]
    admin = client_for(app, make.admin().email)
    changed = admin.post(
        f"/admin/accounts/{account.id}/gift-policy",
        data={"policy": GiftPolicy.NO_GIFTS.value, "reason": "Federal gift rules"},
        follow_redirects=True,
    )
    assert b"60 open redemptions of this account the new policy forbids" in changed.data
    first = admin.get("/admin/redemptions?status=flagged")
    assert queue_ids(first) == made[:50]
    assert b'text-bg-danger">60</span>' in first.data
    second = admin.get(link(first, "next"))
    assert "status=flagged" in link(first, "next")
    assert queue_ids(second) == made[50:]


def test_a_key_from_a_hostile_url_is_the_first_page(app, make):
    advocate = make.advocate()
    made = [r.id for r in requests_of(make, advocate, 3)]
    admin = client_for(app, make.admin().email)
    for key in ("x", "2026-01-01_1", "9" * 80, "2026-01-01T00:00:00+00:00_99999999999999999999"):
        page = admin.get("/admin/redemptions", query_string={"status": "requested", "after": key})
        assert page.status_code == 200
        assert queue_ids(page) == made
    unknown = admin.get("/admin/redemptions?status=nonsense")
    assert queue_ids(unknown) == made  # an unknown tab is the requested queue


def test_an_advocate_sees_their_redemptions_newest_first_by_fifty(app, make):
    advocate = make.advocate()
    made = [r.id for r in requests_of(make, advocate, 80, cost=100)]  # approved at once
    requests_of(make, make.advocate(), 1, cost=100)  # someone else's
    client = client_for(app, advocate.email)

    first = client.get("/hub/redemptions")
    assert own_ids(first) == made[::-1][:50]
    assert "1\N{EN DASH}50 of 80 redemptions".encode() in first.data
    assert first.data.count(b"<summary>History</summary>") == 50
    assert b"approved" in first.data
    second = client.get(link(first, "next"))
    assert link(first, "next") == "/hub/redemptions?page=2"
    assert own_ids(second) == made[::-1][50:]
    assert "51\N{EN DASH}80 of 80 redemptions".encode() in second.data

    cancelled = client.post(f"/hub/redemptions/{made[0]}/cancel", follow_redirects=True)
    assert b"Cancelled." in cancelled.data


def test_the_data_download_holds_every_redemption_and_its_history(app, make):
    advocate = make.advocate()
    made = requests_of(make, advocate, 60, cost=100)
    export = client_for(app, advocate.email).get("/hub/export.json").get_json()["redemptions"]
    assert len(export) == 60
    assert [entry["status"] for entry in export[0]["history"]] == ["requested", "approved"]
    assert {entry["points"] for entry in export} == {made[0].cost}


def test_an_admin_reads_a_ledger_a_page_at_a_time_and_still_adjusts(app, make, session):
    advocate = make.advocate()
    for n in range(80):
        award(session, advocate, 10, f"test-ledger:{n}", EntrySource.SUBMISSION, note=f"E{n:03d}")
    session.commit()
    admin = client_for(app, make.admin().email)
    url = f"/admin/users/{advocate.id}/points"

    first = admin.get(url)
    assert ledger_notes(first) == [f"E{n:03d}" for n in range(79, 29, -1)]
    assert link(first, "next").startswith(f"{url}?after=")
    second = admin.get(link(first, "next"))
    assert ledger_notes(second) == [f"E{n:03d}" for n in range(29, -1, -1)]

    refused = admin.post(link(first, "next"), data={"amount": "5", "request_key": "k1"})
    assert refused.status_code == 422 and b"Say why the balance is changing." in refused.data
    bonus = {"amount": "25", "reason": "Kick-off bonus", "request_key": "k2"}
    adjusted = admin.post(url, data=bonus, follow_redirects=True)
    assert b"Adjusted by +25 points." in adjusted.data
    assert b'data-testid="balance">825<' in adjusted.data
    assert b"adjustment: Kick-off bonus" in adjusted.data


def test_rewards_count_their_open_redemptions_only(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 10_000)
    card = make.reward("Card", cost=OVER_THRESHOLD)
    make.reward("Unredeemed", cost=100)
    waiting = [make.redemption(advocate, card) for _ in range(3)]
    admin = client_for(app, make.admin().email)
    admin.post(f"/admin/redemptions/{waiting[0].id}/approve")
    admin.post(f"/admin/redemptions/{waiting[1].id}/cancel", data={"cancel-reason": ""})
    page = admin.get("/admin/rewards").data.decode()
    open_counts = dict(
        re.findall(
            r">(Card|Unredeemed)</a>.*?<td class=\"text-end\">(\d+)</td>\s*</tr>", page, re.S
        )
    )
    assert open_counts == {"Card": "2", "Unredeemed": "0"}


def test_offers_name_the_advocate_by_email_and_list_by_fifty(app, make, session):
    manager = make.manager()
    client = client_for(app, manager.email)
    gift = make.reward("Mug", kind="swag", cost=100)
    page = client.get("/manage/offers")
    assert b"Advocate&#39;s email" in page.data or b"Advocate's email" in page.data
    assert b'type="email"' in page.data
    assert not re.search(rb'<select[^>]*name="advocate_id"', page.data)  # not 100k options

    ana = make.advocate("ana@northwind.example")
    offered = client.post(
        "/manage/offers",
        data={"advocate_email": " ANA@northwind.example ", "reward_id": gift.id, "message": "Hi"},
    )
    assert offered.status_code == 302
    assert session.scalar(select(GiftOffer.advocate_id)) == ana.id

    gone = make.advocate("gone@northwind.example")
    gone.active = False
    session.commit()
    for email, message in (
        ("", b"Enter the advocate&#39;s email."),
        ("nobody@northwind.example", b"No advocate has that email."),
        ("gone@northwind.example", b"login is deactivated: choose someone else."),
        (manager.email, b"No advocate has that email."),
        ("not an email", b"not a valid email address"),
    ):
        refused = client.post(
            "/manage/offers", data={"advocate_email": email, "reward_id": gift.id}
        )
        assert refused.status_code == 422, email
        assert message in refused.data, email
        assert b"advocate_email-errors" in refused.data

    opened_for = client.get(f"/manage/offers?advocate_id={ana.id}")
    assert b'value="ana@northwind.example"' in opened_for.data

    many = make.many_advocates(79)
    session.add_all(GiftOffer(advocate_id=a.id, reward_id=gift.id, message="bulk") for a in many)
    session.commit()
    first = client.get("/manage/offers")
    assert offer_rows(first) == 50
    assert b"Bulk advocate 0078" in first.data and b"Bulk advocate 0029" in first.data
    second = client.get(link(first, "next"))
    assert offer_rows(second) == 30
    assert b"Bulk advocate 0028" in second.data and b">ana<" in second.data


def test_each_list_costs_the_same_queries_with_5_rows_and_with_80(
    app, make, session, count_queries
):
    account = make.account("Northwind")
    advocate = make.advocate(account=account)
    reward = make.reward("Card", cost=OVER_THRESHOLD)
    cheap = make.reward("Sticker", cost=100)
    make.points(advocate, 1_000_000)
    admin = client_for(app, make.admin().email)
    manager = client_for(app, make.manager().email)
    own = client_for(app, advocate.email)

    def grow(n: int) -> None:
        for _ in range(n):
            make.redemption(advocate, reward)
            make.redemption(advocate, cheap)
        for extra in make.many_advocates(n, account):
            session.add(GiftOffer(advocate_id=extra.id, reward_id=cheap.id))
        session.commit()

    pages = [
        (admin, "/admin/redemptions?status=requested"),
        (admin, "/admin/redemptions?status=approved"),
        (admin, "/admin/redemptions?status=flagged"),
        (admin, "/admin/redemptions?status=fulfilled"),
        (admin, f"/admin/users/{advocate.id}/points"),
        (admin, "/admin/rewards"),
        (own, "/hub/redemptions"),
        (own, "/hub/rewards"),
        (manager, "/manage/offers"),
    ]

    def counts() -> dict[str, int]:
        counted_pages = {}
        for client, path in pages:
            with count_queries() as counted:
                assert client.get(path).status_code == 200, path
            counted_pages[path] = (counted.n, counted.statements)
        return counted_pages

    grow(5)
    small = counts()
    grow(75)
    large = counts()
    for path, (n, statements) in large.items():
        assert n == small[path][0], (path, statements)
