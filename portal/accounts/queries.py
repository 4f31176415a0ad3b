"""Read-only look-ups the screens share, each loading what its page needs in one query."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import (
    Account,
    AuditEvent,
    ConsentRecord,
    GiftPolicy,
    GiftPolicyRequest,
    Role,
    User,
)
from portal.pagination import PER_PAGE, Page, PageRequest, paginate, paginate_by_key


@dataclass
class AccountRow:
    account: Account
    advocates: int
    opted_in: int
    invited: int
    open_requests: int


def accounts_page(session: Session, wanted: PageRequest, query: str = "", policy: str = "") -> Page:
    """Accounts by name, searched and filtered, with member counts for the page shown."""
    statement = select(Account).options(selectinload(Account.owner)).order_by(Account.name)
    if query:
        needle = query.strip().lower()
        statement = statement.where(func.lower(Account.name).contains(needle, autoescape=True))
    if policy:
        statement = statement.where(Account.gift_policy == policy)
    page = paginate(session, statement, wanted)
    return replace(page, items=with_member_counts(session, page.items))


def with_member_counts(session: Session, accounts: list[Account]) -> list[AccountRow]:
    """Member and request counts of the given accounts only (a page, a top-N)."""
    ids = [account.id for account in accounts]
    if not ids:
        return []
    members = {
        account_id: (advocates, opted_in, invited)
        for account_id, advocates, opted_in, invited in session.execute(
            select(
                User.account_id,
                func.count(),
                func.count().filter(User.in_program),
                func.count().filter(User.password_hash.is_(None)),
            )
            # the terms of the partial index ix_users_account_advocates, as it states them
            .where(User.account_id.in_(ids), User.role == Role.ADVOCATE, User.active)
            .group_by(User.account_id)
        )
    }
    # those who left their company are no members: looked up among the few out of the
    # program (in_program and password_hash narrow the same index before any row is read)
    left = dict(
        session.execute(
            select(User.account_id, func.count())
            .where(
                User.account_id.in_(ids),
                User.role == Role.ADVOCATE,
                User.active,
                User.in_program == false(),
                User.password_hash.is_not(None),
                User.left_company_at.is_not(None),
            )
            .group_by(User.account_id)
        ).all()
    )
    members = {
        account_id: (advocates - left.get(account_id, 0), opted_in, invited)
        for account_id, (advocates, opted_in, invited) in members.items()
    }
    requests = dict(
        session.execute(
            select(GiftPolicyRequest.account_id, func.count())
            .where(GiftPolicyRequest.account_id.in_(ids), GiftPolicyRequest.resolved_at.is_(None))
            .group_by(GiftPolicyRequest.account_id)
        ).all()
    )
    return [
        AccountRow(account, *members.get(account.id, (0, 0, 0)), requests.get(account.id, 0))
        for account in accounts
    ]


@dataclass(frozen=True)
class PolicyCount:
    policy: GiftPolicy
    accounts: int


def accounts_by_policy(session: Session) -> list[PolicyCount]:
    """How many accounts have each gift policy (every policy listed, zero included)."""
    counts = dict(
        session.execute(
            select(Account.gift_policy, func.count()).group_by(Account.gift_policy)
        ).all()
    )
    return [PolicyCount(policy, counts.get(policy, 0)) for policy in GiftPolicy]


def largest_accounts(session: Session, limit: int = 10) -> list[AccountRow]:
    """The accounts with the most revenue, for the dashboards (the full list pages)."""
    accounts = session.scalars(
        select(Account)
        .options(selectinload(Account.owner))
        .order_by(Account.arr.desc().nulls_last(), Account.name)
        .limit(limit)
    )
    return with_member_counts(session, list(accounts))


def account_choices(session: Session) -> list[tuple[int, str]]:
    return [
        tuple(row)
        for row in session.execute(select(Account.id, Account.name).order_by(Account.name))
    ]


def staff_choices(session: Session) -> list[tuple[int, str]]:
    staff = session.scalars(
        select(User)
        .where(User.role.in_([Role.MANAGER, Role.ADMIN]), User.active.is_(True))
        .order_by(User.name, User.email)
    )
    return [(u.id, f"{u.display_name} ({u.email})") for u in staff]


def users_page(
    session: Session,
    wanted: PageRequest,
    role: str | None = None,
    account_id: int | None = None,
    query: str = "",
) -> Page:
    """Users by email, filtered by role and account, searched by name or email."""
    statement = select(User).options(selectinload(User.account)).order_by(User.email)
    if role:
        statement = statement.where(User.role == role)
    if account_id:
        statement = statement.where(User.account_id == account_id)
    if query:
        needle = query.strip().lower()
        statement = statement.where(
            func.lower(User.email).contains(needle, autoescape=True)
            | func.lower(User.name).contains(needle, autoescape=True)
        )
    return paginate(session, statement, wanted)


def open_policy_requests(session: Session, limit: int = 20) -> list[GiftPolicyRequest]:
    """The oldest open requests first (the dashboard shows the first `limit`)."""
    return list(
        session.scalars(
            select(GiftPolicyRequest)
            .where(GiftPolicyRequest.resolved_at.is_(None))
            .options(selectinload(GiftPolicyRequest.user), selectinload(GiftPolicyRequest.account))
            .order_by(GiftPolicyRequest.created_at, GiftPolicyRequest.id)
            .limit(limit)
        )
    )


def open_policy_request_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(GiftPolicyRequest.resolved_at.is_(None)))


def _audit_of(target: Account | User):
    return (
        AuditEvent.target_type == type(target).__name__.lower(),
        AuditEvent.target_id == target.id,
    )


def recent_audit(session: Session, limit: int = 10, target: Account | User | None = None):
    statement = (
        select(AuditEvent)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    if target is not None:
        statement = statement.where(*_audit_of(target))
    return list(session.scalars(statement))


# every action the code records, now and in its history (tests/test_audit_log.py holds
# this list to the code): the log's action filter reads them from the action index
AUDIT_ACTIONS = (
    "account.create",
    "account_flag.clear",  # references.flags
    "account_flag.raise",
    "account.gift_policy",
    "account.policy_request_dismissed",
    "account.update",
    "badge.give",
    "badge.save",
    "challenge.archive",
    "challenge.create",
    "challenge.duplicate",
    "challenge.publish",
    "challenge.update",
    "group.save",
    "level.delete",
    "level.save",
    "offer.create",
    "points.adjust",
    "program.game",
    "program.settings",
    "redemption.approve",
    "redemption.cancel",
    "redemption.convert",
    "redemption.fulfil",
    "redemption.refund",
    "redemption.reject",
    "reference.settings",  # references: the boundaries
    "reference_ask.accept",
    "reference_ask.confirm",
    "reference_ask.decline",
    "reference_ask.fell_through",
    "reference_ask.introduce",
    "reference_ask.propose",
    "reference_ask.send",
    "reference_ask.withdraw",
    "reference_request.cancel",
    "reference_request.file",
    "reference_request.outcome",
    "reference_request.override",
    "reward.save",
    "rewards.settings",
    "submission.approve",
    "submission.reject",
    "survey_import.map",  # references.surveys
    "survey_import.upload",
    "thanks.email",
    "thanks.other",
    "user.active",
    "user.invite",
    "user.left_company",
    "user.reachable",
    "user.role",
)


@dataclass(frozen=True)
class AuditFilter:
    """What the audit log is narrowed to; every part is optional and they combine."""

    actor: User | None = None
    target: User | Account | None = None
    action: str = ""  # an action, or the start of some ("redemption.")
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive


def audit_page(
    session: Session,
    wanted: PageRequest,
    filters: AuditFilter | None = None,
    per_page: int = PER_PAGE,
) -> Page:
    """The audit log, newest first, a page at a time by id (new events never shift a page),
    narrowed by who acted, whom it was about, the action and a time range. Each filter has
    an index that ends in id (actor, target) or bounds the rows (created_at, action); nothing
    is counted."""
    filters = filters or AuditFilter()
    statement = select(AuditEvent).options(selectinload(AuditEvent.actor))
    if filters.actor is not None:
        statement = statement.where(AuditEvent.actor_id == filters.actor.id)
    if filters.target is not None:
        statement = statement.where(*_audit_of(filters.target))
    if filters.action:
        # the actions the code records that start so, read from the action index (a LIKE
        # is a scan on PostgreSQL unless the collation is "C"); any other text as a prefix
        known = [name for name in AUDIT_ACTIONS if name.startswith(filters.action)]
        statement = statement.where(
            AuditEvent.action.in_(known)
            if known
            else AuditEvent.action.startswith(filters.action, autoescape=True)
        )
    if filters.since is not None:
        statement = statement.where(AuditEvent.created_at >= filters.since)
    if filters.until is not None:
        statement = statement.where(AuditEvent.created_at < filters.until)
    return paginate_by_key(
        session, statement, (AuditEvent.id,), wanted, per_page, newest_first=True, count=False
    )


def audit_targets(session: Session, events: list[AuditEvent]) -> dict[tuple[str, int], object]:
    """The users and accounts the events shown are about, in one query per kind, keyed by
    (target_type, target_id); other targets are named by their kind and id."""
    wanted: dict[str, set[int]] = {"user": set(), "account": set()}
    for event in events:
        if event.target_type in wanted and event.target_id is not None:
            wanted[event.target_type].add(event.target_id)
    found: dict[tuple[str, int], object] = {}
    for kind, model in (("user", User), ("account", Account)):
        if wanted[kind]:
            for row in session.scalars(select(model).where(model.id.in_(wanted[kind]))):
                found[(kind, row.id)] = row
    return found


def in_program_differences(session: Session, limit: int = 20) -> list[str]:
    """Users whose `in_program` disagrees with their consent records (for `points reconcile`)."""
    open_consent = (
        select(ConsentRecord.id)
        .where(ConsentRecord.user_id == User.id, ConsentRecord.opted_out_at.is_(None))
        .exists()
    )
    wrong = session.execute(
        select(User.id, User.in_program).where(User.in_program != open_consent).limit(limit)
    )
    return [
        f"user {user_id}: in_program is {flag}, the consents say {not flag}"
        for user_id, flag in wrong
    ]
