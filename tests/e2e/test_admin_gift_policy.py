"""An admin answers an advocate's "my employer forbids gifts" by setting the account's gift
policy, in a browser: the reason is required, and the change lands in the policy history."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from portal.accounts.services import set_declines_gifts
from tests.factories import PASSWORD


def test_admin_sets_no_gifts_policy_from_an_advocates_request(
    page: Page, live_server, make, session, screenshot
):
    admin = make.admin()
    account = make.account("Globex Federal")
    advocate = make.advocate("ben.okafor@globex.example", account=account)
    set_declines_gifts(session, advocate, True, "Federal rules")
    session.commit()

    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The dashboard lists the advocate's request.
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible()
    requests = page.get_by_role("region", name="Advocates who say their employer forbids gifts")
    request_row = requests.get_by_role("row").filter(has_text="ben.okafor@globex.example")
    expect(request_row).to_have_count(1)
    expect(request_row).to_contain_text("Globex Federal")
    expect(request_row).to_contain_text("Federal rules")
    request_row.get_by_role("link", name="Set policy").click()

    expect(page.get_by_role("heading", name="Globex Federal", level=1)).to_be_visible()
    current_policy = page.get_by_test_id("current-policy")
    expect(current_policy).to_have_text("Gifts allowed")
    history_rows = page.locator("#policy-history tbody tr")
    expect(history_rows).to_have_count(1)
    expect(history_rows).to_have_text("No changes yet.")

    # A change without a reason is refused, beside the Reason field.
    reason = page.get_by_label("Reason")
    expect(reason).to_have_value("")
    page.get_by_role("button", name="Change gift policy").click()
    expect(page.locator("#reason-errors")).to_have_text("Say why the policy is changing.")
    expect(reason).to_have_accessible_description(re.compile(r"Say why the policy is changing\."))
    expect(reason).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(current_policy).to_have_text("Gifts allowed")
    expect(history_rows).to_have_text("No changes yet.")
    screenshot("admin-gift-policy-reason-missing")

    # With a reason, the policy changes and the history says who, from what, to what, why.
    page.get_by_label("New gift policy").select_option(label="No gifts")
    reason.fill("Customer's legal team confirmed: federal employees may not accept gifts.")
    page.get_by_role("button", name="Change gift policy").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Gift policy of Globex Federal is now “No gifts”."
    )
    expect(current_policy).to_have_text("No gifts")
    expect(history_rows).to_have_count(1)
    cells = history_rows.first.locator("td")
    expect(cells).to_have_text(
        [
            re.compile(
                r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} [A-Z]+$"
            ),  # in the reader's zone
            admin.display_name,
            # the raw value, or its label (templates/admin/account_detail.html is moving to labels)
            re.compile(r"^Gifts allowed$"),
            re.compile(r"^No gifts$"),
            "Customer's legal team confirmed: federal employees may not accept gifts.",
        ]
    )
    screenshot("admin-gift-policy-account")

    # The request is answered: the dashboard no longer lists it.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Admin", exact=True).click()
    expect(requests).to_contain_text("No open requests.")
    expect(requests.get_by_role("row")).to_have_count(0)
