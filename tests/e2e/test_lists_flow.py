"""Long lists in a real browser: an admin searches people and pages through them with the
search kept; a manager approves a whole page of the review queue and the next page holds
everyone still waiting."""

from playwright.sync_api import Page, expect

from tests.e2e.steps import log_in, nav
from tests.test_review_pages import pending


def test_admin_searches_users_and_pages_through_them(page: Page, live_server, make, screenshot):
    admin = make.admin("root@vouch.example")
    make.many_advocates(70, make.account("Northwind Health"))
    log_in(page, live_server, admin.email)
    main_nav = page.get_by_role("navigation", name="Main")
    main_nav.get_by_role("button", name="Records").click()
    main_nav.get_by_role("link", name="Users").click()

    page.get_by_label("Search by name or email").fill("bulk")
    page.get_by_role("button", name="Search").click()
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages).to_contain_text("1–50 of 70 users")
    expect(page.get_by_role("row")).to_have_count(51)  # the header and fifty people
    screenshot("users-search-page-1")

    pages.get_by_role("link", name="Next").click()
    expect(pages).to_contain_text("51–70 of 70 users")
    expect(page.get_by_role("cell", name="Bulk advocate 0069")).to_be_visible()
    expect(page.get_by_label("Search by name or email")).to_have_value("bulk")
    pages.get_by_role("link", name="Previous").click()
    expect(pages).to_contain_text("1–50 of 70 users")


def test_manager_approves_a_page_of_the_queue_and_the_next_holds_the_rest(
    page: Page, live_server, make, session, screenshot
):
    manager = make.manager("maya@vouch.example")
    share = make.challenge("social_share", approval="manual", points=10, title="Share the launch")
    waiting = pending(session, share, make.many_advocates(60))
    log_in(page, live_server, manager.email)
    nav(page, "Review").click()
    expect(page.get_by_test_id("pending-total")).to_have_text("60")
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(50)

    for box in page.get_by_role("checkbox").all():
        box.check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.get_by_role("alert").first).to_contain_text("Approved 50")
    expect(page.get_by_test_id("pending-total")).to_have_text("10")
    expect(rows).to_have_count(10)
    last = waiting[-1]
    expect(
        page.get_by_label(f"Select {last.advocate.display_name}'s Share the launch")
    ).to_be_visible()
    screenshot("review-queue-after-a-page")
