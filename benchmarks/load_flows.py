"""The people of the mixed load benchmark (benchmarks/load.py): logged-in sessions that get
pages and post the real forms, with their CSRF tokens, as a browser would.

Advocates browse the hub (home, challenges, leaderboard, rewards), complete challenges and
redeem rewards; managers approve submissions from the review queue; admins approve and
fulfil redemptions from their queues. A client sends every request to the next of its
servers in turn (one server, or two behind an imaginary load balancer), so one session
is used on both. Each answer is timed and sorted:

  ok       the page, or the form did what it was asked (a redirect to a page that says so)
  refused  the form was turned down with a message a person can read (out of stock, not
           enough points, someone else reviewed it first): the portal working as designed
  429      a rate limit
  5xx      a server error (the target is none)
  error    anything else: a lost login (sent to /login), a CSRF failure, an unexpected
           status, a timeout or a broken connection
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import requests

from benchmarks.pages import PASSWORD, USER_AGENT

REQUEST_TIMEOUT_S = 30  # gunicorn's worker timeout: a slower answer would be a killed worker
LOGIN_TIMEOUT_S = 120  # logins come before the run, a few at a time, on a busy machine
OK, REFUSED, LIMITED, SERVER_ERROR, ERROR = "ok", "refused", "429", "5xx", "error"
ALERT = re.compile(r'<div class="alert alert-(\w+)"[^>]*>(.*?)</div>', re.S)
FIELD_ERROR = re.compile(r'<div class="invalid-feedback d-block"[^>]*>(.*?)</div>', re.S)
TAG = re.compile(r"<[^>]+>")
QUEUE_LINK = re.compile(r'href="(/manage/review/\d+)[^"]*"')
REDEMPTION_LINK = re.compile(r'href="(/admin/redemptions/\d+)"')


# --- reading pages ------------------------------------------------------------------------


@dataclass
class HtmlForm:
    action: str  # "" posts back to the page it is on
    multipart: bool
    fields: dict[str, str] = field(default_factory=dict)  # what a browser would send as is
    buttons: dict[str, str] = field(default_factory=dict)  # named submit buttons


class FormReader(HTMLParser):
    """The POST forms of a page with their hidden and pre-filled fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        at = {name: value or "" for name, value in attrs}
        if tag == "form" and at.get("method", "get").lower() == "post":
            multipart = at.get("enctype") == "multipart/form-data"
            self._form = HtmlForm(unescape(at.get("action", "")), multipart)
            self.forms.append(self._form)
        if self._form is None or not at.get("name"):
            return
        name = at["name"]
        if tag == "input" and at.get("type", "text") not in ("checkbox", "radio", "file", "submit"):
            self._form.fields[name] = at.get("value", "")
        elif tag == "button" or (tag == "input" and at.get("type") == "submit"):
            self._form.buttons[name] = at.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self._form.fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def page_form(body: str, wanted: str = "") -> HtmlForm | None:
    """The page's form to post: the one whose action holds `wanted`, else the first one that
    is not the layout's log-out button."""
    forms = FormReader()
    forms.feed(body)
    for form in forms.forms:
        if wanted and wanted in form.action:
            return form
    if wanted:
        return None
    return next((form for form in forms.forms if not form.action.endswith("/logout")), None)


def messages(body: str) -> tuple[list[str], list[str]]:
    """(the alerts' categories, what the alerts and field errors say)."""
    alerts = ALERT.findall(body)
    said = [TAG.sub("", text).strip() for _kind, text in alerts]
    said += [TAG.sub("", text).strip() for text in FIELD_ERROR.findall(body)]
    return [kind for kind, _text in alerts], [unescape(text) for text in said if text]


# --- what was measured --------------------------------------------------------------------


@dataclass
class Clock:
    """The measured window, set when every client has logged in and reached the start."""

    warmup: float
    seconds: float
    window: tuple[float, float] = (float("inf"), float("inf"))

    def start(self) -> None:
        now = time.perf_counter()
        self.window = (now + self.warmup, now + self.warmup + self.seconds)


@dataclass
class Tally:
    """One client's answers; only those inside the measured window count."""

    clock: Clock
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcomes: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    reasons: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    by_server: Counter = field(default_factory=Counter)  # (server, outcome) -> answers
    lost_logins: int = 0

    def counts(self, began: float, ended: float) -> bool:
        return self.clock.window[0] <= began and ended <= self.clock.window[1]


@dataclass
class Answer:
    status: int
    location: str
    body: str
    server: int
    began: float
    ended: float
    retry_after: str = ""

    @property
    def to_login(self) -> bool:
        return self.status in (301, 302, 303) and urlsplit(self.location).path == "/login"


class Client:
    """One logged-in person. `step()` does one thing they would do, a few requests long."""

    def __init__(self, number: int, email: str, servers: list[str], tally: Tally) -> None:
        self.number = number
        self.email = email
        self.servers = servers
        self.tally = tally
        self.rng = random.Random(number)
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT  # strong session protection binds to it
        self.sent = 0

    # --- requests -------------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        form: HtmlForm | None = None,
        timeout: float = REQUEST_TIMEOUT_S,
        **fill: str,
    ) -> Answer:
        """One request to the next server in turn, without following a redirect."""
        server = self.sent % len(self.servers)
        self.sent += 1
        data = {**form.fields, **fill} if form else None
        multipart = bool(form and form.multipart)
        began = time.perf_counter()
        try:
            response = self.http.request(
                method,
                self.servers[server] + path,
                data=None if multipart else data,
                files={k: (None, v) for k, v in data.items()} if multipart and data else None,
                allow_redirects=False,
                timeout=timeout,
            )
            answer = Answer(
                response.status_code,
                response.headers.get("Location", ""),
                response.text,
                server,
                began,
                time.perf_counter(),
                response.headers.get("Retry-After", ""),
            )
        except requests.RequestException as error:
            answer = Answer(0, "", type(error).__name__, server, began, time.perf_counter())
        return answer

    def note(self, label: str, answer: Answer, outcome: str, reason: str = "") -> None:
        tally = self.tally
        if not tally.counts(answer.began, answer.ended):
            return
        tally.latencies[label].append(answer.ended - answer.began)
        tally.outcomes[label][outcome] += 1
        tally.by_server[(answer.server, outcome)] += 1
        if reason:
            said = gist(reason) if outcome == REFUSED else reason[:160]
            tally.reasons[outcome][f"{label}: {said}"] += 1
        if answer.to_login:
            tally.lost_logins += 1

    def page(self, label: str, path: str) -> Answer:
        """GET a page: it must answer 200 (a redirect to /login means the session was lost)."""
        answer = self.send("GET", path)
        self.note(label, answer, *judge_page(answer))
        return answer

    def post(self, label: str, path: str, form: HtmlForm, **fill: str) -> str:
        """POST a form as the page gave it; a redirect is followed (as a browser does) to
        the page that says what happened. Returns the outcome."""
        action = form.action or path
        answer = self.send("POST", action, form, **fill)
        outcome, reason = judge_post(answer)
        after = None
        if answer.status in (302, 303) and not answer.to_login:
            after = self.send("GET", urlsplit(answer.location).path + _query(answer.location))
            page_outcome, page_reason = judge_page(after)
            if page_outcome == OK:
                kinds, said = messages(after.body)
                if "success" not in kinds:
                    outcome, reason = REFUSED, " ".join(said) or "redirected without a word"
            else:
                outcome, reason = page_outcome, f"the page after it: {page_reason}"
        self.note(label, answer, outcome, reason)
        if after is not None:
            self.note(f"{label}, then the page", after, *judge_page(after))
        return outcome

    # --- logging in -----------------------------------------------------------------------

    def log_in(self) -> None:
        form = page_form(self.send("GET", "/login", timeout=LOGIN_TIMEOUT_S).body)
        if form is None:
            raise RuntimeError("the login page has no form")
        answer = self.send(
            "POST", "/login", form, LOGIN_TIMEOUT_S, email=self.email, password=PASSWORD
        )
        if answer.status != 302 or urlsplit(answer.location).path == "/login":
            raise RuntimeError(f"logging in failed: {answer.status} {answer.body[:80]}")

    def step(self) -> None:
        raise NotImplementedError


def gist(reason: str) -> str:
    """What a message says, without the names and times that make each one different
    ("Already reviewed: this submission was approved by ... on ..." -> "Already reviewed")."""
    return re.split(r": |\. ", reason, maxsplit=1)[0].strip()[:160]


def _query(location: str) -> str:
    query = urlsplit(location).query
    return f"?{query}" if query else ""


def judge_page(answer: Answer) -> tuple[str, str]:
    if answer.status == 200:
        return OK, ""
    return judge_other(answer)


def judge_post(answer: Answer) -> tuple[str, str]:
    if answer.status in (302, 303) and not answer.to_login:
        return OK, ""  # decided by the page it leads to
    if answer.status in (200, 409, 422):
        _kinds, said = messages(answer.body)
        if said:  # the form again, with what is wrong beside it
            return REFUSED, " ".join(said)
        return ERROR, f"answered {answer.status} without saying why"
    return judge_other(answer)


def judge_other(answer: Answer) -> tuple[str, str]:
    if answer.status == 0:
        return ERROR, f"no answer ({answer.body})"
    if answer.status == 429:
        return LIMITED, ""
    if answer.status >= 500:
        return SERVER_ERROR, f"answered {answer.status}"
    if answer.to_login:
        return ERROR, "sent to /login: the session was lost"
    return ERROR, f"answered {answer.status} {answer.location}".strip()


# --- the people ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Program:
    """What the benchmark seeded for the workload (benchmarks/load.py)."""

    manual_challenge_id: int  # approved by a manager
    auto_challenge_id: int  # approved (and awarded) at once
    reward_ids: tuple[int, ...]  # limited stock, some above the approval threshold


HUB_PAGES = (
    ("hub home", "/hub/"),
    ("challenges", "/hub/challenges"),
    ("leaderboard", "/hub/leaderboard"),
    ("rewards", "/hub/rewards"),
)


class Advocate(Client):
    def __init__(self, *args, program: Program, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.program = program

    def step(self) -> None:
        roll = self.rng.random()
        if roll < 0.60:
            self.page(*self.rng.choice(HUB_PAGES))
        elif roll < 0.80:
            self.complete_challenge()
        else:
            self.redeem()

    def complete_challenge(self) -> None:
        manual = self.rng.random() < 0.6
        challenge_id = (
            self.program.manual_challenge_id if manual else self.program.auto_challenge_id
        )
        path = f"/hub/challenges/{challenge_id}"
        answer = self.page("challenge page", path)
        form = page_form(answer.body) if answer.status == 200 else None
        if form is None:
            return
        if manual:
            post = f"https://social.example/posts/{self.number}-{self.sent}"
            self.post("submit (manual review)", path, form, post_url=post)
        else:
            self.post("submit (approved at once)", path, form, answer="Faster onboarding.")

    def redeem(self) -> None:
        path = f"/hub/rewards/{self.rng.choice(self.program.reward_ids)}"
        answer = self.page("reward page", path)
        form = page_form(answer.body) if answer.status == 200 else None
        if form is None:  # out of stock, or not for this advocate: the page says why
            return
        address = f"{self.number} Benchmark Street, 10115 Berlin, Germany"
        self.post("redeem", path, form, shipping_address=address)


class Manager(Client):
    def __init__(self, *args, program: Program, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.program = program

    def step(self) -> None:
        # the load challenge's queue most of the time, the whole queue (oldest first) else
        mine = self.rng.random() < 0.7
        query = f"?challenge_id={self.program.manual_challenge_id}" if mine else ""
        queue = self.page("review queue", "/manage/review" + query)
        links = QUEUE_LINK.findall(queue.body) if queue.status == 200 else []
        if not links:
            self.page("program dashboard", "/manage/")
            return
        path = self.rng.choice(links[:10])  # reviewers share the queue's first page
        answer = self.page("submission", path)
        form = page_form(answer.body) if answer.status == 200 else None
        if form is not None:  # already decided by another manager: the page says so
            self.post("approve submission", path, form, approve="y", reason="Thank you!")


class Admin(Client):
    def step(self) -> None:
        if self.rng.random() < 0.5:
            self.act("requested", "/approve", "approve redemption", {})
        else:
            reference = f"LOAD-{self.number}-{self.sent}"
            self.act("approved", "/fulfil", "fulfil redemption", {"reference": reference})

    def act(self, status: str, action: str, label: str, fill: dict[str, str]) -> None:
        queue = self.page(f"redemptions, {status}", f"/admin/redemptions?status={status}")
        links = REDEMPTION_LINK.findall(queue.body) if queue.status == 200 else []
        if not links:
            return
        path = self.rng.choice(links[:10])
        answer = self.page("redemption", path)
        form = page_form(answer.body, path + action) if answer.status == 200 else None
        if form is not None:  # flagged, or handled by another admin meanwhile
            self.post(label, path, form, **fill)


def log_in(person: Client) -> str:
    """Log in before the run (not measured); returns what went wrong, or ""."""
    try:
        person.log_in()
    except Exception as error:  # noqa: BLE001 - reported; the others still play
        return f"{person.email}: {error}"
    return ""


def play(person: Client, start_line: threading.Barrier) -> None:
    """Wait for the others, then act until the measured window closes."""
    start_line.wait()
    while time.perf_counter() < person.tally.clock.window[1]:
        try:
            person.step()
        except Exception as error:  # noqa: BLE001 - a broken step is counted, the run goes on
            person.tally.reasons[ERROR][f"client: {type(error).__name__}: {error}"[:200]] += 1
            person.tally.outcomes["client error"][ERROR] += 1
