"""English and Spanish: no template shows text outside a translation call, the Spanish catalog
misses no message, and pages speak the reader's language (their setting, else the browser's)
with dates and numbers to match."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment

from portal.config import PROJECT_ROOT
from tests.factories import login

TEMPLATES = PROJECT_ROOT / "templates"
CATALOG = PROJECT_ROOT / "translations" / "es" / "LC_MESSAGES" / "messages.po"

# Bits of text that are not words in any language: the product's name and a few marks.
NOT_WORDS = {"Vouch", "Español", "English", "UTC", "ICS", "CSV", "SVG", "URL", "ID", "x"}

# Attributes a person reads (or hears); literal text in them must be translated.
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "label"}
TRANSLATING_CALLS = {"_", "gettext", "ngettext", "pgettext", "npgettext", "_l"}
HOLE = "\x01"  # where an expression or a {% trans %} block stood: not literal text


def _environment() -> Environment:
    environment = Environment(extensions=["jinja2.ext.i18n"])  # noqa: S701 - only lexing
    environment.policies["ext.i18n.trimmed"] = True
    return environment


def _template_files() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in {".html", ".txt"})


def _skeleton(source: str) -> tuple[str, list[tuple[int, str]]]:
    """The template's literal text with every expression, tag and {% trans %} block reduced
    to a HOLE (line breaks kept, so lines still count), and the string literals in
    expressions that look like words but are not arguments of a translating call."""
    parts: list[str] = []
    literals: list[tuple[int, str]] = []
    line = 1
    in_trans = False
    block: list[tuple[int, str, str]] = []
    lexer = _environment().lexer
    for lineno, kind, value in lexer.wrap(lexer.tokeniter(source, None)):
        if kind in {"block_begin", "variable_begin"}:
            block = []
        if kind not in {"data", "block_end", "variable_end"}:
            block.append((lineno, kind, value))
        if kind == "block_end":
            names = [v for _l, k, v in block if k == "name"]
            if names[:1] == ["trans"]:
                in_trans = True
            elif names[:1] == ["endtrans"]:
                in_trans = False
        if kind in {"block_end", "variable_end"}:
            literals.extend(_wordy_literals(block))
        if kind == "data" and not in_trans:
            parts.append("\n" * max(0, lineno - line))
            line = max(line, lineno)
            parts.append(value)
            line += value.count("\n")
        else:
            parts.append(HOLE)
    return "".join(parts), literals


_WORDY = re.compile(r"[A-Z][a-z]+|[a-z]+ [a-z]+[ .!?]")


def _wordy_literals(block: list[tuple[int, str, str]]) -> list[tuple[int, str]]:
    """String literals in one {{ }} or {% %} that read as words, outside _() and friends."""
    found = []
    depth = 0
    translated_at: list[int] = []
    previous = ""
    for lineno, kind, value in block:
        if kind == "lparen":
            depth += 1
            if previous in TRANSLATING_CALLS:
                translated_at.append(depth)
        elif kind == "rparen":
            if translated_at and translated_at[-1] == depth:
                translated_at.pop()
            depth -= 1
        elif kind == "string" and not translated_at:
            text = value
            if _WORDY.search(text) and not _looks_technical(text):
                found.append((lineno, text))
        previous = value if kind == "name" else ""
    if block and [v for _l, k, v in block if k == "name"][:1] == ["trans"]:
        return []  # {% trans name=... %}: its arguments are values, not text
    return found


def _looks_technical(text: str) -> bool:
    """CSS classes, endpoints, format strings, media types, attribute names: no words."""
    tokens = text.split()
    return text in NOT_WORDS or (
        all(re.fullmatch(r"[\w.:/%#-]+", token) for token in tokens)
        and (
            len(tokens) == 1  # an endpoint, a name: but "Yes", "Save" are words
            and not re.fullmatch(r"[A-Z][a-z]+[.!?]?", text)
            or any(re.search(r"[-_\d.:/%#]", token) for token in tokens)  # "btn btn-primary"
        )
    )


class _TextFinder(HTMLParser):
    """Collects literal text between tags and in the attributes people read."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.in_code = False  # inside <style> or <script>: not text anyone reads

    def handle_starttag(self, tag, attrs):
        self.in_code = tag in {"style", "script"}
        attributes = dict(attrs)
        for name, value in attrs:
            readable = name in READ_ATTRIBUTES or (
                name == "value"
                and tag == "input"
                and attributes.get("type") in {"submit", "button", "reset"}
            )
            if readable and value:
                self._check(value)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.in_code = False

    def handle_endtag(self, tag):
        self.in_code = False

    def handle_data(self, data):
        if not self.in_code:
            self._check(data)

    def _check(self, text: str) -> None:
        line = self.getpos()[0]
        for piece in text.split(HOLE):
            words = [w for w in re.findall(r"[^\W\d_]+", piece) if w not in NOT_WORDS]
            if words:
                self.found.append((line, " ".join(piece.split())))


def untranslated_text(path: Path) -> list[str]:
    """Every place in one template where a person would read text no catalog can translate."""
    source = path.read_text(encoding="utf-8")
    skeleton, literals = _skeleton(source)
    finder = _TextFinder()
    finder.feed(skeleton)
    finder.close()
    name = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path.name
    problems = [f"{name}:{line}: {text!r}" for line, text in finder.found]
    problems += [f"{name}:{line}: string {text!r}" for line, text in literals]
    return problems


def test_the_scanner_finds_text_outside_translation_calls(tmp_path):
    template = tmp_path / "sample.html"
    template.write_text(
        "<h1>{{ _('Rewards') }}</h1>\n"
        "<p>{% trans n=3 %}You have {{ n }} points{% endtrans %}</p>\n"
        "<p>No deadline</p>\n"
        '<img alt="Reward picture" src="{{ url }}"><a title="{{ _(\'Go\') }}">→</a>\n'
        '{# a comment is fine #}<input type="submit" value="Save"> &nbsp; · {{ x }}\n'
        "{{ forms.field(form.q, placeholder='Search here') }}{{ 'btn btn-primary' }}\n"
        "{% if s == 'approved' %}{{ _('Approved %(n)s', n='x') }}{% endif %}\n",
        encoding="utf-8",
    )
    found = untranslated_text(template)
    texts = [problem.split(": ", 1)[1] for problem in found]
    lines = [problem.split(":")[1] for problem in found]
    assert texts == ["'No deadline'", "'Reward picture'", "'Save'", "string 'Search here'"]
    assert lines == ["3", "4", "5", "6"]


def test_every_template_translates_its_text():
    """Lists every offender (file:line and the text), so the list is the to-do."""
    problems = [problem for path in _template_files() for problem in untranslated_text(path)]
    assert not problems, f"{len(problems)} texts outside a translation call:\n" + "\n".join(
        problems
    )


# -- the catalog ------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


# the keywords `make catalog` passes to pybabel: Babel's own, and our lazy ones
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def _extracted() -> dict[tuple[str, str | None], tuple[str, ...]]:
    """(msgid, context) -> (msgid, plural...) from code and templates, with babel.cfg's rules."""
    with (PROJECT_ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    messages: dict[tuple[str, str | None], tuple[str, ...]] = {}
    for _file, _line, message, _comments, context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        ids = (message,) if isinstance(message, str) else tuple(m for m in message if m)
        if ids and ids[0]:
            messages[ids[0], context] = ids
    return messages


def _catalog():
    with CATALOG.open("rb") as file:
        return read_po(file, locale="es")


def test_babel_cfg_finds_code_and_templates():
    messages = _extracted()
    assert ("Rewards", None) in messages  # a template (the navigation)
    assert ("Review", "navigation") in messages  # a template's pgettext
    assert ("Tell us your name.", None) in messages  # Python, through _l
    assert ("%(num)s place left", None) in messages  # a plural
    assert messages["%(num)s place left", None] == ("%(num)s place left", "%(num)s places left")


def test_the_spanish_catalog_misses_no_message():
    catalog = _catalog()
    missing, fuzzy, mismatched = [], [], []
    for (msgid, context), ids in sorted(_extracted().items(), key=lambda item: item[0][0]):
        message = catalog.get(msgid, context)
        msgid = f"{context}: {msgid}" if context else msgid
        strings = message.string if message else None
        strings = (strings,) if isinstance(strings, str) else tuple(strings or ())
        if not message or not all(strings) or not strings:
            missing.append(msgid)
            continue
        if message.fuzzy:
            fuzzy.append(msgid)
        wanted = {p for i in ids for p in _PLACEHOLDER.findall(i)}
        for translated in strings:
            if {p for p in _PLACEHOLDER.findall(translated)} != wanted:
                mismatched.append(f"{msgid!r} -> {translated!r}")
    assert not missing, f"{len(missing)} messages have no Spanish:\n" + "\n".join(missing)
    assert not fuzzy, "fuzzy translations:\n" + "\n".join(fuzzy)
    assert not mismatched, "placeholders differ:\n" + "\n".join(mismatched)


# -- pages in the reader's language -----------------------------------------------------------


@pytest.fixture
def compiled_catalog():
    """`make install` compiles the catalog; compile it here too when the .po is newer."""
    compiled = CATALOG.with_suffix(".mo")
    if not compiled.exists() or compiled.stat().st_mtime < CATALOG.stat().st_mtime:
        with compiled.open("wb") as file:
            write_mo(file, _catalog(), use_fuzzy=True)
    return compiled


def test_an_advocate_who_reads_spanish_sees_spanish(compiled_catalog, app, client, session, make):
    advocate = make.advocate(email="lucia@example.com")
    advocate.locale = "es"
    session.commit()
    make.points(advocate, 12345)
    login(client, "lucia@example.com")
    page = client.get("/hub/").get_data(as_text=True)
    assert 'lang="es"' in page
    assert "Recompensas" in page and "Mis envíos" in page  # the navigation
    assert ">Rewards<" not in page
    rewards = client.get("/hub/rewards").get_data(as_text=True)
    assert '<h1 class="h3 mb-0">Recompensas</h1>' in rewards
    assert 'data-testid="points-balance">12.345<' in rewards  # Spanish digit grouping
    assert "Log out" not in rewards and "Cerrar sesión" in rewards


def test_the_browser_language_chooses_when_logged_out(compiled_catalog, client):
    spanish = client.get("/login", headers={"Accept-Language": "es-ES,es;q=0.9"})
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Iniciar sesión" in spanish.get_data(as_text=True)
    assert "Iniciar sesión" not in english.get_data(as_text=True)
    assert "Log in" in english.get_data(as_text=True)


def test_an_english_setting_beats_a_spanish_browser(compiled_catalog, app, client, session, make):
    advocate = make.advocate(email="ann@example.com")
    advocate.locale = "en"
    session.commit()
    login(client, "ann@example.com")
    page = client.get("/hub/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Rewards" in page


def test_the_language_switch_sets_the_logged_out_language(compiled_catalog, client):
    answer = client.post("/language", data={"language": "es", "next": "/forgot"})
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/forgot")
    page = client.get("/forgot").get_data(as_text=True)
    assert 'lang="es"' in page
    client.post("/language", data={"language": "en", "next": "/login"})
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)


def test_the_language_switch_refuses_strangers_and_other_sites(compiled_catalog, client):
    answer = client.post("/language", data={"language": "xx", "next": "https://evil.test/"})
    assert answer.status_code == 302
    assert "evil.test" not in answer.headers["Location"]
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="en"' in page


def test_numbers_money_and_dates_follow_the_language(compiled_catalog, app):
    from portal.i18n import day, money, number

    when = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert number(12345) == "12.345"
        assert money(2500, "USD") == "25,00\xa0US$"
        assert day(when) == "3 dic 2026"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert number(12345) == "12,345"
        assert money(2500, "USD") == "$25.00"
        assert day(when) == "3 Dec 2026"


def test_a_reset_email_is_written_in_the_persons_language(
    compiled_catalog, app, client, session, make, queued
):
    advocate = make.advocate(email="lucia@example.com")
    advocate.locale = "es"
    session.commit()
    # asked for from an English browser: the mail still follows Lucía's own setting
    client.post("/forgot", data={"email": "lucia@example.com"}, headers={"Accept-Language": "en"})
    (message,) = queued("lucia@example.com")
    assert message.subject == "Restablece tu contraseña de Vouch"
    assert "Abre este enlace para elegir una nueva" in message.body_text
    assert "Open this link" not in message.body_text


def test_the_logged_out_pages_offer_both_languages(compiled_catalog, client):
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'action="/language"' in page
    assert 'value="es" lang="es"' in page and ">Español<" in page
    assert 'aria-current="true"' in page.split('value="en"')[1].split("</button>")[0]
