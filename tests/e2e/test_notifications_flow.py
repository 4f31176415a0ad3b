"""Notifications in a browser: an advocate sees the unread count in the navigation, opens
the list (the count clears), and turns off one kind of email on the profile."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from challenges.badges import ensure_default_badges
from challenges.services import approve, reject
from portal.accounts.models import User
from tests.e2e.steps import log_in
from tests.factories import SETTINGS


def test_unread_count_list_and_turning_a_kind_off(page: Page, live_server, make, session):
    ensure_default_badges(session)  # the first approval earns "First step"
    advocate = make.advocate("nia@north.example")
    manager = make.manager()
    kept = make.submission(make.challenge("case_study", title="Our rollout story"), advocate)
    sent_back = make.submission(make.challenge("case_study", title="Migration notes"), advocate)
    approve(session, SETTINGS, manager, kept.id, "Great story")
    reject(session, SETTINGS, manager, sent_back.id, "Add the numbers")
    session.commit()

    log_in(page, live_server, advocate.email)
    main = page.get_by_role("navigation", name="Main")
    link = main.get_by_role("link", name="Notifications 3 unread")  # and the first badge
    expect(link).to_be_visible()
    link.focus()
    page.keyboard.press("Enter")  # reachable without a mouse

    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    items = page.get_by_test_id("notification")
    expect(items).to_have_count(3)
    expect(items.first).to_contain_text("Not approved: Migration notes")  # newest first
    expect(items.nth(1)).to_contain_text("Approved: Our rollout story")
    expect(items.nth(2)).to_contain_text("New badge:")  # earned by that approval
    expect(main.get_by_test_id("unread-count")).to_have_count(0)  # seen: the count clears
    expect(main.get_by_role("link", name="Notifications", exact=True)).to_be_visible()

    page.get_by_role("link", name="Choose what we email you").click()
    results = page.get_by_label("Challenge results (approvals and rejections)")
    expect(results).to_be_checked()
    results.uncheck()
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("alert")).to_contain_text("Profile saved.")
    expect(page.get_by_label("Challenge results (approvals and rejections)")).not_to_be_checked()
    expect(
        page.get_by_label("Rewards (redemption updates, points about to expire)")
    ).to_be_checked()
    session.expire_all()
    saved = session.get(User, advocate.id)
    assert saved.email_results is False and saved.email_rewards is True
