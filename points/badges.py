"""Badges an advocate holds: each at most once (a unique key), with the date earned.

Which badges exist and the rules that award them live in challenges.badges (the rules
read submissions); this module only records and reads what was earned."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from points.feed import add_to_feed
from points.models import Badge, BadgeAward, FeedKind
from portal.accounts.models import User
from portal.db import refuse_duplicates
from portal.errors import AlreadyHandled
from portal.i18n import _l
from portal.notifications.models import Topic
from portal.notifications.services import add_notification


class AlreadyEarned(AlreadyHandled):
    pass


def give_badge(
    session: Session,
    advocate_id: int,
    badge: Badge,
    reason: str = "",
    actor: User | None = None,
) -> BadgeAward:
    """Record the badge in the caller's transaction; AlreadyEarned if they hold it."""
    award = BadgeAward(
        advocate_id=advocate_id,
        badge_id=badge.id,
        reason=reason,
        awarded_by_id=actor.id if actor else None,
    )
    with refuse_duplicates(session, AlreadyEarned(f"They already have the “{badge.name}” badge.")):
        session.add(award)
        session.flush()
    add_to_feed(session, advocate_id, FeedKind.BADGE, badge.name)
    advocate = session.get(User, advocate_id)
    if advocate is not None:
        add_notification(
            session,
            advocate,
            Topic.GAME,
            _l("New badge: %(badge)s", badge=badge.name),
            f"/hub/people/{advocate_id}#badges",
        )
    return award


def held_badge_ids(session: Session, advocate_id: int) -> set[int]:
    return set(
        session.scalars(select(BadgeAward.badge_id).where(BadgeAward.advocate_id == advocate_id))
    )


def badges_of(session: Session, advocate_id: int, limit: int | None = None) -> list[BadgeAward]:
    """An advocate's badges, newest first."""
    statement = (
        select(BadgeAward)
        .where(BadgeAward.advocate_id == advocate_id)
        .options(joinedload(BadgeAward.badge))
        .order_by(BadgeAward.awarded_at.desc(), BadgeAward.id.desc())
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def holders_count(session: Session) -> dict[int, int]:
    """How many advocates hold each badge."""
    return dict(
        session.execute(
            select(BadgeAward.badge_id, func.count()).group_by(BadgeAward.badge_id)
        ).all()
    )
