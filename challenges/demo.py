"""Demo challenges, groups, submissions and the program's story for
`flask --app wsgi seed-demo`.

A program set up thirteen months ago, piloted, launched nine months ago, played through
the real services in the order things happened (submit, approve, log an activity, give a
badge, thank, redeem, deliver, offer a gift, invite, leave), so ledger entries, period
totals, levels, badges, the feed, notifications, mail and the audit log come out of the
code paths a real program uses; the demo clock dates each row when it happened
(points.demo.dated_by), and no two actions share a minute."""

from __future__ import annotations

import heapq
import random
import struct
import zlib
from collections.abc import Callable
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
from challenges.models import (
    AdvocateGroup,
    Challenge,
    Submission,
    SubmissionStatus,
    ThankYou,
)
from points import redemptions as flow
from points.demo import (
    DemoClock,
    close_the_past,
    next_message_id,
    read_by_last_visit,
    reward_named,
)
from points.models import Badge, Redemption
from points.program import game_settings, zone
from portal.accounts.models import ConsentRecord, ProfileConfirmation, Role, User
from portal.accounts.services import find_account_by_name, find_user_by_email, set_declines_gifts
from portal.auth.confirmation import confirm_profile, leave_company
from portal.auth.services import invite_user, opt_out
from portal.config import Settings
from portal.db import utcnow
from portal.errors import DomainError
from portal.mail.models import OutboxMessage
from portal.mail.services import mark_unreachable
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
                "attendance_code": "SPRING27",
            },
            "event_in_days": (107, 15),  # (days from now, hour UTC): a spring webinar
            "event_minutes": 45,
            "join_url": "https://meet.vouch.example/spring-webinar",
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
                "attendance_code": "ROADMAP",
            },
            "event_in_days": (3, 17),
            "event_minutes": 60,
            "join_url": "https://meet.vouch.example/roadmap-preview",
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


# the story's calendar, in days before today
SETUP_DAYS = 412  # staff, the customer accounts, the catalog and the first challenges
PILOT_DAYS = 400  # the pilot: founding advocates joined in its first weeks
LAUNCH_DAYS = 270  # the program opened to every customer
# challenges that went live later; the others opened with the pilot
PUBLISHED_DAYS = {"share": 268, "beta": 120, "watch": 45, "speak": 21, "roadmap": 12}
DRAFTED_DAYS = 9
REVIEWER_NOTES = (
    "Thank you!",
    "Great, thanks for doing this.",
    "Lovely post, thank you.",
    "Thanks: the team loved it.",
    "",
)


@dataclass
class Story:
    """What every step of the demo's story needs: who runs the program, the clock, and the
    challenges made so far."""

    session: Session
    settings: Settings
    manager: User
    admin: User
    clock: DemoClock
    now: datetime  # today: the story ends here
    groups: dict[str, AdvocateGroup]
    made: dict[str, Challenge] = field(default_factory=dict)
    manual_badge_id: int | None = None


def seed_challenges(
    session: Session,
    settings: Settings,
    manager: User,
    admin: User,
    clock: DemoClock,
    now: datetime,
    more: Callable[[Story, Timeline], None] | None = None,
) -> int:
    """Groups, challenges (with covers) and the program's months played through the
    services, in the order things happened; nothing if any challenge exists. `more` plans
    the steps of the packages above this one into the same timeline."""
    if session.scalar(select(func.count()).select_from(Challenge)):
        return 0
    clock.now = (now - timedelta(days=SETUP_DAYS - 6)).replace(hour=14, minute=0, second=0)
    groups = {}
    for fields in GROUPS:
        groups[fields.name] = save_group(session, manager, fields)
        clock.tick()
    story = Story(session, settings, manager, admin, clock, now, groups)
    for key, *_ in CHALLENGES:
        if key not in PUBLISHED_DAYS:
            _open_challenge(story, key)
    _seed_history(story, more)
    return len(CHALLENGES) + 1


def _open_challenge(story: Story, key: str) -> Challenge:
    """Write a challenge, give it its cover and publish it, a few minutes apart."""
    session, manager, now = story.session, story.manager, story.now
    _, type_key, title, points, extra = next(spec for spec in CHALLENGES if spec[0] == key)
    extra = dict(extra)
    ends_in = extra.pop("ends_in_days", None)
    event_in = extra.pop("event_in_days", None)
    fields = ChallengeFields(
        type=type_key,
        title=title,
        points=points,
        starts_at=story.clock.now,
        ends_at=now + timedelta(days=ends_in) if ends_in else None,
        event_at=_event_time(now, *event_in) if event_in else None,
        group_ids=[story.groups[name].id for name in extra.pop("groups", [])],
        **extra,
    )
    challenge = create_challenge(session, manager, fields)
    _add_cover(session, story.settings, challenge, key)
    story.clock.tick()
    publish_challenge(session, manager, challenge.id)
    story.clock.tick()
    story.made[key] = challenge
    return challenge


def _draft_challenge(story: Story) -> None:
    draft = create_challenge(
        story.session,
        story.manager,
        ChallengeFields(
            type="video",
            title="Record a video for our 10th birthday",
            points=600,
            body="_Draft:_ waiting for the events team to confirm the studio dates.",
        ),
    )
    _add_cover(story.session, story.settings, draft, "video")


def _event_time(now: datetime, days: int, hour: int) -> datetime:
    """An event on the hour, `days` from now (UTC)."""
    return (now + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


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
    # do, pending, approve, reject, log, badge, thank, redeem, fulfil, offer, accept,
    # publish, draft, invite, declines, leave, left_company, confirm, bounce
    kind: str = field(compare=False)
    key: str = field(compare=False, default="")  # a challenge, a logged type, a reward
    evidence: dict = field(compare=False, default_factory=dict)
    text: str = field(compare=False, default="")  # reviewer's note, description, reason
    points: int = field(compare=False, default=0)
    big_ask: bool = field(compare=False, default=False)
    review_by: datetime | None = field(compare=False, default=None)  # approved before this
    ref: int | None = field(compare=False, default=None)  # the submission, offer... acted on
    # kind "act": a step of a package above this one (the references demo), which returns
    # what follows from it
    act: Callable[[], list[Step]] | None = field(compare=False, default=None)


class Timeline:
    def __init__(self, now: datetime, month_start: datetime, rng: random.Random) -> None:
        self.now, self.month_start, self.rng = now, month_start, rng
        self.steps: list[Step] = []
        self.join_days: dict[int, float] = {}  # advocate id: how many days ago they opted in
        self.demo_ids: set[int] = set()  # the README's logins: thanked as it says
        self.bouncing: int | None = None  # whose address bounces after their first approval

    def add(self, when: datetime, who: User, kind: str, key: str = "", **extra) -> Step:
        step = Step(when, len(self.steps), who, kind, key, **extra)
        self.steps.append(step)
        return step

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def published(self, key: str) -> datetime:
        """When a challenge that went live later was published (at 15:00 UTC that day)."""
        return self.ago(PUBLISHED_DAYS[key]).replace(hour=15, minute=0, second=0, microsecond=0)

    def live(self, key: str, when: datetime) -> datetime:
        """No one completes a challenge before it is published."""
        if key not in PUBLISHED_DAYS:
            return when
        opened = self.published(key) + timedelta(hours=2)
        if when >= opened:
            return when
        return opened + min(timedelta(days=10), (self.now - opened) / 3) * self.rng.random()

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


def _seed_history(story: Story, more: Callable[[Story, Timeline], None] | None = None) -> None:
    session, now = story.session, story.now
    rng = random.Random(2026)
    local = now.astimezone(zone(game_settings(session).time_zone))
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    timeline = Timeline(now, month_start.astimezone(now.tzinfo), rng)
    demo = {email: find_user_by_email(session, email) for email in DEMO_ADVOCATES}
    if any(user is None for user in demo.values()):
        return
    timeline.demo_ids = {user.id for user in demo.values()}
    _plan_program(timeline, story)
    _plan_demo_advocates(timeline, demo)
    roster = list(
        session.scalars(
            select(User)
            .where(User.role == Role.ADVOCATE, User.in_program, User.email.not_in(DEMO_ADVOCATES))
            .order_by(User.id)
        )
    )
    leaving, hiding = _plan_roster(timeline, roster)
    if more is not None:
        more(story, timeline)
    _backdate_joining(session, timeline)
    first_message = next_message_id(session)
    _play(story, timeline)
    story.clock.now = now - timedelta(minutes=1)
    for user in hiding:
        user.hide_from_leaderboard = True
    for user in leaving:
        opt_out(session, user)
    _last_visits(session, story)
    session.flush()
    close_the_past(session, now - timedelta(days=1), first_message)
    read_by_last_visit(session)
    thanks.recount_thanks_by_day(session)
    session.flush()


# the demo advocates the README describes (Dev, invited, has no history)
DEMO_ADVOCATES = (
    "ana.ruiz@northwind.example",
    "ben.okafor@globex.example",
    "carla.meyer@initech.example",
    "emi.tanaka@umbrella.example",
    "marta.gomez@initech.example",
    "raj.mehta@northwind.example",
)
# days ago each joined (Ben and Raj in the pilot)
DEMO_JOINED = {
    "ana.ruiz@northwind.example": 130,
    "ben.okafor@globex.example": 395,
    "carla.meyer@initech.example": 250,
    "emi.tanaka@umbrella.example": 200,
    "marta.gomez@initech.example": 150,
    "raj.mehta@northwind.example": 392,
}


def _plan_program(timeline: Timeline, story: Story) -> None:
    """What staff did besides reviewing: later challenges, a draft, an invitation."""
    manager = story.manager
    for key in PUBLISHED_DAYS:
        timeline.add(timeline.published(key), manager, "publish", key)
    timeline.add(timeline.ago(DRAFTED_DAYS), manager, "draft")
    # this morning: its email (the link to follow) is still to go out when `make run` starts
    timeline.add(
        timeline.ago(0.2), manager, "invite", "Acme Retail", text="dev.sharma@acme.example"
    )


def _plan_demo_advocates(timeline: Timeline, demo: dict[str, User | None]) -> None:
    """The logins in the README: what each of them has done, and when."""
    now, ago = timeline.now, timeline.ago
    ana, ben = demo["ana.ruiz@northwind.example"], demo["ben.okafor@globex.example"]
    carla, emi = demo["carla.meyer@initech.example"], demo["emi.tanaka@umbrella.example"]
    marta, raj = demo["marta.gomez@initech.example"], demo["raj.mehta@northwind.example"]
    for who in demo.values():
        timeline.join_days[who.id] = DEMO_JOINED[who.email]

    # Ana: one step of the first-visit path, a referral Maya thanked her for with a gift
    # card, a hoodie still to ship, a G2 review and an RSVP waiting, and today the advisory
    # board that made her a Contributor (she hasn't seen it yet) and another offer
    timeline.add(ago(128), ana, "do", "profile", evidence={"answer": PROFILE_ANSWERS[0]})
    referral = {
        "name": "Daniel Cho",
        "email": "daniel.cho@fabrikamhealth.example",
        "company": "Fabrikam Health",
        "note": "Runs patient support at a sister hospital.",
    }
    timeline.reviewed(ago(95), ana, "refer", referral)
    timeline.add(
        ago(92),
        ana,
        "offer",
        "Amazon.com gift card, $25",
        text="Thank you for introducing us to Fabrikam Health, Ana!",
        evidence={"accept_in_hours": 9, "fulfil": (20, "AMZN-7Q4K-22XP-9LMT")},
    )
    timeline.add(ago(70), ana, "do", "beta", evidence={"answer": BETA_ANSWERS[2]})
    share = {"post_url": "https://www.linkedin.com/posts/ana-ruiz_benchmark"}
    timeline.add(ago(45), ana, "do", "share", evidence=share)
    hoodie = "Ana Ruiz\n200 Harbor Street\nBoston, MA 02110\nSize M"
    # waits past the age limit to deliver (10 days): it leads its queue
    timeline.add(
        ago(12 + 2 / 24),
        ana,
        "redeem",
        "Vouch hoodie",
        text="demo-hoodie",
        evidence={"address": hoodie},
    )
    timeline.add(ago(12), ana, "do", "poll", evidence={"answer": "Customer support"})
    share = {"post_url": "https://www.linkedin.com/posts/ana-ruiz_benchmark-nov"}
    timeline.add(ago(10), ana, "do", "share", evidence=share)
    timeline.add(ago(6), ana, "do", "watch", evidence={"done": True})
    timeline.add(ago(2.6), ana, "pending", "roadmap")
    review = {"review_url": "https://www.g2.com/products/vouch/reviews/ana-ruiz", "disclosed": True}
    timeline.add(ago(2), ana, "pending", "review", evidence=review)
    recent = max(timeline.month_start, now - timedelta(hours=20))
    board = recent + (now - recent) * 0.4
    timeline.add(
        board,
        ana,
        "log",
        "case_study",
        text="Hosted two customer advisory board sessions",
        points=800,
    )
    timeline.add(
        board + (now - board) * 0.5,
        ana,
        "offer",
        "Amazon.com gift card, $25",
        text="Thank you for hosting the advisory board, Ana!",
    )

    # Ben, with us since the pilot: a G2 review, a reference call that closed a deal, a
    # talk staff logged, a donation made, a referral and a newsletter feature waiting
    timeline.add(ago(393), ben, "do", "profile", evidence={"answer": PROFILE_ANSWERS[4]})
    timeline.add(ago(380), ben, "do", "poll", evidence={"answer": "Operations"})
    share = {"post_url": "https://www.linkedin.com/posts/ben-okafor_benchmark"}
    timeline.add(ago(250), ben, "do", "share", evidence=share)
    review = {
        "review_url": "https://www.g2.com/products/vouch/reviews/ben-okafor",
        "disclosed": True,
    }
    timeline.reviewed(ago(210), ben, "review", review)
    timeline.add(ago(33), ben, "confirm")
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
    timeline.add(
        ago(6.5),
        ben,
        "redeem",
        "Donate $25 to Doctors Without Borders",
        text="demo-donation",
        evidence={"fulfil": (22, "MSF receipt 2026-118734")},
    )
    referral = {
        "name": "Priya Nair",
        "email": "priya.nair@contoso.example",
        "company": "Contoso Health",
        "note": "Evaluating advocacy tools this quarter.",
    }
    timeline.add(ago(3), ben, "pending", "refer", evidence=referral)
    timeline.add(
        ago(1.8), ben, "redeem", "Featured in our customer newsletter", text="demo-newsletter"
    )

    # Carla: points for an introduction, no more gifts, a donation waiting for an admin (it
    # waits past the 3 days to decide, so it leads its queue), a review sent back, an RSVP
    timeline.add(ago(248), carla, "do", "profile", evidence={"answer": PROFILE_ANSWERS[3]})
    timeline.add(ago(247.9), carla, "do", "guide", evidence={"done": True})
    timeline.add(ago(200), carla, "do", "poll", evidence={"answer": "Customer support"})
    timeline.add(
        ago(8),
        carla,
        "log",
        "referral",
        text="Introduced our AE to her peer at Contoso Bank",
        points=300,
    )
    # her bank's new rule: she asks us to send her no gifts (the request waits for an admin)
    timeline.add(ago(6), carla, "declines", text="Our compliance team says no gifts at all.")
    timeline.add(ago(5 + 3 / 24), carla, "redeem", "Donate €10 to Code Club", text="demo-code-club")
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

    # Emi tried it for a while and left the program
    timeline.add(ago(198), emi, "do", "profile", evidence={"answer": PROFILE_ANSWERS[1]})
    timeline.add(ago(160), emi, "do", "poll", evidence={"answer": "Sales"})
    timeline.add(ago(40), emi, "leave")

    # Marta reads the hub in Spanish: the first-visit path done, a review, a share
    timeline.add(ago(149), marta, "do", "profile", evidence={"answer": PROFILE_ANSWERS[3]})
    timeline.add(ago(148.9), marta, "do", "guide", evidence={"done": True})
    first = {"answer": "Write a review"}
    timeline.add(ago(148.8), marta, "do", "first_question", evidence=first)
    review = {
        "review_url": "https://www.g2.com/products/vouch/reviews/marta-gomez",
        "disclosed": True,
    }
    timeline.reviewed(ago(90), marta, "review", review)
    timeline.add(ago(33), marta, "do", "poll", evidence={"answer": "Customer support"})
    share = {"post_url": "https://www.linkedin.com/posts/marta-gomez_benchmark"}
    timeline.add(ago(3), marta, "do", "share", evidence=share)

    # Raj joined in the pilot, confirmed his role then and never since: he is asked again
    timeline.add(ago(391.9), raj, "confirm")
    timeline.add(ago(391), raj, "do", "profile", evidence={"answer": PROFILE_ANSWERS[2]})
    timeline.add(ago(385), raj, "do", "poll", evidence={"answer": "Operations"})
    timeline.reviewed(ago(300), raj, "refer", _evidence(timeline.rng, raj, "refer", ago(300)))


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
    have started and the rest not yet; sixteen busy this month. Founding members joined in
    the pilot, most at the launch or since. Returns who leaves the program and who hides."""
    rng = timeline.rng
    people = list(roster)
    rng.shuffle(people)
    legends, champions = people[:3], people[3:11]
    contributors, regulars = people[11:35], people[35:65]
    for who in people[65:]:
        timeline.join_days[who.id] = rng.uniform(20, LAUNCH_DAYS - 5)  # nothing done yet
    for who in legends:
        timeline.join_days[who.id] = rng.uniform(PILOT_DAYS - 20, PILOT_DAYS - 2)
        historic = [*STARTERS, "poll", "watch", "share", "review", "refer", "story", "beta"]
        historic += [("keynote",), ("board",), ("meetup",)]
        _plan_person(timeline, who, historic, ["share", ("panel",)])
    for n, who in enumerate(champions):
        pilot = n < 3
        timeline.join_days[who.id] = (
            rng.uniform(PILOT_DAYS - 20, PILOT_DAYS - 2) if pilot else rng.uniform(200, LAUNCH_DAYS)
        )
        big = "call" if _is_enterprise(who) else "story"
        month = ["share", "story"] if n < 2 else ["share", "refer"] if n < 5 else []
        historic = [*STARTERS, "poll", "share", "review", "refer", ("podcast",)]
        historic.append(rng.choice([("article",), ("intros",), "beta"]))
        if big not in month:
            historic.append(big)
        _plan_person(timeline, who, historic, month)
    for n, who in enumerate(contributors):
        timeline.join_days[who.id] = (
            rng.uniform(150, LAUNCH_DAYS) if n % 2 else rng.uniform(45, 200)
        )
        starters = list(STARTERS) if rng.random() < 0.6 else rng.sample(STARTERS, 1)
        historic = [*starters, "review", "refer"]
        historic += rng.sample(["watch", "share", "poll", ("article",)], 1)
        if _is_enterprise(who) and n % 2:
            historic.append("call")
        _plan_person(timeline, who, historic, ["share", "refer"] if n < 5 else [])
    for n, who in enumerate(regulars):
        timeline.join_days[who.id] = rng.uniform(45, 250)
        historic = rng.sample([*STARTERS, "poll", "share"], rng.randint(1, 2))
        _plan_person(timeline, who, historic, ["share"] if n < 3 else [])
    # the founding members confirmed their company and role within the year
    for who in people:
        joined = timeline.join_days[who.id]
        if joined > 365:
            timeline.add(timeline.ago(joined - rng.uniform(340, 360)), who, "confirm")
    # one told us last month they left their company (nothing of theirs comes after); one
    # address has bounced since
    leaver, left_at = contributors[7], timeline.ago(25)
    timeline.steps = [s for s in timeline.steps if s.who is not leaver or s.when < left_at]
    timeline.add(left_at, leaver, "left_company")
    timeline.bouncing = regulars[12].id
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
    start = now - timedelta(days=timeline.join_days[who.id] - 1)
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
    when = timeline.live(action, when)
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


def _backdate_joining(session: Session, timeline: Timeline) -> None:
    """When each advocate opted in (the year badge reads it): their accounts were set up
    before the pilot, each person joined when the story says."""
    days = timeline.join_days
    for consent in session.scalars(
        select(ConsentRecord).where(
            ConsentRecord.user_id.in_(list(days)),
            ConsentRecord.opted_out_at.is_(None),
        )
    ):
        consent.opted_in_at = timeline.ago(days[consent.user_id])
    session.flush()


# no two actions in one minute: the audit log reads as one person's day after another's
SPACING = timedelta(seconds=61)


def _play(story: Story, timeline: Timeline) -> None:
    """Run every step through the services, in the order things happened."""
    session, clock = story.session, story.clock
    story.manual_badge_id = session.scalar(
        select(Badge.id).where(Badge.rule == "manual", Badge.enabled)
    )
    queue = list(timeline.steps)
    heapq.heapify(queue)
    last = clock.now
    while queue:
        step = heapq.heappop(queue)
        # a step planned in the same minute as the last waits a minute (unless that would
        # pass today: the first minutes of a month crowd this month's board)
        if step.when < last + SPACING and last + SPACING < timeline.now:
            step.when = last + SPACING
        clock.now = step.when
        try:
            with session.begin_nested():
                later = _run(story, timeline, step)
        except DomainError as e:
            print("SKIP", step.kind, step.key, step.who.email, e.message)
            continue  # a limit or the big-ask cap said no, as it would have that day
        last = max(last, clock.now)
        for next_step in later:
            if next_step.when >= timeline.now:
                continue  # it has not happened yet
            next_step.number = len(timeline.steps)
            timeline.steps.append(next_step)
            heapq.heappush(queue, next_step)


def _run(story: Story, timeline: Timeline, step: Step) -> list[Step]:
    """One step through the services; returns what follows from it (a review, a thank-you,
    a delivery)."""
    session, settings, manager = story.session, story.settings, story.manager
    who, now = step.who, step.when
    if step.act is not None:
        return step.act()
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
        return _after_approval(story, timeline, who, done)
    if step.kind == "approve":
        done = services.approve(session, settings, manager, step.ref, step.text)
        return _after_approval(story, timeline, who, done)
    if step.kind in ("do", "pending", "reject"):
        return _submit(story, timeline, step)
    if step.kind == "send_back":
        services.reject(session, settings, manager, step.ref, step.text)
    elif step.kind == "thank":
        thanks.mark_thanked(session, manager, step.ref, step.text)
    elif step.kind in ("redeem", "offer", "accept", "fulfil"):
        return _reward_step(story, step)
    elif step.kind == "badge" and story.manual_badge_id is not None:
        give_manual_badge(session, manager, who, story.manual_badge_id, step.text)
    elif step.kind == "publish":
        _open_challenge(story, step.key)
    elif step.kind == "draft":
        _draft_challenge(story)
    elif step.kind == "invite":
        account = find_account_by_name(session, step.key)
        invite_user(session, settings, manager, step.text, Role.ADVOCATE, account)
    elif step.kind == "declines":
        set_declines_gifts(session, who, True, step.text)
    elif step.kind == "leave":
        opt_out(session, who)
    elif step.kind == "left_company":
        leave_company(session, settings, who)
    elif step.kind == "confirm":
        confirm_profile(session, who, who.title, who.job_level)
    elif step.kind == "bounce":
        _bounce(session, who)
    return []


def _submit(story: Story, timeline: Timeline, step: Step) -> list[Step]:
    session, settings, who, now = story.session, story.settings, step.who, step.when
    challenge_id = story.made[step.key].id
    done = services.submit(session, settings, who, challenge_id, step.evidence, now=now)
    if done.status == SubmissionStatus.APPROVED:
        return _after_approval(story, timeline, who, done)
    if step.kind == "reject":  # sent back the next working day
        return [Step(now + timedelta(hours=20), 0, who, "send_back", text=step.text, ref=done.id)]
    if step.review_by is not None:
        # reviewed within two days (varied, repeatable), and before the month is out
        delay = min(timedelta(hours=3 + (step.number * 7) % 44), (step.review_by - now) / 2)
        return [Step(now + delay, 0, who, "approve", text=step.text, ref=done.id)]
    return []


DEMO_THANKS = (
    "Thanked {name} at the user group dinner",
    "Handwritten card from the CEO",
    "Thanked {name} on the monthly advocates' call",
)
ROSTER_THANKS = (
    "Thanked on the monthly advocates' call",
    "Called to say thank you",
    "A note from their account manager",
)


def _after_approval(
    story: Story, timeline: Timeline, who: User, submission: Submission
) -> list[Step]:
    """Each approval is owed a thank-you: the program thanks people within the week
    (a few late), except this last week's; the README's logins keep their last two weeks'
    open. The address that bounces does so after its first approval email."""
    later = []
    if timeline.bouncing == who.id:
        timeline.bouncing = None
        later.append(Step(story.clock.now + timedelta(hours=1), 0, who, "bounce"))
    item_id = story.session.scalar(
        select(ThankYou.id).where(ThankYou.submission_id == submission.id)
    )
    approved, n = story.clock.now, len(timeline.steps)
    if item_id is None:
        return later
    if who.id in timeline.demo_ids:
        if approved > timeline.ago(14):
            return later
        note = DEMO_THANKS[n % len(DEMO_THANKS)].format(name=who.name.split(" ")[0])
        delay = timedelta(days=2 + n % 3, hours=timeline.rng.uniform(1, 6))
    else:
        if approved > timeline.ago(thanks.PROMPT_DAYS):
            return later
        late = 3 if n % 13 == 0 else 0
        note = ROSTER_THANKS[n % len(ROSTER_THANKS)]
        delay = timedelta(days=1 + n % 6 + late, hours=timeline.rng.uniform(1, 8))
    later.append(Step(approved + delay, 0, who, "thank", text=note, ref=item_id))
    return later


def _reward_step(story: Story, step: Step) -> list[Step]:
    """Redemptions and gift offers, and what staff did about them later."""
    session, settings, who, now = story.session, story.settings, step.who, step.when
    fulfil = step.evidence.get("fulfil")
    if step.kind == "redeem":
        reward = reward_named(session, step.key)
        done = flow.redeem(
            session, settings, who, reward.id, step.text, step.evidence.get("address", ""), now=now
        )
        redemption_id = done.id
    elif step.kind == "offer":
        reward = reward_named(session, step.key)
        offer = flow.offer_gift(session, settings, story.manager, who.id, reward.id, step.text)
        hours = step.evidence.get("accept_in_hours")
        if hours is None:
            return []
        evidence = {"fulfil": fulfil} if fulfil else {}
        return [
            Step(now + timedelta(hours=hours), 0, who, "accept", ref=offer.id, evidence=evidence)
        ]
    elif step.kind == "accept":
        redemption_id = flow.accept_offer(session, settings, who, step.ref, "").redemption_id
    else:
        flow.fulfil_redemption(session, settings, story.admin, step.ref, step.text)
        return []
    if not fulfil:
        return []
    hours, reference = fulfil
    return [
        Step(
            now + timedelta(hours=hours),
            0,
            story.admin,
            "fulfil",
            text=reference,
            ref=redemption_id,
        )
    ]


BOUNCE = "550 5.1.1 <{email}>: Recipient address rejected: user unknown"


def _bounce(session: Session, who: User) -> None:
    """Their mail server refused the last email: it is marked, and so is the address."""
    reason = BOUNCE.format(email=who.email)
    message = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.to_email == who.email)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).first()
    if message is not None:
        message.bounced_at, message.last_error, message.attempts = utcnow(), reason, 1
    mark_unreachable(session, who.email, reason)


def _last_visits(session: Session, story: Story) -> None:
    """When each person last logged in: advocates when they last did something themselves
    (or joined, or left), staff this morning."""
    seen: dict[int, datetime] = {}

    def saw(rows) -> None:
        for user_id, when in rows:
            if when is not None and (user_id not in seen or when > seen[user_id]):
                seen[user_id] = when

    saw(
        session.execute(
            select(Submission.advocate_id, func.max(Submission.created_at))
            .where(Submission.logged_by_id.is_(None))
            .group_by(Submission.advocate_id)
        )
    )
    saw(
        session.execute(
            select(Redemption.advocate_id, func.max(Redemption.created_at)).group_by(
                Redemption.advocate_id
            )
        )
    )
    saw(
        session.execute(
            select(ConsentRecord.user_id, func.max(ConsentRecord.opted_in_at)).group_by(
                ConsentRecord.user_id
            )
        )
    )
    saw(
        session.execute(
            select(ConsentRecord.user_id, func.max(ConsentRecord.opted_out_at)).group_by(
                ConsentRecord.user_id
            )
        )
    )
    saw(session.execute(select(ProfileConfirmation.user_id, ProfileConfirmation.created_at)))
    seen[story.manager.id] = story.now - timedelta(minutes=50)
    seen[story.admin.id] = story.now - timedelta(hours=2)
    for user in session.scalars(select(User).where(User.id.in_(list(seen)))):
        user.last_login_at = seen[user.id] + timedelta(minutes=-2)
