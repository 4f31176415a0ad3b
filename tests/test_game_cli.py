"""The game's operator commands: points expire, points retotal, badges recompute, and
reconcile checking the leaderboards' period totals."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import delete, func, select, update

from challenges.badges import ensure_default_badges
from challenges.services import approve
from points.expiry import add_months, expires_on, run_expiry
from points.models import (
    Badge,
    BadgeAward,
    EntrySource,
    LedgerEntry,
    PeriodTotal,
    PointsBalance,
)
from points.services import balance_of
from points.settings import GameChoices, update_game_settings
from portal.auth.services import opt_out
from portal.db import utcnow
from portal.mail.models import OutboxMessage
from tests.factories import SETTINGS


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def expire_after(session, make, months: int | None) -> None:
    update_game_settings(
        session, make.admin(), GameChoices("UTC", True, True, months, None, "month")
    )
    session.commit()


def active_on(session, advocate, when) -> None:
    """Move an advocate's last activity back in time (the clock the expiry reads)."""
    session.execute(
        update(PointsBalance)
        .where(PointsBalance.advocate_id == advocate.id)
        .values(updated_at=when)
    )
    session.commit()


def expiries(session) -> int:
    return session.scalar(
        select(func.count())
        .select_from(LedgerEntry)
        .where(LedgerEntry.source == EntrySource.EXPIRY)
    )


def test_points_expire_says_so_when_expiry_is_off(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 300)
    active_on(session, advocate, utcnow() - timedelta(days=3650))
    result = run(app, "points", "expire")
    assert result.exit_code == 0, result.output
    assert "points never expire in this program (expiry is off)" in result.output
    assert expiries(session) == 0


def test_points_expire_is_safe_to_run_twice(app, make, session):
    gone, soon, fresh, left = (make.advocate() for _ in range(4))
    for advocate, points in ((gone, 700), (soon, 250), (fresh, 90), (left, 60)):
        make.points(advocate, points)
    opt_out(session, left)
    session.commit()
    expire_after(session, make, 12)
    active_on(session, gone, utcnow() - timedelta(days=400))
    # the daily run 30 days ago reminded `gone`: a member's points go on the date it gave
    assert run_expiry(session, utcnow() - timedelta(days=30)).reminded == 1
    active_on(session, left, utcnow() - timedelta(days=400))  # out of the program: no reminder
    last = add_months(utcnow().date() + timedelta(days=12), -12)
    active_on(session, soon, datetime.combine(last, time(12), tzinfo=UTC))
    today = utcnow().date()
    assert expires_on(session, gone.id) == today
    due = expires_on(session, soon.id)
    assert due == today + timedelta(days=30)  # theirs would go in 12 days: 30 days' notice first

    dry = run(app, "points", "expire", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "(dry run, nothing written)" in dry.output
    assert "760 unspent points would expire for 2 advocate(s)" in dry.output
    assert "1 advocate(s) would be reminded" in dry.output
    assert expiries(session) == 0

    first = run(app, "points", "expire")
    assert first.exit_code == 0, first.output
    assert "760 unspent points expired for 2 advocate(s) with no activity for 12 months" in (
        first.output
    )
    assert "1 advocate(s) reminded that theirs expire within 30 days" in first.output
    session.expire_all()
    balances = [balance_of(session, a.id).balance for a in (gone, soon, fresh, left)]
    assert balances == [0, 250, 90, 0]
    assert balance_of(session, gone.id).lifetime_earned == 700
    kinds = session.scalars(select(OutboxMessage.kind).where(OutboxMessage.kind.like("points_%")))
    assert sorted(kinds) == ["points_expired", "points_expiring", "points_expiring"]
    to_left = select(OutboxMessage.kind).where(OutboxMessage.to_email == left.email)
    assert not [k for k in session.scalars(to_left) if k.startswith("points_")]
    reminder = session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.to_email == soon.email, OutboxMessage.kind == "points_expiring"
        )
    )
    assert reminder.subject == f"250 of your points expire on {due.day} {due:%B %Y}"
    assert "(in 30 days)" in reminder.body_text
    assert "http://vouch.test/hub/rewards" in reminder.body_text

    second = run(app, "points", "expire")
    assert second.exit_code == 0, second.output
    assert "0 unspent points expired for 0 advocate(s)" in second.output
    assert "0 advocate(s) reminded" in second.output
    assert expiries(session) == 2
    assert session.scalar(select(func.count()).where(OutboxMessage.kind.like("points_%"))) == 3

    reconciled = run(app, "points", "reconcile")
    assert reconciled.exit_code == 0, reconciled.output
    assert "4 balances match the ledger" in reconciled.output


def test_reconcile_finds_a_tampered_period_total_and_retotal_repairs_it(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 1000)
    clean = run(app, "points", "reconcile")
    assert clean.exit_code == 0, clean.output
    assert "1 balances match the ledger, and so do 3 period totals" in clean.output

    session.execute(
        update(PeriodTotal)
        .where(PeriodTotal.advocate_id == advocate.id, PeriodTotal.period == "all")
        .values(points=PeriodTotal.points + 7)
    )
    session.commit()
    drifted = run(app, "points", "reconcile")
    assert drifted.exit_code == 1
    assert f"advocate {advocate.id}: the all total is 1007, the ledger says 1000" in drifted.stderr
    # the score counts still count the 1,000 the total held: both differ
    assert "score counts: 1 listed advocates at 1,000 points on the all board" in drifted.stderr
    assert "0 balance, 1 period total and 2 counter difference(s)" in drifted.stderr
    assert "points retotal" in drifted.stderr

    session.execute(delete(PeriodTotal).where(PeriodTotal.period != "all"))
    session.commit()
    missing = run(app, "points", "reconcile")
    assert missing.exit_code == 1
    assert "1 balance" not in missing.stderr and "3 period total" in missing.stderr

    rebuilt = run(app, "points", "retotal")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "points retotal: 3 period totals rebuilt from the ledger." in rebuilt.output
    session.expire_all()
    points = session.scalar(
        select(PeriodTotal.points).where(
            PeriodTotal.advocate_id == advocate.id, PeriodTotal.period == "all"
        )
    )
    assert points == 1000
    assert run(app, "points", "reconcile").exit_code == 0


def test_badges_recompute_adds_what_is_missing_once(app, make, session):
    session.execute(delete(BadgeAward))
    session.execute(delete(Badge))  # approvals below happen before the program had badges
    session.commit()
    manager = make.manager()
    webinar = make.challenge("webinar", approval="manual", manager=manager)
    first, second = make.advocate(), make.advocate()
    for advocate in (first, second):
        approve(session, SETTINGS, manager, make.submission(webinar, advocate).id)
        session.commit()
    assert session.scalar(select(func.count()).select_from(BadgeAward)) == 0

    ensure_default_badges(session)
    session.commit()
    added = run(app, "badges", "recompute")
    assert added.exit_code == 0, added.output
    assert "  First step: 2 added" in added.output
    assert "badges recompute: 2 badge(s) awarded." in added.output
    held = session.scalars(select(BadgeAward.advocate_id).order_by(BadgeAward.advocate_id))
    assert list(held) == sorted([first.id, second.id])

    again = run(app, "badges", "recompute")
    assert again.exit_code == 0, again.output
    assert "badges recompute: nothing to add; every badge is up to date." in again.output
    assert session.scalar(select(func.count()).select_from(BadgeAward)) == 2
