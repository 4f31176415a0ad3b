"""What the bench-data loader knows while it loads: sizes, the people, accounts, challenges
and rewards made so far, the dice and the clock."""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from benchmarks.bulk import Batch, BulkWriter
from portal.db import Base

DAY = timedelta(days=1)
HISTORY = timedelta(days=730)  # two years of program
AUDIT_EVERY = 10  # one audit event per ten staff decisions
MEMBER, LEFT, INVITED = "member", "left", "invited"


@dataclass(frozen=True)
class Sizes:
    advocates: int
    entries: int
    accounts: int
    challenges: int | None  # published ones to add; None: 200 on an empty program, else none
    submissions: int
    redemptions: int

    @classmethod
    def scaled(
        cls,
        advocates: int,
        entries: int | None = None,
        accounts: int | None = None,
        challenges: int | None = None,
        submissions: int | None = None,
        redemptions: int | None = None,
    ) -> Sizes:
        """The sizes, those not given scaled from the number of advocates."""
        return cls(
            advocates=advocates,
            entries=100 * advocates if entries is None else entries,
            accounts=max(5, advocates // 100) if accounts is None else accounts,
            challenges=challenges,
            submissions=20 * advocates if submissions is None else submissions,
            redemptions=3 * advocates if redemptions is None else redemptions,
        )


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass
class AccountPlan:
    id: int
    name: str
    policy: str
    segment: str
    industry: str
    region: str
    weight: float  # how many advocates it has, relatively


@dataclass
class Member:
    """An advocate being generated."""

    id: int
    email: str
    name: str
    account: AccountPlan
    job_level: str | None
    status: str  # MEMBER, LEFT or INVITED
    joined_at: datetime
    until: datetime  # when they left, or now
    declines_gifts: bool
    activity: float  # how busy they are, relatively (mean 1)
    ledger_weight: float  # their share of the adjustments, relatively (mean 1)
    is_advocate1: bool = False  # the benchmark's own advocate login


@dataclass
class ChallengePlan:
    id: int
    type: str
    title: str
    points: int
    status: str
    approval: str
    limit_kind: str
    limit_count: int
    limit_period: str
    cap: int | None
    taken: int  # pending and approved submissions
    starts_at: datetime
    ends_at: datetime | None
    high_effort: bool
    evidence_required: bool
    config: dict
    group_ids: list[int]
    popularity: float


@dataclass
class RewardPlan:
    id: int
    name: str
    kind: str
    cost: int
    money_value: int
    currency: str
    stock: int | None  # what is left; None: unlimited
    limit_count: int | None
    limit_period: str
    regions: list[str]
    starts_at: datetime | None
    ends_at: datetime | None
    active: bool

    def available(self, when: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= when) and (
            self.ends_at is None or self.ends_at > when
        )


@dataclass
class BigAsks:
    """High-effort asks per advocate and per account, kept (roughly) under the caps."""

    per_advocate: int
    per_account: int
    window: timedelta
    times: dict[tuple[str, int], list[datetime]] = field(default_factory=lambda: defaultdict(list))

    def fit(self, advocate: Member, when: datetime) -> bool:
        return self._near(("advocate", advocate.id), when) < self.per_advocate and (
            self._near(("account", advocate.account.id), when) < self.per_account
        )

    def add(self, advocate: Member, when: datetime) -> None:
        bisect.insort(self.times[("advocate", advocate.id)], when)
        bisect.insort(self.times[("account", advocate.account.id)], when)

    def _near(self, key: tuple[str, int], when: datetime) -> int:
        # both sides of `when`: the history is not generated in time order
        times = self.times.get(key, ())
        after = bisect.bisect_left(times, when + self.window)
        return after - bisect.bisect_right(times, when - self.window)


@dataclass
class Program:
    """Everything the phases share."""

    writer: BulkWriter
    sizes: Sizes
    rng: random.Random
    now: datetime
    password_hash: str
    next_id: dict[str, int]
    big_asks: BigAsks
    auto_approve_below: int
    month_start: datetime  # when this month began on the program's calendar
    admins: list[Person] = field(default_factory=list)
    managers: list[Person] = field(default_factory=list)
    accounts: list[AccountPlan] = field(default_factory=list)
    advocates: list[Member] = field(default_factory=list)
    groups: dict[int, dict[str, str]] = field(default_factory=dict)  # id: rules
    group_members: dict[int, set[int]] = field(default_factory=dict)  # id: advocate ids
    challenges: list[ChallengePlan] = field(default_factory=list)
    rewards: list[RewardPlan] = field(default_factory=list)
    decisions: int = 0  # staff decisions so far
    audit_log: Batch = field(init=False)

    def __post_init__(self):
        self.audit_log = self.batch()

    def batch(self) -> Batch:
        return Batch(self.writer, Base.metadata)

    def take_id(self, table: str) -> int:
        number = self.next_id[table]
        self.next_id[table] = number + 1
        return number

    def admin(self) -> Person:
        return self.rng.choice(self.admins)

    def manager(self) -> Person:
        return self.rng.choice(self.managers)

    def between(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rng.random()

    def hours_after(self, when: datetime, low: int, high: int) -> datetime:
        """Some hours later, but never in the future."""
        return min(self.now, when + timedelta(hours=self.rng.randint(low, high)))

    def audited(self) -> bool:
        """Whether this staff decision gets an audit event (one in AUDIT_EVERY)."""
        self.decisions += 1
        return self.decisions % AUDIT_EVERY == 0


def audit(
    program: Program,
    actor: Person | None,
    action: str,
    target: tuple[str, int],
    summary: str,
    when: datetime,
    **details,
) -> None:
    """An audit event as portal.accounts.services.record_audit writes it; they are written
    last, in time order, so the audit log's ids follow its dates as a live one's do."""
    program.audit_log.add(
        "audit_events",
        actor_id=actor.id if actor else None,
        action=action,
        target_type=target[0],
        target_id=target[1],
        summary=summary,
        details=details,
        created_at=when,
    )
