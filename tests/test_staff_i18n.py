"""Staff pages go through the same translation machinery as the advocate's: a manager or an
admin whose setting is Spanish reads the admin and program pages, their form errors and
their flashed messages in Spanish; with English (or no setting) every word stays as it was."""

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal.config import PROJECT_ROOT
from tests.factories import login

CATALOG = PROJECT_ROOT / "translations" / "es" / "LC_MESSAGES" / "messages.po"

# (path, a phrase of the page in English, the same in Spanish)
STAFF_PAGES = [
    ("/admin/", "Redemptions waiting too long", "Canjes que esperan demasiado"),
    ("/admin/accounts", "Customer accounts", "Cuentas de clientes"),
    ("/admin/accounts/new", "New customer account", "Nueva cuenta de cliente"),
    ("/admin/users", "Search by name or email", "Buscar por nombre o correo"),
    ("/admin/users/invite", "Send invitation", "Enviar invitación"),
    ("/admin/audit", "Download these events (CSV)", "Descargar estos eventos (CSV)"),
    ("/admin/levels", "Lifetime points needed", "Puntos históricos necesarios"),
    ("/admin/badges", "Recompute badges", "Recalcular insignias"),
    ("/admin/game", "Save game settings", "Guardar ajustes del juego"),
    ("/admin/redemptions", "Points outstanding (liability)", "Puntos pendientes (pasivo)"),
    ("/admin/rewards", "Rewards catalog", "Catálogo de recompensas"),
    ("/admin/rewards/new", "Cost and value", "Coste y valor"),
    ("/manage/", "Thank-yous owed", "Agradecimientos pendientes"),
    ("/manage/accounts", "Customer accounts", "Cuentas de clientes"),
    ("/manage/invite", "Send invitations", "Enviar invitaciones"),
    ("/manage/near-cap", "Near the big-ask cap", "Cerca del tope de peticiones grandes"),
    ("/manage/challenges", "No challenges yet. Write the first one.", "Aún no hay retos."),
    ("/manage/challenges/new", "Points and approval", "Puntos y aprobación"),
    ("/manage/groups", "Advocate groups", "Grupos de embajadores"),
    ("/manage/groups/new", "Rules: advocates matching all of these", "Reglas: embajadores"),
    ("/manage/activities/new", "Log an activity done outside the hub", "Registrar una actividad"),
    (
        "/manage/review",
        "Nothing waiting. Every submission has been reviewed.",
        "No hay nada esperando.",
    ),
    ("/manage/thanks", "Everyone has been thanked.", "Ya se ha dado las gracias a todos."),
    ("/manage/leads", "Referral leads", "Contactos recomendados"),
    ("/manage/offers", "Offer a thank-you gift", "Ofrecer un regalo de agradecimiento"),
    ("/manage/leaderboard", "Download this board (CSV)", "Descargar esta clasificación (CSV)"),
    ("/manage/settings", "Save settings", "Guardar ajustes"),
]


@pytest.fixture
def spanish_catalog():
    """The compiled catalog (as `make install` builds it), fresh if the .po is newer."""
    compiled = CATALOG.with_suffix(".mo")
    if not compiled.exists() or compiled.stat().st_mtime < CATALOG.stat().st_mtime:
        with CATALOG.open("rb") as source:
            catalog = read_po(source)
        with compiled.open("wb") as file:
            write_mo(file, catalog, use_fuzzy=True)
    return compiled


def _admin(session, make, locale):
    admin = make.admin(email=f"staff-{locale}@example.com")
    admin.locale = locale
    session.commit()
    return admin


@pytest.mark.parametrize("locale", ["es", "en"])
def test_every_staff_page_speaks_the_staff_members_language(
    spanish_catalog, app, client, session, make, locale
):
    _admin(session, make, locale)
    login(client, f"staff-{locale}@example.com")
    for path, english, spanish in STAFF_PAGES:
        page = client.get(path)
        html = page.get_data(as_text=True).replace("&#39;", "'")
        assert page.status_code == 200, path
        assert f'lang="{locale}"' in html, path
        if locale == "es":
            assert spanish in html, path
            assert english not in html, path
        else:
            assert english in html, path
            assert spanish not in html, path


def test_a_spanish_admin_reads_form_errors_and_flashes_in_spanish(
    spanish_catalog, app, client, session, make
):
    _admin(session, make, "es")
    login(client, "staff-es@example.com")
    blank = {"segment": "", "region": "", "owner_id": "None"}
    refused = client.post("/admin/accounts/new", data={"name": "", "arr": "", **blank})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Ponle un nombre a la cuenta." in html  # beside the field
    assert "Give the account a name." not in html
    created = client.post(
        "/admin/accounts/new",
        data={"name": "Globex", "arr": "1200000", **blank},
        follow_redirects=True,
    )
    page = created.get_data(as_text=True)
    assert "Cuenta Globex creada." in page  # the flash
    assert "1.200.000" in page  # the revenue, in Spanish digits


def test_an_english_admin_sees_the_same_words_as_before(app, client, session, make):
    _admin(session, make, "en")
    login(client, "staff-en@example.com")
    blank = {"segment": "", "region": "", "owner_id": "None"}
    created = client.post(
        "/admin/accounts/new",
        data={"name": "Initech", "arr": "1200000", **blank},
        follow_redirects=True,
    )
    page = created.get_data(as_text=True)
    assert "Account Initech created." in page
    assert "$1,200,000" in page
