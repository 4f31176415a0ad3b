"""Junk in every input: every route of the route matrix, as every role, sent hostile values in
every query parameter, every form field, every file name and every id in a path.

No answer may be a 5xx; a control character in a form is refused beside its field; and after
the walk nothing half-made remains (`flask points reconcile` is clean, no stored text holds a
control character)."""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from argon2 import PasswordHasher
from bs4 import BeautifulSoup
from flask import got_request_exception
from sqlalchemy import JSON, String, Text, select
from werkzeug.datastructures import MultiDict
from wtforms.validators import Length

from challenges.forms import ChallengeForm
from challenges.models import Challenge, Submission
from points.forms import RewardForm
from points.models import Redemption, Reward
from points.redemptions import fulfil_redemption
from portal.accounts import passwords
from portal.accounts.models import Role
from portal.accounts.services import set_declines_gifts
from portal.auth.services import invite_user, request_password_reset
from portal.db import Base, utcnow
from portal.forms import FILE_NAME_MESSAGE
from portal.inputs import ADDRESS_MESSAGE, CONTROL_MESSAGE, has_control_character
from references.models import (
    AskStatus,
    ConversationLevel,
    DealStage,
    ReferenceAsk,
    ReferenceRequest,
)
from tests.factories import PASSWORD, PNG, SETTINGS, client_for, link_in, login
from tests.test_challenges import CHALLENGE_FORM
from tests.test_roles import ROLES, expected, routes, world  # noqa: F401 - world is a fixture

AT_MAX, PAST_MAX = "<exactly the field's maxlength>", "<the field's maxlength + 1>"
CONTROL = ("\x00", "a\x00b", "\x01\x1b[31m", "\x7f")
# In this order: what a form may accept comes first, so it reaches the path that saves (and
# derives text from it) while a one-time form (complete, redeem, approve) still stands.
HOSTILE = (
    AT_MAX,
    "\u202e\u200f RTL",
    "🎉👍🏽",
    "<script>",
    "' OR 1=1--",
    "../../etc/passwd",
    "%00",
    "99999999999999999999",
    "2147483648",
    "-99999999999",
    "-1",
    "1e309",
    "NaN",
    "0x10",
    "2026-02-30",
    "31/12/2026",
    "9999-12-31T23:59",
    "",
    " ",
    PAST_MAX,
    "x" * 5000,
    "y" * 100_000,
    *CONTROL,
)
# besides every value at once, each parameter alone gets the values a parser chokes on
ONE_AT_A_TIME = ("\x00", "99999999999999999999", "-1", "1e309", "2026-02-30", "x" * 5000)
SELECT_JUNK = ("not-an-option", "99999999999999999999", "-1", "\x00")
COMMON_PARAMS = (
    "page",
    "after",
    "before",
    "q",
    "status",
    "period",
    "type",
    "id",
    "user_id",
    "account_id",
    "challenge_id",
    "reward_id",
    "group",
    "next",
    "sort",
)
IDS_PAST_RANGE = (2**31, 2**63, -1)
TEXT_INPUTS = {
    "text",
    "email",
    "url",
    "search",
    "password",
    "number",
    "date",
    "datetime-local",
    "time",
    "tel",
    "hidden",
}
PLAUSIBLE = {
    "email": "hostile@example.com",
    "url": "https://example.com/hostile",
    "password": PASSWORD,
    "number": "5",
    "date": "2026-03-01",
    "datetime-local": "2026-03-01T10:00",
    "time": "10:00",
}
LAST = ("hub.leave", "auth.logout")  # walked last: they end the session or the membership


@dataclass
class Control:
    name: str
    kind: str  # an input type, "textarea", "select", "file" or "submit"
    value: str = ""
    ident: str = ""
    maxlength: int | None = None
    options: tuple[str, ...] = ()
    checked: bool = False


@dataclass
class PageForm:
    action: str
    method: str
    controls: list[Control] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[Control]:
        return [c for c in self.controls if c.kind in kinds]

    @property
    def texts(self) -> list[Control]:
        # (CSRF is off in the tests: its token is no field, and a NUL there would go unseen)
        return [
            c
            for c in self.controls
            if (c.kind in TEXT_INPUTS or c.kind == "textarea") and c.name != "csrf_token"
        ]

    def baseline(self) -> MultiDict:
        """What a person would send: the page's own values, plausible text where it is empty."""
        data = MultiDict()
        radios_done: set[str] = set()
        for control in self.controls:
            if control.kind == "select":
                data.add(control.name, control.value)
            elif control.kind == "checkbox":  # ticked: the path that does something
                data.add(control.name, control.value or "y")
            elif control.kind == "radio":
                if control.checked and control.name not in radios_done:
                    data.add(control.name, control.value or "y")
                    radios_done.add(control.name)
            elif control.kind in ("file", "submit", "button", "reset", "image"):
                continue
            else:
                data.add(control.name, control.value or _plausible(control))
        for control in self.of_kind("radio"):  # a radio group with nothing checked: the first
            if control.name not in radios_done:
                data.add(control.name, control.value)
                radios_done.add(control.name)
        submit = next((c for c in self.of_kind("submit") if c.name), None)
        if submit is not None:
            data.add(submit.name, submit.value)
        return data


def _plausible(control: Control) -> str:
    if control.kind in PLAUSIBLE:
        return PLAUSIBLE[control.kind]
    text = "Hostile walk"
    return text[: control.maxlength] if control.maxlength else text


def _value_for(control: Control, value: str) -> str:
    if value is AT_MAX:
        return "m" * (control.maxlength or 255)
    if value is PAST_MAX:
        return "m" * ((control.maxlength or 255) + 1)
    return value


def forms_on(html: str, page_url: str) -> list[PageForm]:
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for tag in soup.find_all("form"):
        form = PageForm(
            action=urljoin(page_url, tag.get("action") or page_url),
            method=(tag.get("method") or "get").upper(),
        )
        for element in tag.find_all(["input", "textarea", "select", "button"]):
            name = element.get("name")
            kind = _kind_of(element)
            if not name and kind != "submit":
                continue
            maxlength = element.get("maxlength")
            control = Control(
                name=name or "",
                kind=kind,
                value=element.get("value", "") if element.name != "textarea" else element.text,
                ident=element.get("id", ""),
                maxlength=int(maxlength) if maxlength and maxlength.isdigit() else None,
                checked=element.has_attr("checked"),
            )
            if element.name == "select":
                options = [o.get("value", o.text) for o in element.find_all("option")]
                chosen = element.find("option", selected=True)
                control.options = tuple(options)
                control.value = (
                    chosen.get("value", chosen.text)
                    if chosen
                    else next((o for o in options if o), "")
                )
            form.controls.append(control)
        found.append(form)
    return found


def _kind_of(element) -> str:
    if element.name == "textarea":
        return "textarea"
    if element.name == "select":
        return "select"
    if element.name == "button":
        return element.get("type", "submit")
    return (element.get("type") or "text").lower()


def query_names_on(html: str, path: str) -> set[str]:
    """The query parameters this page's own links and filter forms use on this path."""
    soup = BeautifulSoup(html, "html.parser")
    names = set()
    for link in soup.find_all("a", href=True):
        parts = urlsplit(link["href"])
        if parts.query and (not parts.path or parts.path == path):
            names.update(name for name, _ in parse_qsl(parts.query, keep_blank_values=True))
    return names


@dataclass
class Walk:
    """One role's walk: the client, who it is, and every 5xx (and missing message) found."""

    app: object
    client: object
    role: str
    email: str | None
    failures: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)
    requests: int = 0
    explained: int = 0
    reached: set[tuple[str, str]] = field(default_factory=set)
    field_names: set[str] = field(default_factory=set)

    def endpoint_of(self, url: str, method: str) -> str | None:
        adapter = self.app.url_map.bind("vouch.test")
        try:
            return adapter.match(urlsplit(url).path, method=method)[0]
        except Exception:  # noqa: BLE001 - a 404/405 url has no endpoint
            return None

    def send(self, method: str, url: str, what: str, value: str, **kwargs):
        self.requests += 1
        raised = []
        with got_request_exception.connected_to(lambda _app, exception: raised.append(exception)):
            if method == "GET":
                response = self.client.get(url, **kwargs)
            else:
                response = self.client.open(url, method=method, **kwargs)
        key = self.endpoint_of(url, method)
        self.reached.add((key, method))
        if response.status_code >= 500:
            said = " ".join(str(raised[0]).split())[:160] if raised else ""
            why = f" ({type(raised[0]).__name__}: {said})" if raised else ""
            self.failures.append(
                f"{response.status_code} {method} {key or url} as {self.role}: "
                f"{what} = {_shown(value)}{why}"
            )
        self._stay_logged_in(response)
        return response

    def _stay_logged_in(self, response) -> None:
        if self.email and response.headers.get("Location", "").startswith("/login"):
            login(self.client, self.email, follow=False)


def _shown(value) -> str:
    text = value if isinstance(value, str) else str(value)
    return repr(text if len(text) <= 40 else f"{text[:20]}…({len(text)} chars)")


def walk_query_strings(walk: Walk, url: str, html: str) -> None:
    path = urlsplit(url).path
    page_forms = [f for f in forms_on(html, url) if f.method == "GET"]
    own = query_names_on(html, path) | {
        c.name for f in page_forms if urlsplit(f.action).path == path for c in f.controls if c.name
    }
    names = sorted(own | set(COMMON_PARAMS))
    for value in HOSTILE:
        shown = _value_for(Control("", "text", maxlength=100), value)
        response = walk.send(
            "GET", path, "every query parameter", value, query_string={n: shown for n in names}
        )
        if value in CONTROL and response.status_code == 400:
            _expect(walk, response, ADDRESS_MESSAGE, f"GET {path} query {value!r}")
    for name in sorted(own):
        for value in ONE_AT_A_TIME:
            walk.send("GET", path, f"query {name}", value, query_string={name: value})
    duplicated = [(n, v) for n in names for v in ("1", "99999999999999999999", "🎉")]
    walk.send(
        "GET", path, "every query parameter, three times", "1 / 9…9 / 🎉", query_string=duplicated
    )


def _sender(walk: Walk, form: PageForm):
    def send(data: MultiDict, what: str, value: str):
        if form.method == "GET":
            return walk.send("GET", form.action, what, value, query_string=data)
        return walk.send(form.method, form.action, what, value, data=data)

    return send


def refuse_control_characters(walk: Walk, form: PageForm) -> None:
    """A NUL in each visible field in turn, and in each file's name: always refused, so
    nothing changes, and the refusal sits beside that field. (A hidden input need not be a
    field of the form: a NUL there goes in with the junk.)"""
    endpoint, send = walk.endpoint_of(form.action, form.method), _sender(walk, form)
    for control in form.texts:
        if control.kind == "hidden":
            continue
        data = form.baseline()
        data.setlist(control.name, ["a\x00b"])
        response = send(data, f"field {control.name}", "a\x00b")
        if form.method == "GET":
            if response.status_code == 400:
                _expect(walk, response, ADDRESS_MESSAGE, f"GET {endpoint} {control.name}")
        else:
            _expect_beside(walk, response, control, endpoint)
    for control in form.of_kind("file"):
        response = _upload(walk, form, control, "a\x00b.png")
        _expect_beside(walk, response, control, endpoint)


def _upload(walk: Walk, form: PageForm, control: Control, file_name: str):
    data = form.baseline()
    data.add(control.name, (io.BytesIO(PNG), file_name, "image/png"))
    return walk.send(
        form.method,
        form.action,
        f"file {control.name}",
        file_name,
        data=data,
        content_type="multipart/form-data",
    )


def send_junk(walk: Walk, form: PageForm) -> None:
    """Every hostile value in every text field at once, junk in every choice, every field
    twice (some of these are accepted, and change what the next form finds)."""
    send, texts = _sender(walk, form), form.texts
    for control in form.of_kind("file"):  # first, while the form still saves
        _upload(walk, form, control, "n" * 296 + ".png")
    for value in HOSTILE if texts else ():
        data = form.baseline()
        for control in texts:
            data.setlist(control.name, [_value_for(control, value)])
        send(data, "every text field", value)
    choices = form.of_kind("select", "radio", "checkbox")
    for value in SELECT_JUNK if choices else ():
        data = form.baseline()
        for control in choices:
            data.setlist(control.name, [value])
        send(data, "every choice", value)
    if form.controls:
        doubled = MultiDict()
        for name, value in form.baseline().items(multi=True):
            doubled.add(name, value)
            doubled.add(name, "99999999999999999999")
        send(doubled, "every field, twice", "its value / 9…9")


def _expect(walk: Walk, response, message: str, where: str) -> None:
    if message not in response.get_data(as_text=True):
        walk.unexplained.append(
            f"{where} as {walk.role}: {response.status_code} without {message!r}"
        )


def _expect_beside(walk: Walk, response, control: Control, endpoint: str) -> None:
    """A refused control character is said beside the field (the macro's `<id>-errors`), or
    in the message a one-button form flashes on the page it returns to. A number, date or
    email field may give its own reason first (one message a field)."""
    if response.status_code >= 500:
        return  # already a failure
    if response.status_code in (301, 302, 303):
        response = walk.client.get(response.headers["Location"])
        said = BeautifulSoup(response.get_data(as_text=True), "html.parser").select(".alert")
    else:
        soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        said = soup.find_all(id=f"{control.ident or control.name}-errors")
    text = " ".join(tag.text for tag in said)
    plain = control.kind in ("text", "textarea", "search", "file")
    if (CONTROL_MESSAGE in text or FILE_NAME_MESSAGE in text) if plain else text.strip():
        walk.explained += 1
        return
    problem = (
        f"{endpoint} {control.name} as {walk.role}: {response.status_code} without the "
        f"refusal beside the field (said: {text.strip()[:80]!r})"
    )
    walk.unexplained.append(problem)


def walk_ids_past_range(walk: Walk, rule, values: dict) -> None:
    ints = [name for name, converter in rule._converters.items() if converter.regex == r"\d+"]
    method = "GET" if "GET" in rule.methods else "POST"
    for name in ints:
        for number in IDS_PAST_RANGE:
            url = _path_with(rule, values, name, number)
            response = walk.send(method, url, f"id {name}", str(number))
            if response.status_code != 404:
                walk.unexplained.append(f"{method} {url} as {walk.role}: {response.status_code}")


def _path_with(rule, values: dict, name: str, number: int) -> str:
    """The rule's path with this id argument replaced by a number no route accepts."""

    def argument(match: re.Match) -> str:
        return str(number) if match[1] == name else str(values.get(match[1], 1))

    return re.sub(r"<(?:[^:<>]+:)?([^:<>]+)>", argument, rule.rule)


def _string_columns():
    for table in Base.metadata.sorted_tables:
        texts = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        texts += [
            c
            for c in table.columns
            if hasattr(c.type, "impl") and isinstance(c.type.impl, (String, Text))
        ]
        if texts:
            yield table, texts


def _holds_control(value) -> bool:
    if isinstance(value, str):
        return has_control_character(value)
    if isinstance(value, dict):
        return any(_holds_control(k) or _holds_control(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_control(v) for v in value)
    return False


def stored_control_characters(session) -> list[str]:
    """Every stored text (String, Text and JSON columns of every table) holding one."""
    found = []
    session.expire_all()
    for table, columns in _string_columns():
        for row in session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if _holds_control(value):
                    found.append(f"{table.name}.{column.name} = {_shown(value)}")
    return found


@pytest.fixture
def answered(app, monkeypatch):
    """A 500 is answered with the error page, as in production, so the walk goes on and
    reports every one (the test app otherwise raises the first)."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    return app


@pytest.fixture
def quick_passwords(monkeypatch):
    """Hashes cheap enough to post the login and password forms a few hundred times (the
    walk is about what comes in, not about argon2's cost)."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def fuller_world(make, world, queued):  # noqa: F811 - the matrix's fixture
    """The route matrix's world, plus what the remaining forms only show for: a redemption
    waiting for approval and a fulfilled one, a charity to convert to, a webinar to confirm,
    challenges still to complete and one to publish, a gift-policy request, and real reset
    and invitation links. Returns the ids and the pages to walk before every route."""
    values, people = world
    session, advocate, admin = make.session, people["advocate"], people["admin"]
    make.points(advocate, 5_000)
    waiting = make.redemption(
        advocate,
        make.reward("Matrix headphones", kind="swag", cost=600),
        shipping_address="2 Matrix Way, Zion",
    )
    fulfilled = make.redemption(advocate, make.reward("Matrix card", cost=20))
    fulfil_redemption(session, SETTINGS, admin, fulfilled.id, "CODE-1")
    make.reward("Matrix charity", kind="charity", cost=20)
    make.submission(make.challenge("webinar", manager=people["manager"]), advocate)
    open_ones = [  # open to complete: a file, an email, a name
        make.challenge(kind, manager=people["manager"]) for kind in ("case_study", "referral")
    ]
    draft = make.challenge("survey", manager=people["manager"], publish=False)
    spare = make.advocate("spare@matrix.example", account=advocate.account)
    set_declines_gifts(session, spare, True, "No gifts, please")
    request_password_reset(session, SETTINGS, spare.email)
    invite_user(session, SETTINGS, admin, "new@matrix.example", Role.ADVOCATE, advocate.account)
    proposed = ReferenceAsk(  # a candidate picked, the ask not made yet: its send form
        request_id=values["reference_id"],
        advocate_id=spare.id,
        account_id=spare.account_id,
        owner_id=people["manager"].id,
        proposed_by_id=people["manager"].id,
    )
    session.add(proposed)
    session.commit()
    resets = [link_in(m.body_text) for m in queued() if "/reset/" in m.body_text]
    invites = [link_in(m.body_text) for m in queued() if "/invite/" in m.body_text]
    after_the_yes = request_after_the_yes(make, people)
    extras = {
        "first": [
            f"/references/{after_the_yes.id}",
            f"/admin/redemptions/{waiting.id}",
            f"/admin/redemptions/{fulfilled.id}",
            "/admin/redemptions?status=approved",
            *(f"/hub/challenges/{challenge.id}" for challenge in open_ones),
            f"/manage/challenges/{draft.id}",
            f"/references/asks/{proposed.id}",
        ],
        # last: a link that works signs its user in (whoever the walk was until then)
        "last": [resets[-1], invites[-1]],
    }
    return values, people, extras


def request_after_the_yes(make, people) -> ReferenceRequest:
    """A second request of the sales user's: one advocate said yes (to introduce, confirm or
    report as fallen through) and one call took place (so the deal's outcome is asked)."""
    session, manager = make.session, people["manager"]
    account = people["advocate"].account
    request = ReferenceRequest(
        requester_id=people["sales"].id,
        opportunity_name="Matrix expansion",
        prospect_company="Nebuchadnezzar Ltd",
        deal_stage=DealStage.NEGOTIATION,
        deal_size=90_000,
        needed_by=date.today() + timedelta(days=7),
        conversation_level=ConversationLevel.DIRECTOR,
    )
    session.add(request)
    session.flush()
    now = utcnow()
    for email, status in (
        ("said-yes@matrix.example", AskStatus.ACCEPTED),
        ("called@matrix.example", AskStatus.CONFIRMED),
    ):
        advocate = make.advocate(email, account=account)
        confirmed = status == AskStatus.CONFIRMED
        session.add(
            ReferenceAsk(
                request_id=request.id,
                advocate_id=advocate.id,
                account_id=account.id,
                owner_id=manager.id,
                proposed_by_id=manager.id,
                asked_by_id=manager.id,
                status=status,
                asked_at=now,
                responded_at=now,
                call_on=date.today() if confirmed else None,
                confirmed_at=now if confirmed else None,
                confirmed_by_id=people["sales"].id if confirmed else None,
                closed_at=now if confirmed else None,
            )
        )
    request.first_accepted_at = now
    session.commit()
    return request


def pages_to_walk(walk: Walk, values: dict, extras: dict) -> list[str]:
    built = {
        rule.endpoint: rule.build(values, append_unknown=False)[1]
        for rule, method in routes(walk.app)
        if method == "GET"
    }
    ordered = sorted(built, key=lambda endpoint: endpoint in LAST)
    return [*extras["first"], *(built[e] for e in ordered), *extras["last"]]


FILTERS = {"status", "type", "period", "tab", "board", "view"}  # tabs that show other forms


def tabs_on(html: str, url: str) -> list[str]:
    """This page's tabs and filters (links to itself that change what it lists)."""
    path, soup = urlsplit(url).path, BeautifulSoup(html, "html.parser")
    found = []
    for link in soup.find_all("a", href=True):
        parts = urlsplit(link["href"])
        names = {name for name, _ in parse_qsl(parts.query)}
        if parts.path == path and names and names <= FILTERS:
            found.append(f"{path}?{parts.query}")
    return found[:6]


def walk_portal(walk: Walk, values: dict, extras: dict) -> None:
    """Every page the role can open (and its tabs), every filter and every form on it."""
    urls = pages_to_walk(walk, values, extras)
    # first what changes nothing (filters, refused fields) while every form is still there,
    # then what may: each page fetched again, so its forms are current. A form that several
    # pages (or rows) show is walked once a sweep.
    for sweep in ("refusals", "junk"):
        walked_forms: set[tuple] = set()
        for url in list(urls):
            response = walk.send("GET", url, "the page", "")
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            html = response.get_data(as_text=True)
            if sweep == "refusals":
                walk_query_strings(walk, url, html)
                urls += [tab for tab in tabs_on(html, url) if tab not in urls]
            for form in sorted(forms_on(html, url), key=lambda f: "delete" in f.action):
                endpoint = walk.endpoint_of(form.action, form.method)
                if endpoint in ("auth.logout", None):
                    continue  # logging out is walked by the matrix; a preview posts nowhere
                shape = (endpoint, form.method, tuple(sorted(c.name for c in form.controls)))
                if shape in walked_forms:
                    continue
                walked_forms.add(shape)
                walk.field_names.update(c.name for c in form.controls if c.name)
                if sweep == "refusals":
                    refuse_control_characters(walk, form)
                else:
                    send_junk(walk, form)


UNREACHED_JUNK = ("\x00", "x" * 5000, "99999999999999999999", "🎉👍🏽", "-1")


def post_to_the_rest(walk: Walk, values: dict) -> None:
    """Routes no page showed this role a form for (another role's, or a state the world is
    not in): posted junk in every field name any form used."""
    for rule, _method in routes(walk.app):
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            if (rule.endpoint, method) in walk.reached or rule.endpoint == "auth.logout":
                continue
            url = rule.build(values, append_unknown=False)[1]
            for value in UNREACHED_JUNK:
                data = dict.fromkeys(walk.field_names, value)
                walk.send(method, url, "every field name", value, data=data)


@pytest.mark.parametrize("role", ROLES)
def test_no_input_gives_a_5xx_and_nothing_half_made_remains(
    answered, quick_passwords, make, fuller_world, role
):
    app = answered
    values, people, extras = fuller_world
    email = people[role].email if role != "anonymous" else None
    client = app.test_client()
    if email:
        login(client, email)
    walk = Walk(app, client, role, email)
    started = time.monotonic()
    walk_portal(walk, values, extras)
    unwalked = sorted(
        f"{rule.endpoint} {method}"
        for rule, _ in routes(app)
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}
        if expected(rule.endpoint, role) == 200 and (rule.endpoint, method) not in walk.reached
    )
    post_to_the_rest(walk, values)
    for rule, _method in routes(app):
        walk_ids_past_range(walk, rule, values)
    elapsed = time.monotonic() - started
    print(f"{role}: {walk.requests} requests in {elapsed:.1f}s, {walk.explained} refusals seen")

    reconciled = app.test_cli_runner().invoke(args=["points", "reconcile"])
    stored = stored_control_characters(make.session)
    assert not walk.failures, f"{len(walk.failures)} answers were 5xx:\n" + "\n".join(walk.failures)
    assert not walk.unexplained, "\n".join(walk.unexplained)
    assert not unwalked, f"no page showed {role} a form for: {unwalked}"
    assert walk.explained >= 3, "the walk saw too few refusals beside their fields"
    assert reconciled.exit_code == 0, reconciled.output
    assert not stored, "stored text holds control characters:\n" + "\n".join(stored)


def _longest(unbound_field) -> int:
    """The maximum length a form's field accepts (its Length validator)."""
    return next(v.max for v in unbound_field.kwargs["validators"] if isinstance(v, Length))


def test_a_title_and_a_reward_name_at_their_forms_maximum_go_all_the_way(
    app, make, session, queued, outbox
):
    """Text derived from them (email subjects, ledger entries, the feed) always fits: the
    challenge is completed and approved, the reward redeemed, approved and fulfilled."""
    title, name = "T" * _longest(ChallengeForm.title), "N" * _longest(RewardForm.name)
    advocate = make.advocate()
    make.points(advocate, 1_000)
    staff = client_for(app, make.manager().email)
    office = client_for(app, make.admin().email)
    member = client_for(app, advocate.email)

    drafted = staff.post("/manage/challenges/new", data={**CHALLENGE_FORM, "title": title})
    assert drafted.status_code == 302
    challenge = session.scalar(select(Challenge).where(Challenge.title == title))
    assert staff.post(f"/manage/challenges/{challenge.id}/publish").status_code == 302
    evidence = {"review_url": "https://www.g2.com/products/vouch/reviews/9", "disclosed": "y"}
    assert member.post(f"/hub/challenges/{challenge.id}", data=evidence).status_code == 302
    submission = session.scalar(select(Submission).where(Submission.challenge_id == challenge.id))
    approved = staff.post(f"/manage/review/{submission.id}", data={"approve": "y", "reason": ""})
    assert approved.status_code == 302

    reward_form = {
        "name": name,
        "kind": "swag",
        "cost": "600",  # above the threshold that approves by itself
        "money_value": "10",
        "currency": "USD",
        "limit_period": "year",
        "active": "y",
    }
    assert office.post("/admin/rewards/new", data=reward_form).status_code == 302
    reward = session.scalar(select(Reward).where(Reward.name == name))
    address = {"request_key": "at-the-maximum", "shipping_address": "Ana Ruiz, 200 Harbor St"}
    assert member.post(f"/hub/rewards/{reward.id}", data=address).status_code == 302
    redemption = session.scalar(select(Redemption).where(Redemption.reward_id == reward.id))
    assert office.post(f"/admin/redemptions/{redemption.id}/approve").status_code == 302
    fulfilled = office.post(f"/admin/redemptions/{redemption.id}/fulfil", data={"reference": "T1"})
    assert fulfilled.status_code == 302

    session.expire_all()
    assert (submission.status, redemption.status) == ("approved", "fulfilled")
    messages = queued(advocate.email)
    assert any(title[:100] in m.subject + m.body_text for m in messages)
    assert any(name[:100] in m.subject + m.body_text for m in messages)
    assert all(len(m.subject) <= 200 for m in messages)
    assert len(outbox.deliver()) == len(queued())
    reconciled = app.test_cli_runner().invoke(args=["points", "reconcile"])
    assert reconciled.exit_code == 0, reconciled.output


def test_a_bulk_review_with_a_control_character_says_why_and_decides_nothing(app, make, session):
    manager = make.manager()
    submission = make.submission(make.challenge("review", manager=manager))
    staff = client_for(app, manager.email)
    data = {"submission_ids": [str(submission.id)], "approve": "y", "reason": "a\x00b"}
    refused = staff.post("/manage/review/bulk", data=data, follow_redirects=True)
    assert CONTROL_MESSAGE in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Submission, submission.id).status == "pending"
