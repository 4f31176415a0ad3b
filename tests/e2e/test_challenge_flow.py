"""The core challenge loop, clicked through in a browser: a program manager writes and
publishes a challenge, an advocate completes it, the manager approves it, and the
advocate's points go up. A survey is approved automatically, with no review."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.steps import log_in, log_out, nav
from tests.factories import PNG

REVIEW_TITLE = "Review Vouch on G2"
SURVEY_TITLE = "How often do you use Vouch?"
SURVEY_QUESTION = "How often do you open Vouch?"
WRONG_REVIEW_URL = "https://example.com/review"
REVIEW_URL = "https://www.g2.com/products/vouch/reviews/123"
# "Evidence required" is ticked by default, so a review needs a screenshot attached.
REVIEW_SCREENSHOT = {"name": "my-g2-review.png", "mimeType": "image/png", "buffer": PNG}


def save_new_draft(page: Page, screenshot, fill_details, title: str, name: str) -> None:
    """From the manager's Challenges page, write a new challenge and save it as a draft.
    fill_details(page) fills in what the type needs; the title is filled in here."""
    nav(page, "Challenges").click()
    expect(page.get_by_role("heading", name="Challenges", level=1)).to_be_visible()
    page.get_by_role("link", name="New challenge").click()
    expect(page.get_by_role("heading", name="New challenge", level=1)).to_be_visible()
    page.get_by_label("Title", exact=True).fill(title)
    fill_details(page)
    screenshot(f"{name}-1-form")
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Draft saved. Preview it, then publish it when it's ready."
    )
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(title)
    expect(heading.locator(".badge")).to_have_text("Draft")


def publish(page: Page, title: str) -> None:
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert")).to_have_text(
        f"“{title}” is live for the advocates it targets."
    )
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text("Published")
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)


def test_review_challenge_written_completed_reviewed_and_rewarded(
    page: Page, live_server, make, screenshot
):
    manager = make.manager("maya.patel@vouch.example")
    advocate = make.advocate("ana.ruiz@northwind.example", account=make.account("Northwind"))

    # --- The manager writes a review challenge, previews it and publishes it. ---
    log_in(page, live_server, manager.email)

    def review_details(page: Page) -> None:
        page.get_by_label("Type", exact=True).select_option(label="Review")
        details = page.get_by_role("group", name="Review details")
        expect(details).to_be_visible()
        expect(page.get_by_role("group", name="Survey / question details")).to_be_hidden()
        page.get_by_label("Description", exact=True).fill(
            "Tell other teams what working with us is like. **Honest reviews only**, good or bad."
        )
        page.get_by_label("Points", exact=True).fill("150")
        details.get_by_label("Review site").select_option(label="G2")

    save_new_draft(page, screenshot, review_details, REVIEW_TITLE, "challenge")

    page.get_by_role("link", name="Preview").click()
    expect(page.get_by_text("Preview: this is what an advocate sees.")).to_be_visible()
    expect(page.get_by_role("heading", name=REVIEW_TITLE, level=1)).to_be_visible()
    expect(page.locator(".challenge-body strong")).to_have_text("Honest reviews only")
    expect(page.get_by_text("150 points when approved")).to_be_visible()
    expect(page.get_by_text("Where: G2 (g2.com)")).to_be_visible()
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    screenshot("challenge-2-preview")
    page.get_by_role("link", name="Back to the challenge").click()

    expect(page.get_by_role("heading", name=REVIEW_TITLE, level=1)).to_be_visible()
    publish(page, REVIEW_TITLE)
    screenshot("challenge-2b-published")
    log_out(page)

    # --- The advocate finds it on the hub and gets the review link wrong first. ---
    log_in(page, live_server, advocate.email)
    expect(page).to_have_url(f"{live_server}/hub/")
    card = page.get_by_test_id("challenge-card").filter(has_text=REVIEW_TITLE)
    expect(card).to_have_count(1)
    expect(card).to_contain_text("150 points")
    expect(page.get_by_test_id("points-balance")).to_have_text("0")
    screenshot("challenge-3-hub")
    card.get_by_role("link", name=REVIEW_TITLE).click()

    expect(page.get_by_role("heading", name=REVIEW_TITLE, level=1)).to_be_visible()
    expect(page.get_by_text("Where: G2 (g2.com)")).to_be_visible()
    review_url = page.get_by_label("Link to your published review")
    review_file = page.get_by_label("A screenshot of your review")
    disclosed = page.get_by_label("I said in my review that I received points for writing it")
    review_url.fill(WRONG_REVIEW_URL)
    review_file.set_input_files(REVIEW_SCREENSHOT)
    disclosed.check()
    page.get_by_role("button", name="Submit").click()

    expect(page.locator("#review_url-errors")).to_have_text(
        "The link must be on g2.com; this one is on example.com."
    )
    expect(review_url).to_have_accessible_description(re.compile(r"must be on g2\.com"))
    expect(review_url).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(review_url).to_have_value(WRONG_REVIEW_URL)
    expect(disclosed).to_be_checked()
    screenshot("challenge-4-review-link-error")

    # The browser does not keep a chosen file across the round trip: attach it again.
    review_url.fill(REVIEW_URL)
    review_file.set_input_files(REVIEW_SCREENSHOT)
    page.get_by_role("button", name="Submit").click()

    expect(page).to_have_url(f"{live_server}/hub/submissions")
    expect(page.get_by_role("heading", name="Your submissions", level=1)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "Thank you! A program manager will review it soon."
    )
    submission = page.get_by_test_id("submission").filter(has_text=REVIEW_TITLE)
    expect(submission).to_have_count(1)
    expect(submission.locator(".badge")).to_have_text("Pending")
    expect(submission).to_contain_text("150 points when approved")
    expect(submission.get_by_role("link", name=REVIEW_URL)).to_be_visible()
    expect(page.get_by_test_id("points-balance")).to_have_text("0")
    screenshot("challenge-5-submissions-pending")
    log_out(page)

    # --- The manager approves it from the review queue. ---
    log_in(page, live_server, manager.email)
    nav(page, "Review").click()
    expect(page.get_by_role("heading", name="Review queue", level=1)).to_be_visible()
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("ana.ruiz")
    expect(rows).to_contain_text("Northwind")
    expect(rows).to_contain_text(REVIEW_TITLE)
    expect(rows.get_by_role("link", name=REVIEW_URL)).to_be_visible()
    screenshot("challenge-6-review-queue")
    rows.get_by_role("link", name="Review", exact=True).click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(f"ana.ruiz: {REVIEW_TITLE}")
    expect(heading.locator(".badge")).to_have_text("Pending")
    expect(page.get_by_text("150 points on approval")).to_be_visible()
    expect(page.get_by_role("link", name=REVIEW_URL)).to_be_visible()
    expect(page.get_by_role("img", name="Evidence attached by ana.ruiz")).to_be_visible()
    screenshot("challenge-7-review-page")
    page.get_by_role("button", name="Approve").click()

    expect(page).to_have_url(f"{live_server}/manage/review")
    expect(page.get_by_role("alert")).to_have_text(f"Approved: ana.ruiz's “{REVIEW_TITLE}”.")
    expect(rows).to_have_count(0)
    expect(page.get_by_text("Nothing waiting.")).to_be_visible()
    log_out(page)

    # --- The advocate sees the approval and the points. ---
    log_in(page, live_server, advocate.email)
    expect(page.get_by_test_id("points-balance")).to_have_text("150")
    nav(page, "My submissions").click()
    expect(page.get_by_role("heading", name="Your submissions", level=1)).to_be_visible()
    expect(submission.locator(".badge")).to_have_text("Approved")
    expect(submission).to_contain_text("+150 points")
    expect(submission).to_contain_text("by maya.patel")
    expect(page.get_by_test_id("points-balance")).to_have_text("150")
    expect(page.get_by_text("150 earned in all")).to_be_visible()
    screenshot("challenge-8-submissions-approved")


def test_survey_answer_is_approved_and_rewarded_at_once(page: Page, live_server, make, screenshot):
    manager = make.manager("maya.patel@vouch.example")
    advocate = make.advocate("ben.okafor@globex.example", account=make.account("Globex"))

    # --- The manager writes a survey with three choices; surveys are approved automatically.
    log_in(page, live_server, manager.email)

    def survey_details(page: Page) -> None:
        page.get_by_label("Type", exact=True).select_option(label="Survey / question")
        details = page.get_by_role("group", name="Survey / question details")
        expect(details).to_be_visible()
        expect(page.get_by_role("group", name="Review details")).to_be_hidden()
        page.get_by_label("Description", exact=True).fill("One click, _no wrong answers_.")
        page.get_by_label("Points", exact=True).fill("25")
        page.get_by_label("Approval").select_option(label="Approved automatically")
        details.get_by_label("Question", exact=True).fill(SURVEY_QUESTION)
        details.get_by_label("Answer choices, one per line").fill("Daily\nWeekly\nMonthly")

    save_new_draft(page, screenshot, survey_details, SURVEY_TITLE, "survey")
    expect(page.get_by_text("Automatic", exact=True)).to_be_visible()
    publish(page, SURVEY_TITLE)
    log_out(page)

    # --- The advocate answers it and has the points straight away. ---
    log_in(page, live_server, advocate.email)
    card = page.get_by_test_id("challenge-card").filter(has_text=SURVEY_TITLE)
    expect(card).to_contain_text("25 points")
    expect(page.get_by_test_id("points-balance")).to_have_text("0")
    card.get_by_role("link", name=SURVEY_TITLE).click()

    expect(page.get_by_role("heading", name=SURVEY_TITLE, level=1)).to_be_visible()
    question = page.get_by_role("group", name=SURVEY_QUESTION)
    expect(question.get_by_role("radio")).to_have_count(3)
    question.get_by_label("Weekly").check()
    screenshot("survey-2-challenge")
    page.get_by_role("button", name="Send answer").click()

    expect(page).to_have_url(f"{live_server}/hub/submissions")
    expect(page.get_by_role("alert")).to_have_text("Thank you! That's done.")
    submission = page.get_by_test_id("submission").filter(has_text=SURVEY_TITLE)
    expect(submission.locator(".badge")).to_have_text("Approved")
    expect(submission).to_contain_text("+25 points")
    expect(submission).to_contain_text("Weekly")
    expect(page.get_by_test_id("points-balance")).to_have_text("25")
    screenshot("survey-3-submissions")

    # Back on the hub: the balance shows the points and the survey is done, so it is gone.
    nav(page, "Hub").click()
    expect(page.get_by_test_id("points-balance")).to_have_text("25")
    expect(page.get_by_test_id("challenge-card").filter(has_text=SURVEY_TITLE)).to_have_count(0)
