"""A survey import in a real browser: a manager uploads an NPS export, keeps the guessed
columns, and the page imports it chunk by chunk (static/js/survey-import.js, under the CSP)
before showing the report; the promoter is listed to invite and the detractor's account is
flagged until the manager clears it."""

import re

from playwright.sync_api import Page, expect

from references import surveys
from tests.e2e.steps import log_in

EXPORT = (
    "Respondent,E-mail address,How likely are you to recommend us?,Why?,Submitted at,Company\n"
    "Pia Park,pia@acme.example,10,Saved us weeks,2026-11-02 09:15,Acme\n"
    "Gus Gray,gus@globex.example,3,Support never answers,2026-11-01 10:00,Globex\n"
    "Ned,not-an-email,9,,2026-11-01,\n"
    "Ola,ola@acme.example,8,,2026-11-01,Acme\n"
    "Ray,ray@acme.example,9,Great,2026-10-30,Acme\n"
)


def test_manager_imports_a_survey_with_progress_and_clears_a_flag(
    page: Page, live_server, make, monkeypatch, tmp_path, screenshot
):
    monkeypatch.setattr(surveys, "CHUNK_ROWS", 2)  # three requests for five rows
    make.account("Acme")
    make.account("Globex")
    manager = make.manager("maya@vouch.example")
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    csv_file = tmp_path / "nps-export.csv"
    csv_file.write_text(EXPORT, encoding="utf-8")
    chunk_posts = []
    page.on("request", lambda r: chunk_posts.append(r.url) if r.url.endswith("/run") else None)

    log_in(page, live_server, manager.email)
    page.goto(f"{live_server}/references/surveys/")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload and map the columns").click()
    expect(page.get_by_test_id("preview")).to_contain_text("pia@acme.example")
    expect(page.get_by_label("Email")).to_have_value("1")
    expect(page.get_by_label("Score")).to_have_value("2")
    expect(page.get_by_label("Date answered")).to_have_value("4")
    screenshot("survey-mapping")
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page).to_have_url(re.compile(r"/references/surveys/\d+/report$"))
    assert len(chunk_posts) == 3
    expect(page.get_by_test_id("imported")).to_have_text("4")
    expect(page.get_by_test_id("failed")).to_have_text("1")
    expect(page.get_by_test_id("row-errors")).to_contain_text("not-an-email is not an email")
    screenshot("survey-report")

    page.get_by_role("link", name="Promoters to invite").first.click()
    expect(page.get_by_test_id("promoters")).to_contain_text("Saved us weeks")
    page.get_by_role("link", name="Flagged relationships").first.click()
    flags = page.get_by_test_id("flags")
    expect(flags).to_contain_text("NPS 3 from gus@globex.example on 2026-11-01")
    flags.get_by_label("Why it is cleared").fill("Called Gus: support ticket fixed")
    flags.get_by_role("button", name="Clear the flag").click()
    expect(page.get_by_role("alert").first).to_contain_text("The flag on Globex is cleared.")
    expect(page.get_by_test_id("flags")).to_contain_text("No relationship is flagged.")
    assert not problems, problems
