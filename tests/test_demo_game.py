"""The demo plays the game: `seed-demo` leaves every level reached, badges of several rules,
lively boards for this month and quarter (without the hidden and the departed), the
first-visit path, covers on the challenges, and books that reconcile."""

from __future__ import annotations

from sqlalchemy import func, select

from challenges.models import Challenge, ChallengeStatus, Submission, SubmissionStatus
from points.leaderboard import current_periods, listed_count, standing, top, totals_differences
from points.levels import all_levels, progress
from points.models import (
    Badge,
    BadgeAward,
    LedgerEntry,
    Level,
    LevelReached,
    PeriodTotal,
    PointsBalance,
)
from points.services import reconcile
from portal.accounts.models import Role, User
from portal.uploads import path_of
from tests.factories import SETTINGS

STARTERS = {"Complete your profile", "Read the program guide", "Answer a first question"}


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def by_email(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def test_the_demo_plays_the_game(app, session):
    assert "records created" in run(app, "seed-demo").output
    levels = all_levels(session)
    assert [level.name for level in levels] == ["Insider", "Contributor", "Champion", "Legend"]

    # every level is someone's level now, and each one above Insider was reached (recorded)
    lifetime = dict(
        session.execute(select(PointsBalance.advocate_id, PointsBalance.lifetime_earned)).all()
    )
    advocates = session.scalars(select(User.id).where(User.role == Role.ADVOCATE)).all()
    at_level = {progress(levels, lifetime.get(i, 0)).level.name for i in advocates}
    assert at_level == {"Insider", "Contributor", "Champion", "Legend"}
    reached = set(session.scalars(select(Level.name).join(LevelReached.level).distinct()))
    assert reached == {"Contributor", "Champion", "Legend"}

    # badges of several rules, the manual one with its reason
    rules = set(session.scalars(select(Badge.rule).join(BadgeAward).distinct()))
    assert len(rules) >= 4
    assert {"first_completion", "first_review", "starter_path", "manual"} <= rules
    manual = session.scalar(select(BadgeAward).join(Badge).where(Badge.rule == "manual"))
    assert manual.reason and manual.awarded_by_id == by_email(session, "manager@vouch.example").id

    # this month's and this quarter's boards are lively; the demo advocate is on this
    # month's first page but not first
    periods = current_periods(session)
    assert listed_count(session, periods["month"]) >= 10
    # (in a quarter's first month its board is this month's; later it holds about fifty)
    assert listed_count(session, periods["quarter"]) >= listed_count(session, periods["month"])
    month_board = top(session, periods["month"], limit=200)
    on_board = {place.advocate.email for place in month_board}
    ana = by_email(session, "ana.ruiz@northwind.example")
    assert 2 <= standing(session, ana.id, periods["month"]).rank <= 10
    assert ana.email in {place.advocate.email for place in month_board[:10]}

    # advocates who hide, and one who left, scored this month yet are not on the board
    hidden = session.scalars(select(User).where(User.hide_from_leaderboard)).all()
    assert len(hidden) >= 3
    absent = [
        row.advocate.email
        for row in session.scalars(
            select(PeriodTotal).where(
                PeriodTotal.period == periods["month"],
                PeriodTotal.points > 0,
                PeriodTotal.advocate_id.in_(
                    select(User.id).where(User.hide_from_leaderboard | User.in_program.is_(False))
                ),
            )
        )
    ]
    assert len(absent) >= 3
    assert not set(absent) & on_board
    left = session.scalars(
        select(User).where(User.role == Role.ADVOCATE, User.in_program.is_(False))
    ).all()
    assert any(lifetime.get(user.id, 0) >= 2_000 for user in left)  # a Champion who left
    hidden_ids = {user.id for user in hidden} | {user.id for user in left}
    assert not any(place.advocate.id in hidden_ids for place in top(session, "all", limit=200))

    # the first-visit path: three published starters; Ana has done one of them
    starters = session.scalars(select(Challenge).where(Challenge.starter)).all()
    assert {c.title for c in starters} == STARTERS
    assert all(c.status == ChallengeStatus.PUBLISHED for c in starters)
    assert {c.type for c in starters} == {"survey", "content"}
    done = session.scalars(
        select(Submission.challenge_id).where(
            Submission.advocate_id == ana.id,
            Submission.status == SubmissionStatus.APPROVED,
            Submission.challenge_id.in_([c.id for c in starters]),
        )
    ).all()
    assert len(done) == 1
    # and she has not yet seen the level she reached today
    assert [
        r.level.name
        for r in session.scalars(
            select(LevelReached).where(
                LevelReached.advocate_id == ana.id, LevelReached.seen_at.is_(None)
            )
        )
    ] == ["Contributor"]

    # every demo challenge has a cover image on disk, a real PNG
    challenges = session.scalars(select(Challenge)).all()
    assert len(challenges) >= 13
    for challenge in challenges:
        assert challenge.cover_image_key, challenge.title
        stored = path_of(SETTINGS, challenge.cover_image_key)
        assert stored.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    # the books: balances and period totals both agree with the ledger
    assert reconcile(session) == []
    assert totals_differences(session) == []
    checked = run(app, "points", "reconcile")
    assert checked.exit_code == 0, checked.output
    assert "period totals" in checked.output

    # seeding again changes nothing
    entries = session.scalar(select(func.count()).select_from(LedgerEntry))
    assert "up to date" in run(app, "seed-demo").output
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries
