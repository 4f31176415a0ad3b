"""A reference request from start to finish, clicked through in a browser: a sales user files
it on the real form, a program manager picks the best candidate, the account's relationship
owner makes the ask, the advocate says yes in the hub, the sales user introduces them,
confirms the call and records the deal won, and the account's milestones show the call.
Each page is saved to test-screens/reference-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from portal.db import utcnow
from tests.e2e.steps import log_in, log_out, nav

PROSPECT = "Lakeshore Hospital Group"
OPPORTUNITY = "Lakeshore Hospital Group: patient access"


def test_a_reference_request_from_filing_to_the_deal_won(
    page: Page, live_server, make, session, screenshot
):
    maya = make.manager("maya.patel@vouch.example")  # Northwind's relationship owner
    leo = make.manager("leo.park@vouch.example")  # runs the program's matching this week
    sam = make.sales("sam.rivera@vouch.example", name="Sam Rivera")
    northwind = make.account(
        "Northwind Health",
        industry="Healthcare",
        segment="Enterprise",
        region="North America",
        owner_id=maya.id,
    )
    northwind.products = "Patient support, Scheduling"
    ana = make.advocate("ana.ruiz@northwind.example", account=northwind)
    other = make.advocate("tom.berg@bluewater.example", account=make.account("Bluewater Foods"))
    maya.name, leo.name, ana.name, other.name = "Maya Patel", "Leo Park", "Ana Ruiz", "Tom Berg"
    ana.job_level, ana.title = "director", "Director of Patient Operations"
    session.commit()

    def shot(name: str) -> None:
        screenshot(f"reference-{name}")

    # --- Sam files the request on the form: his home is the requests page. ---
    log_in(page, live_server, sam.email)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shot("1-sales-home")
    nav(page, "New request").click()
    expect(page.get_by_role("heading", name="New reference request")).to_be_visible()
    expect(page.get_by_test_id("boundaries")).to_contain_text("Demo")
    needed_by = (utcnow() + timedelta(days=14)).date().isoformat()
    page.get_by_label("Opportunity", exact=True).fill(OPPORTUNITY)
    page.get_by_label("CRM opportunity id").fill("OPP-21040")
    page.get_by_label("Prospect company").fill(PROSPECT)
    page.get_by_label("Prospect's industry").fill("Healthcare")
    page.get_by_label("Deal stage").select_option(label="Discovery")
    page.get_by_label("Deal size (whole dollars)").fill("220000")
    page.get_by_label("Needed by").fill(needed_by)
    page.get_by_label("Level of the conversation").select_option(label="Director")
    page.get_by_label("Who at the prospect will speak").fill(
        "Dana Whitfield, Director of Patient Access"
    )
    page.get_by_label("Key talking points").fill("Cutting hold times at the patient line.")
    page.get_by_label("Wanted: industry").fill("Healthcare")
    page.get_by_label("Wanted: job level").select_option(label="Director")
    page.get_by_label("Wanted: product use").fill("Patient support")
    page.get_by_role("button", name="File the request").click()
    # Discovery is before the program's boundary: refused beside the field, with the rule
    stage = page.get_by_label("Deal stage")
    expect(stage).to_have_attribute("aria-invalid", "true")
    expect(page.locator("main")).to_contain_text("from the Demo stage on")
    shot("2-refused-outside-the-boundaries")
    stage.select_option(label="Proposal")
    page.get_by_role("button", name="File the request").click()
    expect(page.get_by_role("heading", name=OPPORTUNITY, level=1)).to_be_visible()
    expect(page.get_by_test_id("next-step")).to_contain_text("pick")
    shot("3-filed")
    log_out(page)

    # --- Leo, a program manager, opens it and picks the best candidate for Maya to ask. ---
    log_in(page, live_server, leo.email)
    page.goto(f"{live_server}/references/")
    page.get_by_role("link", name=OPPORTUNITY).click()
    candidates = page.get_by_role("table", name="Candidates, best first")
    expect(candidates).to_be_visible()
    best = candidates.locator("tbody tr").first
    expect(best).to_contain_text("Ana Ruiz")
    expect(best).to_contain_text("Healthcare")
    shot("4-candidates")
    best.get_by_role("button", name="Pick for Maya Patel to ask").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_test_id("asks")).to_contain_text("Ana Ruiz")
    shot("5-picked")
    log_out(page)

    # --- Maya, Northwind's relationship owner, makes the ask from Vouch. ---
    log_in(page, live_server, maya.email)
    page.goto(f"{live_server}/references/asks/")
    shot("6-asks-to-make")
    page.get_by_test_id("ask-row").filter(has_text="Ana Ruiz").get_by_role(
        "link", name="Make the ask"
    ).click()
    expect(page.get_by_label("Your message")).to_have_value(re.compile(PROSPECT))
    shot("7-the-ask")
    page.get_by_role("button", name="Send the ask").click()
    expect(page.get_by_role("alert")).to_be_visible()
    shot("8-asked")
    log_out(page)

    # --- Ana says yes in the hub. ---
    log_in(page, live_server, ana.email)
    page.goto(f"{live_server}/hub/references/")
    page.get_by_role("link", name=f"Speak with {PROSPECT}").click()
    expect(page.get_by_role("heading", name=f"Would you speak with {PROSPECT}?")).to_be_visible()
    shot("9-hub-ask")
    page.get_by_label("When are you available?").fill("Tuesdays or Thursdays, 8-10am Eastern")
    page.get_by_role("button", name="Yes, I'll take the call").click()
    expect(page.get_by_text("Thank you for saying yes.")).to_be_visible()
    shot("10-hub-accepted")
    log_out(page)

    # --- Sam introduces them, confirms the call and records the deal won. ---
    log_in(page, live_server, sam.email)
    page.get_by_role("link", name=OPPORTUNITY).first.click()
    follow_up = page.locator("#follow-up")
    expect(follow_up).to_contain_text("Ana Ruiz (Northwind Health) said yes")
    shot("11-to-introduce")
    follow_up.get_by_role("button", name="Introduced them").click()
    expect(page.locator("#follow-up")).to_contain_text("Introduced on")
    page.get_by_label("When did the call take place?").fill(utcnow().date().isoformat())
    page.get_by_role("button", name="Confirm the call took place").click()
    expect(page.get_by_test_id("confirmed-calls")).to_contain_text("Ana Ruiz")
    shot("12-confirmed")
    outcome = page.get_by_test_id("outcome-form")
    outcome.get_by_label("How did the deal end?").select_option(label="Won")
    outcome.get_by_label("Amount won (whole dollars)").fill("220000")
    outcome.get_by_label("Close date").fill(utcnow().date().isoformat())
    outcome.get_by_role("button", name="Record the outcome").click()
    expect(page.get_by_test_id("outcome")).to_contain_text("Won")
    expect(page.get_by_test_id("outcome")).to_contain_text("220,000")
    shot("13-won")
    log_out(page)

    # --- The account's milestones show the call; Ana's points came with it. ---
    log_in(page, live_server, maya.email)
    page.goto(f"{live_server}/manage/accounts/{northwind.id}")
    milestone = page.get_by_test_id("milestone")
    expect(milestone).to_have_count(1)
    expect(milestone).to_contain_text(f"Reference call for {PROSPECT}")
    expect(milestone).to_contain_text("Ana Ruiz")
    shot("14-account-milestones")
