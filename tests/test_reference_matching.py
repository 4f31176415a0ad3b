"""Candidate matching: a fixed program with a known best order, every rule that leaves an
advocate out, picking one (re-checked, refused with the reason), the owner's email, and a
bounded number of statements."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from challenges.authoring import program_settings, update_program_settings
from points.levels import ensure_default_levels
from points.models import EntrySource
from points.services import award
from portal.accounts.models import Account, AuditEvent, JobLevel, Role, User
from portal.auth.services import opt_in
from portal.db import utcnow
from portal.errors import AlreadyHandled, DomainError
from portal.models import OutboxMessage
from references.matching import (
    BIG_ASK,
    COMPLETIONS_CAP,
    DETRACTOR,
    INDUSTRY_FIT,
    JOB_LEVEL_FIT,
    JOB_LEVEL_NEAR,
    NAMED_BY_SALES,
    PRODUCT_FIT,
    PROMOTER,
    REGION_FIT,
    SEGMENT_FIT,
    left_out,
    propose,
    rank_candidates,
    ready_by_level,
)
from references.models import (
    AccountFlag,
    AskStatus,
    FlagKind,
    LatestScore,
    ReferenceAsk,
    ReferenceRequest,
    RequestStatus,
)
from tests.factories import SETTINGS, client_for


@pytest.fixture
def ctx(app, session):
    """A request's context whose database session is the test's (so the date filters read
    the program's zone there, not in a second session waiting on SQLite's write lock)."""
    from flask import g

    with app.test_request_context():
        g.db_session = session
        yield


def request_for(make, **fields) -> ReferenceRequest:
    values = dict(
        requester_id=make.sales(name="Sam Rivera").id,
        opportunity_name="Globex expansion",
        crm_id="OPP-1",
        prospect_company="Acme Hospitals",
        prospect_industry="Healthcare",
        deal_stage="proposal",
        deal_size=80_000,
        needed_by=date.today() + timedelta(days=14),
        conversation_level="vp",
        prospect_contact="Pat Kim, VP Operations",
        talking_points="Rollout in six weeks",
        desired_segment="Enterprise",
        desired_region="EMEA",
        desired_product_use="Analytics",
        customers_in_mind="We'd love Globex Health.",
    )
    values.update(fields)
    reference = ReferenceRequest(**values)
    make.session.add(reference)
    make.session.commit()
    return reference


def advocate_at(make, account, name: str, level: str | None, **fields) -> User:
    """An opted-in advocate (without a password: they never log in here, and hashing one
    takes a while)."""
    advocate = make.user(Role.ADVOCATE, f"{name.lower()}@example.com", account, name, None)
    opt_in(make.session, SETTINGS, advocate)
    advocate.job_level = level
    for key, value in fields.items():
        setattr(advocate, key, value)
    make.session.commit()
    return advocate


@pytest.fixture
def program(make, session):
    """Four accounts, six advocates, one best order (scores in the comments)."""
    maya = make.manager("maya@example.com")
    maya.name = "Maya Patel"
    globex = make.account("Globex Health", industry="Healthcare", segment="Enterprise",
                          region="EMEA", owner_id=maya.id)  # fmt: skip
    globex.products = "Analytics, Contact center"
    initech = make.account("Initech Care", industry="healthcare", segment="Mid-market",
                           region="EMEA", owner_id=maya.id)  # fmt: skip
    initech.products = "analytics"
    umbrella = make.account("Umbrella Retail", industry="Retail", segment="Enterprise",
                            region="North America")  # fmt: skip
    hooli = make.account("Hooli", industry="Retail", segment="SMB", region="APAC")
    session.commit()
    people = {
        # 30 + 15 + 10 + 20 + 20 + 40 = 135
        "dana": advocate_at(make, globex, "Dana", "vp"),
        # 30 + 10 + 8 (director, near VP) + 20 + 15 (NPS 10) = 83
        "eli": advocate_at(make, initech, "Eli", "director"),
        # 15 + 20 + 20 (12 completions, capped) = 55
        "gus": advocate_at(make, umbrella, "Gus", "vp", completions=12),
        # 30 + 10 + 20 + 20 - 50 (NPS 4) = 30
        "fay": advocate_at(make, initech, "Fay", "vp"),
        # 15 (segment only: an individual contributor is three steps from a VP) = 15
        "hal": advocate_at(make, umbrella, "Hal", "individual"),
        # 20 - 10 (a big ask) - 3 (the account's big ask) = 7
        "ivy": advocate_at(make, hooli, "Ivy", "vp"),
    }
    for who, score in (("eli", 10), ("fay", 4)):
        session.add(LatestScore(user_id=people[who].id, score=score, responded_on=date.today()))
    session.commit()
    make.submission(make.challenge("reference_call"), people["ivy"])  # a pending big ask
    return people | {"maya": maya, "globex": globex, "initech": initech, "umbrella": umbrella}


def set_caps(session, manager, per_advocate: int, per_account: int) -> None:
    template = program_settings(session).thank_you_template
    update_program_settings(session, manager, per_advocate, per_account, 90, template)


def names(candidates) -> list[str]:
    return [c.name for c in candidates]


def ranked(session, reference, **kw):
    session.expire_all()
    return rank_candidates(session, reference, **kw)


def test_the_fixed_program_ranks_in_its_known_order(ctx, session, make, program):
    reference = request_for(make)
    candidates = ranked(session, reference)
    assert names(candidates) == ["Dana", "Eli", "Gus", "Fay", "Hal", "Ivy"]
    assert [c.score for c in candidates] == [135, 83, 55, 30, 15, 7]
    dana, eli, gus, fay, hal, ivy = candidates
    assert dana.reasons[0] == f"Named in the request's customers in mind (+{NAMED_BY_SALES})"
    assert set(dana.reasons) >= {
        f"Same industry: Healthcare (+{INDUSTRY_FIT})",
        f"Same segment: Enterprise (+{SEGMENT_FIT})",
        f"Same region: EMEA (+{REGION_FIT})",
        f"Job level as wanted: VP (+{JOB_LEVEL_FIT})",
        f"Uses Analytics (+{PRODUCT_FIT})",
    }
    assert f"NPS 10 (+{PROMOTER})" in eli.reasons
    assert f"Job level Director, one step from VP (+{JOB_LEVEL_NEAR})" in eli.reasons
    assert f"12 completed challenges (+{COMPLETIONS_CAP})" in gus.reasons
    assert f"NPS 4 ({DETRACTOR})" in fay.reasons
    assert hal.reasons == [f"Same segment: Enterprise (+{SEGMENT_FIT})"]
    assert f"1 big ask in the last 90 days ({BIG_ASK})" in ivy.reasons
    assert "Their account's load: big asks 1, reference asks 0 (-3)" in ivy.reasons
    assert dana.owner_name == "Maya Patel" and gus.owner_name == ""
    assert (dana.account_name, dana.industry, dana.job_level_label) == (
        "Globex Health",
        "Healthcare",
        "VP",
    )
    assert (ivy.big_asks, ivy.account_big_asks) == (1, 1)


def test_ties_are_broken_by_id_and_the_limit_is_kept(ctx, session, make, program):
    tied = make.account("Tied Co", industry="Logistics")
    three = [advocate_at(make, tied, name, "vp") for name in ("Zed", "Yan", "Xia")]
    blank = dict(desired_segment="", desired_region="", desired_product_use="")
    reference = request_for(make, prospect_industry="Logistics", customers_in_mind="", **blank)
    candidates = ranked(session, reference, limit=2)
    assert [c.advocate_id for c in candidates] == [three[0].id, three[1].id]
    assert [c.score for c in candidates] == [INDUSTRY_FIT + JOB_LEVEL_FIT] * 2


def test_desired_traits_beat_the_prospects_industry(ctx, session, make, program):
    reference = request_for(make, desired_industry="Retail", customers_in_mind="")
    assert names(ranked(session, reference))[:2] == ["Gus", "Dana"]


def test_levels_and_completions_add_history(ctx, session, make, program):
    ensure_default_levels(session)
    award(session, program["hal"], 2_500, "test:hal", EntrySource.SUBMISSION)
    session.commit()
    hal = next(c for c in ranked(session, request_for(make)) if c.name == "Hal")
    assert hal.level_name == "Champion"
    assert "Level Champion (+10)" in hal.reasons and hal.score == 25


def test_an_open_flag_leaves_the_account_out_until_cleared(ctx, session, make, program):
    reference = request_for(make)
    flag = AccountFlag(account_id=program["globex"].id, kind=FlagKind.ESCALATION, reason="Outage")
    session.add(flag)
    session.commit()
    assert "Dana" not in names(ranked(session, reference))
    with pytest.raises(DomainError, match="Globex Health's relationship is flagged"):
        propose(session, SETTINGS, program["maya"], reference.id, program["dana"].id)
    session.rollback()
    flag.cleared_at = utcnow()
    session.commit()
    assert names(ranked(session, reference))[0] == "Dana"


def test_the_advocate_and_account_caps_leave_them_out(ctx, session, make, program):
    reference = request_for(make)
    maya = program["maya"]
    set_caps(session, maya, per_advocate=1, per_account=2)
    session.commit()
    assert "Ivy" not in names(ranked(session, reference))  # her one big ask is the cap
    with pytest.raises(DomainError, match="Ivy has already helped with 1 big asks"):
        propose(session, SETTINGS, maya, reference.id, program["ivy"].id)
    session.rollback()
    # two big asks at Umbrella (Gus's and Hal's, pending): its cap of 2, so Gus and Hal are out
    challenge = make.challenge("reference_call")
    make.submission(challenge, program["gus"])
    set_caps(session, maya, per_advocate=2, per_account=2)
    session.commit()
    make.submission(make.challenge("case_study"), program["hal"])
    left = names(ranked(session, reference))
    assert "Gus" not in left and "Hal" not in left and "Ivy" in left
    with pytest.raises(DomainError, match="Umbrella Retail has had 2 big asks"):
        propose(session, SETTINGS, maya, reference.id, program["hal"].id)


def test_an_open_ask_leaves_them_out_and_the_refusal_names_who_asked(ctx, session, make, program):
    first = request_for(make, opportunity_name="First")
    second = request_for(make, opportunity_name="Second")
    maya, dana = program["maya"], program["dana"]
    ask = propose(session, SETTINGS, maya, first.id, dana.id)
    session.commit()
    # proposed, not asked yet: still a candidate elsewhere, a little lower
    other = next(c for c in ranked(session, second) if c.name == "Dana")
    assert "Picked for 1 other request, not yet asked (-10)" in other.reasons
    assert "Their account's load: big asks 0, reference asks 1 (-5)" in other.reasons
    assert other.score == 135 - 10 - 5
    ask.status, ask.asked_at, ask.asked_by_id = AskStatus.ASKED, utcnow(), maya.id
    session.commit()
    assert "Dana" not in names(ranked(session, second))
    with pytest.raises(
        AlreadyHandled, match=r"Dana already has an open reference ask \(from Maya Patel, "
    ):
        propose(session, SETTINGS, maya, second.id, dana.id)


def test_already_on_this_request_is_left_out_and_refused(ctx, session, make, program):
    reference = request_for(make)
    maya, dana = program["maya"], program["dana"]
    propose(session, SETTINGS, maya, reference.id, dana.id)
    session.commit()
    assert "Dana" not in names(ranked(session, reference))
    with pytest.raises(AlreadyHandled, match="Dana was already picked for this request"):
        propose(session, SETTINGS, maya, reference.id, dana.id)


def test_not_now_leaves_them_out_until_the_day_comes(ctx, session, make, program):
    earlier = request_for(make, opportunity_name="Earlier")
    reference = request_for(make)
    today = utcnow().date()
    session.add(ReferenceAsk(request_id=earlier.id, advocate_id=program["dana"].id,
                             account_id=program["globex"].id, status=AskStatus.DECLINED,
                             not_before=today + timedelta(days=30)))  # fmt: skip
    session.commit()
    assert "Dana" not in names(ranked(session, reference))
    with pytest.raises(DomainError, match="Dana said not now"):
        propose(session, SETTINGS, program["maya"], reference.id, program["dana"].id)
    session.rollback()
    later = utcnow() + timedelta(days=30)
    assert names(ranked(session, reference, now=later))[0] == "Dana"


def test_a_recent_reference_ranks_them_lower(ctx, session, make, program):
    earlier = request_for(make, opportunity_name="Earlier")
    reference = request_for(make)
    today = utcnow().date()
    session.add(ReferenceAsk(request_id=earlier.id, advocate_id=program["dana"].id,
                             account_id=program["globex"].id, status=AskStatus.CONFIRMED,
                             call_on=today - timedelta(days=20)))  # fmt: skip
    session.commit()
    dana = next(c for c in ranked(session, reference) if c.name == "Dana")
    assert "Used for a reference 20 days ago (-25)" in dana.reasons
    assert "Their account's load: big asks 0, reference asks 1 (-5)" in dana.reasons
    assert dana.score == 135 - 25 - 5 and dana.last_reference_on == today - timedelta(days=20)


@pytest.mark.parametrize("change", ["left", "out", "inactive"])
def test_who_left_or_is_not_in_the_program_is_never_a_candidate(
    ctx, session, make, program, change
):
    dana = program["dana"]
    if change == "left":
        dana.left_company_at = utcnow()
    elif change == "out":
        dana.in_program = False
    else:
        dana.active = False
    session.commit()
    reference = request_for(make)
    assert "Dana" not in names(ranked(session, reference))
    with pytest.raises(DomainError):
        propose(session, SETTINGS, program["maya"], reference.id, dana.id)


def test_ready_by_level_counts_who_could_be_asked(ctx, session, make, program):
    ready = ready_by_level(session)
    assert ready[JobLevel.VP] == 4 and ready[JobLevel.DIRECTOR] == 1
    assert ready[JobLevel.INDIVIDUAL] == 1 and ready[JobLevel.C_LEVEL] == 0
    session.add(AccountFlag(account_id=program["initech"].id, kind=FlagKind.DETRACTOR))
    session.commit()
    session.expire_all()
    ready = ready_by_level(session)
    assert ready[JobLevel.VP] == 3 and ready[JobLevel.DIRECTOR] == 0


def test_left_out_counts_each_rule_and_lists_the_flags(ctx, session, make, program):
    reference = request_for(make)
    session.add(AccountFlag(account_id=program["initech"].id, kind=FlagKind.DETRACTOR))
    set_caps(session, program["maya"], per_advocate=1, per_account=6)
    session.commit()
    propose(session, SETTINGS, program["maya"], reference.id, program["dana"].id)
    session.commit()
    session.expire_all()
    why = left_out(session, reference)
    assert why.counts == {"flagged": 2, "advocate_cap": 1, "account_cap": 0, "open_ask": 0,
                          "resting": 0, "on_request": 1}  # fmt: skip
    assert why.flagged_accounts[0][:2] == ("Initech Care", "Detractor")
    assert names(ranked(session, reference)) == ["Gus", "Hal"]


def test_propose_makes_a_proposed_ask_for_the_owner_audits_and_emails(ctx, session, make, program):
    reference = request_for(make)
    admin = make.admin()
    ask = propose(session, SETTINGS, admin, reference.id, program["dana"].id)
    session.commit()
    assert (ask.status, ask.owner_id, ask.proposed_by_id, ask.score) == (
        AskStatus.PROPOSED,
        program["maya"].id,
        admin.id,
        135,
    )
    assert ask.account_id == program["globex"].id
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "reference_ask.propose"))
    assert event.actor_id == admin.id and event.target_id == ask.id
    mail = session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "reference_ask_proposed")
    )
    assert mail.to_email == "maya@example.com"
    assert mail.subject == "Please ask Dana for a reference call (Acme Hospitals)"
    assert f"http://vouch.test/references/asks/{ask.id}" in mail.body_text
    assert "Globex expansion" in mail.body_text and "$80,000" in mail.body_text
    assert "Named in the request's customers in mind (+40)" in mail.body_html


def test_without_an_owner_the_picker_makes_the_ask(ctx, session, make, program):
    reference = request_for(make)
    manager = make.manager()
    ask = propose(session, SETTINGS, manager, reference.id, program["gus"].id)
    session.commit()
    assert ask.owner_id == manager.id


def test_a_closed_request_takes_no_more_picks(ctx, session, make, program):
    reference = request_for(make, status=RequestStatus.CANCELLED)
    with pytest.raises(AlreadyHandled, match="no longer open"):
        propose(session, SETTINGS, program["maya"], reference.id, program["dana"].id)


def test_the_candidates_page_lists_and_picks(app, session, make, program):
    reference = request_for(make)
    manager = make.manager()
    client = client_for(app, manager.email)
    page = client.get(f"/references/{reference.id}/candidates")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("Dana") < html.index("Eli") < html.index("Gus")
    assert "Pick for Maya Patel to ask" in html and "Ready advocates per job level" in html
    assert "Why others are not candidates" in html
    picked = client.post(f"/references/{reference.id}/candidates/{program['dana'].id}/pick")
    assert picked.status_code == 302
    assert picked.headers["Location"].endswith(f"/references/{reference.id}")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ReferenceAsk)) == 1
    again = client.post(f"/references/{reference.id}/candidates/{program['dana'].id}/pick")
    assert again.status_code == 409
    assert "Dana was already picked for this request" in again.get_data(as_text=True)
    flagged = AccountFlag(account_id=program["initech"].id, kind=FlagKind.DETRACTOR)
    session.add(flagged)
    session.commit()
    refused = client.post(f"/references/{reference.id}/candidates/{program['eli'].id}/pick")
    assert refused.status_code == 422 and "relationship is flagged" in refused.get_data(
        as_text=True
    )


def test_the_pages_are_for_managers_and_admins(app, make, program):
    reference = request_for(make)
    sales = make.sales()
    assert (
        client_for(app, sales.email).get(f"/references/{reference.id}/candidates").status_code
        == 403
    )
    missing = client_for(app, make.manager().email).get("/references/999/candidates")
    assert missing.status_code == 404


def test_ranking_takes_a_fixed_number_of_statements(app, session, make, program, count_queries):
    reference = request_for(make)
    client = client_for(app, make.manager().email)
    client.get(f"/references/{reference.id}/candidates")  # warm: settings rows made
    with count_queries() as few:
        client.get(f"/references/{reference.id}/candidates")
    more = make.many_advocates(40, program["globex"])
    for advocate in more:
        advocate.job_level = "vp"
    session.commit()
    with count_queries() as many:
        page = client.get(f"/references/{reference.id}/candidates")
    assert page.get_data(as_text=True).count("Pick for Maya Patel to ask") >= 40
    assert many.n == few.n and many.n <= 12, many.statements


@pytest.mark.postgres
def test_two_managers_picking_one_advocate_at_once_make_one_ask(
    app, session, make, program, postgres_only
):
    from tests.test_concurrency import logged_in, race

    reference = request_for(make)
    first, second = make.manager("first@example.com"), make.manager("second@example.com")
    path = f"/references/{reference.id}/candidates/{program['dana'].id}/pick"
    answers = race(logged_in(app, [first.email, second.email]), lambda c, _i: c.post(path))
    codes = sorted(500 if a is None else a.status_code for a in answers)
    assert codes == [302, 409]
    loser = next(a for a in answers if a.status_code == 409).get_data(as_text=True)
    assert "Dana was already picked for this request" in loser
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ReferenceAsk)) == 1
    mails = select(func.count()).where(OutboxMessage.kind == "reference_ask_proposed")
    assert session.scalar(mails) == 1


def test_bench_data_holds_a_reference_program_to_rank(tmp_path):
    """bench-data's reference rows (benchmarks/references.py): products, scores, flags, asks
    in every state, completions counted; and the ranking runs over them."""
    from alembic import command

    from challenges.models import Submission
    from portal.cli import alembic_config
    from tests.conftest import make_test_app

    url = f"sqlite:///{tmp_path / 'bench.db'}"
    command.upgrade(alembic_config(url), "head")
    bench = make_test_app(url)
    loaded = bench.test_cli_runner().invoke(
        args=["bench-data", "--advocates", "300", "--entries", "6000"]
    )
    assert loaded.exit_code == 0, loaded.output
    with bench.test_request_context(), bench.extensions["vouch.sessionmaker"]() as db:
        from flask import g

        g.db_session = db
        states = set(db.scalars(select(ReferenceAsk.status).distinct()))
        assert states == {"proposed", "asked", "declined", "confirmed"}
        assert db.scalar(select(func.count()).select_from(LatestScore)) > 30
        assert db.scalar(select(func.count()).where(AccountFlag.kind == "escalation")) >= 1
        assert db.scalar(select(func.count()).where(func.length(Account.products) > 0)) > 0
        approved = (
            select(func.count())
            .where(Submission.advocate_id == User.id, Submission.status == "approved")
            .scalar_subquery()
        )
        wrong = select(func.count()).where(User.role == "advocate", User.completions != approved)
        assert db.scalar(wrong) == 0
        assert db.scalar(select(func.max(User.completions))) > 0
        reference = db.scalar(
            select(ReferenceRequest).where(ReferenceRequest.status == "open").limit(1)
        )
        candidates = rank_candidates(db, reference)
        assert len(candidates) == 25 and all(c.reasons for c in candidates)
        assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)
        assert sum(ready_by_level(db).values()) >= len(candidates)
    bench.extensions["vouch.engine"].dispose()
