"""The reward catalog, and which rewards an advocate's gift policy lets them have."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from points.models import Reward, RewardKind, RewardSettings
from portal import uploads
from portal.accounts.models import GiftPolicy, User
from portal.accounts.services import record_audit
from portal.config import Settings
from portal.db import get_or_refuse, single_row, utcnow
from portal.errors import DomainError
from portal.i18n import _, _l, day
from portal.uploads import Upload

NOT_GIFTS = {RewardKind.CHARITY, RewardKind.RECOGNITION}


class GiftNotAllowed(DomainError):
    pass


def allowed_kinds(policy: str, declines_gifts: bool) -> set[RewardKind]:
    if policy == GiftPolicy.CHARITY_ONLY:
        return {RewardKind.CHARITY}
    if declines_gifts or policy == GiftPolicy.NO_GIFTS:
        return set(NOT_GIFTS)
    return set(RewardKind)


def gift_refusal(
    advocate: User, kind: str, policy: str | None = None, declines: bool | None = None
) -> str | None:
    """Why this advocate may not receive this kind of reward, or None when they may (the
    policy and their own word as given, or as loaded)."""
    account = advocate.account
    policy = policy or (account.gift_policy if account else GiftPolicy.ALLOWED)
    declines = advocate.declines_gifts if declines is None else declines
    if RewardKind(kind) in allowed_kinds(policy, declines):
        return None
    name = account.name if account else _("Your employer")
    kinds = REFUSED_KINDS[RewardKind(kind)]
    if policy == GiftPolicy.CHARITY_ONLY:
        return _(
            "%(name)s accepts charity donations only, so %(kinds)s can't be given.",
            name=name,
            kinds=kinds,
        )
    if policy == GiftPolicy.NO_GIFTS:
        return _(
            "%(name)s does not allow its people to accept gifts, so %(kinds)s can't be given.",
            name=name,
            kinds=kinds,
        )
    return _(
        "%(name)s declined gifts, so %(kinds)s can't be given.",
        name=advocate.display_name,
        kinds=kinds,
    )


# a kind of reward as a refusal names it ("so gift cards can't be given", not "so a swag")
REFUSED_KINDS = {
    RewardKind.GIFT_CARD: _l("gift cards"),
    RewardKind.SWAG: _l("swag"),
    RewardKind.CHARITY: _l("charity donations"),
    RewardKind.EXPERIENCE: _l("experiences"),
    RewardKind.RECOGNITION: _l("recognition"),
}


def catalog_for(session: Session, advocate: User, now: datetime | None = None) -> list[Reward]:
    """Active rewards in their window and region that the advocate's gift policy allows."""
    now = now or utcnow()
    kinds = allowed_kinds(advocate.account.gift_policy, advocate.declines_gifts)
    rewards = session.scalars(
        select(Reward)
        .where(Reward.active, Reward.kind.in_(kinds))
        .order_by(Reward.cost, Reward.name)
    )
    return [reward for reward in rewards if not unavailable(reward, advocate, now)]


def unavailable(reward: Reward, advocate: User, now: datetime) -> str | None:
    """Why the reward can't be redeemed now (apart from points and policy), or None."""
    if not reward.active:
        return _("%(reward)s is no longer offered.", reward=reward.name)
    if reward.starts_at and reward.starts_at > now:
        return _(
            "%(reward)s is not available until %(day)s.",
            reward=reward.name,
            day=day(reward.starts_at, "long"),
        )
    if reward.ends_at and reward.ends_at <= now:
        return _(
            "%(reward)s was available until %(day)s.",
            reward=reward.name,
            day=day(reward.ends_at, "long"),
        )
    region = advocate.account.region if advocate.account else ""
    if reward.region_list and region not in reward.region_list:
        return _(
            "%(reward)s is offered in %(regions)s only.",
            reward=reward.name,
            regions=", ".join(reward.region_list),
        )
    if reward.stock is not None and reward.stock < 1:
        return _("%(reward)s is out of stock.", reward=reward.name)
    return None


@dataclass
class RewardFields:
    name: str
    kind: str
    cost: int
    description: str = ""
    money_value: int = 0  # minor units
    currency: str = "USD"
    stock: int | None = None
    limit_count: int | None = None
    limit_period: str = "year"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    regions: str = ""
    charity_name: str = ""
    active: bool = True
    stock_seen: int | None = None  # the stock the editing admin saw


def get_reward(session: Session, reward_id: int) -> Reward:
    return get_or_refuse(session, Reward, reward_id, _("There is no such reward."))


def save_reward(
    session: Session, admin: User, fields: RewardFields, reward_id: int | None = None
) -> Reward:
    reward = get_reward(session, reward_id) if reward_id else Reward()
    if not fields.name.strip():
        raise DomainError(_("Give the reward a name."), "name")
    if fields.kind not in set(RewardKind):
        raise DomainError(_("Choose a kind of reward."), "kind")
    if fields.cost < 1:
        raise DomainError(_("A reward costs at least 1 point."), "cost")
    if fields.kind == RewardKind.CHARITY and not fields.charity_name.strip():
        raise DomainError(_("Name the charity the donation goes to."), "charity_name")
    if fields.starts_at and fields.ends_at and fields.ends_at <= fields.starts_at:
        raise DomainError(_("The end must come after the start."), "ends_at")
    currency = fields.currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise DomainError(_("Use a three-letter currency code, like USD or EUR."), "currency")
    for name, value in vars(fields).items():
        if name not in ("stock", "stock_seen"):
            setattr(reward, name, value.strip() if isinstance(value, str) else value)
    reward.currency = currency
    if reward_id is None:
        reward.stock = fields.stock
    session.add(reward)
    session.flush()
    if reward_id is not None:
        _set_stock(session, reward, fields.stock, fields.stock_seen)
    record_audit(session, admin, "reward.save", reward, f"Saved reward “{reward.name}”")
    return reward


def _set_stock(session: Session, reward: Reward, stock: int | None, seen: int | None) -> None:
    """Only if nobody redeemed one meanwhile: stock is reserved by conditional updates, and
    writing back the number the form showed would sell those units twice."""
    changed = session.execute(
        update(Reward)
        .where(Reward.id == reward.id, Reward.stock.is_not_distinct_from(seen))
        .values(stock=stock)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(reward)
    if not changed:
        raise DomainError(
            _(
                "Redemptions changed the stock to %(stock)s while you were editing: "
                "check it and save again.",
                stock=reward.stock,
            ),
            "stock",
        )


def reward_settings(session: Session) -> RewardSettings:
    return single_row(session, RewardSettings)


def set_auto_approve_below(session: Session, admin: User, points: int) -> RewardSettings:
    if points < 0:
        raise DomainError(_("The threshold can't be negative."), "auto_approve_below")
    row = reward_settings(session)
    row.auto_approve_below = points
    record_audit(
        session,
        admin,
        "rewards.settings",
        None,
        f"Redemptions under {points:,} points are approved automatically",
    )
    return row


def set_reward_image(session: Session, settings: Settings, reward: Reward, image: Upload) -> None:
    try:
        stored = uploads.store(session, settings, image, images_only=True)
    except DomainError as error:
        raise DomainError(error.message, "image") from None
    if reward.image_key:
        uploads.discard_after_commit(session, settings, reward.image_key)
    reward.image_key = stored.key
