"""The one input check: control characters, file names, whole numbers, derived text."""

import inspect

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select

import challenges.forms
import points.forms
import portal.admin.forms
import portal.auth.forms
import portal.hub.forms
import portal.manage.forms
from challenges.models import AdvocateGroup
from points.redemptions import import_fulfilments
from portal.accounts.models import Account, User
from portal.forms import Form
from portal.inputs import CONTROL_MESSAGE, has_control_character
from portal.mail.models import OutboxMessage
from portal.mail.services import queue_email
from tests.factories import SETTINGS, client_for


@pytest.mark.parametrize(
    "text", ["\x00", "a\x00b", "\x01", "\x1b[31m", "\x7f", "\x85", "\x9f", "\x0b", "\x0c", "\ud800"]
)
def test_control_characters_are_found(text):
    assert has_control_character(text)


@pytest.mark.parametrize(
    "text",
    ["", None, "plain", "tab\there", "lines\r\nand\n", "\u202e\u200f RTL", "🎉👍🏽", "é ñ ß"],
)
def test_text_a_person_writes_is_not(text):
    assert not has_control_character(text)


def test_every_form_derives_from_the_one_base_form():
    modules = (
        challenges.forms,
        points.forms,
        portal.admin.forms,
        portal.auth.forms,
        portal.hub.forms,
        portal.manage.forms,
    )
    forms = [
        cls
        for module in modules
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, FlaskForm) and cls.__module__ == module.__name__
    ]
    assert len(forms) > 30
    assert [cls.__name__ for cls in forms if not issubclass(cls, Form)] == []


def _errors_of(html: str) -> str:
    return html.replace("&#39;", "'")


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/login", {"email": "a\x00@example.com", "password": "x"}),
        ("/forgot", {"email": "a\x00@example.com"}),
    ],
)
def test_a_nul_in_the_anonymous_forms_is_a_field_error(app, url, data):
    response = app.test_client().post(url, data=data)
    assert response.status_code in (200, 422)
    assert "Remove the control characters" in _errors_of(response.get_data(as_text=True))


def test_a_nul_in_an_address_is_refused_with_the_reason(app, make):
    client = client_for(app, make.admin().email)
    for url in ("/admin/accounts?q=a%00b", "/admin/audit?action=%01", "/login%00", "/x?%00=1"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "control character" in response.get_data(as_text=True), url


def test_a_huge_arr_is_a_field_error_and_a_large_one_fits(app, make, session):
    admin = client_for(app, make.admin().email)
    form = {"name": "Big Co", "industry": "", "segment": "", "region": "", "owner_id": ""}
    response = admin.post("/admin/accounts/new", data={**form, "arr": "9" * 30})
    assert response.status_code in (200, 422)
    assert "0 or more" in response.get_data(as_text=True)
    assert session.scalar(select(Account).where(Account.name == "Big Co")) is None
    response = admin.post("/admin/accounts/new", data={**form, "arr": str(300 * 10**9)})
    assert response.status_code == 302
    session.expire_all()
    assert session.scalar(select(Account.arr).where(Account.name == "Big Co")) == 300 * 10**9


def test_an_email_subject_built_from_long_text_fits_its_column(make, session):
    queue_email(session, "a@example.com", "thank_you", "Thanks! " + "x" * 400, message="hi")
    session.commit()
    subject = session.scalars(select(OutboxMessage.subject)).all()[-1]
    assert len(subject) == 200
    assert subject.endswith("…")


def test_a_csv_cell_with_a_control_character_is_refused_on_its_line(make, session):
    admin = make.admin()
    lines = import_fulfilments(session, SETTINGS, admin, "redemption_id,reference\n1,CODE\x00X\n")
    assert [(line.line, line.outcome) for line in lines] == [(2, CONTROL_MESSAGE)]


def test_renaming_a_group_to_a_taken_name_is_a_field_error(app, make, session):
    manager = make.manager()
    advocate = make.advocate()
    client = client_for(app, manager.email)
    for name in ("Reference-ready", "Champions"):
        form = {"name": name, "member_emails": advocate.email, "job_level": ""}
        assert client.post("/manage/groups/new", data=form).status_code == 302
    session.expire_all()
    champions = session.scalar(select(AdvocateGroup).where(AdvocateGroup.name == "Champions"))
    form = {"name": "Reference-ready", "member_emails": advocate.email, "job_level": ""}
    response = client.post(f"/manage/groups/{champions.id}", data=form)
    assert response.status_code in (200, 422)
    assert "A group with that name exists." in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(AdvocateGroup, champions.id).name == "Champions"


@pytest.mark.parametrize("blank", [" ", "\t", "  \t "])
def test_a_choice_sent_as_blanks_is_not_a_choice(app, make, session, blank):
    advocate = make.advocate()
    client = client_for(app, advocate.email)
    response = client.post("/hub/profile", data={"name": "Ana", "job_level": blank})
    assert response.status_code in (200, 422)
    assert "Choose one of the options offered" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, advocate.id).job_level != blank


def test_a_line_break_in_a_one_line_field_is_a_field_error_and_never_reaches_a_header(
    app, make, session
):
    advocate = make.advocate()
    thank_you = make.submission(make.challenge("survey"), advocate).thank_you
    client = client_for(app, make.manager().email)
    response = client.post(
        f"/manage/thanks/{thank_you.id}",
        data={"subject": "Thanks\r\nBcc: x@evil.example", "message": "Hi", "submit": "Send"},
    )
    assert response.status_code in (200, 422)
    assert "Keep this to one line" in response.get_data(as_text=True)
    session.expire_all()
    thanked = select(OutboxMessage.subject).where(OutboxMessage.kind == "thank_you")
    assert session.scalars(thanked).all() == []
    # and whatever text a subject is built from, it is one header line
    queue_email(session, "a@example.com", "thank_you", "Thanks\r\nBcc: x@evil.example", message="")
    session.commit()
    assert session.scalars(thanked).all() == ["Thanks Bcc: x@evil.example"]
