"""Point expiry: unspent points expire N months after an advocate's last activity.

Off unless the program sets `GameSettings.expiry_months`. "Last activity" is
`points_balances.updated_at`, which every ledger movement sets in the same conditional
UPDATE that changes the balance (an award, a hold, its post or void, a refund, an
adjustment, an expiry): no other column is needed. Dates are days on the program's
calendar (its time zone), so "your points expire on 12 March" means that local day.

Expiry is a ledger entry (source `expiry`, key `expiry:<advocate>:<date>`) taking away
`balance - held` and nothing else: held points, lifetime points and the leaderboards'
period totals never move (`points.leaderboard.SCORED` leaves expiry out). A reminder is
emailed once, at least 30 days before (an `ExpiryNotice` row per advocate and date), and a
short note when the points are gone; only advocates in the program get either, and their
points never expire before the date their reminder gave (a missed run, or expiry switched
on today, moves the date out to 30 days after the reminder).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from points.models import EntrySource, ExpiryNotice, PointsBalance
from points.program import game_settings, zone
from points.services import AlreadyBooked, _book, _change_balance
from portal.accounts.models import User
from portal.config import Settings
from portal.db import utcnow
from portal.i18n import _l, day, lazy_day, lazy_number
from portal.notifications.models import Topic
from portal.notifications.services import notify

REMINDER_DAYS = 30
BATCH = 500  # advocates read, changed and committed at a time


class _LostRace(Exception):
    """The balance moved since it was read: leave this advocate for the next run."""


@dataclass
class ExpiryReport:
    expired_advocates: int = 0
    expired_points: int = 0
    reminded: int = 0
    skipped: int = 0  # balances that moved while the run looked at them (a redemption, an award)
    dry_run: bool = False


@dataclass(frozen=True)
class _Due:
    """One unspent balance the run looks at, with who it belongs to."""

    advocate_id: int
    available: int
    updated_at: datetime
    expires_on: date
    email: str
    name: str
    mailable: bool  # in the program (and an active login): reminded and told
    notice_on: date | None  # the date a reminder sent since the last activity announced

    @property
    def due_on(self) -> date | None:
        """When the points go: a member is always told 30 days ahead first, so their
        points go on the date the reminder gave (None until one is sent)."""
        return self.notice_on if self.mailable else self.expires_on


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the last day of that month (31 Jan + 1 = 28 Feb)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _last_active_day(months: int, on: date) -> date:
    """The latest day of last activity whose points have expired by `on`.

    `add_months` never decreases, so everyone active on or before this day is due."""
    day = add_months(on, -months)
    while add_months(day + timedelta(days=1), months) <= on:
        day += timedelta(days=1)
    while add_months(day, months) > on:  # defensive: never needed with clamped months
        day -= timedelta(days=1)
    return day


def _spelled(on: date) -> str:
    return day(on, "long")  # in the reader's language


def _local_day(moment: datetime, zone_name: str) -> date:
    return moment.astimezone(zone(zone_name)).date()


def _start_of(day: date, zone_name: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone(zone_name)).astimezone(UTC)


def _expiry_day(updated_at: datetime, months: int, zone_name: str) -> date:
    return add_months(_local_day(updated_at, zone_name), months)


def expires_on(session: Session, advocate_id: int) -> date | None:
    """The day the advocate's available points expire if nothing else happens; None when
    expiry is off or nothing is available to expire. For the hub's points page."""
    rules = game_settings(session)
    if rules.expiry_months is None:
        return None
    row = session.execute(
        select(PointsBalance.balance, PointsBalance.held, PointsBalance.updated_at).where(
            PointsBalance.advocate_id == advocate_id
        )
    ).first()
    if row is None or row.balance - row.held <= 0:
        return None
    announced = session.scalar(
        select(func.max(ExpiryNotice.expires_on)).where(
            ExpiryNotice.advocate_id == advocate_id, ExpiryNotice.sent_at >= row.updated_at
        )
    )
    earliest = _local_day(utcnow(), rules.time_zone) + timedelta(days=REMINDER_DAYS)
    return announced or max(
        _expiry_day(row.updated_at, rules.expiry_months, rules.time_zone), earliest
    )


def run_expiry(
    session: Session,
    now: datetime | None = None,
    *,
    dry_run: bool = False,
    public_url: str = "",
    batch: int = BATCH,
    settings: Settings | None = None,
) -> ExpiryReport:
    """Expire what is due and remind who is 30 days away, a batch of advocates at a time
    (keyset by advocate id, one commit per batch). Safe to run twice: what expired has
    nothing left to expire, and a reminder is recorded once per advocate and date.

    The emails link to the hub under `public_url` (the rewards page in a reminder, the
    challenges in the note that points expired). With `dry_run` nothing is written: the
    report says what a real run would do. The unsubscribe links are signed with `settings`
    (a script without them gets links that do not verify)."""
    if settings is not None:
        public_url = public_url or settings.public_url
    settings = settings or Settings(secret_key="", public_url=public_url)
    now = now or utcnow()
    report = ExpiryReport(dry_run=dry_run)
    rules = game_settings(session)
    months, zone_name = rules.expiry_months, rules.time_zone
    if months is None:
        return report
    today = _local_day(now, zone_name)
    remind_before = _start_of(
        _last_active_day(months, today + timedelta(days=REMINDER_DAYS)) + timedelta(days=1),
        zone_name,
    )
    spend, earn = (
        (f"{public_url}/hub/rewards", f"{public_url}/hub/challenges") if public_url else ("", "")
    )
    after = 0
    while True:
        rows = _due_batch(session, after, remind_before, batch, months, zone_name)
        if not rows:
            break
        after = rows[-1].advocate_id
        for due in rows:
            if due.due_on is not None and due.due_on <= today:
                if dry_run or _expire(session, settings, due, months, earn):
                    report.expired_advocates += 1
                    report.expired_points += due.available
                else:
                    report.skipped += 1
            elif (
                due.mailable
                and due.notice_on is None
                and (dry_run or _remind(session, settings, due, now, today, spend))
            ):
                report.reminded += 1
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return report


def _due_batch(
    session: Session, after: int, before: datetime, limit: int, months: int, zone_name: str
) -> list[_Due]:
    """The next unspent balances whose last activity is old enough to be reminded or
    expired, with whether a reminder went out since that activity."""
    announced = (
        select(func.max(ExpiryNotice.expires_on))
        .where(
            ExpiryNotice.advocate_id == PointsBalance.advocate_id,
            ExpiryNotice.sent_at >= PointsBalance.updated_at,
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            PointsBalance.advocate_id,
            PointsBalance.balance,
            PointsBalance.held,
            PointsBalance.updated_at,
            User.email,
            User.name,
            and_(User.in_program, User.active).label("mailable"),
            announced.label("notice_on"),
        )
        .join(User, User.id == PointsBalance.advocate_id)
        .where(
            PointsBalance.advocate_id > after,
            PointsBalance.balance > PointsBalance.held,
            PointsBalance.updated_at < before,
        )
        .order_by(PointsBalance.advocate_id)
        .limit(limit)
    ).all()
    return [
        _Due(
            advocate_id=row.advocate_id,
            available=row.balance - row.held,
            updated_at=row.updated_at,
            expires_on=_expiry_day(row.updated_at, months, zone_name),
            email=row.email,
            name=row.name or row.email,
            mailable=bool(row.mailable),
            notice_on=row.notice_on,
        )
        for row in rows
    ]


def _expire(session: Session, settings: Settings, due: _Due, months: int, link: str) -> bool:
    """Book the expiry of exactly what was read as available; False if the balance moved
    meanwhile (a hold, an award) or this expiry was booked before."""
    try:
        with session.begin_nested():
            changed = _change_balance(
                session,
                due.advocate_id,
                balance=-due.available,
                where=and_(
                    PointsBalance.balance - PointsBalance.held == due.available,
                    PointsBalance.updated_at <= due.updated_at,
                ),
            )
            if not changed:
                raise _LostRace
            _book(
                session,
                due.advocate_id,
                -due.available,
                0,
                f"expiry:{due.advocate_id}:{due.due_on.isoformat()}",
                EntrySource.EXPIRY,
                None,
                f"Unspent points expired on {_spelled(due.due_on)}: no activity for "
                f"{months} months.",
                None,
            )
    except (_LostRace, AlreadyBooked):
        return False
    if due.mailable:
        notify(
            session,
            settings,
            session.get(User, due.advocate_id),
            Topic.REWARDS,
            "points_expired",
            _l("%(points)s unspent points have expired", points=lazy_number(due.available)),
            link=link,
            name=due.name,
            points=due.available,
            expired_on=lazy_day(due.due_on),
            months=months,
        )
    return True


def _remind(
    session: Session, settings: Settings, due: _Due, now: datetime, today: date, link: str
) -> bool:
    """Record the reminder for this advocate and date; email it only if this run recorded it."""
    # never fewer than 30 days' notice (a run missed, or expiry just switched on)
    on = max(due.expires_on, today + timedelta(days=REMINDER_DAYS))
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    recorded = session.execute(
        insert(ExpiryNotice)
        .values(
            advocate_id=due.advocate_id,
            expires_on=on,
            points=due.available,
            sent_at=now,
        )
        .on_conflict_do_nothing(index_elements=["advocate_id", "expires_on"])
        .returning(ExpiryNotice.id)  # (rowcount is -1 here on PostgreSQL)
    ).scalar()
    if recorded is None:
        return False
    notify(
        session,
        settings,
        session.get(User, due.advocate_id),
        Topic.REWARDS,
        "points_expiring",
        _l(
            "%(points)s of your points expire on %(day)s",
            points=lazy_number(due.available),
            day=lazy_day(on),
        ),
        link=link,
        name=due.name,
        points=due.available,
        expires_on=lazy_day(on),
        days=(on - today).days,
    )
    return True
