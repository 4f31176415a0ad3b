"""Stored XSS, as an attacker would try it: a corpus of payloads is stored in every text a
person can write (advocates' and staff's alike) through the real forms, then every page that
shows them is opened in Chromium as the role that sees it.

On every page: no payload ran (``window.__xss`` stays 0, no dialog opened), nothing was
injected into the DOM (no event-handler attribute, ``javascript:`` link, script, style or
frame carrying a payload), the Content-Security-Policy reported nothing, the payload is on the
page as text (rendered escaped, not dropped), and the response carries a CSP without
'unsafe-inline'.

The world is built once for the module and crawled once; each test asserts one property of
that crawl, so a failure names the property and lists every page that breaks it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.badges import ensure_default_badges
from challenges.models import Challenge, Submission, ThankYou
from points.levels import ensure_default_levels
from points.models import Badge, GiftOffer, Level, Redemption, Reward
from points.program import game_settings
from portal.accounts.models import Account, GiftPolicyRequest, Role
from portal.models import OutboxMessage
from tests.conftest import _empty_all_tables
from tests.e2e.conftest import SCREENS_DIR, serve
from tests.e2e.steps import log_in
from tests.factories import PNG, Factory, login

PAYLOADS = (
    "<script>window.__xss=1</script>",
    '"><img src=x onerror=window.__xss=1>',
    "<svg onload=window.__xss=1>",
    "javascript:window.__xss=1",
    "{{7*7}}",
    "{{ config }}",
    "{% print config %}",
    "</textarea><script>window.__xss=1</script>",
    "[x](javascript:window.__xss=1)",
    '![x](x" onerror="window.__xss=1)',
    "<iframe src=javascript:window.__xss=1></iframe>",
    "<style>body{background:url(javascript:window.__xss=1)}</style>",
    "' onmouseover='window.__xss=1",
    '" autofocus onfocus="window.__xss=1',
    "<img src=x onerror=alert(1)>",
)
# shown literally, these prove the page escaped markup rather than dropping or running it
MARKUP = tuple(p for p in PAYLOADS if "<" in p)
# a file's name loses everything up to its last slash: only payloads without one fit there
NO_SLASH = tuple(p for p in PAYLOADS if "/" not in p)

# every text field the corpus goes into: code -> where a person writes it
FIELDS = {
    "an": "account name (admin)",
    "ai": "account industry (admin)",
    "gr": "gift policy reason (admin)",
    "un": "user name (advocate profile)",
    "ut": "job title (advocate profile)",
    "gn": "note on an employer's gift policy (advocate profile)",
    "dn": "note dismissing a gift-policy request (admin)",
    "sn": "staff name (invitation accepted)",
    "pn": "group name (manager)",
    "pd": "group description (manager)",
    "ps": "group segment rule (manager)",
    "pi": "group industry rule (manager)",
    "pr": "group region rule (manager)",
    "tt": "thank-you template (program settings)",
    "ct": "challenge title (manager)",
    "cb": "challenge description, Markdown (manager)",
    "cq": "survey question (challenge settings)",
    "cc": "survey answer choices (challenge settings)",
    "ce": "webinar join link (challenge settings; shown to those who RSVP'd)",
    "ca": "webinar attendance code (challenge settings)",
    "cr": "reference call arranged by (challenge settings)",
    "cu": "link to share / content link (challenge settings)",
    "eu": "review link (evidence)",
    "ev": "availability, notes, contributions (evidence text)",
    "el": "case study / social post link (evidence)",
    "ef": "evidence file name",
    "er": "referral name and company (evidence)",
    "ea": "survey answer (evidence)",
    "rv": "review note on approval (manager)",
    "rj": "rejection reason (manager)",
    "ty": "thank-you subject and message (manager)",
    "tn": "how they were thanked (manager)",
    "la": "logged activity details (manager)",
    "rn": "reward name (admin)",
    "rd": "reward description, Markdown (admin)",
    "rc": "charity name (admin)",
    "rg": "reward regions (admin)",
    "sa": "shipping address (advocate)",
    "fr": "fulfilment reference (admin form)",
    "fc": "fulfilment reference (CSV import)",
    "rx": "redemption reject / cancel / refund reason (admin)",
    "pa": "points adjustment reason (admin)",
    "om": "gift offer message (manager)",
    "od": "declined offer note (advocate)",
    "ln": "level name (admin)",
    "lp": "level perk (admin)",
    "bn": "badge name (admin)",
    "bd": "badge description (admin)",
    "br": "manual badge reason (manager)",
}


def tag(code: str, index: int) -> str:
    return f"«{code}{index}»"


TAG = re.compile(r"«([a-z]{2})(\d+)»")


def chunks(limit: int, corpus: tuple[str, ...] = PAYLOADS, sep: str = " ") -> list[str]:
    """The corpus packed into as few values as fit `limit` characters after a tag; stored
    one value per record, every payload lands in the field. A payload longer than the field
    holds is left out of it."""
    packed: list[list[str]] = [[]]
    room = limit - len(tag("xx", 99)) - 1
    for payload in corpus:
        if len(payload) > room:
            continue
        if packed[-1] and len(sep.join([*packed[-1], payload])) > room:
            packed.append([])
        packed[-1].append(payload)
    return [sep.join(chunk) for chunk in packed]


def nth(code: str, limit: int, index: int, corpus: tuple[str, ...] = PAYLOADS) -> str:
    """The value for the index-th record's field: its own tag, then its share of the corpus."""
    packed = chunks(limit, corpus)
    return f"{tag(code, index)} {packed[index % len(packed)]}"


def full(code: str, sep: str = " ", index: int = 0) -> str:
    """The whole corpus in one value, for fields of a thousand characters or more."""
    (value,) = chunks(1000, sep=sep)
    return f"{tag(code, index)} {value}"


def count(*limits: int) -> int:
    """How many records it takes for every payload to reach every one of these fields."""
    return max(len(chunks(limit)) for limit in limits)


# --- storing the corpus through the real forms ----------------------------------------------


def post(client, url: str, data: dict, expect: tuple[int, ...] = (302, 303)):
    response = client.post(url, data=data)
    if response.status_code not in expect:
        errors = re.findall(r"invalid-feedback[^>]*>\s*([^<]+)", response.get_data(as_text=True))
        raise AssertionError(f"POST {url} answered {response.status_code}: {errors}")
    return response


def new_id(response) -> int:
    return int(re.search(r"/(\d+)(?:/[a-z-]*)?$", response.headers["Location"]).group(1))


def upload(name: str):
    return (io.BytesIO(PNG), name)


@dataclass
class World:
    """What the crawl needs: who logs in, and the ids of the pages to open."""

    emails: dict[str, str] = field(default_factory=dict)
    advocates: list[int] = field(default_factory=list)
    accounts: list[int] = field(default_factory=list)
    challenges: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    submissions: list[int] = field(default_factory=list)
    thank_yous: list[int] = field(default_factory=list)
    rewards: list[int] = field(default_factory=list)
    redemptions: list[int] = field(default_factory=list)
    offers: list[int] = field(default_factory=list)
    levels: list[int] = field(default_factory=list)
    badges: list[int] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # a javascript: link -> the answer
    mail: list[tuple[str, str, str]] = field(default_factory=list)  # kind, subject, body
    mail_html: list[str] = field(default_factory=list)  # the HTML parts


def build_world(app, session: Session) -> World:
    make = Factory(session)
    world = World()
    ensure_default_levels(session)
    ensure_default_badges(session)
    game_settings(session)
    session.commit()

    manager = make.user(Role.MANAGER, "manager@xss.example", name=nth("sn", 120, 0))
    admin = make.user(Role.ADMIN, "admin@xss.example", name=nth("sn", 120, 1))
    for index in range(2, count(120)):
        make.user(Role.MANAGER, f"staff{index}@xss.example", name=nth("sn", 120, index))
    world.emails = {"manager": manager.email, "admin": admin.email}
    as_admin, as_manager = app.test_client(), app.test_client()
    login(as_admin, admin.email)
    login(as_manager, manager.email)

    _accounts_and_people(app, session, make, world, as_admin, manager)
    _groups_and_settings(world, as_manager)
    _challenges(world, as_manager)
    _rewards_levels_badges(session, world, as_admin)
    _submissions_and_reviews(app, session, world, as_manager)
    _points_and_redemptions(app, session, world, as_admin, as_manager)
    return world


def _accounts_and_people(app, session, make, world, as_admin, manager) -> None:
    for i in range(count(200, 100)):
        response = post(
            as_admin,
            "/admin/accounts/new",
            {
                "name": nth("an", 200, i),
                "industry": nth("ai", 100, i),
                "segment": "Enterprise",
                "region": "EMEA",
                "owner_id": str(manager.id),
            },
        )
        world.accounts.append(new_id(response))
    post(
        as_admin,
        f"/admin/accounts/{world.accounts[-1]}/gift-policy",
        {"policy": "needs_approval", "reason": full("gr")},
    )
    people = count(120, 120)
    for i in range(people):
        account = session.get(Account, world.accounts[i % len(world.accounts)])
        person = make.advocate(f"advocate{i}@xss.example", account=account)
        world.advocates.append(person.id)
        world.emails[f"advocate{i}"] = person.email
        client = app.test_client()
        login(client, person.email)
        profile = {"name": nth("un", 120, i), "title": nth("ut", 120, i), "job_level": ""}
        profile |= dict.fromkeys(EMAIL_SWITCHES, "y")  # an unticked box turns that email off
        if i >= people - 2:  # the last two's employers forbid gifts
            profile |= {"declines_gifts": "y", "gifts_note": full("gn", index=i)}
        post(client, "/hub/profile", profile)
    first = session.scalar(select(GiftPolicyRequest.id).order_by(GiftPolicyRequest.id))
    assert first, "the advocate's word on their employer's policy made no request"
    post(as_admin, f"/admin/policy-requests/{first}/dismiss", {"note": nth("dn", 500, 0)})


def _groups_and_settings(world, as_manager) -> None:
    for i in range(count(120, 500, 50, 100, 50)):
        response = post(
            as_manager,
            "/manage/groups/new",
            {
                "name": nth("pn", 120, i),
                "description": nth("pd", 500, i),
                "segment": nth("ps", 50, i),
                "industry": nth("pi", 100, i),
                "region": nth("pr", 50, i),
                "job_level": "",
                "member_emails": "advocate0@xss.example",
            },
        )
        world.groups.append(new_id(response))
    post(
        as_manager,
        "/manage/settings",
        {
            "high_effort_per_advocate": "50",
            "high_effort_per_account": "500",
            "high_effort_window_days": "30",
            "thank_you_template": "Hi {name}, thanks for {what}. " + full("tt") + " {sender}",
        },
    )


LINK = 'https://vouch.example/p?"><img src=x onerror=window.__xss=1>'


def _challenges(world, as_manager) -> None:
    body = full("cb", sep="\n\n")
    configs = [
        ("survey", "auto", {"question": full("cq")}),
        ("survey", "auto", {"question": full("cq"), "choices": full("cc", sep="\n")}),
        ("review", "manual", {"review_site": "g2"}),
        (
            "webinar",
            "manual",
            {
                "event_role": "attend",
                "event_at": "2030-03-14T18:00",
                "join_url": f"{LINK}&{tag('ce', 0)}",
                "attendance_code": full("ca"),
            },
        ),
        ("reference_call", "manual", {"arranged_by": full("cr")}),
        ("case_study", "manual", {}),
        ("video", "manual", {}),
        ("social_share", "manual", {"share_url": f"{LINK}&{tag('cu', 0)}"}),
        ("referral", "manual", {}),
        ("content", "auto", {"content_url": f"{LINK}&{tag('cu', 1)}"}),
    ]
    for i, (kind, approval, config) in enumerate(configs):
        data = {
            "type": kind,
            "title": nth("ct", 200, i),
            "body": body,
            "points": "40",
            "points_visible": "y",
            "limit_kind": "once",
            "limit_count": "1",
            "limit_period": "month",
            "approval": approval,
            **config,
        }
        if i == 0:
            data["group_ids"] = [str(world.groups[0])]  # targeted at a payload-named group
        challenge_id = new_id(post(as_manager, "/manage/challenges/new", data))
        post(as_manager, f"/manage/challenges/{challenge_id}/publish", {})
        world.challenges.append(challenge_id)
    # a javascript: link is refused beside the field, never stored
    refused = as_manager.post(
        "/manage/challenges/new",
        data={**data, "title": "js link", "content_url": "javascript:window.__xss=1"},
    )
    world.refused["content_url"] = refused.status_code


def _rewards_levels_badges(session, world, as_admin) -> None:
    reward = {
        "cost": "10",
        "money_value": "5",
        "currency": "USD",
        "limit_period": "ever",
        "active": "y",
        "description": full("rd", sep="\n\n"),
    }
    kinds = ["swag"] * count(200) + ["charity"] * count(200)
    for i, kind in enumerate(kinds):
        data = {**reward, "name": nth("rn", 200, i), "kind": kind}
        if kind == "charity":
            data["charity_name"] = nth("rc", 200, i)
        post(as_admin, "/admin/rewards/new", data)
    post(
        as_admin,
        "/admin/rewards/new",
        {**reward, "name": "Regional mug", "kind": "swag", "regions": nth("rg", 200, 0)},
    )
    world.rewards = list(session.scalars(select(Reward.id).order_by(Reward.id)))

    for i in range(count(60, 200)):
        post(
            as_admin,
            "/admin/levels",
            {"name": nth("ln", 60, i), "threshold": str(i + 1), "perk": nth("lp", 200, i)},
        )
    world.levels = list(session.scalars(select(Level.id).order_by(Level.threshold)))
    for i in range(count(60, 300)):
        post(
            as_admin,
            "/admin/badges",
            {
                "rule": "manual",
                "name": nth("bn", 60, i),
                "description": nth("bd", 300, i),
                "enabled": "y",
            },
        )
    world.badges = list(session.scalars(select(Badge.id).order_by(Badge.id)))


def _evidence(kind: str, index: int) -> dict:
    text = full("ev")
    link = f"{LINK}&{tag('el', index)}"
    name = f"{nth('ef', 190, int(kind != 'review'), NO_SLASH)}.png"  # two files, two shares
    return {
        "survey": {"answer": full("ea")},
        "review": {
            "review_url": f'https://www.g2.com/r?"><svg onload=window.__xss=1>&{tag("eu", 0)}',
            "disclosed": "y",
            "file": upload(name),
        },
        "webinar": {"attendance_code": full("ca")},
        "reference_call": {"availability": text, "notes": text},
        "case_study": {"notes": text, "link": link, "file": upload(name)},
        "video": {"notes": text, "link": link},
        "social_share": {"post_url": link},
        "referral": {
            "name": nth("er", 120, 0),
            "email": "jo@contoso.example",
            "company": nth("er", 120, 1),
            "note": text,
        },
        "content": {"done": "y"},
    }[kind]


def _submissions_and_reviews(app, session, world, as_manager) -> None:
    advocate = app.test_client()
    login(advocate, world.emails["advocate0"])
    challenges = [session.get(Challenge, i) for i in world.challenges]
    for i, challenge in enumerate(challenges):
        evidence = _evidence(challenge.type, i)
        if challenge.config.get("choices"):
            evidence = {"answer": challenge.config["choices"].splitlines()[0]}
        post(advocate, f"/hub/challenges/{challenge.id}", evidence)
    refused = advocate.post(
        f"/hub/challenges/{challenges[2].id}",
        data={"review_url": "javascript:window.__xss=1", "disclosed": "y"},
    )
    world.refused["review_url"] = refused.status_code
    for i in range(1, len(world.advocates)):  # the others answer the open survey: on the boards
        other = app.test_client()
        login(other, world.emails[f"advocate{i}"])
        post(other, f"/hub/challenges/{challenges[1].id}", {"answer": "{{7*7}}"})

    session.expire_all()
    pending = {
        s.challenge.type: s.id
        for s in session.scalars(select(Submission).where(Submission.status == "pending"))
    }
    for kind in ("review", "case_study", "social_share", "referral"):
        post(as_manager, f"/manage/review/{pending[kind]}", {"reason": full("rv"), "approve": "y"})
    post(
        as_manager,
        f"/manage/review/{pending['reference_call']}",
        {"reason": full("rj"), "reject": "y"},
    )
    world.submissions = list(session.scalars(select(Submission.id).order_by(Submission.id)))

    world.thank_yous = list(session.scalars(select(ThankYou.id).order_by(ThankYou.id)))
    post(
        as_manager,
        f"/manage/thanks/{world.thank_yous[0]}",
        {"subject": nth("ty", 200, 0), "message": full("ty"), "submit": "y"},
    )
    post(
        as_manager,
        f"/manage/thanks/{world.thank_yous[1]}",
        {"note": nth("tn", 500, 0), "submit": "y"},
    )
    post(
        as_manager,
        "/manage/activities/new",
        {
            "advocate_email": world.emails["advocate0"],
            "type": "reference_call",
            "description": full("la"),
            "occurred_on": datetime.now(UTC).date().isoformat(),
            "points": "5",
        },
    )
    manual = session.scalars(select(Badge.id).where(Badge.rule == "manual").order_by(Badge.id))
    advocate_id = world.advocates[0]
    for i, badge_id in enumerate(manual):
        post(
            as_manager,
            f"/manage/advocates/{advocate_id}/badges",
            {"badge_id": str(badge_id), "reason": full("br", index=i)},
        )
    world.thank_yous = list(session.scalars(select(ThankYou.id).order_by(ThankYou.id)))


def _points_and_redemptions(app, session, world, as_admin, as_manager) -> None:
    advocate_id = world.advocates[0]
    post(
        as_admin,
        f"/admin/users/{advocate_id}/points",
        {"request_key": "xss-adjust", "amount": "5000", "reason": nth("pa", 500, 0)},
    )
    advocate = app.test_client()
    login(advocate, world.emails["advocate0"])
    swag = session.scalars(select(Reward.id).where(Reward.kind == "swag").order_by(Reward.id))
    swag = list(swag)[:1]
    address = nth("sa", 1000, 0)
    for i in range(5):
        post(
            advocate,
            f"/hub/rewards/{swag[0]}",
            {"request_key": f"xss-{i}", "shipping_address": address},
        )
    mine = list(session.scalars(select(Redemption.id).order_by(Redemption.id)))
    reason = full("rx")
    for redemption_id in mine[:3]:
        post(as_admin, f"/admin/redemptions/{redemption_id}/approve", {})
    post(as_admin, f"/admin/redemptions/{mine[0]}/fulfil", {"reference": nth("fr", 500, 0)})
    post(as_admin, "/admin/redemptions/import", {"text": f'{mine[1]},"{nth("fc", 500, 0)}"'})
    post(as_admin, f"/admin/redemptions/{mine[2]}/fulfil", {"reference": nth("fr", 500, 1)})
    post(as_admin, f"/admin/redemptions/{mine[2]}/refund", {"refund-reason": reason})
    post(as_admin, f"/admin/redemptions/{mine[3]}/reject", {"reject-reason": reason})
    post(as_admin, f"/admin/redemptions/{mine[4]}/cancel", {"cancel-reason": reason})

    declined = {"employer_forbids": "y", "note": nth("od", 500, 0), "decline": "y"}
    for email, answer in (  # accepted; left waiting; declined for the employer, with a note
        (world.emails["advocate0"], {"shipping_address": address, "accept": "y"}),
        (world.emails["advocate0"], None),
        (world.emails["advocate1"], declined),
    ):
        offer = {"advocate_email": email, "reward_id": str(swag[0]), "message": full("om")}
        post(as_manager, "/manage/offers", offer)
        if answer:
            offer_id = session.scalar(select(GiftOffer.id).order_by(GiftOffer.id.desc()))
            client = app.test_client()
            login(client, email)
            post(client, f"/hub/offers/{offer_id}", answer)
    mine = select(GiftOffer.id).where(GiftOffer.advocate_id == advocate_id)
    world.offers = list(session.scalars(mine.order_by(GiftOffer.id)))
    world.redemptions = list(session.scalars(select(Redemption.id).order_by(Redemption.id)))
    world.mail = [(m.kind, m.subject, m.body_text) for m in session.scalars(select(OutboxMessage))]
    world.mail_html = [m.body_html for m in session.scalars(select(OutboxMessage))]


EMAIL_SWITCHES = [
    f"email_{topic}" for topic in ("results", "rewards", "thanks", "game", "events", "digests")
]


# --- the crawl ------------------------------------------------------------------------------

WATCH = """
window.__xss = 0;
window.__csp = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__csp.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""

# what the page holds once loaded: its text (with form values) and anything injected
INSPECT = """
() => {
  const injected = [];
  const evil = /__xss|alert\\(/;
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on') && evil.test(attr.value)) {
        injected.push(`<${el.tagName.toLowerCase()} ${name}="${attr.value}">`);
      }
      if (['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'srcdoc'].includes(name)
          && /^\\s*javascript:/i.test(attr.value)) {
        injected.push(`<${el.tagName.toLowerCase()} ${name}="${attr.value}">`);
      }
    }
    if (['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED'].includes(el.tagName)
        && evil.test(el.textContent + (el.getAttribute('src') || ''))) {
      injected.push(`<${el.tagName.toLowerCase()}>${el.textContent.slice(0, 60)}`);
    }
  }
  const values = [...document.querySelectorAll('input, textarea, select option')]
    .map((el) => el.value || el.textContent);
  return {
    text: document.body.innerText + '\\n' + values.join('\\n'),
    injected,
    xss: window.__xss,
    csp: window.__csp,
  };
}
"""


@dataclass
class Visit:
    role: str
    path: str
    status: int = 0
    policy: str | None = None
    xss: object = 0
    csp: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # MARKUP payloads visible as text
    tags: set[str] = field(default_factory=set)  # field codes seen on the page
    leaks: list[str] = field(default_factory=list)  # template injection evaluated
    braces: bool = False  # "{{7*7}}" on the page as typed

    def __str__(self) -> str:
        return f"{self.role} {self.path}"


def pages(world: World) -> dict[str, list[str]]:
    """Every page that shows what the corpus went into, by the role that sees it."""
    a0, a1 = world.advocates[0], world.advocates[1]
    challenges = world.challenges
    return {
        "advocate0": [
            "/hub/",
            "/hub/challenges",
            *(f"/hub/challenges/{c}" for c in challenges),
            "/hub/submissions",
            "/hub/leaderboard",
            "/hub/leaderboard?period=all",
            "/hub/leaderboard?period=all&scope=group:" + str(world.groups[0]),
            "/hub/activity",
            f"/hub/people/{a0}",
            f"/hub/people/{a1}",
            "/hub/profile",
            "/hub/rewards",
            *(f"/hub/rewards/{r}" for r in world.rewards[:-1]),
            "/hub/redemptions",
            *(f"/hub/offers/{o}" for o in world.offers),
        ],
        "manager": [
            "/manage/",
            "/manage/challenges",
            *(f"/manage/challenges/{c}" for c in challenges),
            *(f"/manage/challenges/{c}/edit" for c in challenges),
            *(f"/manage/challenges/{c}/preview" for c in challenges[:3]),
            "/manage/groups",
            *(f"/manage/groups/{g}" for g in world.groups),
            "/manage/settings",
            "/manage/review",
            "/manage/review?older_than_days=0",
            *(f"/manage/review/{s}" for s in world.submissions),
            "/manage/thanks",
            *(f"/manage/thanks/{t}" for t in world.thank_yous),
            "/manage/leads",
            "/manage/leaderboard",
            "/manage/leaderboard?period=all",
            f"/manage/advocates/{a0}",
            "/manage/accounts",
            "/manage/near-cap",
            "/manage/offers",
            "/manage/activities/new",
            "/manage/invite",
            f"/hub/people/{a0}",
        ],
        "admin": [
            "/admin/",
            "/admin/accounts",
            *(f"/admin/accounts/{a}" for a in world.accounts),
            f"/admin/accounts/{world.accounts[0]}/edit",
            "/admin/users",
            *(f"/admin/users/{u}" for u in world.advocates),
            f"/admin/users/{a0}/points",
            "/admin/audit",
            *(
                f"/admin/redemptions?status={status}"
                for status in (
                    "requested",
                    "approved",
                    "fulfilled",
                    "rejected",
                    "cancelled",
                    "refunded",
                )
            ),
            *(f"/admin/redemptions/{r}" for r in world.redemptions),
            "/admin/rewards",
            *(f"/admin/rewards/{r}" for r in world.rewards),
            "/admin/levels",
            *(f"/admin/levels/{lv}" for lv in world.levels),
            "/admin/badges",
            *(f"/admin/badges/{b}" for b in world.badges),
            "/admin/game",
            "/admin/users/invite",
        ],
    }


def open_page(page: Page, base: str, visit: Visit, watching: dict) -> None:
    watching["visit"] = visit
    response = page.goto(base + visit.path, wait_until="load")
    visit.status = response.status if response else 0
    visit.policy = response.headers.get("content-security-policy") if response else None
    for element in page.get_by_text(re.compile("onmouseover|onfocus")).all()[:3]:
        try:  # hovering and focusing is where an attribute breakout would fire
            element.hover(timeout=500)
            element.focus(timeout=500)
        except Exception:  # noqa: BLE001, S110 - hidden or covered: nothing to hover
            pass
    page.wait_for_timeout(50)  # an onerror fires once the broken image is fetched
    seen = page.evaluate(INSPECT)
    visit.xss, visit.csp, visit.injected = seen["xss"], seen["csp"], seen["injected"]
    text = seen["text"]
    visit.shown = [p for p in MARKUP if p in text]
    visit.tags = {code for code, _index in TAG.findall(text)}
    visit.braces = "{{7*7}}" in text
    visit.leaks = [word for word in ("test-secret-key", "SECRET_KEY") if word in text]


def watched_context(browser: Browser, base: str, email: str) -> tuple[BrowserContext, Page, dict]:
    """A logged-in context whose dialogs and console messages go to the visit under way."""
    context = browser.new_context()
    context.add_init_script(WATCH)
    page = context.new_page()
    watching = {"visit": Visit("login", "/login")}

    def on_dialog(dialog) -> None:
        watching["visit"].dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "console",
        lambda message: watching["visit"].console.append(f"{message.type}: {message.text}"),
    )
    log_in(page, base, email)
    page.wait_for_url(re.compile(r"/(hub|manage|admin)/"))
    return context, page, watching


@pytest.fixture(scope="module")
def site(_shared_app) -> Iterator[str]:
    """The test app on a free port for the whole module (the crawl reuses one world)."""
    try:
        yield from serve(_shared_app)
    finally:
        _empty_all_tables(_shared_app)


@pytest.fixture(scope="module")
def crawl(_shared_app, _test_engine, site, browser: Browser) -> tuple[World, list[Visit]]:
    with Session(_test_engine, expire_on_commit=False) as session:
        world = build_world(_shared_app, session)
    visits = []
    for role, paths in pages(world).items():
        context, page, watching = watched_context(browser, site, world.emails[role])
        try:
            for path in paths:
                visit = Visit(role.removesuffix("0"), path)
                open_page(page, site, visit, watching)
                visits.append(visit)
        finally:
            context.close()
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    (SCREENS_DIR / "xss-crawl.txt").write_text(
        "".join(f"{v.status} {v!s:60} fields: {' '.join(sorted(v.tags)) or '-'}\n" for v in visits)
    )
    return world, visits


def assert_no_page(visits: list[Visit], check) -> None:
    """Fail with every page `check` finds a problem on, one line each."""
    found = [f"{visit}: {problem}" for visit in visits if (problem := check(visit))]
    assert not found, f"{len(found)} of {len(visits)} pages:\n" + "\n".join(found)


def test_every_page_opened(crawl):
    _world, visits = crawl
    assert_no_page(visits, lambda v: v.status if v.status != 200 else None)


def test_no_payload_ran(crawl):
    _world, visits = crawl
    assert_no_page(visits, lambda v: f"window.__xss = {v.xss}" if v.xss != 0 else None)
    assert_no_page(visits, lambda v: v.dialogs)


def test_nothing_was_injected_into_a_page(crawl):
    _world, visits = crawl
    assert_no_page(visits, lambda v: v.injected)


def test_the_policy_reported_no_violation(crawl):
    _world, visits = crawl
    assert_no_page(visits, lambda v: v.csp)
    csp_console = [c for v in visits for c in v.console if "Content Security Policy" in c]
    assert not csp_console


def test_no_template_was_evaluated(crawl):
    _world, visits = crawl
    assert_no_page(visits, lambda v: v.leaks)
    roles = {v.role for v in visits}
    assert roles == {v.role for v in visits if v.braces}, "'{{7*7}}' is shown as typed to all"


def test_every_page_shows_the_payload_as_text(crawl):
    _world, visits = crawl
    assert_no_page(visits, lambda v: "no payload shown as text" if not v.shown else None)


# stored, and on no page: each is checked where it does go
NOT_SHOWN = {
    "dn": "an admin's note dismissing a request is kept as its resolution, shown nowhere",
    "ty": "a thank-you is emailed as plain text (test_emails_carry_the_text_as_typed)",
}


def test_every_field_is_shown_escaped_somewhere(crawl):
    _world, visits = crawl
    seen = set().union(*(v.tags for v in visits))
    missing = {code: what for code, what in FIELDS.items() if code not in seen | set(NOT_SHOWN)}
    assert not missing


def test_emails_carry_the_text_as_typed(crawl):
    """The plain-text part carries what a person wrote verbatim, no template in it evaluated;
    the HTML part carries it escaped: no markup anyone typed is markup there."""
    world, _visits = crawl
    thanks = [(subject, body) for kind, subject, body in world.mail if kind == "thank_you"]
    assert thanks == [(nth("ty", 200, 0), thanks[0][1])]
    assert full("ty") in thanks[0][1]
    rejected = [body for kind, _subject, body in world.mail if kind == "submission_rejected"]
    assert rejected and full("rj") in rejected[0]
    for kind, subject, body in world.mail:
        assert "test-secret-key" not in subject + body, kind
    html = [part for part in world.mail_html if part]
    assert html, "no email had an HTML part"
    for part in html:
        for payload in MARKUP:
            assert payload not in part, payload


def test_javascript_links_are_refused_beside_the_field(crawl):
    world, _visits = crawl
    assert world.refused == {"content_url": 422, "review_url": 422}


def test_every_page_sends_a_strict_content_security_policy(crawl):
    _world, visits = crawl

    def weak(visit: Visit) -> str | None:
        if not visit.policy:
            return "no Content-Security-Policy header"
        if "unsafe-inline" in visit.policy:
            return f"'unsafe-inline' in {visit.policy}"
        return None

    assert_no_page(visits, weak)
