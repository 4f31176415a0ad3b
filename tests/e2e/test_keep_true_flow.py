"""The yearly confirmation in a browser: one advocate confirms their role, another says they
left their company and the account's owner sees it."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from portal.accounts.models import ConsentRecord, ProfileConfirmation, User
from portal.db import utcnow
from tests.e2e.steps import log_in, log_out


def joined_long_ago(session, *people: User) -> None:
    session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.user_id.in_([person.id for person in people]))
        .values(opted_in_at=utcnow() - timedelta(days=400))
    )
    session.commit()


def test_an_advocate_confirms_and_another_says_they_left(page: Page, live_server, make, session):
    owner = make.manager("maya@vouch.example")
    account = make.account("Northwind", owner_id=owner.id)
    ana = make.advocate("ana@northwind.example", account=account)
    ben = make.advocate("ben@northwind.example", account=account)
    ana.title, ana.job_level = "Marketing manager", "manager"
    ben.name = "Ben Okafor"
    session.commit()
    joined_long_ago(session, ana, ben)

    # Ana is asked on her first page, keeps her company and updates her role.
    log_in(page, live_server, ana.email)
    expect(page.get_by_role("heading", name="Still at Northwind?")).to_be_visible()
    expect(page.get_by_label("Job title")).to_have_value("Marketing manager")
    page.get_by_label("Yes, I still work there").check()
    page.get_by_label("Job title").fill("Head of Marketing")
    page.get_by_label("Job level").select_option(label="Director")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_contain_text("your profile is up to date")
    expect(page).not_to_have_url(re.compile(r"/hub/confirm"))
    log_out(page)

    # Ben has moved on: with the keyboard only, he says so.
    log_in(page, live_server, ben.email)
    expect(page.get_by_role("heading", name="Still at Northwind?")).to_be_visible()
    page.get_by_label("No, I have left").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Confirm").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="You have left Northwind")).to_be_visible()
    log_out(page)

    session.expire_all()
    answers = {
        row.user_id: row.still_at_company for row in session.scalars(select(ProfileConfirmation))
    }
    assert answers == {ana.id: True, ben.id: False}
    assert session.get(User, ana.id).title == "Head of Marketing"

    # The owner sees Ben among those who left.
    log_in(page, live_server, owner.email)
    expect(page.get_by_test_id("recent-leavers")).to_contain_text("Ben Okafor")
    page.get_by_test_id("recent-leavers").get_by_role("link", name="Northwind").click()
    expect(page.get_by_test_id("leavers")).to_contain_text("ben@northwind.example")
