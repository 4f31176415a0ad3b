"""Point expiry: unspent points go N months after the last activity, once. An advocate in
the program is reminded at least 30 days before and their points go on the date that
reminder gave; one out of the program gets no email and loses them on the plain date.
Held points, lifetime points and the leaderboards never move."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from points import redemptions as flow
from points.expiry import REMINDER_DAYS, add_months, expires_on, run_expiry
from points.leaderboard import totals_differences
from points.models import (
    EntrySource,
    ExpiryNotice,
    LedgerEntry,
    PeriodTotal,
    PointsBalance,
)
from points.program import zone
from points.queries import liability
from points.services import InsufficientPoints, balance_of, reconcile
from points.settings import GameChoices, update_game_settings
from portal.accounts.models import User
from portal.auth.services import opt_out
from portal.db import utcnow
from portal.errors import DomainError
from portal.mail.models import OutboxMessage
from tests.factories import SETTINGS


def expire_after(session, make, months: int | None, time_zone: str = "UTC") -> None:
    """Set the program's expiry as an admin saves it on the game settings form."""
    update_game_settings(
        session, make.admin(), GameChoices(time_zone, True, True, months, None, "month")
    )
    session.commit()


def last_active(session, advocate) -> datetime:
    session.expire_all()
    return balance_of(session, advocate.id).updated_at


def inactive_since(session, advocate, when: datetime) -> None:
    """Move an advocate's last activity back in time (the clock the expiry reads)."""
    session.execute(
        update(PointsBalance)
        .where(PointsBalance.advocate_id == advocate.id)
        .values(updated_at=when)
    )
    session.commit()


def morning_of(day: date, zone_name: str = "UTC") -> datetime:
    return datetime.combine(day, time(9), tzinfo=zone(zone_name))


def spelled(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def entries(session, advocate, source=EntrySource.EXPIRY) -> list[LedgerEntry]:
    return list(
        session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.advocate_id == advocate.id, LedgerEntry.source == source
            )
        )
    )


def notices(session, advocate) -> list[ExpiryNotice]:
    session.expire_all()
    return list(
        session.scalars(
            select(ExpiryNotice)
            .where(ExpiryNotice.advocate_id == advocate.id)
            .order_by(ExpiryNotice.id)
        )
    )


def mail_to(session, advocate) -> list[OutboxMessage]:
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.to_email == advocate.email)
            .where(OutboxMessage.kind.in_(("points_expiring", "points_expired")))
            .order_by(OutboxMessage.id)
        )
    )


def board(session) -> dict[tuple[int, str], int]:
    return {
        (row.advocate_id, row.period): row.points
        for row in session.execute(
            select(PeriodTotal.advocate_id, PeriodTotal.period, PeriodTotal.points)
        )
    }


def test_add_months_keeps_the_day_or_takes_the_last_of_the_month():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 12, 15), 12) == date(2028, 12, 15)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_expiry_is_off_by_default(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 800)
    report = run_expiry(session, utcnow() + timedelta(days=3650))
    assert (report.expired_advocates, report.expired_points, report.reminded) == (0, 0, 0)
    assert expires_on(session, advocate.id) is None
    assert entries(session, advocate) == []
    assert session.scalar(select(func.count()).select_from(ExpiryNotice)) == 0
    assert mail_to(session, advocate) == []
    assert balance_of(session, advocate.id).balance == 800


def test_unspent_points_expire_once_and_nothing_else_moves(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 1000)
    make.redemption(advocate, make.reward(cost=300))  # held until fulfilled
    expire_after(session, make, 12)
    due = add_months(last_active(session, advocate).date(), 12)
    assert expires_on(session, advocate.id) == due
    scores, owed = board(session), liability(session)
    assert owed.points_outstanding == 1000 and owed.points_held == 300

    reminded = run_expiry(session, morning_of(due - timedelta(days=30)))
    assert (reminded.expired_advocates, reminded.reminded) == (0, 1)
    the_day_before = run_expiry(session, morning_of(due - timedelta(days=1)))
    assert (the_day_before.expired_advocates, the_day_before.reminded) == (0, 0)
    assert entries(session, advocate) == []

    report = run_expiry(session, morning_of(due), public_url="http://vouch.test")
    assert (report.expired_advocates, report.expired_points) == (1, 700)
    [entry] = entries(session, advocate)
    assert (entry.amount, entry.hold_change) == (-700, 0)
    assert entry.idempotency_key == f"expiry:{advocate.id}:{due.isoformat()}"
    session.expire_all()
    kept = balance_of(session, advocate.id)
    assert (kept.balance, kept.held, kept.lifetime_earned) == (300, 300, 1000)
    assert board(session) == scores  # expiry is not a score
    assert reconcile(session) == [] and totals_differences(session) == []
    after = liability(session)
    assert (after.points_outstanding, after.points_held) == (300, 300)
    assert expires_on(session, advocate.id) is None  # nothing left to expire
    reminder, note = mail_to(session, advocate)
    assert reminder.subject == f"700 of your points expire on {spelled(due)}"
    assert "(in 30 days)" in reminder.body_text
    assert note.subject == "700 unspent points have expired"
    assert f"expired on {spelled(due)}" in note.body_text
    assert "after 12 months" in note.body_text and "not affected" in note.body_text
    assert "http://vouch.test/hub/challenges" in note.body_text

    again = run_expiry(session, morning_of(due + timedelta(days=1)))
    assert (again.expired_advocates, again.expired_points, again.reminded) == (0, 0, 0)
    assert len(entries(session, advocate)) == 1
    assert len(mail_to(session, advocate)) == 2


def test_a_reminder_goes_30_days_before_and_only_once(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 500)
    expire_after(session, make, 12)
    due = add_months(last_active(session, advocate).date(), 12)

    early = run_expiry(session, morning_of(due - timedelta(days=31)))
    assert early.reminded == 0 and mail_to(session, advocate) == []

    first = run_expiry(
        session, morning_of(due - timedelta(days=30)), public_url="http://vouch.test"
    )
    assert first.reminded == 1 and first.expired_advocates == 0
    [reminder] = mail_to(session, advocate)
    assert reminder.subject == f"500 of your points expire on {due.day} {due:%B %Y}"
    assert "in 30 days" in reminder.body_text
    assert "http://vouch.test/hub/rewards" in reminder.body_text
    notice = session.scalar(select(ExpiryNotice).where(ExpiryNotice.advocate_id == advocate.id))
    assert (notice.expires_on, notice.points) == (due, 500)
    assert expires_on(session, advocate.id) == due

    for days_left in (30, 29, 1):
        assert run_expiry(session, morning_of(due - timedelta(days=days_left))).reminded == 0
    assert len(mail_to(session, advocate)) == 1
    assert session.scalar(select(func.count()).select_from(ExpiryNotice)) == 1

    gone = run_expiry(session, morning_of(due))
    assert (gone.expired_advocates, gone.expired_points) == (1, 500)
    assert [m.kind for m in mail_to(session, advocate)] == ["points_expiring", "points_expired"]


def test_a_member_long_inactive_is_reminded_first_and_expired_on_the_announced_date(
    app, make, session
):
    advocate = make.advocate()
    make.points(advocate, 600)
    inactive_since(session, advocate, utcnow() - timedelta(days=400))
    expire_after(session, make, 12)  # switched on long after their points were due
    now = utcnow()
    today = now.date()
    announced = today + timedelta(days=REMINDER_DAYS)
    assert add_months(last_active(session, advocate).date(), 12) < today
    assert expires_on(session, advocate.id) == announced

    first = run_expiry(session, now, public_url="http://vouch.test")
    assert (first.expired_advocates, first.expired_points, first.reminded) == (0, 0, 1)
    assert entries(session, advocate) == []
    assert balance_of(session, advocate.id).balance == 600
    [notice] = notices(session, advocate)
    assert (notice.expires_on, notice.points) == (announced, 600)
    [reminder] = mail_to(session, advocate)
    assert reminder.subject == f"600 of your points expire on {spelled(announced)}"
    assert "(in 30 days)" in reminder.body_text
    assert expires_on(session, advocate.id) == announced

    the_evening_before = datetime.combine(announced - timedelta(days=1), time(23, 59), tzinfo=UTC)
    for later in (now, now + timedelta(days=1), the_evening_before):
        waiting = run_expiry(session, later)
        assert (waiting.expired_advocates, waiting.reminded) == (0, 0)
    assert entries(session, advocate) == [] and len(mail_to(session, advocate)) == 1

    gone = run_expiry(session, morning_of(announced), public_url="http://vouch.test")
    assert (gone.expired_advocates, gone.expired_points, gone.reminded) == (1, 600, 0)
    [entry] = entries(session, advocate)
    assert entry.idempotency_key == f"expiry:{advocate.id}:{announced.isoformat()}"
    _, note = mail_to(session, advocate)
    assert (note.kind, note.subject) == ("points_expired", "600 unspent points have expired")
    assert f"expired on {spelled(announced)}" in note.body_text
    assert reconcile(session) == [] and totals_differences(session) == []

    late = run_expiry(session, morning_of(announced + timedelta(days=5)))
    assert (late.expired_advocates, late.expired_points, late.reminded) == (0, 0, 0)
    assert len(entries(session, advocate)) == 1 and len(mail_to(session, advocate)) == 2


@pytest.mark.parametrize(
    "days_left",
    [-400, -1, 0, 12, 29, 30],
    ids=["long-gone", "yesterday", "today", "a-missed-run", "29-days", "30-days"],
)
def test_the_announced_date_is_at_least_30_days_after_the_reminder(app, make, session, days_left):
    """Whenever the first reminder goes (expiry just switched on, runs missed), the date it
    gives is the plain date or 30 days on, whichever is later, and the points stay till then."""
    advocate = make.advocate()
    make.points(advocate, 80)
    expire_after(session, make, 12)
    now = utcnow()
    today = now.date()
    inactive_since(
        session, advocate, morning_of(add_months(today + timedelta(days=days_left), -12))
    )
    plain = add_months(last_active(session, advocate).date(), 12)
    expected = max(plain, today + timedelta(days=REMINDER_DAYS))
    assert expires_on(session, advocate.id) == expected

    assert run_expiry(session, now).reminded == 1
    [notice] = notices(session, advocate)
    assert notice.expires_on == expected
    assert (notice.expires_on - notice.sent_at.date()).days >= REMINDER_DAYS
    [reminder] = mail_to(session, advocate)
    assert f"(in {(expected - today).days} days)" in reminder.body_text

    assert run_expiry(session, morning_of(expected - timedelta(days=1))).expired_advocates == 0
    assert run_expiry(session, morning_of(expected)).expired_points == 80
    [entry] = entries(session, advocate)
    assert entry.idempotency_key == f"expiry:{advocate.id}:{expected.isoformat()}"


@pytest.mark.parametrize(
    ("come_back", "balance", "held"),
    [
        (lambda make, advocate: make.points(advocate, 20), 520, 0),
        (lambda make, advocate: make.redemption(advocate, make.reward(cost=100)), 500, 100),
    ],
    ids=["earns", "redeems"],
)
def test_new_activity_after_a_reminder_starts_the_clock_again(
    app, make, session, come_back, balance, held
):
    advocate = make.advocate()
    make.points(advocate, 500)
    expire_after(session, make, 6)
    today = utcnow().date()
    # their last activity was six months less ten days ago: 30 days' notice still comes first
    inactive_since(session, advocate, morning_of(add_months(today + timedelta(days=10), -6)))
    announced = today + timedelta(days=REMINDER_DAYS)
    assert expires_on(session, advocate.id) == announced
    assert run_expiry(session, utcnow()).reminded == 1
    [notice] = notices(session, advocate)
    assert notice.expires_on == announced

    come_back(make, advocate)
    assert last_active(session, advocate) > notice.sent_at
    plain = add_months(last_active(session, advocate).date(), 6)
    assert expires_on(session, advocate.id) == plain
    for day in (today + timedelta(days=10), announced, announced + timedelta(days=1)):
        nothing = run_expiry(session, morning_of(day))
        assert (nothing.expired_advocates, nothing.reminded) == (0, 0)
    assert entries(session, advocate) == []
    session.expire_all()
    assert (balance_of(session, advocate.id).balance, balance_of(session, advocate.id).held) == (
        balance,
        held,
    )
    assert len(mail_to(session, advocate)) == 1

    # the new clock: a new reminder 30 days before the new date, and the points go on it
    assert run_expiry(session, morning_of(plain - timedelta(days=REMINDER_DAYS))).reminded == 1
    assert [n.expires_on for n in notices(session, advocate)] == [announced, plain]
    gone = run_expiry(session, morning_of(plain))
    assert (gone.expired_advocates, gone.expired_points) == (1, balance - held)
    [entry] = entries(session, advocate)
    assert entry.idempotency_key == f"expiry:{advocate.id}:{plain.isoformat()}"
    session.expire_all()
    kept = balance_of(session, advocate.id)
    assert (kept.balance, kept.held) == (held, held)
    assert reconcile(session) == []


def test_advocates_out_of_the_program_expire_on_the_plain_date_without_email(app, make, session):
    stayed, left = make.advocate(), make.advocate()
    for advocate in (stayed, left):
        make.points(advocate, 400)
    opt_out(session, left)
    session.commit()
    expire_after(session, make, 12)
    plain = {a.id: add_months(last_active(session, a).date(), 12) for a in (stayed, left)}
    due = max(plain.values())

    reminded = run_expiry(session, morning_of(due - timedelta(days=20)))
    assert (reminded.reminded, reminded.expired_advocates) == (1, 0)
    assert len(mail_to(session, stayed)) == 1 and mail_to(session, left) == []
    assert notices(session, left) == []
    [notice] = notices(session, stayed)
    assert notice.expires_on == due + timedelta(days=10)  # 30 days after the reminder

    expired = run_expiry(session, morning_of(due))
    assert (expired.expired_advocates, expired.expired_points) == (1, 400)
    [entry] = entries(session, left)
    assert entry.idempotency_key == f"expiry:{left.id}:{plain[left.id].isoformat()}"
    assert entries(session, stayed) == []
    assert mail_to(session, left) == []

    promised = run_expiry(session, morning_of(notice.expires_on))
    assert (promised.expired_advocates, promised.expired_points) == (1, 400)
    assert len(entries(session, stayed)) == 1 and len(entries(session, left)) == 1
    assert mail_to(session, left) == []
    assert [m.kind for m in mail_to(session, stayed)] == ["points_expiring", "points_expired"]


def test_a_long_inactive_advocate_out_of_the_program_expires_at_once(app, make, session):
    """Expiry switched on: who left the program, or whose login is deactivated, loses the
    points on the first run (no promise was made, no email is sent); a member is reminded."""
    member, left, deactivated = make.advocate(), make.advocate(), make.advocate()
    for advocate in (member, left, deactivated):
        make.points(advocate, 300)
        inactive_since(session, advocate, utcnow() - timedelta(days=400))
    opt_out(session, left)
    deactivated.active = False
    session.commit()
    expire_after(session, make, 12)
    plain = {a.id: add_months(last_active(session, a).date(), 12) for a in (left, deactivated)}

    first = run_expiry(session, utcnow())
    assert (first.expired_advocates, first.expired_points, first.reminded) == (2, 600, 1)
    for advocate in (left, deactivated):
        [entry] = entries(session, advocate)
        assert entry.idempotency_key == f"expiry:{advocate.id}:{plain[advocate.id].isoformat()}"
        assert notices(session, advocate) == [] and mail_to(session, advocate) == []
        assert balance_of(session, advocate.id).balance == 0
    assert entries(session, member) == []
    assert [m.kind for m in mail_to(session, member)] == ["points_expiring"]
    assert balance_of(session, member.id).balance == 300
    assert reconcile(session) == []


def test_expiry_days_are_on_the_programs_calendar(app, make, session):
    local = "Pacific/Kiritimati"  # UTC+14
    member, left = make.advocate(), make.advocate()
    for advocate in (member, left):
        make.points(advocate, 100)
    opt_out(session, left)
    session.commit()
    expire_after(session, make, 1, time_zone=local)
    for advocate in (member, left):  # 1 Feb there: the plain date is 1 March, not 28 Feb
        inactive_since(session, advocate, datetime(2026, 1, 31, 12, tzinfo=UTC))

    reminded = run_expiry(session, morning_of(date(2026, 2, 1), local))  # 31 Jan in UTC
    assert (reminded.reminded, reminded.expired_advocates) == (1, 0)
    [notice] = notices(session, member)
    assert notice.expires_on == date(2026, 3, 3)  # 1 Feb there + 30 days
    assert expires_on(session, member.id) == date(2026, 3, 3)

    late_on_28_feb = datetime(2026, 2, 28, 23, 30, tzinfo=zone(local))
    assert run_expiry(session, late_on_28_feb).expired_advocates == 0
    first_of_march = run_expiry(session, morning_of(date(2026, 3, 1), local))  # 28 Feb in UTC
    assert (first_of_march.expired_advocates, first_of_march.expired_points) == (1, 100)
    [entry] = entries(session, left)
    assert entry.idempotency_key == f"expiry:{left.id}:2026-03-01"
    assert entries(session, member) == []

    late_on_2_march = datetime(2026, 3, 2, 23, 30, tzinfo=zone(local))
    assert run_expiry(session, late_on_2_march).expired_advocates == 0
    third_of_march = run_expiry(session, morning_of(date(2026, 3, 3), local))  # 2 Mar in UTC
    assert (third_of_march.expired_advocates, third_of_march.expired_points) == (1, 100)
    [entry] = entries(session, member)
    assert entry.idempotency_key == f"expiry:{member.id}:2026-03-03"


def test_a_dry_run_writes_nothing(app, make, session):
    reminded, fresh, left = make.advocate(), make.advocate(), make.advocate()
    make.points(reminded, 250)
    make.points(left, 40)
    opt_out(session, left)
    session.commit()
    expire_after(session, make, 12)
    due = max(add_months(last_active(session, a).date(), 12) for a in (reminded, left))
    assert run_expiry(session, morning_of(due - timedelta(days=30))).reminded == 1
    make.points(fresh, 60)  # a member not reminded yet when the dry run comes
    outbox = session.scalar(select(func.count()).select_from(OutboxMessage))

    dry = run_expiry(session, morning_of(due), dry_run=True)
    assert dry.dry_run
    assert (dry.expired_advocates, dry.expired_points, dry.reminded) == (2, 290, 1)
    for advocate in (reminded, fresh, left):
        assert entries(session, advocate) == []
    assert session.scalar(select(func.count()).select_from(ExpiryNotice)) == 1
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == outbox
    assert len(mail_to(session, reminded)) == 1 and mail_to(session, fresh) == []
    assert [balance_of(session, a.id).balance for a in (reminded, fresh, left)] == [250, 60, 40]
    assert reconcile(session) == []

    real = run_expiry(session, morning_of(due))  # does what the dry run said
    assert (real.expired_advocates, real.expired_points, real.reminded) == (2, 290, 1)
    assert [len(entries(session, a)) for a in (reminded, fresh, left)] == [1, 0, 1]


def test_expiry_pages_through_advocates_in_batches(app, make, session):
    advocates = make.many_advocates(23)
    for advocate in advocates:
        make.points(advocate, 10)
    expire_after(session, make, 12)
    due = max(add_months(last_active(session, a).date(), 12) for a in advocates)
    reminded = run_expiry(session, morning_of(due - timedelta(days=30)), batch=5)
    assert (reminded.reminded, reminded.expired_advocates) == (23, 0)
    assert session.scalar(select(func.count()).select_from(ExpiryNotice)) == 23

    report = run_expiry(session, morning_of(due), batch=5)
    assert (report.expired_advocates, report.expired_points, report.reminded) == (23, 230, 0)
    total = session.scalar(
        select(func.count())
        .select_from(LedgerEntry)
        .where(LedgerEntry.source == EntrySource.EXPIRY)
    )
    assert total == 23
    assert session.scalar(select(func.sum(PointsBalance.balance))) == 0
    assert reconcile(session) == []
    again = run_expiry(session, morning_of(due), batch=5)
    assert (again.expired_advocates, again.reminded) == (0, 0)


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_only")
def test_a_redemption_racing_the_expiry_loses_no_points(app, make, session):
    """Each advocate's redemption and the expiry run are released together: one of them
    wins, the other finds the balance moved (the redemption is refused, or the expiry
    leaves that advocate for the next run)."""
    count, points, cost = 8, 1000, 300
    advocates = make.many_advocates(count)
    reward = make.reward(cost=cost)
    for advocate in advocates:
        make.points(advocate, points)
    expire_after(session, make, 12)
    session.execute(  # a year and more without activity: reminded today, due in 30 days
        update(PointsBalance).values(updated_at=utcnow() - timedelta(days=400))
    )
    session.commit()
    assert run_expiry(session, utcnow()).reminded == count
    on_the_day = utcnow() + timedelta(days=REMINDER_DAYS)
    maker = app.extensions["vouch.sessionmaker"]
    barrier = threading.Barrier(count + 1)
    outcomes: dict[int, str] = {}

    def redeem(index: int) -> None:
        with maker() as own:
            advocate = own.get(User, advocates[index].id)
            barrier.wait(timeout=30)
            try:
                flow.redeem(own, SETTINGS, advocate, reward.id, f"race-{index}")
                own.commit()
                outcomes[index] = "redeemed"
            except InsufficientPoints:
                own.rollback()
                outcomes[index] = "refused"
            except DomainError as error:
                own.rollback()
                outcomes[index] = f"FAILURE refused for another reason: {error.message}"
            except Exception as error:  # noqa: BLE001 - anything else is a 500
                outcomes[index] = f"FAILURE {type(error).__name__}: {error}"

    reports = []

    def expire() -> None:
        with maker() as own:
            barrier.wait(timeout=30)
            reports.append(run_expiry(own, on_the_day, batch=3))

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(count)]
    threads.append(threading.Thread(target=expire))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not [o for o in outcomes.values() if o.startswith("FAILURE")], outcomes
    assert len(outcomes) == count and len(reports) == 1
    session.expire_all()
    for index, advocate in enumerate(advocates):
        kept = balance_of(session, advocate.id)
        expired = -sum(e.amount for e in entries(session, advocate))
        assert kept.balance >= kept.held >= 0
        assert kept.balance + expired == points  # every point is either kept or expired
        if outcomes[index] == "redeemed":
            assert (expired, kept.held) == (0, cost)
        else:
            assert (expired, kept.balance, kept.held) == (points, 0, 0)
    redeemed = sum(1 for o in outcomes.values() if o == "redeemed")
    assert reports[0].expired_advocates == count - redeemed
    assert reports[0].skipped <= redeemed
    assert reconcile(session) == [] and totals_differences(session) == []

    # the advocates who redeemed are left alone by the next run too: they were active
    again = run_expiry(session, on_the_day)
    assert again.expired_advocates == 0
