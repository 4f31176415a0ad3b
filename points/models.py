"""The ledger (append-only, integer entries) and one balance row per advocate."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account, User, _in
from portal.db import Base, utcnow
from portal.i18n import _l


class EntrySource(StrEnum):
    SUBMISSION = "submission"
    ADJUSTMENT = "adjustment"
    REDEMPTION_HOLD = "redemption_hold"
    REDEMPTION_POST = "redemption_post"
    REDEMPTION_VOID = "redemption_void"
    REFUND = "refund"
    EXPIRY = "expiry"


class LedgerEntry(Base):
    """One movement of points. Never updated or deleted (a trigger refuses both)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        # one advocate's ledger a page at a time, newest first by id (admin points page)
        Index("ix_ledger_entries_advocate_id_id", "advocate_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # indexed with id
    amount: Mapped[int]  # change to the balance
    hold_change: Mapped[int] = mapped_column(default=0)  # change to what is held
    source: Mapped[str] = mapped_column(String(30))
    source_id: Mapped[int | None]
    # e.g. "submission:42": the same event can never be booked twice
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    advocate: Mapped[User] = relationship(foreign_keys=[advocate_id])


class PointsBalance(Base):
    """An advocate's points, changed only by conditional updates beside a ledger entry."""

    __tablename__ = "points_balances"
    __table_args__ = (
        CheckConstraint("held >= 0", name="held_not_negative"),
        CheckConstraint("balance >= held", name="balance_covers_held"),
        CheckConstraint("lifetime_earned >= 0", name="lifetime_not_negative"),
    )

    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(default=0)
    held: Mapped[int] = mapped_column(default=0)
    lifetime_earned: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def available(self) -> int:
        return self.balance - self.held


class RewardKind(StrEnum):
    GIFT_CARD = "gift_card"
    SWAG = "swag"
    CHARITY = "charity"
    EXPERIENCE = "experience"
    RECOGNITION = "recognition"

    @property
    def label(self) -> str:
        """In the reader's language, read when shown (so form choices built at import work)."""
        return _KIND_LABELS[self]

    @property
    def is_gift(self) -> bool:
        """Something of value the advocate receives (donations and recognition are not)."""
        return self in (RewardKind.GIFT_CARD, RewardKind.SWAG, RewardKind.EXPERIENCE)

    @property
    def reference_label(self) -> str:
        """What an admin enters on fulfilment."""
        return _REFERENCE_LABELS[self]


_KIND_LABELS = {
    "gift_card": _l("Gift card"),
    "swag": _l("Swag"),
    "charity": _l("Charity donation"),
    "experience": _l("Experience"),
    "recognition": _l("Recognition"),
}
_REFERENCE_LABELS = {
    "gift_card": _l("Gift code"),
    "swag": _l("Tracking number"),
    "charity": _l("Donation receipt"),
    "experience": _l("Booking reference"),
    "recognition": _l("Where it was published"),
}


class Reward(Base):
    """A catalog item advocates spend points on."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint(_in("kind", RewardKind), name="kind_known"),
        CheckConstraint("cost >= 1", name="cost_positive"),
        CheckConstraint("money_value >= 0", name="money_not_negative"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint("limit_count IS NULL OR limit_count >= 1", name="limit_positive"),
        CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="window_ordered"
        ),
        CheckConstraint("kind != 'charity' OR charity_name != ''", name="charity_named"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))
    cost: Mapped[int]  # points
    money_value: Mapped[int] = mapped_column(default=0)  # minor units (cents)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    stock: Mapped[int | None]  # NULL: unlimited
    limit_count: Mapped[int | None]  # per advocate per period; NULL: no limit
    limit_period: Mapped[str] = mapped_column(String(20), default="year")
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    regions: Mapped[str] = mapped_column(String(200), default="")  # comma-separated; blank: all
    charity_name: Mapped[str] = mapped_column(String(200), default="")
    image_key: Mapped[str | None] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def kind_enum(self) -> RewardKind:
        return RewardKind(self.kind)

    @property
    def region_list(self) -> list[str]:
        return [region.strip() for region in self.regions.split(",") if region.strip()]

    @property
    def needs_address(self) -> bool:
        return self.kind == RewardKind.SWAG


class RedemptionStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    FULFILLED = "fulfilled"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


OPEN = (RedemptionStatus.REQUESTED, RedemptionStatus.APPROVED)


class Redemption(Base):
    """An advocate's request for a reward: points held and stock reserved until it settles."""

    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint(_in("status", RedemptionStatus), name="status_known"),
        CheckConstraint("cost >= 0", name="cost_not_negative"),
        # a rejected or cancelled redemption gives its limit slot back
        CheckConstraint(
            "slot IS NULL OR status NOT IN ('rejected', 'cancelled')", name="slot_active"
        ),
        UniqueConstraint("reward_id", "advocate_id", "slot", name="uq_redemptions_slot"),
        Index("ix_redemptions_status_created", "status", "created_at"),
        # the flagged queue, oldest first (a policy change flags few of the open ones)
        Index(
            "ix_redemptions_flagged",
            "created_at",
            "id",
            postgresql_where=text("flagged != '' AND status IN ('requested', 'approved')"),
            sqlite_where=text("flagged != '' AND status IN ('requested', 'approved')"),
        ),
        # each queue oldest first by the time it entered its status (overdue ones first)
        Index("ix_redemptions_status_age", "status", "updated_at", "id"),
        # the open queues' counts and money value, read from the index alone
        Index(
            "ix_redemptions_open",
            "status",
            "currency",
            "money_value",
            "flagged",
            postgresql_where=text("status IN ('requested', 'approved')"),
            sqlite_where=text("status IN ('requested', 'approved')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # one per submitted form: a double click books one redemption
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"), index=True)
    cost: Mapped[int]
    money_value: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[str] = mapped_column(String(20), default=RedemptionStatus.REQUESTED)
    slot: Mapped[str | None] = mapped_column(String(30))
    shipping_address: Mapped[str] = mapped_column(Text, default="")  # admins only
    flagged: Mapped[str] = mapped_column(Text, default="")  # why the gift policy now forbids it
    reference: Mapped[str] = mapped_column(String(500), default="")  # code, tracking, receipt
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    advocate: Mapped[User] = relationship(foreign_keys=[advocate_id])
    account: Mapped[Account] = relationship()
    reward: Mapped[Reward] = relationship()
    events: Mapped[list[RedemptionEvent]] = relationship(
        back_populates="redemption", order_by="RedemptionEvent.id"
    )


class RedemptionEvent(Base):
    """Each transition of a redemption: from, to, who, when, why."""

    __tablename__ = "redemption_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    redemption: Mapped[Redemption] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class OfferStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class GiftOffer(Base):
    """A thank-you gift a manager offers; nothing is sent unless the advocate accepts."""

    __tablename__ = "gift_offers"
    __table_args__ = (
        CheckConstraint(_in("status", OfferStatus), name="status_known"),
        # one open offer of a reward per advocate: a double click offers it once
        Index(
            "uq_gift_offers_open",
            "advocate_id",
            "reward_id",
            unique=True,
            postgresql_where=text("status = 'offered'"),
            sqlite_where=text("status = 'offered'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    offered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=OfferStatus.OFFERED)
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemptions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    advocate: Mapped[User] = relationship(foreign_keys=[advocate_id])
    offered_by: Mapped[User | None] = relationship(foreign_keys=[offered_by_id])
    reward: Mapped[Reward] = relationship()
    redemption: Mapped[Redemption | None] = relationship()


class RewardSettings(Base):
    """One row: redemptions costing less than this are approved without an admin."""

    __tablename__ = "reward_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("auto_approve_below >= 0", name="threshold_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    auto_approve_below: Mapped[int] = mapped_column(default=500)


# --- the game: program style, levels, badges, leaderboards, the activity feed ---------------


class GameSettings(Base):
    """One row: how the program plays (its style, time zone, expiry and earning cap)."""

    __tablename__ = "game_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("expiry_months IS NULL OR expiry_months >= 1", name="expiry_positive"),
        CheckConstraint("earn_cap IS NULL OR earn_cap >= 1", name="earn_cap_positive"),
        CheckConstraint("earn_cap_period IN ('month', 'quarter')", name="earn_cap_period_known"),
        CheckConstraint(
            "approve_within_days >= 1 AND fulfil_within_days >= 1", name="age_limits_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")  # periods roll over here
    show_leaderboards: Mapped[bool] = mapped_column(default=True)  # to advocates
    show_points: Mapped[bool] = mapped_column(default=True)  # point totals, to advocates
    expiry_months: Mapped[int | None]  # NULL: points never expire
    earn_cap: Mapped[int | None]  # NULL: no cap on points earned per period
    earn_cap_period: Mapped[str] = mapped_column(String(10), default="month")
    # how long a redemption may wait on staff in each open status before it is overdue
    approve_within_days: Mapped[int] = mapped_column(default=3, server_default="3")
    fulfil_within_days: Mapped[int] = mapped_column(default=10, server_default="10")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def incentivized(self) -> bool:
        return self.show_leaderboards and self.show_points


class Level(Base):
    """A rank in the program, reached at a threshold of lifetime earned points."""

    __tablename__ = "levels"
    __table_args__ = (CheckConstraint("threshold >= 0", name="threshold_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    threshold: Mapped[int] = mapped_column(unique=True)
    perk: Mapped[str] = mapped_column(String(200), default="")
    image_key: Mapped[str | None] = mapped_column(String(80))


class LevelReached(Base):
    """The moment an advocate first reached a level: recorded once, seen once, emailed once."""

    __tablename__ = "levels_reached"
    __table_args__ = (UniqueConstraint("advocate_id", "level_id", name="uq_levels_reached"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    level_id: Mapped[int] = mapped_column(ForeignKey("levels.id", ondelete="CASCADE"), index=True)
    reached_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime | None]  # NULL until the hub has shown it

    level: Mapped[Level] = relationship()


class Badge(Base):
    """A badge and the rule that awards it (a key of challenges.badges.RULES)."""

    __tablename__ = "badges"
    __table_args__ = (
        CheckConstraint("threshold IS NULL OR threshold >= 1", name="threshold_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    rule: Mapped[str] = mapped_column(String(40))
    threshold: Mapped[int | None]  # the N of "N completions", "N types tried"
    enabled: Mapped[bool] = mapped_column(default=True)
    image_key: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BadgeAward(Base):
    """A badge an advocate earned: at most once each."""

    __tablename__ = "badge_awards"
    __table_args__ = (
        UniqueConstraint("advocate_id", "badge_id", name="uq_badge_awards"),
        Index("ix_badge_awards_advocate_awarded", "advocate_id", "awarded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"), index=True)
    awarded_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")  # a manual badge says why
    awarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    badge: Mapped[Badge] = relationship()
    advocate: Mapped[User] = relationship(foreign_keys=[advocate_id])


class PeriodTotal(Base):
    """Points an advocate earned in one period ("all", "2026-12", "2026-Q4"), kept in the
    transaction of every entry that counts, so a rank is an index range, never a ledger scan.

    `listed` is false while the advocate hides from boards or is out of the program."""

    __tablename__ = "period_totals"
    __table_args__ = ()

    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    points: Mapped[int] = mapped_column(default=0)
    reached_at: Mapped[datetime] = mapped_column(default=utcnow)  # ties: who got there first
    listed: Mapped[bool] = mapped_column(default=True)

    advocate: Mapped[User] = relationship()


# a board in order, and a rank (how many listed advocates are ahead), from the index alone
Index(
    "ix_period_totals_rank",
    PeriodTotal.period,
    PeriodTotal.points.desc(),
    PeriodTotal.reached_at,
    PeriodTotal.advocate_id,
    postgresql_where=text("listed"),
    sqlite_where=text("listed"),
)


class ScoreCount(Base):
    """How many listed advocates hold each score on each board, kept beside the totals: a
    rank is the sum over the scores above (a few thousand rows at most), not a count of
    every advocate ahead."""

    __tablename__ = "score_counts"
    __table_args__ = (CheckConstraint("advocates >= 0", name="advocates_not_negative"),)

    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    points: Mapped[int] = mapped_column(primary_key=True)
    advocates: Mapped[int] = mapped_column(default=0)


class FeedKind(StrEnum):
    COMPLETION = "completion"
    LEVEL = "level"
    BADGE = "badge"


class FeedEvent(Base):
    """One line of the program's activity feed (shown only for advocates listed on boards)."""

    __tablename__ = "feed_events"
    __table_args__ = (
        CheckConstraint(_in("kind", FeedKind), name="kind_known"),
        Index("ix_feed_events_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(Text)  # the challenge, level or badge, by name
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    advocate: Mapped[User] = relationship()


class ExpiryNotice(Base):
    """A reminder that an advocate's points expire on a date: sent once per date."""

    __tablename__ = "expiry_notices"
    __table_args__ = (UniqueConstraint("advocate_id", "expires_on", name="uq_expiry_notices"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_on: Mapped[date]
    points: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
