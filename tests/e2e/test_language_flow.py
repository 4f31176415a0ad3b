"""A visitor switches the logged-out pages to Spanish, logs in and keeps reading Spanish; an
advocate whose own setting is Spanish reads it whatever the browser says."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD
from tests.test_i18n import compiled_catalog  # noqa: F401 - the fixture


def test_the_language_switch_carries_through_the_login(
    page: Page,
    live_server,
    make,
    session,
    compiled_catalog,  # noqa: F811
):
    advocate = make.advocate(email="lucia@example.com")
    make.points(advocate, 12345)

    page.goto(f"{live_server}/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Inicia sesión en Vouch")).to_be_visible()
    expect(page.get_by_role("button", name="English")).to_be_visible()

    # keyboard only: the fields, then Enter submits
    page.get_by_label("Correo").fill(advocate.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_label("Contraseña").press("Enter")

    main_nav = page.get_by_role("navigation", name="Principal")
    expect(main_nav.get_by_role("link", name="Recompensas", exact=True)).to_be_visible()
    main_nav.get_by_role("link", name="Recompensas", exact=True).click()
    expect(page.get_by_test_id("points-balance")).to_have_text("12.345")
    expect(page.get_by_role("heading", name="Recompensas", exact=True)).to_be_visible()


def test_an_advocates_own_setting_wins_over_the_browser(
    page: Page,
    live_server,
    make,
    session,
    compiled_catalog,  # noqa: F811
):
    advocate = make.advocate(email="lucia@example.com")
    advocate.locale = "es"
    session.commit()
    page.goto(f"{live_server}/login")  # the browser asks for English
    page.get_by_label("Email").fill(advocate.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
