"""Demo challenges, groups and submissions for `flask --app wsgi seed-demo`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges import services, thanks
from challenges.authoring import (
    ChallengeFields,
    GroupFields,
    create_challenge,
    publish_challenge,
    save_group,
)
from challenges.models import Challenge, ThankYou
from portal.accounts.models import User
from portal.accounts.services import find_user_by_email
from portal.config import Settings
from portal.db import utcnow

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
]


def seed_challenges(session: Session, settings: Settings, manager: User) -> int:
    """Groups, challenges and a realistic spread of submissions; nothing if any exist."""
    if session.scalar(select(func.count()).select_from(Challenge)):
        return 0
    groups = {fields.name: save_group(session, manager, fields) for fields in GROUPS}
    made: dict[str, Challenge] = {}
    for key, type_key, title, points, extra in CHALLENGES:
        extra = dict(extra)
        ends_in = extra.pop("ends_in_days", None)
        fields = ChallengeFields(
            type=type_key,
            title=title,
            points=points,
            starts_at=utcnow() - timedelta(days=21),
            ends_at=utcnow() + timedelta(days=ends_in) if ends_in else None,
            group_ids=[groups[name].id for name in extra.pop("groups", [])],
            **extra,
        )
        made[key] = create_challenge(session, manager, fields)
        publish_challenge(session, manager, made[key].id)
    create_challenge(
        session,
        manager,
        ChallengeFields(
            type="video",
            title="Record a video for our 10th birthday",
            points=600,
            body="_Draft:_ waiting for the events team to confirm the studio dates.",
        ),
    )
    _seed_submissions(session, settings, manager, made)
    return len(made) + 1


def _seed_submissions(session, settings, manager, made) -> None:
    ana = find_user_by_email(session, "ana.ruiz@northwind.example")
    ben = find_user_by_email(session, "ben.okafor@globex.example")
    carla = find_user_by_email(session, "carla.meyer@initech.example")
    if not (ana and ben and carla):
        return
    now = utcnow()

    def submit(who, key, days_ago, **evidence):
        return services.submit(
            session, settings, who, made[key].id, evidence, now=now - timedelta(days=days_ago)
        )

    submit(ana, "poll", 12, answer="Customer support")
    submit(ana, "share", 10, post_url="https://www.linkedin.com/posts/ana-ruiz_benchmark")
    submit(ana, "watch", 6, done=True)
    submit(
        ana,
        "review",
        2,
        review_url="https://www.g2.com/products/vouch/reviews/ana-ruiz",
        disclosed=True,
    )

    call = submit(ben, "call", 9, availability="Tuesdays and Thursdays after 2pm ET")
    services.approve(session, settings, manager, call.id, "Great call: they signed!")
    submit(
        ben,
        "refer",
        3,
        name="Priya Nair",
        email="priya.nair@contoso.example",
        company="Contoso Health",
        note="Evaluating advocacy tools this quarter.",
    )
    services.log_activity(
        session,
        settings,
        manager,
        ben.id,
        "webinar",
        "Spoke on the HIMSS panel our AE arranged",
        now - timedelta(days=20),
        200,
        big_ask=True,
    )

    services.log_activity(
        session,
        settings,
        manager,
        ana.id,
        "case_study",
        "Hosted two customer advisory board sessions",
        now - timedelta(days=15),
        800,
    )
    services.log_activity(
        session,
        settings,
        manager,
        carla.id,
        "referral",
        "Introduced our AE to her peer at Contoso Bank",
        now - timedelta(days=8),
        300,
    )

    submit(carla, "roadmap", 1)
    rejected = submit(
        carla,
        "review",
        4,
        review_url="https://www.g2.com/products/vouch/reviews/draft-123",
        disclosed=True,
    )
    services.reject(
        session,
        settings,
        manager,
        rejected.id,
        "That link goes to your draft; please send the published review.",
    )
    session.flush()

    # thank-yous owed since the work was done; the two oldest were said within the week
    for item in session.scalars(select(ThankYou)):
        item.created_at = item.submission.created_at
    session.flush()
    said = [("Thanked Ana at the user group dinner", 2), ("Handwritten card from the CEO", 4)]
    oldest = session.scalars(select(ThankYou).order_by(ThankYou.created_at).limit(2)).all()
    for item, (note, days_later) in zip(oldest, said, strict=True):
        thanks.mark_thanked(session, manager, item.id, note)
        item.thanked_at = item.created_at + timedelta(days=days_later)
    session.flush()
    thanks.recount_thanks_by_day(session)
