"""Levels from lifetime points (recorded and emailed once, never lowered by redeeming,
re-levelled when thresholds change), badges by rule (each at the moment that earns it, in
that transaction, once), recompute, manual badges, the first-visit path, and the earning cap."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from challenges import services
from challenges.badges import (
    VISIT,
    BadgeFields,
    award_earned,
    ensure_default_badges,
    give_manual_badge,
    recompute,
    save_badge,
)
from challenges.models import ThankYou
from points import redemptions as flow
from points.badges import AlreadyEarned, badges_of, holders_count
from points.leaderboard import current_periods, totals_differences
from points.levels import (
    all_levels,
    ensure_default_levels,
    mark_seen,
    progress,
    record_reached,
    relevel,
    save_level,
    unseen,
)
from points.models import Badge, BadgeAward, FeedEvent, Level, LevelReached, PeriodTotal
from points.services import balance_of, reconcile
from points.settings import GameChoices, update_game_settings
from portal.accounts.models import ConsentRecord
from portal.db import utcnow
from portal.errors import DomainError, NotFound
from portal.models import OutboxMessage
from tests.factories import SETTINGS, client_for, complete


@pytest.fixture
def game(session):
    """The program's default levels and badges (tests start from empty tables)."""
    ensure_default_levels(session)
    ensure_default_badges(session)
    session.commit()


def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def reached(session, advocate_id: int) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(Level.name)
            .join(LevelReached, LevelReached.level_id == Level.id)
            .where(LevelReached.advocate_id == advocate_id)
            .order_by(Level.threshold)
        )
    )


def badge_names(session, advocate_id: int) -> set[str]:
    session.expire_all()
    return {award.badge.name for award in badges_of(session, advocate_id)}


def mails(session, kind: str, to: str) -> list[OutboxMessage]:
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.to_email == to)
        )
    )


def badge(session, rule: str) -> Badge:
    return session.scalar(select(Badge).where(Badge.rule == rule))


def tune(session, admin, rule: str, threshold=None, enabled=True) -> Badge:
    found = badge(session, rule)
    fields = BadgeFields(found.name, found.description, rule, threshold, enabled)
    save_badge(session, admin, fields, found)
    session.commit()
    return found


def with_cap(session, admin, cap: int) -> None:
    update_game_settings(session, admin, GameChoices("UTC", True, True, None, cap, "month"))
    session.commit()


# --- levels -----------------------------------------------------------------------------------


def test_the_level_comes_from_lifetime_points(session, game):
    levels = all_levels(session)
    assert [(lv.name, lv.threshold) for lv in levels] == [
        ("Insider", 0),
        ("Contributor", 500),
        ("Champion", 2_000),
        ("Legend", 10_000),
    ]
    cases = {
        0: ("Insider", "Contributor", 500, 0),
        499: ("Insider", "Contributor", 1, 99),
        500: ("Contributor", "Champion", 1_500, 0),
        1_250: ("Contributor", "Champion", 750, 50),
        9_999: ("Champion", "Legend", 1, 99),
        10_000: ("Legend", None, None, 100),
        250_000: ("Legend", None, None, 100),
    }
    for lifetime, (level, following, to_next, percent) in cases.items():
        now = progress(levels, lifetime)
        assert now.level.name == level, lifetime
        assert (now.next_level.name if now.next_level else None) == following, lifetime
        assert (now.to_next, now.percent) == (to_next, percent), lifetime


def test_reaching_a_level_is_recorded_and_emailed_once(make, session, game):
    advocate = make.advocate()
    manager = make.manager()
    for _ in range(3):
        complete(make, make.challenge("survey", points=300), advocate, manager)  # 300, 600, 900

    assert reached(session, advocate.id) == ["Contributor"]
    [mail] = mails(session, "level_reached", advocate.email)
    assert mail.subject == "You are now a Contributor"
    assert "quarterly product feedback" in mail.body_text  # the level's perk
    assert count(session, FeedEvent, FeedEvent.kind == "level") == 1
    assert record_reached(session, SETTINGS, advocate, "http://vouch.test/hub/") == []

    # shown on the hub once
    assert [r.level.name for r in unseen(session, advocate.id)] == ["Contributor"]
    mark_seen(session, advocate.id)
    session.commit()
    assert unseen(session, advocate.id) == []


def test_jumping_past_two_levels_records_both_and_sends_one_email(make, session, game):
    advocate = make.advocate()
    complete(make, make.challenge("survey", points=2_500), advocate)

    assert reached(session, advocate.id) == ["Contributor", "Champion"]
    [mail] = mails(session, "level_reached", advocate.email)
    assert mail.subject == "You are now a Champion"


def test_redeeming_never_lowers_the_level(make, session, game):
    advocate, admin = make.advocate(), make.admin()
    complete(make, make.challenge("survey", points=600), advocate)
    spent = make.redemption(advocate, make.reward(cost=450))
    flow.fulfil_redemption(session, SETTINGS, admin, spent.id, "CODE-1")
    session.commit()

    session.expire_all()
    books = balance_of(session, advocate.id)
    assert (books.balance, books.lifetime_earned) == (150, 600)
    assert progress(all_levels(session), books.lifetime_earned).level.name == "Contributor"
    assert reached(session, advocate.id) == ["Contributor"]


def test_changing_thresholds_relevels_everyone_consistently(make, session, game):
    admin = make.admin()
    low, middle, high = make.many_advocates(3)
    for advocate, points in ((low, 300), (middle, 800), (high, 2_500)):
        make.points(advocate, points)
    relevel(session)
    session.commit()
    assert [reached(session, a.id) for a in (low, middle, high)] == [
        [],
        ["Contributor"],
        ["Contributor", "Champion"],
    ]

    save_level(session, admin, "Regular", 250, "Stickers.")
    contributor = session.scalar(select(Level).where(Level.name == "Contributor"))
    save_level(session, admin, "Contributor", 1_000, contributor.perk, contributor)
    legend = session.scalar(select(Level).where(Level.name == "Legend"))
    save_level(session, admin, "Legend", 2_400, legend.perk, legend)
    session.commit()

    # what is recorded is exactly what the new thresholds give each lifetime
    for advocate in (low, middle, high):
        session.expire_all()
        lifetime = balance_of(session, advocate.id).lifetime_earned
        expected = [lv.name for lv in all_levels(session) if 0 < lv.threshold <= lifetime]
        assert reached(session, advocate.id) == expected
    assert reached(session, middle.id) == ["Regular"]
    assert reached(session, high.id) == ["Regular", "Contributor", "Champion", "Legend"]
    assert relevel(session) == 0  # nothing left to record
    assert mails(session, "level_reached", high.email) == []  # no email for a new threshold

    # reaching the raised threshold later is recorded and announced then
    session.expire_all()
    complete(make, make.challenge("survey", points=300), middle)
    assert reached(session, middle.id) == ["Regular", "Contributor"]
    [mail] = mails(session, "level_reached", middle.email)
    assert mail.subject == "You are now a Contributor"


@pytest.mark.parametrize(
    ("name", "threshold", "field", "message"),
    [
        ("", 100, "name", "Give the level a name."),
        ("contributor", 100, "name", "There is already a level called “Contributor”."),
        ("Patron", 2_000, "threshold", "“Champion” already starts at 2,000 points."),
        ("Patron", -1, "threshold", "The threshold is a number of points from 0"),
    ],
)
def test_a_level_needs_its_own_name_and_threshold(
    make, session, game, name, threshold, field, message
):
    with pytest.raises(DomainError) as refused:
        save_level(session, make.admin(), name, threshold, "")
    assert refused.value.field == field
    assert refused.value.message.startswith(message)


# --- badges -----------------------------------------------------------------------------------


def test_first_badges_come_with_the_approval_that_earns_them_once(make, session, game):
    advocate, manager = make.advocate(), make.manager()
    complete(make, make.challenge("survey", points=10), advocate, manager)
    assert badge_names(session, advocate.id) == {"First step"}

    complete(make, make.challenge("review", approval="manual", points=10), advocate, manager)
    complete(make, make.challenge("review", approval="manual", points=10), advocate, manager)
    assert badge_names(session, advocate.id) == {"First step", "Reviewer"}

    complete(make, make.challenge("reference_call", points=10), advocate, manager)
    complete(make, make.challenge("referral", points=10), advocate, manager)
    assert badge_names(session, advocate.id) == {
        "First step",
        "Reviewer",
        "Voice of the customer",
        "Connector",
        "Explorer",  # four types tried: survey, review, reference call, referral
    }
    assert count(session, BadgeAward) == 5
    assert count(session, FeedEvent, FeedEvent.kind == "badge") == 5
    rules = ("first_completion", "first_review", "first_reference_call", "referral_lead")
    assert holders_count(session) == {
        badge(session, rule).id: 1 for rule in (*rules, "types_tried")
    }


def test_a_badge_is_awarded_inside_the_approval_transaction(make, session, game):
    advocate = make.advocate()
    challenge = make.challenge("review", approval="manual", points=600)
    submission = make.submission(challenge, advocate)

    services.approve(session, SETTINGS, make.manager(), submission.id)
    session.flush()
    assert badge_names(session, advocate.id) == {"First step", "Reviewer"}
    assert count(session, LevelReached) == 1
    session.rollback()  # the approval did not happen: neither did its badges or level
    assert badge_names(session, advocate.id) == set()
    assert count(session, LevelReached) == 0
    assert count(session, PeriodTotal) == 0


def test_n_completions_and_n_types_tried(make, session, game):
    admin, advocate, manager = make.admin(), make.advocate(), make.manager()
    tune(session, admin, "completions", threshold=3)
    tune(session, admin, "types_tried", threshold=2)

    complete(make, make.challenge("survey"), advocate, manager)
    complete(make, make.challenge("survey"), advocate, manager)
    assert badge_names(session, advocate.id) == {"First step"}
    complete(make, make.challenge("content"), advocate, manager)
    assert badge_names(session, advocate.id) == {"First step", "Regular", "Explorer"}


def test_rejected_and_pending_submissions_earn_no_badge(make, session, game):
    advocate = make.advocate()
    challenge = make.challenge("review", approval="manual")
    submission = make.submission(challenge, advocate)
    assert badge_names(session, advocate.id) == set()
    services.reject(session, SETTINGS, make.manager(), submission.id, "Not a public review.")
    session.commit()
    assert recompute(session).added == {}
    assert badge_names(session, advocate.id) == set()


def test_a_switched_off_badge_is_not_awarded_until_switched_on_and_recomputed(make, session, game):
    admin, advocate = make.admin(), make.advocate()
    tune(session, admin, "first_completion", enabled=False)
    complete(make, make.challenge("survey"), advocate)
    assert badge_names(session, advocate.id) == set()
    assert recompute(session).added == {}

    tune(session, admin, "first_completion", enabled=True)
    assert recompute(session).added == {"First step": 1}
    session.commit()
    assert badge_names(session, advocate.id) == {"First step"}


def test_recompute_reports_what_it_added_and_adds_nothing_the_second_time(make, session, game):
    admin = make.admin()
    first, second, veteran = make.advocate(), make.advocate(), make.advocate()
    for rule in ("first_completion", "first_review", "year_in_program"):
        tune(session, admin, rule, enabled=False)
    for advocate in (first, second):
        complete(make, make.challenge("review", approval="manual"), advocate)
    session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.user_id == veteran.id)
        .values(opted_in_at=utcnow() - timedelta(days=400))
    )
    session.commit()
    for rule in ("first_completion", "first_review", "year_in_program"):
        tune(session, admin, rule, enabled=True)

    report = recompute(session)
    session.commit()
    assert report.added == {"First step": 2, "Reviewer": 2, "One year strong": 1}
    assert report.total == 5
    again = recompute(session)
    assert (again.added, again.total) == ({}, 0)
    assert count(session, BadgeAward) == 5
    assert count(session, FeedEvent, FeedEvent.kind == "badge") == 5


def test_the_year_badge_is_earned_on_a_visit(make, session, game):
    newcomer, veteran = make.advocate(), make.advocate()
    session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.user_id == veteran.id)
        .values(opted_in_at=utcnow() - timedelta(days=366))
    )
    session.commit()
    assert award_earned(session, newcomer, VISIT) == []
    assert [b.name for b in award_earned(session, veteran, VISIT)] == ["One year strong"]
    assert award_earned(session, veteran, VISIT) == []  # held: once
    session.commit()
    assert badge_names(session, veteran.id) == {"One year strong"}


def test_a_manual_badge_needs_a_reason_and_only_manual_badges_are_given(make, session, game):
    manager, advocate = make.manager(), make.advocate()
    manual, automatic = badge(session, "manual"), badge(session, "first_review")

    with pytest.raises(DomainError) as no_reason:
        give_manual_badge(session, manager, advocate, manual.id, "   ")
    assert (no_reason.value.field, no_reason.value.message) == (
        "reason",
        "Say why they earned it: they will see it.",
    )
    with pytest.raises(NotFound):
        give_manual_badge(session, manager, advocate, automatic.id, "Great review")
    with pytest.raises(NotFound):
        give_manual_badge(session, manager, advocate, 999_999, "Great review")
    with pytest.raises(DomainError, match="Only advocates"):
        give_manual_badge(session, manager, make.manager(), manual.id, "Helped out")

    give_manual_badge(session, manager, advocate, manual.id, "  Hosted our London meetup ")
    session.commit()
    [award] = badges_of(session, advocate.id)
    assert (award.badge.name, award.reason, award.awarded_by_id) == (
        "Above and beyond",
        "Hosted our London meetup",
        manager.id,
    )
    with pytest.raises(AlreadyEarned):
        give_manual_badge(session, manager, advocate, manual.id, "Again")
    session.rollback()
    assert recompute(session).added == {}  # a manual badge never comes from a rule


def test_the_first_visit_badge_comes_with_the_last_starter_challenge(make, session, game):
    advocate = make.advocate()
    profile = make.challenge("survey", title="Complete your profile", starter=True)
    guide = make.challenge("content", title="Read the program guide", starter=True)
    make.challenge("survey", title="A draft starter", starter=True, publish=False)
    make.challenge("survey", title="Not a starter")

    complete(make, profile, advocate)
    assert "Off to a flying start" not in badge_names(session, advocate.id)
    complete(make, guide, advocate)
    assert "Off to a flying start" in badge_names(session, advocate.id)


# --- the earning cap --------------------------------------------------------------------------


def test_an_approval_past_the_cap_is_approved_and_thanked_with_the_points_cut(make, session, game):
    admin, advocate, manager = make.admin(), make.advocate(), make.manager()
    with_cap(session, admin, 500)
    under = complete(make, make.challenge("survey", points=300), advocate, manager)
    # a total the session already holds (as a page showing it would) is no reason to
    # count from a stale figure: the cap reads the database
    month = current_periods(session)["month"]
    on_the_page = session.get(PeriodTotal, (advocate.id, month))
    over = complete(make, make.challenge("survey", points=300), advocate, manager)
    beyond = complete(make, make.challenge("survey", points=300), advocate, manager)

    session.expire_all()
    assert [s.status for s in (under, over, beyond)] == ["approved"] * 3
    assert [s.points_awarded for s in (under, over, beyond)] == [300, 200, 0]
    explained = "200 of 300 points were awarded: the program caps what one advocate earns"
    assert under.reason == ""
    assert over.reason.startswith(explained)
    assert "at 500 points a month" in over.reason
    assert beyond.reason.startswith("0 of 300 points were awarded")
    # each is owed a thank-you, and the advocate's email says why

    assert count(session, ThankYou) == 3
    approved = mails(session, "submission_approved", advocate.email)
    assert sum(explained in mail.body_text for mail in approved) == 1
    assert balance_of(session, advocate.id).balance == 500
    session.refresh(on_the_page)
    assert on_the_page.points == 500
    assert totals_differences(session) == [] and reconcile(session) == []


def test_a_bulk_review_keeps_to_the_cap_and_tells_the_reviewer(app, make, session, game):
    admin, advocate, manager = make.admin(), make.advocate(), make.manager()
    with_cap(session, admin, 500)
    challenges = [make.challenge("review", approval="manual", points=300) for _ in range(3)]
    pending = [make.submission(challenge, advocate) for challenge in challenges]
    browser = client_for(app, manager.email)

    done = browser.post(
        "/manage/review/bulk",
        data={"submission_ids": [s.id for s in pending], "approve": "y"},
        follow_redirects=True,
    )
    page = done.get_data(as_text=True)
    assert "Approved 3." in page
    assert "200 of 300 points were awarded" in page
    assert "0 of 300 points were awarded" in page
    session.expire_all()
    assert sorted(session.get(type(s), s.id).points_awarded for s in pending) == [0, 200, 300]
    assert balance_of(session, advocate.id).balance == 500
    assert totals_differences(session) == []


def test_a_logged_activity_keeps_to_the_cap_too(make, session, game):
    admin, advocate, manager = make.admin(), make.advocate(), make.manager()
    with_cap(session, admin, 500)
    make.points(advocate, 450)
    logged = services.log_activity(
        session,
        SETTINGS,
        manager,
        advocate.id,
        "case_study",
        "Spoke to the Acme team",
        utcnow() - timedelta(days=1),
        points=100,
    )
    session.commit()
    assert logged.points_awarded == 50
    assert logged.reason.startswith("50 of 100 points were awarded")
    assert balance_of(session, advocate.id).balance == 500


def test_relevelling_keeps_the_levels_still_reached_as_they_were(make, session, game):
    """A change of thresholds removes only what no longer holds: the rest keep their
    date and their "seen" mark (the hub does not announce them again)."""
    admin = make.admin()
    first, second = make.many_advocates(2)
    make.points(first, 2_500)
    make.points(second, 600)
    relevel(session)
    session.commit()
    kept = {
        (row.advocate_id, row.level_id): row.reached_at
        for row in session.scalars(select(LevelReached))
    }
    session.execute(update(LevelReached).values(seen_at=utcnow()))
    session.commit()

    save_level(session, admin, "Regular", 250, "Stickers.")
    session.commit()

    session.expire_all()
    rows = list(session.scalars(select(LevelReached)))
    old = [row for row in rows if (row.advocate_id, row.level_id) in kept]
    assert len(old) == len(kept)
    assert all(
        row.seen_at is not None and row.reached_at == kept[row.advocate_id, row.level_id]
        for row in old
    )
    new = [row for row in rows if (row.advocate_id, row.level_id) not in kept]
    assert {row.advocate_id for row in new} == {first.id, second.id}
    assert all(row.seen_at is None for row in new)
