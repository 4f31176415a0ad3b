"""Demo challenges, groups, submissions and the game's history for
`flask --app wsgi seed-demo`.

Five months of a program, played through the real services (submit, approve, log an
activity, give a badge), so ledger entries, period totals, levels, badges and the activity
feed come out of the code paths a real program uses; the demo clock dates each row when
it happened (points.demo.dated_by)."""

from __future__ import annotations

import heapq
import random
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges import services, thanks
from challenges.authoring import (
    ChallengeFields,
    GroupFields,
    create_challenge,
    publish_challenge,
    save_group,
    set_cover_image,
)
from challenges.badges import give_manual_badge
from challenges.models import Challenge, Submission, SubmissionStatus, ThankYou
from points.demo import DemoClock, close_the_past, dated_by, next_message_id
from points.models import Badge
from points.program import game_settings, zone
from portal.accounts.models import ConsentRecord, Role, User
from portal.accounts.services import find_user_by_email
from portal.auth.services import opt_out
from portal.config import Settings
from portal.db import utcnow
from portal.errors import DomainError
from portal.uploads import Upload

GROUPS = [
    GroupFields(
        name="Enterprise accounts",
        description="Every advocate at an enterprise customer.",
        segment="Enterprise",
    ),
    GroupFields(
        name="Reference-ready",
        description="Advocates who told us they're happy to talk to prospects.",
        member_emails="ana.ruiz@northwind.example\nben.okafor@globex.example",
    ),
]

REVIEW_BODY = """\
Prospects read **G2** before they ever talk to us. Tell them what it's really like:
what you use us for, what you'd improve, what you'd tell a peer.

1. Open [our G2 page](https://www.g2.com/products/vouch/reviews) and write your review.
2. Paste the link to your published review below.

_Your points are the same whatever your rating._
"""

# key, type, title, points, extra fields
CHALLENGES = [
    (
        "review",
        "review",
        "Review us on G2",
        300,
        {"body": REVIEW_BODY, "config": {"review_site": "g2"}, "evidence_required": False},
    ),
    (
        "speak",
        "webinar",
        "Speak at our spring customer webinar",
        500,
        {
            "body": "Share your story in a 10-minute slot with Q&A. "
            "We prepare the slides with you.",
            "config": {
                "event_role": "speak",
                "event_at": "18 March 2027, 16:00 CET",
                "attendance_code": "SPRING27",
            },
            "groups": ["Reference-ready"],
        },
    ),
    (
        "roadmap",
        "webinar",
        "Join the roadmap preview",
        50,
        {
            "body": "An hour with our product team on what's coming next. Bring questions.",
            "config": {
                "event_role": "attend",
                "event_at": "4 December 2026, 17:00 UTC",
                "attendance_code": "ROADMAP",
            },
        },
    ),
    (
        "call",
        "reference_call",
        "Take a reference call with a healthcare prospect",
        400,
        {
            "body": "A 30-minute call with a hospital group evaluating us. No preparation needed.",
            "config": {"arranged_by": "Maya Patel"},
            "groups": ["Enterprise accounts"],
        },
    ),
    (
        "story",
        "case_study",
        "Be featured in a customer story",
        750,
        {
            "body": "A 45-minute interview; you approve every word before it's published.",
            "points_visible": False,
            "evidence_required": False,
        },
    ),
    (
        "share",
        "social_share",
        "Share our 2026 benchmark report",
        40,
        {
            "body": "Share the report on LinkedIn with a sentence on what surprised you.",
            "config": {"share_url": "https://vouch.example/benchmark-2026"},
            "limit_kind": "per_period",
            "limit_period": "month",
            "approval": "auto",
        },
    ),
    (
        "refer",
        "referral",
        "Refer a peer who'd benefit",
        250,
        {
            "body": "Know someone at another company fighting the same problems? Introduce them.",
            "limit_kind": "times",
            "limit_count": 5,
        },
    ),
    (
        "poll",
        "survey",
        "How do you use Vouch today?",
        20,
        {
            "config": {
                "question": "Which team uses Vouch the most?",
                "choices": "Customer support\nSales\nMarketing\nOperations",
            }
        },
    ),
    (
        "watch",
        "content",
        "Watch: what's new in Vouch 4.0",
        10,
        {
            "body": "Twelve minutes on the new reporting. Grab a coffee.",
            "config": {"content_url": "https://vouch.example/videos/whats-new-4"},
            "ends_in_days": 30,
        },
    ),
    (
        "beta",
        "survey",
        "First 25: tell us about the beta",
        60,
        {"config": {"question": "What would make the beta better for you?"}, "cap": 25},
    ),
    # the first-visit path: a new advocate sees these three first, with their progress
    (
        "profile",
        "survey",
        "Complete your profile",
        50,
        {
            "body": "Tell us what you do, so we offer you the challenges that fit.",
            "config": {"question": "What is your role, and what does your team use Vouch for?"},
            "starter": True,
        },
    ),
    (
        "guide",
        "content",
        "Read the program guide",
        25,
        {
            "body": "Five minutes on how the program works: points, levels, badges and "
            "rewards, and what we will never ask of you.",
            "config": {"content_url": "https://vouch.example/advocates/program-guide"},
            "starter": True,
        },
    ),
    (
        "first_question",
        "survey",
        "Answer a first question",
        25,
        {
            "config": {
                "question": "Which would you most like to do with us?",
                "choices": "Write a review\nSpeak at an event\nTalk to prospects\n"
                "Share our content",
            },
            "starter": True,
        },
    ),
]

# each challenge's cover: a vertical gradient (top, bottom) and an accent colour
COVERS = {
    "review": ((255, 179, 71), (214, 96, 47), (255, 236, 179)),
    "speak": ((92, 61, 184), (41, 27, 99), (196, 178, 255)),
    "roadmap": ((35, 122, 201), (15, 55, 110), (162, 214, 255)),
    "call": ((0, 150, 136), (0, 77, 64), (167, 255, 235)),
    "story": ((233, 30, 99), (123, 20, 66), (255, 191, 215)),
    "share": ((3, 169, 244), (1, 87, 155), (179, 229, 252)),
    "refer": ((76, 175, 80), (27, 94, 32), (200, 230, 201)),
    "poll": ((255, 152, 0), (191, 54, 12), (255, 224, 178)),
    "watch": ((63, 81, 181), (26, 35, 126), (197, 202, 233)),
    "beta": ((121, 85, 72), (62, 39, 35), (215, 204, 200)),
    "profile": ((0, 188, 212), (0, 96, 100), (178, 235, 242)),
    "guide": ((139, 195, 74), (51, 105, 30), (220, 237, 200)),
    "first_question": ((255, 87, 34), (165, 39, 20), (255, 204, 188)),
    "video": ((96, 125, 139), (38, 50, 56), (207, 216, 220)),
}


HISTORY_DAYS = 150  # how far back the demo's program has been running
REVIEWER_NOTES = (
    "Thank you!",
    "Great, thanks for doing this.",
    "Lovely post, thank you.",
    "Thanks: the team loved it.",
    "",
)


def seed_challenges(session: Session, settings: Settings, manager: User) -> int:
    """Groups, challenges (with covers) and five months of the program played through the
    services; nothing if any challenge exists."""
    if session.scalar(select(func.count()).select_from(Challenge)):
        return 0
    now = utcnow()
    opened = now - timedelta(days=HISTORY_DAYS + 30)
    groups = {fields.name: save_group(session, manager, fields) for fields in GROUPS}
    made: dict[str, Challenge] = {}
    for key, type_key, title, points, extra in CHALLENGES:
        extra = dict(extra)
        ends_in = extra.pop("ends_in_days", None)
        fields = ChallengeFields(
            type=type_key,
            title=title,
            points=points,
            starts_at=opened,
            ends_at=now + timedelta(days=ends_in) if ends_in else None,
            group_ids=[groups[name].id for name in extra.pop("groups", [])],
            **extra,
        )
        made[key] = create_challenge(session, manager, fields)
        _add_cover(session, settings, made[key], key)
        publish_challenge(session, manager, made[key].id)
        made[key].published_at = opened
    draft = create_challenge(
        session,
        manager,
        ChallengeFields(
            type="video",
            title="Record a video for our 10th birthday",
            points=600,
            body="_Draft:_ waiting for the events team to confirm the studio dates.",
        ),
    )
    _add_cover(session, settings, draft, "video")
    _seed_history(session, settings, manager, made, now)
    return len(made) + 1


def _add_cover(session: Session, settings: Settings, challenge: Challenge, key: str) -> None:
    top, bottom, accent = COVERS[key]
    image = cover_png(top, bottom, accent, seed=len(key) * 31 + ord(key[0]))
    set_cover_image(session, settings, challenge, Upload(f"{key}-cover.png", image))
    session.flush()


def cover_png(
    top: tuple[int, int, int],
    bottom: tuple[int, int, int],
    accent: tuple[int, int, int],
    width: int = 480,
    height: int = 270,
    seed: int = 0,
) -> bytes:
    """A small PNG cover, drawn without an imaging library: a vertical gradient with three
    translucent discs."""
    rng = random.Random(seed)
    discs = [
        (
            rng.randint(0, width),
            rng.randint(0, height),
            rng.randint(height // 4, height // 2),
            rng.choice((0.2, 0.3, 0.45)),
        )
        for _ in range(3)
    ]
    rows = []
    for y in range(height):
        t = y / (height - 1)
        base = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        row = bytearray(bytes(base) * width)
        for cx, cy, radius, alpha in discs:
            if abs(y - cy) >= radius:
                continue
            half = int((radius * radius - (y - cy) ** 2) ** 0.5)
            left, right = max(0, cx - half), min(width, cx + half)
            if left < right:
                tint = bytes(round(c + (a - c) * alpha) for c, a in zip(base, accent, strict=True))
                row[left * 3 : right * 3] = tint * (right - left)
        rows.append(b"\x00" + bytes(row))  # filter type 0 for each scanline

    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


# --- the game's history ------------------------------------------------------------------


@dataclass(order=True)
class Step:
    """One thing that happened in the program, at `when`."""

    when: datetime
    number: int
    who: User = field(compare=False)
    kind: str = field(compare=False)  # do, pending, approve, reject, log, badge
    key: str = field(compare=False, default="")  # a challenge, or a logged activity's type
    evidence: dict = field(compare=False, default_factory=dict)
    text: str = field(compare=False, default="")  # reviewer's note, description, reason
    points: int = field(compare=False, default=0)
    big_ask: bool = field(compare=False, default=False)
    review_by: datetime | None = field(compare=False, default=None)  # approved before this
    submission_id: int | None = field(compare=False, default=None)


class Timeline:
    def __init__(self, now: datetime, month_start: datetime, rng: random.Random) -> None:
        self.now, self.month_start, self.rng = now, month_start, rng
        self.steps: list[Step] = []
        self.join_days: dict[int, int] = {}  # advocate id: how many days ago they opted in

    def add(self, when: datetime, who: User, kind: str, key: str = "", **extra) -> Step:
        step = Step(when, len(self.steps), who, kind, key, **extra)
        self.steps.append(step)
        return step

    def reviewed(self, when: datetime, who: User, key: str, evidence: dict) -> None:
        """A completion a manager approves a few hours to two days later, in the same month."""
        deadline = self.month_start if when < self.month_start else self.now
        self.add(
            when,
            who,
            "do",
            key,
            evidence=evidence,
            text=self.rng.choice(REVIEWER_NOTES),
            review_by=deadline,
        )


def _seed_history(
    session: Session, settings: Settings, manager: User, made: dict[str, Challenge], now: datetime
) -> None:
    rng = random.Random(2026)
    local = now.astimezone(zone(game_settings(session).time_zone))
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    timeline = Timeline(now, month_start.astimezone(now.tzinfo), rng)
    demo = {email: find_user_by_email(session, email) for email in DEMO_ADVOCATES}
    if any(user is None for user in demo.values()):
        return
    _plan_demo_advocates(timeline, demo)
    roster = list(
        session.scalars(
            select(User)
            .where(User.role == Role.ADVOCATE, User.in_program, User.email.not_in(DEMO_ADVOCATES))
            .order_by(User.id)
        )
    )
    leaving, hiding = _plan_roster(timeline, roster)
    _backdate_joining(session, timeline, list(demo.values()))
    first_message = next_message_id(session)
    _play(session, settings, manager, made, timeline)
    _settle_thanks(session, manager, demo.values(), timeline)
    close_the_past(session, now - timedelta(days=1), first_message)
    for user in hiding:
        user.hide_from_leaderboard = True
    for user in leaving:
        opt_out(session, user)
    session.flush()


# the demo advocates the README describes (Emi, who left, and Dev, invited, have no history)
DEMO_ADVOCATES = (
    "ana.ruiz@northwind.example",
    "ben.okafor@globex.example",
    "carla.meyer@initech.example",
)


def _plan_demo_advocates(timeline: Timeline, demo: dict[str, User | None]) -> None:
    """The logins in the README: what each of them has done, and when."""
    now = timeline.now
    ana, ben = demo["ana.ruiz@northwind.example"], demo["ben.okafor@globex.example"]
    carla = demo["carla.meyer@initech.example"]

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    # Ana: one step of the first-visit path done, a few quick ones, a G2 review waiting,
    # and this month the advisory board that made her a Contributor (she hasn't seen it yet)
    timeline.add(ago(40), ana, "do", "profile", evidence={"answer": PROFILE_ANSWERS[0]})
    timeline.add(ago(12), ana, "do", "poll", evidence={"answer": "Customer support"})
    share = {"post_url": "https://www.linkedin.com/posts/ana-ruiz_benchmark"}
    timeline.add(ago(10), ana, "do", "share", evidence=share)
    timeline.add(ago(6), ana, "do", "watch", evidence={"done": True})
    review = {"review_url": "https://www.g2.com/products/vouch/reviews/ana-ruiz", "disclosed": True}
    timeline.add(ago(2), ana, "pending", "review", evidence=review)
    recent = max(timeline.month_start, now - timedelta(hours=20))
    timeline.add(
        recent + (now - recent) * 0.4,
        ana,
        "log",
        "case_study",
        text="Hosted two customer advisory board sessions",
        points=800,
    )

    # Ben: a reference call that closed a deal, a talk staff logged, a referral waiting
    timeline.add(
        ago(20),
        ben,
        "log",
        "webinar",
        text="Spoke on the HIMSS panel our AE arranged",
        points=200,
        big_ask=True,
    )
    call = {"availability": "Tuesdays and Thursdays after 2pm ET"}
    timeline.add(
        ago(9), ben, "do", "call", evidence=call, text="Great call: they signed!", review_by=ago(8)
    )
    timeline.add(
        ago(7),
        ben,
        "badge",
        text="Closed a deal for us on a reference call, two weeks after his HIMSS panel.",
    )
    referral = {
        "name": "Priya Nair",
        "email": "priya.nair@contoso.example",
        "company": "Contoso Health",
        "note": "Evaluating advocacy tools this quarter.",
    }
    timeline.add(ago(3), ben, "pending", "refer", evidence=referral)

    # Carla: points for an introduction, an RSVP, and a review sent back with the reason
    timeline.add(
        ago(8),
        carla,
        "log",
        "referral",
        text="Introduced our AE to her peer at Contoso Bank",
        points=300,
    )
    draft = {"review_url": "https://www.g2.com/products/vouch/reviews/draft-123", "disclosed": True}
    timeline.add(
        ago(4),
        carla,
        "reject",
        "review",
        evidence=draft,
        text="That link goes to your draft; please send the published review.",
    )
    timeline.add(ago(1), carla, "pending", "roadmap")


# activities staff log for the busiest advocates: (type, what they did, points)
LOGGED = {
    "keynote": ("webinar", "Keynote at Vouch Summit", 4_000),
    "board": ("webinar", "Chaired the customer advisory board for a year", 3_000),
    "meetup": ("webinar", "Hosted a regional user group meetup", 2_500),
    "panel": ("webinar", "Spoke on our December customer panel", 1_200),
    "podcast": ("webinar", "Guest on the Vouch customer podcast", 1_500),
    "intros": ("referral", "Introduced our account team to three peers", 1_000),
    "article": ("social_share", "Wrote a LinkedIn article about their rollout", 600),
}
PROFILE_ANSWERS = (
    "I run patient operations; our support team answers every patient message in Vouch.",
    "Head of support: we moved our whole help desk to Vouch last year.",
    "Operations lead. Vouch is where our field teams log every customer visit.",
    "I manage the contact center; Vouch routes and tracks all our calls.",
    "IT director: I rolled Vouch out to four regional offices.",
)
FIRST_ANSWERS = ("Write a review", "Speak at an event", "Talk to prospects", "Share our content")
POLL_ANSWERS = ("Customer support", "Sales", "Marketing", "Operations")
BETA_ANSWERS = (
    "Faster exports, and a dark mode for the night shift.",
    "Let me schedule reports to my whole team.",
    "The new dashboard is great; the mobile view needs work.",
)
AVAILABILITY = ("Weekday mornings CET", "Mondays and Wednesdays after 3pm ET", "Any Friday")
STORY_NOTES = (
    "A 45-minute interview on how we cut response times by a third.",
    "Our rollout story, with figures from the first year.",
)


def _plan_roster(timeline: Timeline, roster: list[User]) -> tuple[list[User], list[User]]:
    """Every level for everyone to see: 3 Legends, 8 Champions, 24 Contributors, 30 who
    have started and the rest not yet; sixteen busy this month. About 320 completions in
    all, so the demo loads in seconds. Returns who leaves the program and who hides."""
    rng = timeline.rng
    people = list(roster)
    rng.shuffle(people)
    legends, champions = people[:3], people[3:11]
    contributors, regulars = people[11:35], people[35:65]
    for who in people[65:]:
        timeline.join_days[who.id] = rng.randint(45, 360)  # joined, nothing done yet
    for who in legends:
        timeline.join_days[who.id] = rng.randint(520, 900)
        historic = [*STARTERS, "poll", "watch", "share", "review", "refer", "story", "beta"]
        historic += [("keynote",), ("board",), ("meetup",)]
        _plan_person(timeline, who, historic, ["share", ("panel",)])
    for n, who in enumerate(champions):
        timeline.join_days[who.id] = rng.randint(520, 900)
        big = "call" if _is_enterprise(who) else "story"
        month = ["share", "story"] if n < 2 else ["share", "refer"] if n < 5 else []
        historic = [*STARTERS, "poll", "share", "review", "refer", ("podcast",)]
        historic.append(rng.choice([("article",), ("intros",), "beta"]))
        if big not in month:
            historic.append(big)
        _plan_person(timeline, who, historic, month)
    for n, who in enumerate(contributors):
        timeline.join_days[who.id] = rng.randint(520, 900) if n % 2 else rng.randint(45, 360)
        starters = list(STARTERS) if rng.random() < 0.6 else rng.sample(STARTERS, 1)
        historic = [*starters, "review", "refer"]
        historic += rng.sample(["watch", "share", "poll", ("article",)], 1)
        if _is_enterprise(who) and n % 2:
            historic.append("call")
        _plan_person(timeline, who, historic, ["share", "refer"] if n < 5 else [])
    for n, who in enumerate(regulars):
        timeline.join_days[who.id] = rng.randint(45, 360)
        historic = rng.sample([*STARTERS, "poll", "share"], rng.randint(1, 2))
        _plan_person(timeline, who, historic, ["share"] if n < 3 else [])
    # a Champion and a Contributor busy this month, and one regular, prefer not to be listed;
    # a Champion busy this month has just left the program
    return [champions[3]], [champions[4], contributors[4], regulars[10]]


STARTERS = ("profile", "guide", "first_question")


def _is_enterprise(who: User) -> bool:
    return who.account is not None and who.account.segment == "Enterprise"


def _plan_person(timeline: Timeline, who: User, historic: list, this_month: list) -> None:
    """Historic actions spread from when they joined (starters first) to just before this
    month; this month's between its first midnight and now."""
    rng, now = timeline.rng, timeline.now
    joined = now - timedelta(days=timeline.join_days[who.id])
    start = max(joined + timedelta(days=1), now - timedelta(days=HISTORY_DAYS))
    end = timeline.month_start - timedelta(days=2)
    for action, when in zip(historic, _spread(rng, len(historic), start, end), strict=True):
        _plan_action(timeline, who, action, when)
    for action, when in zip(
        this_month, _spread(rng, len(this_month), timeline.month_start, now), strict=True
    ):
        _plan_action(timeline, who, action, when)


def _spread(rng: random.Random, count: int, start: datetime, end: datetime) -> list[datetime]:
    return sorted(start + (end - start) * rng.random() for _ in range(count))


def _plan_action(timeline: Timeline, who: User, action, when: datetime) -> None:
    if isinstance(action, tuple):
        type_key, description, points = LOGGED[action[0]]
        points = int(round(points * timeline.rng.uniform(0.85, 1.15), -1))
        timeline.add(when, who, "log", type_key, text=description, points=points)
        return
    evidence = _evidence(timeline.rng, who, action, when)
    if action in ("review", "refer", "call", "story"):
        timeline.reviewed(when, who, action, evidence)
    else:
        timeline.add(when, who, "do", action, evidence=evidence)


def _evidence(rng: random.Random, who: User, key: str, when: datetime) -> dict:
    handle = who.email.split("@")[0].replace(".", "-")
    if key == "review":
        return {
            "review_url": f"https://www.g2.com/products/vouch/reviews/{handle}",
            "disclosed": True,
        }
    if key == "share":
        return {"post_url": f"https://www.linkedin.com/posts/{handle}_benchmark-{when:%Y%m%d}"}
    if key in ("watch", "guide"):
        return {"done": True}
    if key == "poll":
        return {"answer": rng.choice(POLL_ANSWERS)}
    if key == "first_question":
        return {"answer": rng.choice(FIRST_ANSWERS)}
    if key == "profile":
        return {"answer": rng.choice(PROFILE_ANSWERS)}
    if key == "beta":
        return {"answer": rng.choice(BETA_ANSWERS)}
    if key == "call":
        return {"availability": rng.choice(AVAILABILITY)}
    if key == "story":
        return {"notes": rng.choice(STORY_NOTES)}
    if key == "refer":
        first, last = rng.choice(PEERS)
        company = rng.choice([c for c in PEER_COMPANIES if c != who.account.name])
        domain = company.lower().replace(" ", "")
        return {
            "name": f"{first} {last}",
            "email": f"{first}.{last}@{domain}.example".lower(),
            "company": company,
            "note": "Looking at advocacy programs this year.",
        }
    return {}


PEERS = (("Grace", "Lee"), ("Mateo", "Silva"), ("Hana", "Kim"), ("Ravi", "Patel"), ("Ella", "Ford"))
PEER_COMPANIES = ("Contoso Health", "Fabrikam Foods", "Tailspin Travel", "Wingtip Energy")


def _backdate_joining(session: Session, timeline: Timeline, people: list[User]) -> None:
    """When each advocate opted in (the year badge reads it)."""
    demo_days = {
        "ana.ruiz@northwind.example": 200,
        "ben.okafor@globex.example": 600,
        "carla.meyer@initech.example": 300,
    }
    days = {who.id: demo_days[who.email] for who in people if who and who.email in demo_days}
    days.update(timeline.join_days)
    for consent in session.scalars(
        select(ConsentRecord).where(
            ConsentRecord.user_id.in_(list(days)),
            ConsentRecord.opted_out_at.is_(None),
        )
    ):
        joined = timeline.now - timedelta(days=days[consent.user_id])
        consent.opted_in_at = joined
        session.get(User, consent.user_id).created_at = joined - timedelta(days=1)
    session.flush()


def _play(
    session: Session,
    settings: Settings,
    manager: User,
    made: dict[str, Challenge],
    timeline: Timeline,
) -> None:
    """Run every step through the services, in the order things happened."""
    manual = session.scalar(select(Badge.id).where(Badge.rule == "manual", Badge.enabled))
    queue = list(timeline.steps)
    heapq.heapify(queue)
    clock = DemoClock(timeline.now)
    with dated_by(session, clock):
        while queue:
            step = heapq.heappop(queue)
            clock.now = step.when
            try:
                with session.begin_nested():
                    later = _run(session, settings, manager, made, manual, step)
            except DomainError as e:
                print("SKIP", step.kind, step.key, step.who.email, e.message)
                continue  # a limit or the big-ask cap said no, as it would have that day
            if later is not None:
                later.number = len(timeline.steps)
                timeline.steps.append(later)
                heapq.heappush(queue, later)


def _run(session, settings, manager, made, manual_badge_id, step: Step) -> Step | None:
    who, now = step.who, step.when
    if step.kind == "log":
        done = services.log_activity(
            session,
            settings,
            manager,
            who.id,
            step.key,
            step.text,
            now,
            step.points,
            big_ask=step.big_ask,
        )
        done.reviewed_at = now
        return None
    if step.kind == "badge":
        if manual_badge_id is not None:
            give_manual_badge(session, manager, who, manual_badge_id, step.text)
        return None
    if step.kind == "approve":
        done = services.approve(session, settings, manager, step.submission_id, step.text)
        done.reviewed_at = now
        return None
    challenge_id = made[step.key].id
    done = services.submit(session, settings, who, challenge_id, step.evidence, now=now)
    if done.status == SubmissionStatus.APPROVED:
        done.reviewed_at = now
    elif step.kind == "reject":
        services.reject(session, settings, manager, done.id, step.text)
        done.reviewed_at = now + timedelta(hours=20)
    elif step.review_by is not None:
        # reviewed within two days (varied, repeatable), and before the month is out
        delay = min(timedelta(hours=3 + (step.number * 7) % 44), (step.review_by - now) / 2)
        return Step(now + delay, 0, who, "approve", text=step.text, submission_id=done.id)
    return None


def _settle_thanks(session: Session, manager: User, demo_people, timeline: Timeline) -> None:
    """Each thank-you is owed from the approval; the program thanked everyone within the
    week, except this last week (the demo logins' own are left as the README says)."""
    now = timeline.now
    for item in session.scalars(select(ThankYou).join(ThankYou.submission)):
        item.created_at = item.submission.reviewed_at or item.submission.created_at
    session.flush()
    demo_ids = {who.id for who in demo_people if who is not None}
    old = session.scalars(
        select(ThankYou)
        .join(ThankYou.submission)
        .where(
            ThankYou.thanked_at.is_(None),
            ThankYou.created_at < now - timedelta(days=thanks.PROMPT_DAYS),
            Submission.advocate_id.not_in(demo_ids),
        )
    ).all()
    for n, item in enumerate(old):
        item.thanked_at = item.created_at + timedelta(days=1 + n % 9)
        item.thanked_by_id, item.method = manager.id, "other"
        item.note = "Thanked on the monthly advocates' call"
    session.flush()
    said = [("Thanked Ana at the user group dinner", 2), ("Handwritten card from the CEO", 4)]
    theirs = session.scalars(
        select(ThankYou)
        .join(ThankYou.submission)
        .where(Submission.advocate_id.in_(demo_ids))
        .order_by(ThankYou.created_at)
        .limit(2)
    ).all()
    for item, (note, days_later) in zip(theirs, said, strict=True):
        thanks.mark_thanked(session, manager, item.id, note)
        item.thanked_at = item.created_at + timedelta(days=days_later)
    session.flush()
    thanks.recount_thanks_by_day(session)
