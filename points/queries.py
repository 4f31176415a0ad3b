"""Read-only queries for the reward pages: each list a page cut in SQL, counts by aggregate."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import String, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from points.models import (
    OPEN,
    GiftOffer,
    LedgerEntry,
    OfferStatus,
    PointsBalance,
    Redemption,
    RedemptionEvent,
    RedemptionStatus,
    Reward,
    RewardKind,
)
from points.program import game_settings, zone
from points.rewards import allowed_kinds, unavailable
from portal.accounts.models import User
from portal.db import utcnow
from portal.pagination import Page, PageRequest, paginate, paginate_by_key


def redemptions_of(session: Session, advocate_id: int, wanted: PageRequest) -> Page:
    """The advocate's own redemptions, newest first, with the history of the page shown."""
    statement = (
        select(Redemption)
        .where(Redemption.advocate_id == advocate_id)
        .options(
            selectinload(Redemption.reward),
            selectinload(Redemption.events).joinedload(RedemptionEvent.actor),
        )
        .order_by(Redemption.created_at.desc(), Redemption.id.desc())
    )
    return paginate(session, statement, wanted)


def export_for(session: Session, advocate_id: int) -> list[dict]:
    """The advocate's redemptions, for their data download (their own address included).

    Whole, as it is their own data: two queries joined on the advocate, never a list of ids."""
    history = defaultdict(list)
    for event in session.scalars(
        select(RedemptionEvent)
        .join(Redemption, RedemptionEvent.redemption_id == Redemption.id)
        .where(Redemption.advocate_id == advocate_id)
        .order_by(RedemptionEvent.id)
    ):
        history[event.redemption_id].append(
            {"status": event.to_status, "at": event.created_at.isoformat(), "note": event.note}
        )
    return [
        {
            "reward": reward_name,
            "points": r.cost,
            "status": r.status,
            "reference": r.reference or None,
            "shipping_address": r.shipping_address or None,
            "requested_at": r.created_at.isoformat(),
            "history": history[r.id],
        }
        for r, reward_name in session.execute(
            select(Redemption, Reward.name)
            .join(Reward, Redemption.reward_id == Reward.id)
            .where(Redemption.advocate_id == advocate_id)
            .order_by(Redemption.created_at.desc(), Redemption.id.desc())
        )
    ]


def queue(session: Session, status: str, wanted: PageRequest) -> Page:
    """Redemptions in one status, or the open ones flagged by a policy change, oldest first,
    a page at a time by key: acting on one page never makes the next skip any.

    The open queues go by when each entered its status (updated_at, index
    ix_redemptions_status_age), so those waiting past their age limit come first."""
    statement = select(Redemption).options(
        joinedload(Redemption.reward),
        joinedload(Redemption.advocate),
        joinedload(Redemption.account),
    )
    keys = (Redemption.created_at, Redemption.id)
    if status == "flagged":
        statement = statement.where(Redemption.status.in_(OPEN), Redemption.flagged != "")
    else:
        statement = statement.where(Redemption.status == status)
        if status in OPEN:
            keys = (Redemption.updated_at, Redemption.id)
    return paginate_by_key(session, statement, keys, wanted, count=False)


# --- how long a redemption may wait on staff --------------------------------------------


@dataclass(frozen=True)
class AgeLimits:
    """How long a redemption may wait in each open status (the program's settings)."""

    approve_within: timedelta
    fulfil_within: timedelta

    @classmethod
    def of(cls, session: Session) -> AgeLimits:
        row = game_settings(session)
        return cls(timedelta(days=row.approve_within_days), timedelta(days=row.fulfil_within_days))

    def limit(self, status: str) -> timedelta | None:
        return {
            RedemptionStatus.REQUESTED: self.approve_within,
            RedemptionStatus.APPROVED: self.fulfil_within,
        }.get(status)

    def due(self, redemption: Redemption) -> datetime | None:
        """When its current status should be over (updated_at is when it entered it)."""
        limit = self.limit(redemption.status)
        return redemption.updated_at + limit if limit is not None else None

    def overdue_by(self, redemption: Redemption, now: datetime) -> timedelta | None:
        due = self.due(redemption)
        return now - due if due is not None and now > due else None


def overdue_text(late: timedelta) -> str:
    """ "2 days overdue", or the hours while it is less than a day."""
    if late.days >= 1:
        return f"{late.days} day{'s' if late.days > 1 else ''} overdue"
    hours = max(late.seconds // 3600, 1)
    return f"{hours} hour{'s' if hours > 1 else ''} overdue"


def overdue_counts(session: Session, now: datetime | None = None) -> dict[str, int]:
    """How many requested and approved redemptions are past their age limit: two ranges of
    ix_redemptions_status_age (status, then entered before the limit), nothing else read."""
    now = now or utcnow()
    limits = AgeLimits.of(session)
    late_requested = (Redemption.status == RedemptionStatus.REQUESTED) & (
        Redemption.updated_at < now - limits.approve_within
    )
    late_approved = (Redemption.status == RedemptionStatus.APPROVED) & (
        Redemption.updated_at < now - limits.fulfil_within
    )
    requested, approved = session.execute(
        select(func.count().filter(late_requested), func.count().filter(late_approved)).where(
            or_(late_requested, late_approved)
        )
    ).one()
    return {"requested": requested, "approved": approved}


@dataclass(frozen=True)
class Expectation:
    """What an advocate is told to expect of an open redemption, in the program's days."""

    decide_by: date | None  # requested: the day a decision is due
    deliver_by: date | None  # the day delivery is due (counted from the decision's due day)
    late: bool  # the current step is past its day


def expectations(
    session: Session, redemptions: list[Redemption], now: datetime | None = None
) -> dict[int, Expectation]:
    """For each open redemption shown, the days to expect a decision and delivery by."""
    now = now or utcnow()
    limits = AgeLimits.of(session)
    tz = zone(game_settings(session).time_zone)
    found = {}
    for redemption in redemptions:
        due = limits.due(redemption)
        if due is None:
            continue
        if redemption.status == RedemptionStatus.REQUESTED:
            decide_by, deliver_by = due, max(due, now) + limits.fulfil_within
        else:
            decide_by, deliver_by = None, due
        found[redemption.id] = Expectation(
            decide_by=decide_by.astimezone(tz).date() if decide_by else None,
            deliver_by=deliver_by.astimezone(tz).date(),
            late=now > due,
        )
    return found


@dataclass(frozen=True)
class OpenRedemptions:
    counts: dict[str, int]  # the open queues: requested, approved, flagged
    value_by_currency: dict[str, int]  # minor units


def open_redemptions(session: Session) -> OpenRedemptions:
    """How many wait in each open queue and what they are worth: one aggregate read from the
    index of open redemptions alone (ix_redemptions_open). The closed queues grow without
    end and are not counted."""
    rows = session.execute(
        select(
            Redemption.currency,
            func.count().filter(Redemption.status == RedemptionStatus.REQUESTED),
            func.count().filter(Redemption.status == RedemptionStatus.APPROVED),
            func.count().filter(Redemption.flagged != ""),
            func.sum(Redemption.money_value),
        )
        .where(Redemption.status.in_(OPEN))
        .group_by(Redemption.currency)
        .order_by(Redemption.currency)
    ).all()
    counts = {
        "requested": sum(row[1] for row in rows),
        "approved": sum(row[2] for row in rows),
        "flagged": sum(row[3] for row in rows),
    }
    return OpenRedemptions(counts, {row[0]: row[4] for row in rows})


@dataclass(frozen=True)
class Liability:
    points_outstanding: int
    points_held: int


def liability(session: Session) -> Liability:
    """Every balance summed: one pass over points_balances (about 5-9 ms at 100k rows on
    PostgreSQL)."""
    balance, held = session.execute(
        select(
            func.coalesce(func.sum(PointsBalance.balance), 0),
            func.coalesce(func.sum(PointsBalance.held), 0),
        )
    ).one()
    return Liability(balance, held)


def approved_for_vendor_csv(session: Session) -> str:
    """Approved swag to ship: what a swag vendor needs, and the id to import back."""
    rows = session.execute(
        select(Redemption, User, Reward)
        .join(User, Redemption.advocate_id == User.id)
        .join(Reward, Redemption.reward_id == Reward.id)
        .where(Redemption.status == RedemptionStatus.APPROVED, Reward.kind == RewardKind.SWAG)
        .order_by(Redemption.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "redemption_id",
            "reward",
            "name",
            "email",
            "shipping_address",
            "requested_at",
            "reference",
        ]
    )
    for redemption, user, reward in rows:
        writer.writerow(
            [
                redemption.id,
                _cell(reward.name),
                _cell(user.display_name),
                _cell(user.email),
                _one_line(redemption.shipping_address),
                redemption.created_at.date().isoformat(),
                "",
            ]
        )
    return out.getvalue()


def _one_line(text: str) -> str:
    return _cell(", ".join(part.strip() for part in text.splitlines() if part.strip()))


def _cell(text: str) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ would make it a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def rewards_for_admin(session: Session) -> list[tuple[Reward, int]]:
    """Every reward with how many of it are open now (only open rows counted, by the index)."""
    open_by_reward = (
        select(Redemption.reward_id, func.count().label("open"))
        .where(Redemption.status.in_(OPEN))
        .group_by(Redemption.reward_id)
        .subquery()
    )
    return [
        (reward, count)
        for reward, count in session.execute(
            select(Reward, func.coalesce(open_by_reward.c.open, 0))
            .outerjoin(open_by_reward, open_by_reward.c.reward_id == Reward.id)
            .order_by(Reward.active.desc(), Reward.kind, Reward.cost, Reward.id)
        )
    ]


def charity_choices(session: Session) -> list[tuple[int, str]]:
    return [
        (
            reward.id,
            reward.name
            if reward.charity_name in reward.name
            else f"{reward.name} ({reward.charity_name})",
        )
        for reward in session.scalars(
            select(Reward).where(Reward.kind == RewardKind.CHARITY, Reward.active)
        )
    ]


def reward_choices(session: Session) -> list[tuple[int, str]]:
    return [
        (reward.id, f"{reward.name} ({reward.kind_enum.label})")
        for reward in session.scalars(select(Reward).where(Reward.active).order_by(Reward.name))
    ]


def open_offers_of(session: Session, advocate_id: int) -> list[GiftOffer]:
    return list(
        session.scalars(
            select(GiftOffer)
            .where(GiftOffer.advocate_id == advocate_id, GiftOffer.status == OfferStatus.OFFERED)
            .options(joinedload(GiftOffer.reward), joinedload(GiftOffer.offered_by))
            .order_by(GiftOffer.created_at.desc())
        )
    )


def offers_page(session: Session, wanted: PageRequest) -> Page:
    """Offers made, newest first, a page at a time (by id: new offers never shift a page)."""
    statement = select(GiftOffer).options(
        joinedload(GiftOffer.reward),
        joinedload(GiftOffer.advocate),
        joinedload(GiftOffer.offered_by),
    )
    return paginate_by_key(
        session, statement, (GiftOffer.id,), wanted, newest_first=True, count=False
    )


def ledger_page(session: Session, advocate_id: int, wanted: PageRequest) -> Page:
    """An advocate's ledger, newest first, a page at a time by id."""
    statement = select(LedgerEntry).where(LedgerEntry.advocate_id == advocate_id)
    return paginate_by_key(
        session, statement, (LedgerEntry.id,), wanted, newest_first=True, count=False
    )


def affordable_rewards(
    session: Session, advocate: User, available: int, limit: int = 4, now: datetime | None = None
) -> list[Reward]:
    """A few rewards the advocate could redeem now with `available` points, cheapest first:
    what the catalog would offer them (gift policy, window, stock, region), cut in SQL."""
    now = now or utcnow()
    account = advocate.account
    kinds = allowed_kinds(account.gift_policy, advocate.declines_gifts)
    region = (account.region or "").replace(" ", "")
    listed_regions = "," + func.replace(Reward.regions, " ", "", type_=String) + ","
    rewards = session.scalars(
        select(Reward)
        .where(
            Reward.active,
            Reward.kind.in_(kinds),
            Reward.cost <= available,
            or_(Reward.stock.is_(None), Reward.stock >= 1),
            or_(Reward.starts_at.is_(None), Reward.starts_at <= now),
            or_(Reward.ends_at.is_(None), Reward.ends_at > now),
            or_(Reward.regions == "", listed_regions.contains(f",{region},", autoescape=True)),
        )
        .order_by(Reward.cost, Reward.name, Reward.id)
        .limit(limit)
    )
    # the catalog's own rule has the last word
    return [reward for reward in rewards if not unavailable(reward, advocate, now)]
