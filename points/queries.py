"""Read-only queries for the reward pages."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from points.models import (
    OPEN,
    GiftOffer,
    OfferStatus,
    PointsBalance,
    Redemption,
    RedemptionEvent,
    RedemptionStatus,
    Reward,
    RewardKind,
)
from portal.accounts.models import User


def redemptions_of(session: Session, advocate_id: int) -> list[Redemption]:
    return list(
        session.scalars(
            select(Redemption)
            .where(Redemption.advocate_id == advocate_id)
            .options(
                joinedload(Redemption.reward),
                selectinload(Redemption.events).joinedload(RedemptionEvent.actor),
            )
            .order_by(Redemption.created_at.desc(), Redemption.id.desc())
        )
    )


def export_for(session: Session, advocate_id: int) -> list[dict]:
    """The advocate's redemptions, for their data download (their own address included)."""
    return [
        {
            "reward": r.reward.name,
            "points": r.cost,
            "status": r.status,
            "reference": r.reference or None,
            "shipping_address": r.shipping_address or None,
            "requested_at": r.created_at.isoformat(),
            "history": [
                {"status": e.to_status, "at": e.created_at.isoformat(), "note": e.note}
                for e in r.events
            ],
        }
        for r in redemptions_of(session, advocate_id)
    ]


def queue(session: Session, status: str) -> list[Redemption]:
    """Redemptions in one status, or the open ones flagged by a policy change, oldest first."""
    query = (
        select(Redemption)
        .options(
            joinedload(Redemption.reward),
            joinedload(Redemption.advocate),
            joinedload(Redemption.account),
        )
        .order_by(Redemption.created_at, Redemption.id)
        .limit(500)
    )
    if status == "flagged":
        query = query.where(Redemption.status.in_(OPEN), Redemption.flagged != "")
    else:
        query = query.where(Redemption.status == status)
    return list(session.scalars(query))


def counts_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Redemption.status, func.count()).group_by(Redemption.status)
    ).all()
    counts = dict.fromkeys(RedemptionStatus, 0)
    counts.update({RedemptionStatus(status): count for status, count in rows})
    counts["flagged"] = session.scalar(
        select(func.count()).where(Redemption.status.in_(OPEN), Redemption.flagged != "")
    )
    return counts


@dataclass(frozen=True)
class Liability:
    points_outstanding: int
    points_held: int
    open_value_by_currency: dict[str, int]  # minor units


def liability(session: Session) -> Liability:
    balance, held = session.execute(
        select(
            func.coalesce(func.sum(PointsBalance.balance), 0),
            func.coalesce(func.sum(PointsBalance.held), 0),
        )
    ).one()
    values = session.execute(
        select(Redemption.currency, func.sum(Redemption.money_value))
        .where(Redemption.status.in_(OPEN))
        .group_by(Redemption.currency)
        .order_by(Redemption.currency)
    ).all()
    return Liability(balance, held, {currency: total for currency, total in values})


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
    """Every reward with how many of it are open now."""
    open_count = func.count(Redemption.id).filter(Redemption.status.in_(OPEN))
    return [
        (reward, count)
        for reward, count in session.execute(
            select(Reward, open_count)
            .outerjoin(Redemption, Redemption.reward_id == Reward.id)
            .group_by(Reward.id)
            .order_by(Reward.active.desc(), Reward.kind, Reward.cost)
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


def recent_offers(session: Session, limit: int = 50) -> list[GiftOffer]:
    return list(
        session.scalars(
            select(GiftOffer)
            .options(
                joinedload(GiftOffer.reward),
                joinedload(GiftOffer.advocate),
                joinedload(GiftOffer.offered_by),
            )
            .order_by(GiftOffer.created_at.desc())
            .limit(limit)
        )
    )
