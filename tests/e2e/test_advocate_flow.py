"""An advocate's whole life, clicked through in a browser: invited by a manager, opts in,
logs in again, and leaves the program."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.steps import log_in, log_out
from tests.factories import PASSWORD, link_in

ADVOCATE_EMAIL = "ana.ruiz@northwind.example"
ADVOCATE_PASSWORD = "a-long-password-1"


def test_invited_advocate_opts_in_logs_in_and_leaves(
    page: Page, live_server, make, outbox, screenshot
):
    manager = make.manager()
    make.account("Acme Retail")
    make.account("Northwind Health")

    # The manager invites two addresses, one of them mistyped.
    log_in(page, live_server, manager.email, PASSWORD)
    expect(page.get_by_role("heading", name="Advocate program")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("button", name="More").click()
    nav.get_by_role("link", name="Invite advocates", exact=True).click()
    expect(page.get_by_role("heading", name="Invite advocates")).to_be_visible()
    page.get_by_label("Account").select_option(label="Northwind Health")
    page.get_by_label("Email addresses").fill(f"Ana Ruiz <{ADVOCATE_EMAIL}>\nnot-an-email\n")
    page.get_by_role("button", name="Send invitations").click()

    expect(page.get_by_role("alert")).to_have_text("1 of 2 invited to Northwind Health.")
    rows = page.locator("#invite-results tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(f"Invitation sent to {ADVOCATE_EMAIL}.")
    expect(rows.nth(1).locator("td").nth(1)).to_have_text("not-an-email")
    expect(rows.nth(1).locator("td").nth(2)).to_contain_text(
        "not-an-email is not a valid email address"
    )
    screenshot("advocate-1-invite-results")
    log_out(page)

    [message] = outbox.deliver()
    assert message.recipients == [ADVOCATE_EMAIL]
    invite_url = live_server + link_in(message.body)

    # The invited person follows the link and forgets to tick the consent box.
    page.goto(invite_url)
    expect(page.get_by_role("heading", name="Welcome to the Vouch customer hub")).to_be_visible()
    expect(page.get_by_text(ADVOCATE_EMAIL)).to_be_visible()
    expect(page.get_by_text("Northwind Health")).to_be_visible()
    page.get_by_label("Your name").fill("Ana Ruiz")
    page.get_by_label("Password", exact=True).fill(ADVOCATE_PASSWORD)
    page.get_by_label("Repeat the password").fill(ADVOCATE_PASSWORD)
    consent = page.get_by_label(re.compile(r"^I want to join the customer hub"))
    expect(consent).not_to_be_checked()
    page.get_by_role("button", name="Join the hub").click()

    expect(page.locator("#consent-errors")).to_have_text("Tick the box to join the program.")
    expect(consent).to_have_accessible_description(
        re.compile(r"Tick the box to join the program\.")
    )
    expect(consent).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.get_by_label("Your name")).to_have_value("Ana Ruiz")
    screenshot("advocate-2-accept-without-consent")

    # Passwords are not sent back to the browser: type them again, tick the box, join.
    page.get_by_label("Password", exact=True).fill(ADVOCATE_PASSWORD)
    page.get_by_label("Repeat the password").fill(ADVOCATE_PASSWORD)
    consent.check()
    page.get_by_role("button", name="Join the hub").click()

    expect(page).to_have_url(f"{live_server}/hub/")
    expect(page.get_by_role("heading", name="Welcome back, Ana Ruiz")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Welcome, Ana Ruiz! You are in.")
    screenshot("advocate-3-hub")
    log_out(page)

    # She comes back with her new password and leaves the program from her profile.
    log_in(page, live_server, ADVOCATE_EMAIL, ADVOCATE_PASSWORD)
    expect(page.get_by_role("heading", name="Welcome back, Ana Ruiz")).to_be_visible()
    page.get_by_role("link", name="Profile", exact=True).click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    page.get_by_role("link", name="Leave the program", exact=True).click()
    expect(page.get_by_role("heading", name="Leave the program")).to_be_visible()
    page.get_by_label("Yes, I want to leave the program").check()
    page.get_by_role("button", name="Leave the program").click()

    expect(page.get_by_role("heading", name="You have left the program")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("You have left the program.")
    screenshot("advocate-4-left")

    # The hub is closed to her now: /hub/ shows the page to (re)join instead.
    page.goto(f"{live_server}/hub/")
    expect(page).to_have_url(f"{live_server}/hub/join")
    expect(page.get_by_role("heading", name="You have left the program")).to_be_visible()
    expect(page.get_by_role("button", name="Rejoin the hub")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Welcome back"))).to_have_count(0)
