"""Reference requests from sales, the asks they lead to, and what the program learns on the way
(survey scores, flagged relationships, milestones on accounts, sales users' internal points)."""

from __future__ import annotations

from datetime import date, datetime
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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from challenges.models import Submission
from portal.accounts.models import Account, JobLevel, User, _in
from portal.db import Base, utcnow
from portal.i18n import _l


class DealStage(StrEnum):
    """The opportunity's stage, earliest first: the program's boundary is one of these."""

    DISCOVERY = "discovery"
    QUALIFIED = "qualified"
    DEMO = "demo"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    VERBAL = "verbal"

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]

    @property
    def rank(self) -> int:
        return list(DealStage).index(self)


class ConversationLevel(StrEnum):
    """Who the reference will speak with at the prospect."""

    C_LEVEL = "c_level"
    VP = "vp"
    DIRECTOR = "director"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]


class RequestStatus(StrEnum):
    OPEN = "open"  # being matched, asked, or waiting on its call
    CONFIRMED = "confirmed"  # the references it needed took place
    CANCELLED = "cancelled"


class AskStatus(StrEnum):
    PROPOSED = "proposed"  # a manager picked the candidate; the relationship owner is to ask
    ASKED = "asked"  # the owner asked; the advocate has not answered
    ACCEPTED = "accepted"  # the advocate said yes; the call is to happen
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # staff took it back (the request was cancelled or filled)
    CONFIRMED = "confirmed"  # the requester confirmed the call happened


# an advocate has at most one of these at a time (a partial unique index)
OPEN_ASK = (AskStatus.ASKED, AskStatus.ACCEPTED)


class Outcome(StrEnum):
    WON = "won"
    LOST = "lost"


class FlagKind(StrEnum):
    """A relationship nobody asks for a reference until a manager clears it."""

    DETRACTOR = "detractor"
    ESCALATION = "escalation"

    @property
    def label(self) -> str:
        return _FLAG_LABELS[self]


class SurveyKind(StrEnum):
    NPS = "nps"  # 0-10: promoters 9-10, detractors 0-6
    CSAT = "csat"  # 1-5: promoters 5, detractors 1-2


class ImportStatus(StrEnum):
    MAPPING = "mapping"  # uploaded; columns to be mapped
    RUNNING = "running"
    DONE = "done"


class SalesAction(StrEnum):
    """What earns a sales user internal points: the actions that keep the program's data true."""

    COMPLETE_REQUEST = "complete_request"
    PROMPT_CONFIRMATION = "prompt_confirmation"
    OUTCOME = "outcome"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_STAGE_LABELS = {
    "discovery": _l("Discovery"),
    "qualified": _l("Qualified"),
    "demo": _l("Demo"),
    "proposal": _l("Proposal"),
    "negotiation": _l("Negotiation"),
    "verbal": _l("Verbal commit"),
}
_LEVEL_LABELS = {
    "c_level": _l("C-level"),
    "vp": _l("VP"),
    "director": _l("Director"),
    "admin": _l("Administrator"),
}
_FLAG_LABELS = {"detractor": _l("Detractor"), "escalation": _l("Open escalation")}
_ACTION_LABELS = {
    "complete_request": _l("Filed a complete request"),
    "prompt_confirmation": _l("Confirmed a call within a week"),
    "outcome": _l("Recorded the deal outcome"),
}


class ReferenceSettings(Base):
    """One row: the boundaries sales must meet to ask for a reference, and its thank-you."""

    __tablename__ = "reference_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint(_in("earliest_stage", DealStage), name="stage_known"),
        CheckConstraint("min_deal_size >= 0", name="min_deal_size_not_negative"),
        CheckConstraint("call_points >= 0", name="call_points_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    earliest_stage: Mapped[str] = mapped_column(String(20), default=DealStage.DEMO)
    min_deal_size: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), default=20_000
    )  # whole dollars
    call_points: Mapped[int] = mapped_column(default=300)  # a confirmed reference call earns
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferenceRequest(Base):
    """A sales user's request for customer references on one opportunity."""

    __tablename__ = "reference_requests"
    __table_args__ = (
        CheckConstraint(_in("deal_stage", DealStage), name="stage_known"),
        CheckConstraint(_in("conversation_level", ConversationLevel), name="level_known"),
        CheckConstraint(_in("status", RequestStatus), name="status_known"),
        CheckConstraint(
            f"desired_job_level IS NULL OR {_in('desired_job_level', JobLevel)}",
            name="job_level_known",
        ),
        CheckConstraint("deal_size >= 0", name="deal_size_not_negative"),
        CheckConstraint("references_needed BETWEEN 1 AND 10", name="references_needed_range"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', Outcome)}", name="outcome_known"),
        CheckConstraint(
            "outcome_amount IS NULL OR outcome_amount >= 0", name="outcome_amount_not_negative"
        ),
        Index("ix_reference_requests_requester", "requester_id", "id"),  # a rep's own, newest first
        Index(
            "ix_reference_requests_status", "status", "needed_by", "id"
        ),  # the open ones, soonest
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opportunity_name: Mapped[str] = mapped_column(String(200))
    crm_id: Mapped[str] = mapped_column(String(60), default="")
    prospect_company: Mapped[str] = mapped_column(String(200))
    prospect_industry: Mapped[str] = mapped_column(String(100), default="")
    deal_stage: Mapped[str] = mapped_column(String(20))
    deal_size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    needed_by: Mapped[date]
    references_needed: Mapped[int] = mapped_column(default=1)
    conversation_level: Mapped[str] = mapped_column(String(20))
    prospect_contact: Mapped[str] = mapped_column(String(200), default="")  # who will speak
    talking_points: Mapped[str] = mapped_column(Text, default="")
    # the traits wanted in the reference; blank: any
    desired_industry: Mapped[str] = mapped_column(String(100), default="")
    desired_segment: Mapped[str] = mapped_column(String(50), default="")
    desired_region: Mapped[str] = mapped_column(String(50), default="")
    desired_job_level: Mapped[str | None] = mapped_column(String(20))
    desired_product_use: Mapped[str] = mapped_column(String(200), default="")
    customers_in_mind: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.OPEN)
    # a manager let it through outside the boundaries, and why (audited too)
    override_reason: Mapped[str] = mapped_column(Text, default="")
    overridden_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # time to coordinate: from created_at to the first yes, and to the first call
    first_accepted_at: Mapped[datetime | None]
    first_call_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(10))
    outcome_amount: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite")
    )
    outcome_closed_on: Mapped[date | None]
    outcome_recorded_at: Mapped[datetime | None]

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    overridden_by: Mapped[User | None] = relationship(foreign_keys=[overridden_by_id])
    asks: Mapped[list[ReferenceAsk]] = relationship(
        back_populates="request", order_by="ReferenceAsk.id"
    )

    @property
    def stage(self) -> DealStage:
        return DealStage(self.deal_stage)

    @property
    def level(self) -> ConversationLevel:
        return ConversationLevel(self.conversation_level)


class ReferenceAsk(Base):
    """One candidate asked (or about to be asked) to take one request's call."""

    __tablename__ = "reference_asks"
    __table_args__ = (
        CheckConstraint(_in("status", AskStatus), name="status_known"),
        UniqueConstraint("request_id", "advocate_id", name="uq_reference_asks_candidate"),
        # one open ask per advocate: the second staff member to ask is refused by the database
        Index(
            "uq_reference_asks_open",
            "advocate_id",
            unique=True,
            postgresql_where=text("status IN ('asked', 'accepted')"),
            sqlite_where=text("status IN ('asked', 'accepted')"),
        ),
        # who said "not now", until when (the matching leaves them out until then)
        Index(
            "ix_reference_asks_not_now",
            "not_before",
            "advocate_id",
            postgresql_where=text("not_before IS NOT NULL"),
            sqlite_where=text("not_before IS NOT NULL"),
        ),
        Index("ix_reference_asks_owner", "owner_id", "status"),  # an owner's asks to make
        Index("ix_reference_asks_advocate", "advocate_id", "id"),  # an advocate's, newest first
        Index("ix_reference_asks_account", "account_id", "confirmed_at"),  # an account's load
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("reference_requests.id"))
    advocate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # the account's relationship owner (or, with none, the manager who picked the candidate)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default=AskStatus.PROPOSED)
    score: Mapped[int] = mapped_column(default=0)  # the candidate's score when picked
    message: Mapped[str] = mapped_column(Text, default="")  # the ask, as the owner sent it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    asked_at: Mapped[datetime | None]
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    responded_at: Mapped[datetime | None]
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    not_before: Mapped[date | None]  # "not now": leave them out of matching until this day
    # accepting creates the reference-call challenge and its pending submission
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    introduced_at: Mapped[datetime | None]
    call_on: Mapped[date | None]  # when the call took place, as the requester confirmed it
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]  # declined, withdrawn or confirmed

    request: Mapped[ReferenceRequest] = relationship(back_populates="asks")
    advocate: Mapped[User] = relationship(foreign_keys=[advocate_id])
    account: Mapped[Account] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    asked_by: Mapped[User | None] = relationship(foreign_keys=[asked_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    submission: Mapped[Submission | None] = relationship()  # the call's, once they said yes

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ASK


class ReferenceReminder(Base):
    """The weekly "did the call happen?" reminder of an open request: once per week."""

    __tablename__ = "reference_reminders"
    __table_args__ = (UniqueConstraint("request_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("reference_requests.id"))
    week: Mapped[str] = mapped_column(String(10))  # ISO week, program time: 2026-W49
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountFlag(Base):
    """A relationship flagged (a detractor's survey answer, an open escalation): its advocates
    are left out of reference matching until a manager clears it."""

    __tablename__ = "account_flags"
    __table_args__ = (
        CheckConstraint(_in("kind", FlagKind), name="kind_known"),
        Index(
            "uq_account_flags_open",
            "account_id",
            "kind",
            unique=True,
            postgresql_where=text("cleared_at IS NULL"),
            sqlite_where=text("cleared_at IS NULL"),
        ),
        Index("ix_account_flags_account", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    response_id: Mapped[int | None] = mapped_column(ForeignKey("survey_responses.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[datetime | None]
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    clear_reason: Mapped[str] = mapped_column(Text, default="")

    account: Mapped[Account] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    cleared_by: Mapped[User | None] = relationship(foreign_keys=[cleared_by_id])

    @property
    def flag(self) -> FlagKind:
        return FlagKind(self.kind)


class AccountMilestone(Base):
    """Something worth remembering on a customer's account: a reference given, for a deal."""

    __tablename__ = "account_milestones"
    __table_args__ = (Index("ix_account_milestones_account", "account_id", "happened_on", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(30), default="reference")
    title: Mapped[str] = mapped_column(String(300))
    happened_on: Mapped[date]
    advocate_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("reference_requests.id"))
    ask_id: Mapped[int | None] = mapped_column(ForeignKey("reference_asks.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship()
    advocate: Mapped[User | None] = relationship()
    request: Mapped[ReferenceRequest | None] = relationship()


class SurveyImport(Base):
    """An uploaded CSV of NPS or CSAT answers: its column mapping and its progress."""

    __tablename__ = "survey_imports"
    __table_args__ = (
        CheckConstraint(_in("status", ImportStatus), name="status_known"),
        CheckConstraint(_in("kind", SurveyKind), name="kind_known"),
        CheckConstraint("done_rows >= 0 AND done_rows <= total_rows", name="progress_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10), default=SurveyKind.NPS)
    file_name: Mapped[str] = mapped_column(String(200))
    file_key: Mapped[str] = mapped_column(String(80))  # the stored upload (portal.uploads)
    encoding: Mapped[str] = mapped_column(String(20), default="utf-8")
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> column index
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.MAPPING)
    total_rows: Mapped[int] = mapped_column(default=0)
    done_rows: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    promoters: Mapped[int] = mapped_column(default=0)
    detractors: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    uploaded_by: Mapped[User | None] = relationship()


class SurveyImportError(Base):
    """One row of an import that could not be taken, and why (the rest still imports)."""

    __tablename__ = "survey_import_errors"
    __table_args__ = (Index("ix_survey_import_errors_import", "import_id", "row_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("survey_imports.id"))
    row_number: Mapped[int]
    message: Mapped[str] = mapped_column(String(300))


class SurveyResponse(Base):
    """One person's answer to an NPS or CSAT survey, matched to a member where one exists."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        CheckConstraint(_in("kind", SurveyKind), name="kind_known"),
        CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),
        # the same answer imported twice is one answer
        UniqueConstraint("kind", "email", "responded_on", name="uq_survey_responses_answer"),
        # promoters not yet in the hub, newest first
        Index(
            "ix_survey_responses_promoters",
            "responded_on",
            "id",
            postgresql_where=text("promoter AND user_id IS NULL"),
            sqlite_where=text("promoter AND user_id IS NULL"),
        ),
        Index("ix_survey_responses_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("survey_imports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default=SurveyKind.NPS)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    score: Mapped[int]
    promoter: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    responded_on: Mapped[date]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # a member, when matched
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()
    account: Mapped[Account | None] = relationship()


class LatestScore(Base):
    """Each member's most recent survey score on the 0-10 scale (CSAT scaled), for matching."""

    __tablename__ = "latest_scores"
    __table_args__ = (CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    score: Mapped[int]
    responded_on: Mapped[date]


class SalesCredit(Base):
    """Internal points a sales user earned for keeping the program's data true. Never money:
    a table of its own, apart from the advocates' ledger, and never redeemable."""

    __tablename__ = "sales_credits"
    __table_args__ = (
        CheckConstraint(_in("action", SalesAction), name="action_known"),
        CheckConstraint("points > 0", name="points_positive"),
        Index("ix_sales_credits_user", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(30))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("reference_requests.id"))
    points: Mapped[int]
    key: Mapped[str] = mapped_column(String(80), unique=True)  # earned once: "outcome:12"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
