"""Read-only look-ups the screens share, each loading what its page needs in one query."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, select
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
from portal.pagination import Page, PageRequest, paginate, paginate_by_key


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


def audit_page(
    session: Session, wanted: PageRequest, action: str = "", target: User | Account | None = None
) -> Page:
    """The audit log, newest first, a page at a time (by id: new events never shift it),
    of every action or one kind, about anyone or one user or account."""
    statement = select(AuditEvent).options(selectinload(AuditEvent.actor))
    if action:
        statement = statement.where(AuditEvent.action.startswith(action, autoescape=True))
    if target is not None:
        statement = statement.where(*_audit_of(target))
    return paginate_by_key(
        session, statement, (AuditEvent.id,), wanted, newest_first=True, count=False
    )


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
