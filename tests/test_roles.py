"""Every registered route, as anonymous, advocate, manager, admin and sales, against the role
matrix."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from challenges.badges import ensure_default_badges
from challenges.models import AdvocateGroup
from points.levels import ensure_default_levels
from points.models import Badge, Level
from points.redemptions import offer_gift
from portal.accounts.models import Account
from portal.db import utcnow
from references.models import (
    AccountFlag,
    AskStatus,
    ConversationLevel,
    DealStage,
    FlagKind,
    ImportStatus,
    ReferenceAsk,
    ReferenceRequest,
    SurveyImport,
)
from tests.factories import PNG, SETTINGS, login

ROLES = ("anonymous", "advocate", "manager", "admin", "sales")
LOGIN = "login"  # a redirect to the login page

# endpoint prefix or name -> expected answer per role
MATRIX = {
    "index": {"anonymous": LOGIN, "advocate": 302, "manager": 302, "admin": 302, "sales": 302},
    "healthz": dict.fromkeys(ROLES, 200),
    "favicon": dict.fromkeys(ROLES, 200),
    "security.csp_report": dict.fromkeys(ROLES, 400),  # an empty body is no CSP report
    "auth.login": {"anonymous": 200, "advocate": 302, "manager": 302, "admin": 302, "sales": 302},
    "auth.forgot_password": dict.fromkeys(ROLES, 200),
    "auth.reset_password": dict.fromkeys(ROLES, 400),  # with a made-up token
    "auth.accept_invitation": dict.fromkeys(ROLES, 400),
    "auth.logout": dict.fromkeys(ROLES, 302),
    "auth.choose_language": dict.fromkeys(ROLES, 302),
    "auth.change_password": {
        "anonymous": LOGIN,
        "advocate": 200,
        "manager": 200,
        "admin": 200,
        "sales": 200,
    },
    "play.challenge_cover": {
        "anonymous": LOGIN,
        "advocate": 200,
        "manager": 200,
        "admin": 200,
        "sales": 404,
    },
    # the matrix's challenge is a review: no event, no invite (tests/test_events.py has them)
    "play.event_invite": {
        "anonymous": LOGIN,
        "advocate": 404,
        "manager": 403,
        "admin": 403,
        "sales": 403,
    },
    "admin.level_image": {
        "anonymous": LOGIN,
        "advocate": 200,
        "manager": 200,
        "admin": 200,
        "sales": 200,
    },
    "admin.badge_image": {
        "anonymous": LOGIN,
        "advocate": 200,
        "manager": 200,
        "admin": 200,
        "sales": 200,
    },
    "admin.audit_csv": {
        "anonymous": LOGIN,
        "advocate": 403,
        "manager": 403,
        "admin": 200,
        "sales": 403,
    },
    # a member is sent on to the hub
    "hub.join": {"anonymous": LOGIN, "advocate": 302, "manager": 403, "admin": 403, "sales": 403},
    "hub.person": {"anonymous": LOGIN, "advocate": 200, "manager": 200, "admin": 200, "sales": 200},
    "inbox.notifications": {
        "anonymous": LOGIN,
        "advocate": 200,
        "manager": 403,
        "admin": 403,
        "sales": 403,
    },
    "notifications.": dict.fromkeys(ROLES, 404),  # unsubscribe links, here a made-up token
    # an advocate's board; staff and sales are sent to theirs
    "boards.board": {
        "anonymous": LOGIN,
        "advocate": 200,
        "manager": 302,
        "admin": 302,
        "sales": 302,
    },
    "boards.": {"anonymous": LOGIN, "advocate": 403, "manager": 200, "admin": 200, "sales": 403},
    "hub.": {"anonymous": LOGIN, "advocate": 200, "manager": 403, "admin": 403, "sales": 403},
    "manage.": {"anonymous": LOGIN, "advocate": 403, "manager": 200, "admin": 200, "sales": 403},
    "admin.": {"anonymous": LOGIN, "advocate": 403, "manager": 403, "admin": 200, "sales": 403},
    "authoring.": {"anonymous": LOGIN, "advocate": 403, "manager": 200, "admin": 200, "sales": 403},
    "review.": {"anonymous": LOGIN, "advocate": 403, "manager": 200, "admin": 200, "sales": 403},
    "play.": {"anonymous": LOGIN, "advocate": 200, "manager": 403, "admin": 403, "sales": 403},
    "rewards.": {"anonymous": LOGIN, "advocate": 200, "manager": 403, "admin": 403, "sales": 403},
    "offers.": {"anonymous": LOGIN, "advocate": 403, "manager": 200, "admin": 200, "sales": 403},
    "fulfilment.": {
        "anonymous": LOGIN,
        "advocate": 403,
        "manager": 403,
        "admin": 200,
        "sales": 403,
    },
    # the program's boundaries: managers and admins only (the view refuses sales)
    "requests.settings": {
        "anonymous": LOGIN,
        "advocate": 403,
        "manager": 200,
        "admin": 200,
        "sales": 403,
    },
    # time to coordinate, per relationship owner: managers and admins (the view refuses sales)
    "follow_up.timing": {
        "anonymous": LOGIN,
        "advocate": 403,
        "manager": 200,
        "admin": 200,
        "sales": 403,
    },
    "requests.": {"anonymous": LOGIN, "advocate": 403, "manager": 200, "admin": 200, "sales": 200},
    "follow_up.": {"anonymous": LOGIN, "advocate": 403, "manager": 200, "admin": 200, "sales": 200},
    "matching.": {"anonymous": LOGIN, "advocate": 403, "manager": 200, "admin": 200, "sales": 403},
    "asks.": {"anonymous": LOGIN, "advocate": 403, "manager": 200, "admin": 200, "sales": 403},
    "surveys.": {"anonymous": LOGIN, "advocate": 403, "manager": 200, "admin": 200, "sales": 403},
    "hub_asks.": {"anonymous": LOGIN, "advocate": 200, "manager": 403, "admin": 403, "sales": 403},
}


def expected(endpoint: str, role: str):
    for key, answers in MATRIX.items():
        if endpoint == key or (key.endswith(".") and endpoint.startswith(key)):
            return answers[role]
    raise AssertionError(f"{endpoint} is missing from the role matrix in tests/test_roles.py")


@pytest.fixture
def world(make):
    account = make.account("Matrix Co")
    people = {
        "advocate": make.advocate("adv@matrix.example", account=account),
        "manager": make.manager("mgr@matrix.example"),
        "admin": make.admin("adm@matrix.example"),
        "sales": make.sales("sales@matrix.example"),
    }
    bounced = make.advocate("bounced@matrix.example", account=account)  # its "fixed" form
    bounced.email_unreachable_at, bounced.email_unreachable_reason = utcnow(), "550 5.1.1 unknown"
    challenge = make.challenge("review", manager=people["manager"])
    submission = make.submission(challenge, people["advocate"])
    attach_evidence_file(make.session, submission)
    make.session.commit()
    group = make.session.scalar(select(AdvocateGroup)) or _group(make, people["advocate"])
    approved = make.submission(make.challenge("survey"), people["advocate"])
    reward = make.reward("Matrix mug", kind="swag", cost=10)
    attach_reward_image(reward)
    level, badge = attach_game_images(make.session, challenge)
    make.session.commit()
    redemption = make.redemption(people["advocate"], reward, shipping_address="1 Matrix Way, Zion")
    offer = offer_gift(
        make.session, SETTINGS, people["manager"], people["advocate"].id, reward.id, "Thanks!"
    )
    make.session.commit()
    values = {
        "account_id": account.id,
        "user_id": people["advocate"].id,
        "request_id": 1,
        "token": "made-up-token",
        "challenge_id": challenge.id,
        "submission_id": submission.id,
        "group_id": group.id,
        "thank_you_id": approved.thank_you.id,
        "reward_id": reward.id,
        "redemption_id": redemption.id,
        "offer_id": offer.id,
        "level_id": level.id,
        "badge_id": badge.id,
        **reference_world(make, people, account),
    }
    return values, people


def reference_world(make, people, account) -> dict:
    """A request the sales user filed, the advocate asked by the manager for it (and another
    candidate to pick), a survey import and a flag on another account: rows written directly
    (the matrix walks the pages, not the services that make them). Returns their URL values."""
    session = make.session
    candidate = make.advocate("candidate@matrix.example", account=account)
    request = ReferenceRequest(
        requester_id=people["sales"].id,
        opportunity_name="Matrix renewal",
        crm_id="OPP-1",
        prospect_company="Zion Systems",
        prospect_industry="Software",
        deal_stage=DealStage.PROPOSAL,
        deal_size=50_000,
        needed_by=date.today() + timedelta(days=14),
        conversation_level=ConversationLevel.VP,
        talking_points="Onboarding in weeks",
    )
    session.add(request)
    session.flush()
    ask = ReferenceAsk(
        request_id=request.id,
        advocate_id=people["advocate"].id,
        account_id=account.id,
        owner_id=people["manager"].id,
        proposed_by_id=people["manager"].id,
        asked_by_id=people["manager"].id,
        status=AskStatus.ASKED,
        asked_at=utcnow(),
        message="Would you talk to Zion Systems?",
    )
    (Path(SETTINGS.upload_dir) / "matrix-survey.csv").write_text(
        "email,score,comment,date\nadv@matrix.example,9,Great,2026-11-02\n"
    )
    survey = SurveyImport(
        uploaded_by_id=people["manager"].id,
        file_name="nps.csv",
        file_key="matrix-survey.csv",
        mapping={"email": 0, "score": 1, "comment": 2, "date": 3},
        status=ImportStatus.MAPPING,  # its column form is walked too
        total_rows=1,
    )
    flag = AccountFlag(
        account=Account(name="Matrix Escalated"),
        kind=FlagKind.ESCALATION,
        reason="Open support escalation",
        created_by_id=people["manager"].id,
    )
    session.add_all([ask, survey, flag])
    session.commit()
    return {
        "reference_id": request.id,
        "ask_id": ask.id,
        "advocate_id": candidate.id,
        "import_id": survey.id,
        "flag_id": flag.id,
    }


def _group(make, advocate):
    group = AdvocateGroup(name="Matrix group", members=[advocate])
    make.session.add(group)
    make.session.commit()
    return group


def attach_evidence_file(session, submission):
    path = Path(SETTINGS.upload_dir) / "matrix.png"
    path.write_bytes(PNG)
    submission.file_key, submission.file_name, submission.file_type = (
        "matrix.png",
        "review.png",
        "image/png",
    )


def attach_reward_image(reward):
    (Path(SETTINGS.upload_dir) / "reward.png").write_bytes(PNG)
    reward.image_key = "reward.png"


def attach_game_images(session, challenge):
    """A level, a badge and the challenge with images (covers and badges are served)."""
    ensure_default_levels(session)
    ensure_default_badges(session)
    level = session.scalar(select(Level).order_by(Level.threshold.desc()))
    badge = session.scalar(select(Badge).where(Badge.rule == "manual"))
    for name, row in (("level.png", level), ("badge.png", badge)):
        (Path(SETTINGS.upload_dir) / name).write_bytes(PNG)
        row.image_key = name
    (Path(SETTINGS.upload_dir) / "cover.png").write_bytes(PNG)
    challenge.cover_image_key = "cover.png"
    return level, badge


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule, method


def answers(app, world, role):
    """Every route opened once as `role` (an empty form for a POST): (rule, method, response).
    Logging out logs back in, so the walk goes on as the same person."""
    values, people = world
    client = app.test_client()
    if role != "anonymous":
        login(client, people[role].email)
    for rule, method in routes(app):
        url = rule.build(values, append_unknown=False)[1]
        yield rule, method, client.open(url, method=method, data={})
        if rule.endpoint == "auth.logout" and role != "anonymous":
            login(client, people[role].email)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_as_the_matrix_says(app, make, world, role):
    checked = 0
    for rule, method, response in answers(app, world, role):
        want = expected(rule.endpoint, role)
        if want == LOGIN:
            assert response.status_code == 302, (rule.endpoint, role)
            assert response.headers["Location"].startswith("/login"), (rule.endpoint, role)
        elif method == "POST" and want == 200:
            # a POST with an empty form is refused politely, never a 403/500
            assert response.status_code in (200, 302, 400, 422), (rule.endpoint, role)
        else:
            assert response.status_code == want, (rule.endpoint, role, response.status_code)
        checked += 1
    assert checked >= 25
