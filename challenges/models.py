"""Challenges, the groups they target, advocates' submissions and the thank-yous owed."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account, User, _in
from portal.db import Base, utcnow
from portal.i18n import _


class ChallengeStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Approval(StrEnum):
    AUTO = "auto"
    MANUAL = "manual"


class LimitKind(StrEnum):
    ONCE = "once"
    TIMES = "times"
    PER_PERIOD = "per_period"


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class SubmissionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


# statuses that hold one of the advocate's limit slots and one of the challenge's cap places
ACTIVE = (SubmissionStatus.PENDING, SubmissionStatus.APPROVED)

challenge_groups = Table(
    "challenge_groups",
    Base.metadata,
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("advocate_groups.id", ondelete="CASCADE"), primary_key=True),
)

group_members = Table(
    "group_members",
    Base.metadata,
    Column("group_id", ForeignKey("advocate_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class AdvocateGroup(Base):
    """Advocates a challenge can target: explicit members, and/or everyone matching the rules."""

    __tablename__ = "advocate_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # blank rule = any value
    segment: Mapped[str] = mapped_column(String(50), default="")
    industry: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(50), default="")
    job_level: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[User]] = relationship(secondary=group_members, order_by=User.email)

    @property
    def rules(self) -> dict[str, str]:
        fields = ("segment", "industry", "region", "job_level")
        return {name: getattr(self, name) for name in fields if getattr(self, name)}

    def includes(self, advocate: User, member_of: set[int]) -> bool:
        """Whether the group reaches the advocate; `member_of`: the groups naming them."""
        if self.id in member_of:
            return True
        rules = self.rules
        if not rules or advocate.account is None:
            return False
        account = advocate.account
        return all(
            (advocate.job_level or "") == wanted
            if name == "job_level"
            else getattr(account, name).casefold() == wanted.casefold()
            for name, wanted in rules.items()
        )


class Challenge(Base):
    __tablename__ = "challenges"
    __table_args__ = (
        CheckConstraint(_in("status", ChallengeStatus), name="status_known"),
        CheckConstraint(_in("approval", Approval), name="approval_known"),
        CheckConstraint(_in("limit_kind", LimitKind), name="limit_kind_known"),
        CheckConstraint("points >= 0", name="points_not_negative"),
        CheckConstraint("limit_count >= 1", name="limit_count_positive"),
        CheckConstraint("cap IS NULL OR cap >= 1", name="cap_positive"),
        # the global cap: `taken` counts pending + approved submissions, never beyond the cap
        CheckConstraint("taken >= 0 AND (cap IS NULL OR taken <= cap)", name="taken_within_cap"),
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="window_ordered"),
        CheckConstraint("event_minutes IS NULL OR event_minutes >= 1", name="event_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default=ChallengeStatus.DRAFT, index=True)
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime | None]
    limit_kind: Mapped[str] = mapped_column(String(20), default=LimitKind.ONCE)
    limit_count: Mapped[int] = mapped_column(default=1)
    limit_period: Mapped[str] = mapped_column(String(20), default=Period.MONTH)
    cap: Mapped[int | None]
    taken: Mapped[int] = mapped_column(default=0)
    approval: Mapped[str] = mapped_column(String(20), default=Approval.MANUAL)
    evidence_required: Mapped[bool] = mapped_column(default=True)
    points_visible: Mapped[bool] = mapped_column(default=True)
    starter: Mapped[bool] = mapped_column(
        default=False, server_default=false()
    )  # on a new advocate's first-visit path
    cover_image_key: Mapped[str | None] = mapped_column(String(80))
    config: Mapped[dict] = mapped_column(JSON, default=dict)  # what the type needs (see types.py)
    # an event challenge (a webinar): when it starts (UTC), how long, where to join
    event_at: Mapped[datetime | None]
    event_minutes: Mapped[int | None]
    join_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]

    groups: Mapped[list[AdvocateGroup]] = relationship(
        secondary=challenge_groups, order_by=AdvocateGroup.name
    )
    created_by: Mapped[User | None] = relationship()

    @property
    def kind(self):
        from challenges.types import challenge_type

        return challenge_type(self.type)

    @property
    def high_effort(self) -> bool:
        return self.kind.is_high_effort(self.config)

    @property
    def places_left(self) -> int | None:
        return None if self.cap is None else self.cap - self.taken


class Submission(Base):
    """An advocate's completion of a challenge, or an activity staff logged for them."""

    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint(_in("status", SubmissionStatus), name="status_known"),
        # a rejected or withdrawn submission gives its slot back
        CheckConstraint("slot IS NULL OR status IN ('pending', 'approved')", name="slot_active"),
        CheckConstraint(
            "challenge_id IS NOT NULL OR logged_by_id IS NOT NULL", name="challenge_or_logged"
        ),
        CheckConstraint("points_awarded IS NULL OR points_awarded >= 0", name="points_positive"),
        # referral leads, newest first, paged by (created_at, id) without reading every type
        Index("ix_submissions_type_created", "type", "created_at", "id"),
        # one submission per limit slot: the per-advocate limit, enforced by the database
        UniqueConstraint("challenge_id", "advocate_id", "slot", name="uq_submissions_slot"),
        Index("ix_submissions_status_created", "status", "created_at"),
        Index("ix_submissions_high_effort", "advocate_id", "high_effort", "created_at"),
        # an account's big asks in the window (the account's cap), without all its submissions
        Index("ix_submissions_account_high_effort", "account_id", "high_effort", "created_at"),
        # an advocate's submissions newest first, 50 a page, without sorting all of theirs
        Index("ix_submissions_advocate_created", "advocate_id", "created_at", "id"),
        # the big asks of the rolling window, across everyone: who is near the cap (read from
        # the index alone)
        Index(
            "ix_submissions_big_asks",
            "status",
            "created_at",
            "advocate_id",
            "account_id",
            postgresql_where=text("high_effort"),
            sqlite_where=text("high_effort"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"), index=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    type: Mapped[str] = mapped_column(String(30))
    high_effort: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=SubmissionStatus.PENDING)
    slot: Mapped[str | None] = mapped_column(String(20))
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    file_key: Mapped[str | None] = mapped_column(String(80))
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_type: Mapped[str | None] = mapped_column(String(60))
    points_awarded: Mapped[int | None]
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text, default="")  # what staff logged
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    challenge: Mapped[Challenge | None] = relationship()
    advocate: Mapped[User] = relationship(foreign_keys=[advocate_id])
    account: Mapped[Account] = relationship()
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    logged_by: Mapped[User | None] = relationship(foreign_keys=[logged_by_id])
    thank_you: Mapped[ThankYou | None] = relationship(back_populates="submission")

    @property
    def kind(self):
        from challenges.types import challenge_type

        return challenge_type(self.type)

    @property
    def title(self) -> str:
        if self.challenge is not None:
            return self.challenge.title
        return _("%(kind)s (logged by staff)", kind=self.kind.label)


class ThankYou(Base):
    """Every approved completion is owed a thank-you; this records when and how it was said."""

    __tablename__ = "thank_yous"
    __table_args__ = (
        CheckConstraint("method IS NULL OR method IN ('email', 'other')", name="method_known"),
        # the open ones, oldest first by (created_at, id), and their count
        Index(
            "ix_thank_yous_open",
            "created_at",
            "id",
            postgresql_where=text("thanked_at IS NULL"),
            sqlite_where=text("thanked_at IS NULL"),
        ),
        # the ones said most recently
        Index(
            "ix_thank_yous_thanked",
            "thanked_at",
            "id",
            postgresql_where=text("thanked_at IS NOT NULL"),
            sqlite_where=text("thanked_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    thanked_at: Mapped[datetime | None]
    thanked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    method: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")

    submission: Mapped[Submission] = relationship(back_populates="thank_you")
    thanked_by: Mapped[User | None] = relationship()


class ThanksByDay(Base):
    """Per day of completion: thank-yous owed, how many were said, how many within the week.

    Kept in the transaction that owes or says each thank-you, so the dashboard's share
    thanked on time reads a few dozen rows instead of months of thank-yous."""

    __tablename__ = "thanks_by_day"
    __table_args__ = (
        CheckConstraint(
            "on_time >= 0 AND on_time <= thanked AND thanked <= owed", name="said_of_owed"
        ),
    )

    day: Mapped[date] = mapped_column(primary_key=True)
    owed: Mapped[int] = mapped_column(default=0)
    thanked: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)


class ProgramSettings(Base):
    """One row: how often the program may ask one advocate (and one account) for a big favour."""

    __tablename__ = "program_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("high_effort_per_advocate >= 1", name="advocate_cap_positive"),
        CheckConstraint("high_effort_per_account >= 1", name="account_cap_positive"),
        CheckConstraint("high_effort_window_days >= 1", name="window_positive"),
        CheckConstraint(
            "digest_weekday BETWEEN 0 AND 6 AND digest_hour BETWEEN 0 AND 23",
            name="digest_time_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    high_effort_per_advocate: Mapped[int] = mapped_column(default=2)
    high_effort_per_account: Mapped[int] = mapped_column(default=6)
    high_effort_window_days: Mapped[int] = mapped_column(default=90)
    thank_you_template: Mapped[str] = mapped_column(Text, default="")
    # the weekly digest goes out on this weekday (0 = Monday) at this hour, program time
    digest_weekday: Mapped[int] = mapped_column(default=0, server_default="0")
    digest_hour: Mapped[int] = mapped_column(default=9, server_default="9")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventReminder(Base):
    """The day-before reminder of an event, sent once to each advocate who RSVP'd."""

    __tablename__ = "event_reminders"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestSent(Base):
    """One weekly digest per advocate per week (ISO week in the program's time zone)."""

    __tablename__ = "digests_sent"
    __table_args__ = (UniqueConstraint("user_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    week: Mapped[str] = mapped_column(String(10))  # e.g. 2026-W49
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
