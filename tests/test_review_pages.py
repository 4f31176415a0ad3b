"""The staff's lists of challenges come a page at a time, keep their filters, never skip a
row when the rows of a page are dealt with, and cost the same queries however long they grow."""

import html
import re
from datetime import timedelta

from sqlalchemy import insert, select

from challenges.models import AdvocateGroup, Challenge, Submission, group_members
from challenges.services import approve
from points.services import balance_of
from portal.db import utcnow
from tests.factories import SETTINGS, client_for


def picked(page) -> list[int]:
    """The submissions a page of the queue offers to review, in order."""
    return [int(i) for i in re.findall(rb'name="submission_ids" value="(\d+)"', page.data)]


def link(page, rel: str) -> str | None:
    match = re.search(rf'rel="{rel}" href="([^"]+)"'.encode(), page.data)
    return html.unescape(match.group(1).decode()) if match else None


def bulk_action(page) -> str:
    match = re.search(rb'<form method="post" action="(/manage/review/bulk[^"]*)"', page.data)
    return html.unescape(match.group(1).decode())


def pending(session, challenge, advocates, minutes_ago: int = 60 * 24 * 30) -> list[Submission]:
    """One pending submission per advocate, in bulk, two a minute (so keys tie on time)."""
    start = utcnow() - timedelta(minutes=minutes_ago)
    rows = [
        Submission(
            challenge_id=challenge.id,
            advocate_id=advocate.id,
            account_id=advocate.account_id,
            type=challenge.type,
            evidence={"post_url": f"https://www.linkedin.com/posts/{n}"},
            created_at=start + timedelta(minutes=n // 2),
        )
        for n, advocate in enumerate(advocates)
    ]
    session.add_all(rows)
    session.commit()
    return rows


def referrals(session, challenge, advocate, count: int) -> None:
    start = utcnow() - timedelta(days=10)
    session.add_all(
        Submission(
            challenge_id=challenge.id,
            advocate_id=advocate.id,
            account_id=advocate.account_id,
            type="referral",
            evidence={"name": f"Lead {n:03d}", "email": f"lead{n}@x.example", "company": "X"},
            created_at=start + timedelta(minutes=n),
        )
        for n in range(count)
    )
    session.commit()


def challenges(session, count: int, status: str = "published", start: int = 0) -> None:
    now = utcnow()
    session.add_all(
        Challenge(
            type="survey",
            title=f"Poll {n:03d}",
            status=status,
            config={"question": "Why?"},
            created_at=now - timedelta(days=1, minutes=n),
        )
        for n in range(start, start + count)
    )
    session.commit()


def groups(session, count: int, start: int = 0) -> None:
    session.add_all(
        AdvocateGroup(name=f"Group {n:03d}", region="EMEA") for n in range(start, start + count)
    )
    session.commit()


def test_review_queue_by_fifty_oldest_first_with_filters_kept(client, make, session):
    share = make.challenge("social_share", approval="manual", points=10, title="Share it")
    other = make.challenge("social_share", approval="manual", title="Other share")
    rows = pending(session, share, make.many_advocates(80, make.account("Northwind")))
    pending(session, other, make.many_advocates(3, make.account("Contoso")), minutes_ago=60)
    manager = client_for(client.application, make.manager().email)

    first = manager.get(f"/manage/review?challenge_id={share.id}&account=north")
    assert picked(first) == [s.id for s in rows[:50]]
    assert b'data-testid="pending-total">80<' in first.data
    assert b"1\xe2\x80\x9350 of 80 pending" not in first.data  # by key: no page numbers
    assert b'<label class="form-label small mb-0" for="account">Account name</label>' in first.data
    assert b'value="north"' in first.data
    assert b'<option value="0">All challenges</option>' in first.data
    following = link(first, "next")
    assert following.startswith(f"/manage/review?challenge_id={share.id}&account=north&after=")
    assert link(first, "prev") is None

    second = manager.get(following)
    assert picked(second) == [s.id for s in rows[50:]]
    assert link(second, "next") is None
    back = manager.get(link(second, "prev"))
    assert picked(back) == picked(first)

    everyone = manager.get("/manage/review")
    assert b'data-testid="pending-total">83<' in everyone.data
    assert len(picked(everyone)) == 50
    nobody = manager.get("/manage/review?account=globex")
    assert b"Nothing waiting that matches these filters." in nobody.data


def test_approving_page_one_then_next_skips_none(client, make, session):
    share = make.challenge("social_share", approval="manual", points=10)
    rows = pending(session, share, make.many_advocates(80))
    manager = client_for(client.application, make.manager().email)

    first = manager.get(f"/manage/review?challenge_id={share.id}&type=social_share")
    on_page = picked(first)
    following = link(first, "next")
    action = bulk_action(first)
    assert action == f"/manage/review/bulk?challenge_id={share.id}&type=social_share"
    done = manager.post(action, data={"submission_ids": on_page, "approve": "y"})
    assert done.status_code == 302
    assert done.location == f"/manage/review?challenge_id={share.id}&type=social_share"
    assert balance_of(session, rows[0].advocate_id).balance == 10

    second = manager.get(following)
    assert picked(second) == [s.id for s in rows[50:]]
    again = manager.get(done.location)
    assert picked(again) == [s.id for s in rows[50:]]
    assert b'data-testid="pending-total">30<' in again.data


def test_bulk_review_acts_on_the_rows_shown_and_returns_to_that_page(client, make, session):
    share = make.challenge("social_share", approval="manual", points=10)
    rows = pending(session, share, make.many_advocates(120))
    manager = client_for(client.application, make.manager().email)
    second_url = link(manager.get("/manage/review?type=social_share"), "next")
    second = manager.get(second_url)
    shown = picked(second)
    assert shown == [s.id for s in rows[50:100]]

    action = bulk_action(second)
    assert "type=social_share" in action and "after=" in action
    done = manager.post(
        action, data={"submission_ids": shown[:10], "reject": "y", "reason": "Post is private"}
    )
    assert done.location == second_url  # the same page, the same filters
    after = manager.get(done.location)
    assert picked(after) == [s.id for s in rows[60:110]]
    first = manager.get("/manage/review?type=social_share")
    assert picked(first) == [s.id for s in rows[:50]]  # page one untouched

    # one review from the page comes back to it too
    review = f"/manage/review/{shown[10]}?" + second_url.split("?", 1)[1]
    assert f'href="{html.escape(review)}"'.encode() in second.data
    reviewed = manager.post(review, data={"approve": "y"})
    assert reviewed.location == second_url


def test_thank_yous_oldest_first_and_thanking_page_one_skips_none(client, make, session):
    poll = make.challenge("social_share", approval="manual", points=0, title="Quick poll")
    rows = pending(session, poll, make.many_advocates(80))
    manager = make.manager()
    for submission in rows:
        approve(session, SETTINGS, manager, submission.id)
    session.commit()
    owed = [submission.thank_you.id for submission in rows]
    staff = client_for(client.application, manager.email)

    def thanked(page) -> list[int]:
        return [int(i) for i in re.findall(rb'href="/manage/thanks/(\d+)', page.data)]

    first = staff.get("/manage/thanks")
    assert thanked(first) == owed[:50]
    assert b'data-testid="thanks-total">80<' in first.data
    following = link(first, "next")
    assert following.startswith("/manage/thanks?after=")
    for item in owed[:50]:
        done = staff.post(f"/manage/thanks/{item}", data={"submit": "y", "note": "Called"})
        assert done.location == "/manage/thanks"
    second = staff.get(following)
    assert thanked(second) == owed[50:]
    again = staff.get("/manage/thanks")
    assert thanked(again) == owed[50:]
    assert b'data-testid="thanks-total">30<' in again.data
    assert again.data.count(b"Quick poll, Called") == 20  # recently thanked: the last 20

    # thanking from page two comes back to page two
    page_two = link(staff.get("/manage/thanks"), "next")
    assert page_two is None  # 30 left: one page
    staff_page = staff.get(following)
    target = f"/manage/thanks/{owed[50]}?{following.split('?', 1)[1]}"
    assert f'href="{html.escape(target)}"'.encode() in staff_page.data
    assert staff.post(target, data={"submit": "y", "note": "Card"}).location == following


def test_leads_newest_first_by_fifty(client, make, session):
    refer = make.challenge("referral", title="Refer a peer")
    referrals(session, refer, make.advocate(), 80)
    manager = client_for(client.application, make.manager().email)
    first = manager.get("/manage/leads")
    assert first.data.count(b"<td>Lead ") == 50
    assert b"Lead 079" in first.data and b"Lead 030" in first.data
    assert b"Lead 029" not in first.data
    assert (
        b"referrals" not in first.data
    )  # no total: counting every referral costs more than the page
    second = manager.get(link(first, "next"))
    assert second.data.count(b"<td>Lead ") == 30
    assert b"Lead 029" in second.data and b"Lead 000" in second.data


def test_challenges_list_by_page_with_counts_of_the_page(client, make, session):
    challenges(session, 80)
    challenges(session, 3, status="draft", start=100)
    newest = make.challenge("social_share", approval="manual", title="Newest share")
    one, _two = make.submission(newest), make.submission(newest)
    approve(session, SETTINGS, make.manager(), one.id)
    session.commit()
    manager = client_for(client.application, make.manager().email)

    first = manager.get("/manage/challenges?status=published")
    assert b"1\xe2\x80\x9350 of 81 challenges" in first.data
    assert b'href="/manage/challenges?status=published&amp;page=2"' in first.data
    row = first.data.split(b"Newest share")[1].split(b"</tr>")[0]
    assert f'href="/manage/review?challenge_id={newest.id}">1</a>'.encode() in row
    assert b'<td class="text-end">1</td>' in row  # approved
    second = manager.get("/manage/challenges?status=published&page=2")
    assert b"51\xe2\x80\x9381 of 81 challenges" in second.data
    assert b"Poll 079" in second.data and b"Poll 048" not in second.data
    assert b"Poll 100" not in second.data
    drafts = manager.get("/manage/challenges?status=draft")
    assert b"1\xe2\x80\x933 of 3 challenges" in drafts.data


def test_groups_by_page_with_member_counts(client, make, session):
    groups(session, 80)
    named = make.many_advocates(3)
    busy = session.scalar(select(AdvocateGroup).where(AdvocateGroup.name == "Group 000"))
    session.execute(insert(group_members), [{"group_id": busy.id, "user_id": a.id} for a in named])
    session.commit()
    manager = client_for(client.application, make.manager().email)
    first = manager.get("/manage/groups")
    assert b"1\xe2\x80\x9350 of 80 groups" in first.data
    row = first.data.split(b">Group 000</a>")[1].split(b"</tr>")[0]
    assert b'<td class="text-end">3</td>' in row
    second = manager.get(link(first, "next"))
    assert b"Group 079" in second.data and b"Group 049" not in second.data


def test_a_groups_members_and_reach_page_on_their_own(client, make, session):
    account = make.account("Northwind", region="APAC")
    people = make.many_advocates(80, account)
    group = AdvocateGroup(name="Named", region="Nowhere")
    session.add(group)
    session.flush()
    session.execute(
        insert(group_members), [{"group_id": group.id, "user_id": a.id} for a in people]
    )
    session.commit()
    manager = client_for(client.application, make.manager().email)

    page = manager.get(f"/manage/groups/{group.id}")
    reach = page.data.split(b'data-testid="reach"')[1].split(b"</ul>")[0]
    members = page.data.split(b'data-testid="named-members"')[1].split(b"</ul>")[0]
    assert reach.count(b"<li") == 50 and members.count(b"<li") == 50
    assert b"Who it reaches now (80)" in page.data and b"Named members (80)" in page.data
    assert b'href="/manage/groups/%d?members_page=2"' % group.id in page.data
    assert b'href="/manage/groups/%d?reach_page=2"' % group.id in page.data

    both = manager.get(f"/manage/groups/{group.id}?members_page=2")
    members = both.data.split(b'data-testid="named-members"')[1].split(b"</ul>")[0]
    assert members.count(b"<li") == 30 and b"Bulk advocate 0079" in members
    reach = both.data.split(b'data-testid="reach"')[1].split(b"</ul>")[0]
    assert reach.count(b"<li") == 50
    assert b'href="/manage/groups/%d?members_page=2&amp;reach_page=2"' % group.id in both.data


def test_logging_an_activity_names_the_advocate_by_email(client, make, session):
    advocate = make.advocate("maya@northwind.example")
    gone = make.advocate("gone@northwind.example")
    gone.active = False
    session.commit()
    make.many_advocates(30)
    manager = client_for(client.application, make.manager("jo@vouch.example").email)

    form = manager.get("/manage/activities/new")
    assert b"Advocate&#39;s email" in form.data
    assert b"Bulk advocate" not in form.data  # no list of every advocate
    prefilled = manager.get(f"/manage/activities/new?advocate_id={advocate.id}")
    assert b'value="maya@northwind.example"' in prefilled.data

    data = {
        "type": "reference_call",
        "description": "Arranged a call with Contoso",
        "occurred_on": (utcnow() - timedelta(days=1)).date().isoformat(),
        "points": "25",
    }
    for email, why in (
        ("nobody@x.example", b"No advocate has that email."),
        (gone.email, b"login is deactivated: choose someone else."),
        ("jo@vouch.example", b"No advocate has that email."),
    ):
        refused = manager.post("/manage/activities/new", data={**data, "advocate_email": email})
        assert refused.status_code == 422
        assert why in refused.data
    missing = manager.post("/manage/activities/new", data=data)
    assert b"Enter the advocate&#39;s email." in missing.data
    logged = manager.post(
        "/manage/activities/new", data={**data, "advocate_email": " Maya@Northwind.example "}
    )
    assert logged.status_code == 302
    assert balance_of(session, advocate.id).balance == 25


def test_staff_pages_cost_the_same_queries_for_5_and_80_rows(client, make, session, count_queries):
    manager = make.manager()
    staff = client_for(client.application, manager.email)
    share = make.challenge("social_share", approval="manual", points=0)
    refer = make.challenge("referral", title="Refer a peer")
    group = AdvocateGroup(name="Everyone in EMEA", region="EMEA")
    session.add(group)
    session.commit()
    account = make.account("Emea Co", region="EMEA")

    def grow(n: int, start: int, polls: int) -> int:
        people = make.many_advocates(n, account)
        rows = pending(session, share, people)
        thanks = []
        for number in range(polls):  # thank-yous for several challenges
            poll = make.challenge("social_share", approval="manual", points=0)
            thanks += pending(session, poll, people[number::polls])
        for submission in thanks:
            approve(session, SETTINGS, manager, submission.id)
        session.commit()
        for submission in thanks[::2]:  # half of them thanked, of every challenge
            thank = f"/manage/thanks/{submission.thank_you.id}"
            assert staff.post(thank, data={"submit": "y", "note": "x"}).status_code == 302
        referrals(session, refer, people[0], n)
        challenges(session, n, start=start)
        groups(session, n, start=start)
        session.execute(
            insert(group_members), [{"group_id": group.id, "user_id": a.id} for a in people]
        )
        session.commit()
        return rows[0].id

    first_pending = grow(5, 0, polls=1)
    paths = [
        "/manage/review",
        f"/manage/review?challenge_id={share.id}&type=social_share&account=emea&older_than_days=1",
        "/manage/thanks",
        "/manage/leads",
        "/manage/challenges",
        "/manage/challenges?status=published",
        "/manage/groups",
        f"/manage/groups/{group.id}",
        f"/manage/review/{first_pending}",
        "/manage/activities/new",
    ]
    few = {}
    for path in paths:
        with count_queries() as counted:
            assert staff.get(path).status_code == 200, path
        few[path] = counted.n
    grow(75, 100, polls=5)
    for path in paths:
        with count_queries() as counted:
            assert staff.get(path).status_code == 200, path
        assert counted.n == few[path], (path, counted.statements)


def test_bulk_review_takes_at_most_two_pages_at_once(client, make, session):
    share = make.challenge("social_share", approval="manual", points=10)
    rows = pending(session, share, make.many_advocates(101))
    manager = client_for(client.application, make.manager().email)
    refused = manager.post(
        "/manage/review/bulk",
        data={"submission_ids": [s.id for s in rows], "approve": "y"},
        follow_redirects=True,
    )
    assert b"Decide at most 100 at once" in refused.data
    assert b'data-testid="pending-total">101<' in refused.data
