"""Parts of an advocate's data download (/hub/export.json) beyond their profile, their
submissions and points, and their redemptions: the gift offers made to them and their
notifications."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from points.models import GiftOffer, Reward
from portal.accounts.models import User
from portal.notifications.models import Notification


def _when(moment) -> str | None:
    return moment.isoformat() if moment else None


def gift_offers_of(session: Session, advocate_id: int) -> list[dict]:
    """Every thank-you gift offered to them: what, by whom, and what they answered."""
    rows = session.execute(
        select(GiftOffer, Reward.name, User.name)
        .join(Reward, Reward.id == GiftOffer.reward_id)
        .outerjoin(User, User.id == GiftOffer.offered_by_id)
        .where(GiftOffer.advocate_id == advocate_id)
        .order_by(GiftOffer.id)
    )
    return [
        {
            "reward": reward_name,
            "status": offer.status,
            "offered_by": offered_by or None,
            "message": offer.message or None,
            "offered_at": _when(offer.created_at),
            "decided_at": _when(offer.decided_at),
        }
        for offer, reward_name, offered_by in rows
    ]


def notifications_of(session: Session, user_id: int) -> list[dict]:
    """Their notifications list, oldest first, with when each was read."""
    notes = session.scalars(
        select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
    )
    return [
        {
            "topic": note.topic,
            "message": note.message,
            "link": note.link or None,
            "at": _when(note.created_at),
            "read_at": _when(note.read_at),
        }
        for note in notes
    ]
