"""Rewards, clicked through in a browser: an advocate redeems a gift card that waits for an
admin, who approves it and types in the gift code; an advocate whose employer forbids gifts
sees only donations and recognition, donates, and is refused the gift card's page; and a
manager asks before giving: one advocate accepts a swag offer (with a shipping address),
another declines because their employer forbids gifts, which the admin dashboard lists."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from portal.accounts.models import GiftPolicy
from tests.e2e.steps import log_in, log_out, nav

GIFT_CARD = "Amazon gift card, $60"
HOODIE = "Vouch hoodie"
DONATION = "Plant 20 trees"
CHARITY = "One Tree Planted"
SPOTLIGHT = "Customer spotlight on our blog"
GIFT_CODE = "AMZN-7Q4K-93XZ-PLMN"
ADDRESS = "Ana Ruiz\nNorthwind Traders\n12 Harbour Street\nSeattle, WA 98101\nUSA"
OFFER_MESSAGE = "Thank you for the reference call with Contoso last week: it made the deal."


def open_catalog(page: Page) -> None:
    nav(page, "Rewards").click()
    expect(page.get_by_role("heading", name="Rewards", level=1)).to_be_visible()


def open_your_redemptions(page: Page) -> None:
    open_catalog(page)
    page.get_by_role("link", name="Your redemptions and their history").click()
    expect(page.get_by_role("heading", name="Your redemptions", level=1)).to_be_visible()


def reward_card(page: Page, name: str):
    return page.get_by_test_id("reward-card").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def redemption_of(page: Page, name: str):
    return page.get_by_test_id("redemption").filter(has_text=name)


def expect_offer(page: Page, advocate: str, status: str) -> None:
    """The manager's "Recent offers" table: one hoodie offer to the advocate, in this status."""
    row = page.get_by_role("table").get_by_role("row").filter(has_text=advocate)
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell")).to_have_text(
        [advocate, HOODIE, status, re.compile(r"by maya\.patel$")]
    )


def test_gift_card_over_the_threshold_waits_for_an_admin_who_approves_and_fulfils_it(
    page: Page, live_server, make, screenshot
):
    advocate = make.advocate("ana.ruiz@northwind.example", account=make.account("Northwind"))
    make.points(advocate, 1000)
    # 600 points is over the default threshold (500): the request waits for an admin.
    make.reward(GIFT_CARD, "gift_card", 600, description="Delivered as a code by email.")
    make.reward(HOODIE, "swag", 300)
    admin = make.admin("olu.admin@vouch.example")

    # --- The advocate finds the gift card in the catalog and redeems it. ---
    log_in(page, live_server, advocate.email)
    open_catalog(page)
    expect(page.get_by_test_id("points-balance")).to_have_text("1,000")
    expect(page.get_by_test_id("reward-card")).to_have_count(2)
    card = reward_card(page, GIFT_CARD)
    expect(card).to_contain_text("Gift card")
    expect(card).to_contain_text("600 points")
    screenshot("rewards-1-catalog")
    card.get_by_role("link", name=GIFT_CARD).click()

    expect(page.get_by_role("heading", name=GIFT_CARD, level=1)).to_be_visible()
    expect(page.get_by_text("Delivered as a code by email.")).to_be_visible()
    expect(page.get_by_test_id("points-balance")).to_have_text("1,000")
    expect(page.get_by_label("Shipping address")).to_have_count(0)  # a code needs no address
    screenshot("rewards-2-gift-card")
    page.get_by_role("button", name="Redeem for 600 points").click()

    expect(page).to_have_url(f"{live_server}/hub/redemptions")
    expect(page.get_by_role("heading", name="Your redemptions", level=1)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        f"Requested: {GIFT_CARD} is waiting for an admin; the points are set aside."
    )
    mine = redemption_of(page, GIFT_CARD)
    expect(mine).to_have_count(1)
    expect(mine.locator(".badge")).to_have_text("Requested")
    expect(mine).to_contain_text("600 points")
    expect(page.get_by_test_id("points-balance")).to_have_text("400")
    expect(page.get_by_test_id("points-held")).to_have_text("600")
    expect(mine.get_by_role("button", name="Cancel and get the points back")).to_be_visible()
    screenshot("rewards-3-redemptions-requested")
    log_out(page)

    # --- The admin finds it in the Requested queue, approves it, then enters the code. ---
    log_in(page, live_server, admin.email)
    nav(page, "Redemptions").click()
    expect(page.get_by_role("heading", name="Redemptions", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Requested 1$"))).to_have_attribute(
        "aria-current", "page"
    )
    rows = page.get_by_test_id("redemption-row")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("ana.ruiz")
    expect(rows).to_contain_text("Northwind")
    expect(rows).to_contain_text(GIFT_CARD)
    expect(rows).to_contain_text("600")
    screenshot("rewards-4-admin-queue")
    rows.get_by_role("link", name="Open").click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(f"{GIFT_CARD} for ana.ruiz")
    expect(heading.locator(".badge")).to_have_text("Requested")
    expect(page.get_by_text("600 (held)")).to_be_visible()
    expect(page.get_by_label("Gift code")).to_have_count(0)  # not before it is approved
    screenshot("rewards-5-admin-redemption-requested")
    page.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("alert")).to_have_text(f"Approved ana.ruiz's {GIFT_CARD}.")
    expect(heading.locator(".badge")).to_have_text("Approved")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    gift_code = page.get_by_label("Gift code")
    expect(gift_code).to_be_visible()

    # Marking it fulfilled without the code is refused, beside the field.
    page.get_by_role("button", name="Mark fulfilled").click()
    expect(page.locator("#reference-errors")).to_have_text("Enter the gift code.")
    expect(gift_code).to_have_accessible_description("Enter the gift code.")
    expect(heading.locator(".badge")).to_have_text("Approved")
    screenshot("rewards-6-admin-gift-code-missing")

    gift_code.fill(GIFT_CODE)
    page.get_by_role("button", name="Mark fulfilled").click()
    expect(page.get_by_role("alert")).to_have_text(f"Fulfilled ana.ruiz's {GIFT_CARD}.")
    expect(heading.locator(".badge")).to_have_text("Fulfilled")
    expect(page.get_by_text("600 (spent)")).to_be_visible()
    expect(page.get_by_text(GIFT_CODE, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Mark fulfilled")).to_have_count(0)
    screenshot("rewards-7-admin-redemption-fulfilled")
    log_out(page)

    # --- The advocate sees it fulfilled, with the code; the points are spent. ---
    log_in(page, live_server, advocate.email)
    open_your_redemptions(page)
    page.reload()
    expect(mine.locator(".badge")).to_have_text("Fulfilled")
    expect(mine.get_by_test_id("reference")).to_have_text(GIFT_CODE)
    expect(mine.get_by_role("button", name="Cancel and get the points back")).to_have_count(0)
    expect(page.get_by_test_id("points-balance")).to_have_text("400")
    expect(page.get_by_test_id("points-held")).to_have_text("0")
    mine.get_by_text("History").click()
    expect(mine.get_by_role("listitem")).to_have_text(
        [
            re.compile(r"UTC: requested$"),
            re.compile(r"UTC: approved by olu\.admin$"),
            re.compile(r"UTC: fulfilled by olu\.admin \(Gift code recorded\)$"),
        ]
    )
    screenshot("rewards-8-redemptions-fulfilled")


def test_no_gifts_account_sees_donations_and_recognition_only_and_donates(
    page: Page, live_server, make, screenshot
):
    account = make.account("Globex Federal", GiftPolicy.NO_GIFTS)
    advocate = make.advocate("ben.okafor@globex.example", account=account)
    make.points(advocate, 1000)
    gift_card = make.reward(GIFT_CARD, "gift_card", 600)
    make.reward(HOODIE, "swag", 300)
    # 200 points is under the threshold (500): approved at once.
    make.reward(DONATION, "charity", 200, charity_name=CHARITY)
    make.reward(SPOTLIGHT, "recognition", 100)

    log_in(page, live_server, advocate.email)
    open_catalog(page)
    expect(
        page.get_by_text(
            "Globex Federal does not allow its people to accept gifts, "
            "so you see donations and recognition only."
        )
    ).to_be_visible()
    expect(page.get_by_test_id("reward-card")).to_have_count(2)
    expect(reward_card(page, DONATION)).to_contain_text(f"Charity donation · {CHARITY}")
    expect(reward_card(page, SPOTLIGHT)).to_contain_text("Recognition")
    expect(page.get_by_text(GIFT_CARD)).to_have_count(0)
    expect(page.get_by_text(HOODIE)).to_have_count(0)
    screenshot("no-gifts-1-catalog")

    # --- The donation is approved at once. ---
    reward_card(page, DONATION).get_by_role("link", name=DONATION).click()
    expect(page.get_by_role("heading", name=DONATION, level=1)).to_be_visible()
    expect(
        page.get_by_text(f"Charity donation: a donation to {CHARITY} in your name")
    ).to_be_visible()
    screenshot("no-gifts-2-donation")
    page.get_by_role("button", name="Redeem for 200 points").click()

    expect(page).to_have_url(f"{live_server}/hub/redemptions")
    expect(page.get_by_role("alert")).to_have_text(
        f"Done: {DONATION} is approved. "
        f"We will donate to {CHARITY} in your name and send the receipt."
    )
    mine = redemption_of(page, DONATION)
    expect(mine).to_have_count(1)
    expect(mine.locator(".badge")).to_have_text("Approved")
    expect(page.get_by_test_id("points-balance")).to_have_text("800")
    screenshot("no-gifts-3-redemptions")

    # --- The gift card's page, typed in directly, says why it can't be had. ---
    page.goto(f"{live_server}/hub/rewards/{gift_card.id}")
    expect(page.get_by_role("heading", name=GIFT_CARD, level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(
        "Globex Federal does not allow its people to accept gifts, so gift cards can't be given."
    )
    expect(page.get_by_role("button", name=re.compile(r"^Redeem"))).to_have_count(0)
    expect(page.get_by_test_id("redeem")).to_have_count(0)
    screenshot("no-gifts-4-gift-card-refused")


def test_manager_offers_a_gift_one_advocate_accepts_another_declines(
    page: Page, live_server, make, screenshot
):
    manager = make.manager("maya.patel@vouch.example")
    ana = make.advocate("ana.ruiz@northwind.example", account=make.account("Northwind"))
    ben = make.advocate("ben.okafor@globex.example", account=make.account("Globex"))
    make.reward(HOODIE, "swag", 300)
    make.reward(DONATION, "charity", 200, charity_name=CHARITY)
    admin = make.admin("olu.admin@vouch.example")

    # --- The manager offers the hoodie to both advocates. ---
    log_in(page, live_server, manager.email)
    main_nav = page.get_by_role("navigation", name="Main")
    for advocate in (ana, ben):
        main_nav.get_by_role("button", name="More").click()
        main_nav.get_by_role("link", name="Offer a thank-you gift").click()
        expect(page.get_by_role("heading", name="Offer a thank-you gift", level=1)).to_be_visible()
        page.get_by_label("Advocate's email").fill(advocate.email)
        page.get_by_label("Gift").select_option(label=f"{HOODIE} (Swag)")
        page.get_by_label("Message").fill(OFFER_MESSAGE)
        if advocate is ana:
            screenshot("offer-1-form")
        page.get_by_role("button", name="Offer the gift").click()
        expect(page.get_by_role("alert")).to_have_text(
            f"Offered {HOODIE} to {advocate.display_name}: nothing is sent unless they accept."
        )
    expect_offer(page, "ana.ruiz", "Offered")
    expect_offer(page, "ben.okafor", "Offered")
    screenshot("offer-2-offered")
    log_out(page)

    # --- Ana sees the offer, forgets the address, then accepts. ---
    log_in(page, live_server, ana.email)
    open_catalog(page)
    banner = page.get_by_role("status").filter(has_text=HOODIE)
    expect(banner).to_have_text(re.compile(rf"maya\.patel would like to thank you with {HOODIE}\."))
    screenshot("offer-3-catalog-banner")
    banner.get_by_role("link", name="See the offer").click()

    expect(page.get_by_role("heading", name="A thank-you from maya.patel", level=1)).to_be_visible()
    expect(page.get_by_text(f"“{OFFER_MESSAGE}”")).to_be_visible()
    address = page.get_by_label("Shipping address")
    page.get_by_role("button", name="Accept").click()

    expect(page.locator("#shipping_address-errors")).to_have_text(
        "Give the full address we should ship to."
    )
    expect(address).to_have_accessible_description(
        re.compile(r"Give the full address we should ship to\.")
    )
    expect(address).to_have_class(re.compile(r"\bis-invalid\b"))
    screenshot("offer-4-address-missing")

    address.fill(ADDRESS)
    page.get_by_role("button", name="Accept").click()
    expect(page).to_have_url(f"{live_server}/hub/redemptions")
    expect(page.get_by_role("alert")).to_have_text(
        f"Thank you for accepting {HOODIE}. We will ship it to the address you gave."
    )
    mine = redemption_of(page, HOODIE)
    expect(mine).to_have_count(1)
    expect(mine.locator(".badge")).to_have_text("Approved")
    expect(page.get_by_test_id("points-balance")).to_have_text("0")
    screenshot("offer-5-redemptions")
    open_catalog(page)
    expect(page.get_by_role("link", name="See the offer")).to_have_count(0)
    log_out(page)

    # --- Ben declines: his employer does not allow gifts. ---
    log_in(page, live_server, ben.email)
    open_catalog(page)
    page.get_by_role("link", name="See the offer").click()
    expect(page.get_by_role("heading", name="A thank-you from maya.patel", level=1)).to_be_visible()
    page.get_by_label("My employer does not allow me to accept gifts").check()
    page.get_by_label("Anything to add (optional)").fill("Globex follows federal gift rules.")
    screenshot("offer-6-decline")
    page.get_by_role("button", name="Decline").click()

    expect(page).to_have_url(f"{live_server}/hub/rewards")
    expect(page.get_by_role("alert")).to_have_text("Declined. Thank you for letting us know.")
    expect(page.get_by_role("link", name="See the offer")).to_have_count(0)
    expect(
        page.get_by_text(
            "You told us your employer does not allow gifts, "
            "so you see donations and recognition only."
        )
    ).to_be_visible()
    expect(page.get_by_test_id("reward-card")).to_have_count(1)
    expect(reward_card(page, DONATION)).to_have_count(1)
    screenshot("offer-7-declined-catalog")
    log_out(page)

    # --- The admin dashboard lists Ben's request; the offers list shows both answers. ---
    log_in(page, live_server, admin.email)
    expect(page.get_by_role("heading", name="Admin", exact=True, level=1)).to_be_visible()
    requests = page.get_by_role("region", name="Advocates who say their employer forbids gifts")
    request_row = requests.get_by_role("row").filter(has_text="ben.okafor@globex.example")
    expect(request_row).to_have_count(1)
    expect(request_row).to_contain_text("Globex")
    expect(request_row).to_contain_text("Globex follows federal gift rules.")
    expect(requests.get_by_role("row").filter(has_text="ana.ruiz")).to_have_count(0)
    screenshot("offer-8-admin-dashboard")

    main_nav.get_by_role("button", name="More").click()
    main_nav.get_by_role("link", name="Offer a thank-you gift").click()
    expect_offer(page, "ana.ruiz", "Accepted")
    expect_offer(page, "ben.okafor", "Declined")
    screenshot("offer-9-offers-answered")
