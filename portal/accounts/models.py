"""People and the companies they belong to."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow
from portal.i18n import _l


def _in(column: str, enum: type[StrEnum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


class Role(StrEnum):
    ADVOCATE = "advocate"
    MANAGER = "manager"
    ADMIN = "admin"
    SALES = "sales"  # staff who file reference requests; no say over the program

    @property
    def label(self) -> str:
        """In the reader's language, read when shown (so form choices built at import work)."""
        return _ROLE_LABELS[self]


class GiftPolicy(StrEnum):
    ALLOWED = "allowed"
    CHARITY_ONLY = "charity_only"
    NO_GIFTS = "no_gifts"
    NEEDS_APPROVAL = "needs_approval"

    @property
    def label(self) -> str:
        return _POLICY_LABELS[self]


class JobLevel(StrEnum):
    C_LEVEL = "c_level"
    VP = "vp"
    DIRECTOR = "director"
    MANAGER = "manager"
    INDIVIDUAL = "individual"

    @property
    def label(self) -> str:
        return _JOB_LEVEL_LABELS[self]


_ROLE_LABELS = {
    "advocate": _l("Advocate"),
    "manager": _l("Program manager"),
    "admin": _l("Admin"),
    "sales": _l("Sales"),
}
_POLICY_LABELS = {
    "allowed": _l("Gifts allowed"),
    "charity_only": _l("Charity donations only"),
    "no_gifts": _l("No gifts"),
    "needs_approval": _l("Every gift needs admin approval"),
}
_JOB_LEVEL_LABELS = {
    "c_level": _l("C-level"),
    "vp": _l("VP"),
    "director": _l("Director"),
    "manager": _l("Manager"),
    "individual": _l("Individual contributor"),
}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class Account(Base):
    """A customer company."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(_in("gift_policy", GiftPolicy), name="gift_policy_known"),
        CheckConstraint("arr IS NULL OR arr >= 0", name="arr_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    industry: Mapped[str] = mapped_column(String(100), default="")
    segment: Mapped[str] = mapped_column(String(50), default="")
    region: Mapped[str] = mapped_column(String(50), default="")
    # BIGINT: a large customer's revenue passes 2**31 (SQLite's INTEGER holds 64 bits already)
    arr: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        comment="annual recurring revenue, whole dollars",
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True)
    )
    # what the customer uses, as free text ("Contact center, Analytics"): matched against a
    # reference request's wanted product use
    products: Mapped[str] = mapped_column(String(300), default="", server_default="")
    gift_policy: Mapped[str] = mapped_column(String(20), default=GiftPolicy.ALLOWED)
    gift_policy_reason: Mapped[str] = mapped_column(Text, default="")
    gift_policy_set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True)
    )
    gift_policy_set_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    gift_policy_set_by: Mapped[User | None] = relationship(foreign_keys=[gift_policy_set_by_id])
    members: Mapped[list[User]] = relationship(
        back_populates="account", foreign_keys="User.account_id", order_by="User.email"
    )
    policy_changes: Mapped[list[GiftPolicyChange]] = relationship(
        back_populates="account", order_by="GiftPolicyChange.id.desc()"
    )
    policy_requests: Mapped[list[GiftPolicyRequest]] = relationship(
        back_populates="account", order_by="GiftPolicyRequest.id.desc()"
    )

    @property
    def policy(self) -> GiftPolicy:
        return GiftPolicy(self.gift_policy)


class GiftPolicyChange(Base):
    """The audit trail of an account's gift policy: who changed it, when, from what, why."""

    __tablename__ = "gift_policy_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    from_policy: Mapped[str] = mapped_column(String(20))
    to_policy: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship(back_populates="policy_changes")
    changed_by: Mapped[User | None] = relationship()


class User(Base):
    """One login. Advocates belong to an account; staff may own accounts."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", Role), name="role_known"),
        CheckConstraint(
            f"job_level IS NULL OR {_in('job_level', JobLevel)}", name="job_level_known"
        ),
        CheckConstraint("role != 'advocate' OR account_id IS NOT NULL", name="advocate_account"),
        Index("ix_users_role_email", "role", "email"),  # the users list, filtered by role
        # an account's advocates, members and invitations counted from the index alone
        Index(
            "ix_users_account_advocates",
            "account_id",
            "id",
            "in_program",
            "password_hash",
            postgresql_where=text("role = 'advocate' AND active"),
            sqlite_where=text("role = 'advocate' AND active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.ADVOCATE)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    job_level: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # Rotated whenever the password changes, which ends every other session.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    declines_gifts: Mapped[bool] = mapped_column(default=False)
    hide_from_leaderboard: Mapped[bool] = mapped_column(default=False)
    hide_company: Mapped[bool] = mapped_column(default=False, server_default=false())
    email_digests: Mapped[bool] = mapped_column(default=True)
    # which non-essential email this person wants, one switch per kind (portal.notifications)
    email_results: Mapped[bool] = mapped_column(default=True, server_default=true())
    email_rewards: Mapped[bool] = mapped_column(default=True, server_default=true())
    email_thanks: Mapped[bool] = mapped_column(default=True, server_default=true())
    email_game: Mapped[bool] = mapped_column(default=True, server_default=true())
    email_events: Mapped[bool] = mapped_column(default=True, server_default=true())
    # set when the mail server refused the address for good (a permanent 5xx answer)
    email_unreachable_at: Mapped[datetime | None]
    email_unreachable_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    locale: Mapped[str | None] = mapped_column(String(10))  # NULL: the browser's language
    time_zone: Mapped[str | None] = mapped_column(String(64))  # NULL: not yet known
    # the last time the advocate confirmed their company, title and job level
    profile_confirmed_at: Mapped[datetime | None]
    # set when the advocate told us they left their company: out of the program and of the
    # account's members; their history (submissions, points) stays with the account
    left_company_at: Mapped[datetime | None]
    # True while an open consent record exists: set beside it by opt_in/opt_out, so that
    # every page and every count of members reads one column instead of the consents
    in_program: Mapped[bool] = mapped_column(default=False, server_default=false())
    # approved completions, counted in the approval's transaction (challenges.services), so
    # that ranking reference candidates by their history reads one column
    completions: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    account: Mapped[Account | None] = relationship(
        back_populates="members", foreign_keys=[account_id]
    )
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="user", order_by="ConsentRecord.id"
    )

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_staff(self) -> bool:
        """Runs the program (manager or admin); sales users are staff without that say."""
        return self.role in (Role.MANAGER, Role.ADMIN)

    @property
    def is_sales(self) -> bool:
        return self.role == Role.SALES

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def current_consent(self) -> ConsentRecord | None:
        return next((c for c in self.consents if c.opted_out_at is None), None)

    @property
    def opted_in(self) -> bool:
        return self.in_program

    @property
    def public_name(self) -> str:
        """The name other advocates see: never the email address."""
        return self.name or f"Advocate #{self.id}"

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def status(self) -> str:
        if not self.active:
            return "deactivated"
        if not self.has_password:
            return "invited"
        if self.left_company_at is not None:
            return "left the company"
        if self.role == Role.ADVOCATE and not self.opted_in:
            return "not opted in"
        return "active"


class ConsentRecord(Base):
    """An advocate's opt-in to the program; closed (not deleted) when they leave."""

    __tablename__ = "consent_records"
    __table_args__ = (
        Index(
            "uq_consent_records_open",
            "user_id",
            unique=True,
            sqlite_where=text("opted_out_at IS NULL"),
            postgresql_where=text("opted_out_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    terms_version: Mapped[str] = mapped_column(String(20))
    opted_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    opted_out_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="consents")


class GiftPolicyRequest(Base):
    """An advocate's word that their employer forbids gifts, for an admin to act on."""

    __tablename__ = "gift_policy_requests"
    __table_args__ = (
        Index(
            "uq_gift_policy_requests_open",
            "user_id",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[str] = mapped_column(Text, default="")

    account: Mapped[Account] = relationship(back_populates="policy_requests")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])


class Invitation(Base):
    """An emailed, signed, single-use link that lets an invited user set a password."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class ProfileConfirmation(Base):
    """An advocate's answer to "still at this company, in the same role?" (asked yearly)."""

    __tablename__ = "profile_confirmations"
    __table_args__ = (
        CheckConstraint(
            f"job_level IS NULL OR {_in('job_level', JobLevel)}", name="job_level_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))  # the company asked about
    still_at_company: Mapped[bool]
    title: Mapped[str] = mapped_column(String(120), default="")
    job_level: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    account: Mapped[Account] = relationship()


class AuditEvent(Base):
    """Who did what to whom, and when. Every admin and manager action writes one."""

    __tablename__ = "audit_events"
    # what happened to one user or account, newest first (their admin page)
    __table_args__ = (
        Index("ix_audit_events_target", "target_type", "target_id", "id"),
        Index("ix_audit_events_actor", "actor_id", "id"),  # one person's actions, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()
