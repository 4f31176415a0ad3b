"""Changing how the program plays: its style (points and boards shown to advocates or
not), the time zone its periods roll over in, point expiry, the earning cap and how long a
redemption may wait on staff; the images of levels and badges, and how many advocates are
at each level (the admin's view)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from points.leaderboard import rebuild_totals
from points.models import Badge, GameSettings, Level, PointsBalance
from points.program import game_settings, time_zones
from portal import uploads
from portal.accounts.models import Role, User
from portal.accounts.services import record_audit
from portal.config import Settings
from portal.db import utcnow
from portal.errors import DomainError
from portal.i18n import _
from portal.uploads import Upload


@dataclass(frozen=True)
class GameChoices:
    time_zone: str
    show_leaderboards: bool
    show_points: bool
    expiry_months: int | None
    earn_cap: int | None
    earn_cap_period: str
    # days a redemption may wait for a decision, then for delivery; None keeps the current
    approve_within_days: int | None = None
    fulfil_within_days: int | None = None


AGE_LIMIT_DAYS = (1, 365)


def update_game_settings(session: Session, admin: User, choices: GameChoices) -> GameSettings:
    """Save the program's rules; a new time zone re-buckets every period total."""
    if choices.time_zone not in time_zones():
        raise DomainError(_("Choose a time zone from the list."), "time_zone")
    if choices.expiry_months is not None and not 1 <= choices.expiry_months <= 120:
        raise DomainError(_("Points expire after 1 to 120 months, or never."), "expiry_months")
    if choices.earn_cap is not None and not 1 <= choices.earn_cap <= 1_000_000_000:
        raise DomainError(_("The cap is a number of points from 1 to 1,000,000,000."), "earn_cap")
    if choices.earn_cap_period not in ("month", "quarter"):
        raise DomainError(_("The cap is per month or per quarter."), "earn_cap_period")
    low, high = AGE_LIMIT_DAYS
    for name in ("approve_within_days", "fulfil_within_days"):
        days = getattr(choices, name)
        if days is not None and not low <= days <= high:
            raise DomainError(_("From %(low)s to %(high)s days.", low=low, high=high), name)
    row = game_settings(session)
    zone_changed = row.time_zone != choices.time_zone
    row.time_zone = choices.time_zone
    row.show_leaderboards = choices.show_leaderboards
    row.show_points = choices.show_points
    row.expiry_months = choices.expiry_months
    row.earn_cap = choices.earn_cap
    row.earn_cap_period = choices.earn_cap_period
    if choices.approve_within_days is not None:
        row.approve_within_days = choices.approve_within_days
    if choices.fulfil_within_days is not None:
        row.fulfil_within_days = choices.fulfil_within_days
    row.updated_at = utcnow()
    if zone_changed:
        session.flush()
        rebuild_totals(session)
    record_audit(
        session,
        admin,
        "program.game",
        None,
        f"Program style: leaderboards {'on' if row.show_leaderboards else 'off'}, points "
        f"{'shown' if row.show_points else 'hidden'}; time zone {row.time_zone}; "
        f"redemptions approved within {row.approve_within_days} days, delivered within "
        f"{row.fulfil_within_days}",
        expiry_months=row.expiry_months,
        earn_cap=row.earn_cap,
        earn_cap_period=row.earn_cap_period,
        approve_within_days=row.approve_within_days,
        fulfil_within_days=row.fulfil_within_days,
    )
    return row


# --- level and badge images ------------------------------------------------------------


def set_image(session: Session, settings: Settings, row: Level | Badge, image: Upload) -> None:
    """Store an image (PNG, JPEG, GIF or WebP) for a level or badge; the old file goes once
    the transaction commits."""
    try:
        stored = uploads.store(session, settings, image, images_only=True)
    except DomainError as error:
        raise DomainError(error.message, "image") from None
    remove_image(session, settings, row)
    row.image_key = stored.key


def remove_image(session: Session, settings: Settings, row: Level | Badge) -> None:
    if row.image_key:
        uploads.discard_after_commit(session, settings, row.image_key)
    row.image_key = None


# --- how many advocates are at each level ----------------------------------------------


def advocates_per_level(session: Session, levels: list[Level]) -> dict[int | None, int]:
    """Advocates at each level now (level id -> count; None: below the lowest level), in one
    GROUP BY over lifetime earned points; an advocate who never earned has 0."""
    if not levels:
        return {}
    lifetime = func.coalesce(PointsBalance.lifetime_earned, 0)
    highest_first = sorted(levels, key=lambda level: level.threshold, reverse=True)
    at_level = case(*[(lifetime >= level.threshold, level.id) for level in highest_first])
    each = (
        select(at_level.label("level_id"))
        .select_from(User)
        .outerjoin(PointsBalance, PointsBalance.advocate_id == User.id)
        .where(User.role == Role.ADVOCATE)
        .subquery()
    )
    rows = session.execute(select(each.c.level_id, func.count()).group_by(each.c.level_id))
    return {level_id: count for level_id, count in rows}
