"""Read-only look-ups the screens share, each loading what its page needs in one query."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import (
    Account,
    AuditEvent,
    ConsentRecord,
    GiftPolicyRequest,
    Role,
    User,
)


@dataclass
class AccountRow:
    account: Account
    advocates: int
    opted_in: int
    invited: int
    open_requests: int


def accounts_with_member_counts(session: Session) -> list[AccountRow]:
    open_consent = (
        select(ConsentRecord.user_id).where(ConsentRecord.opted_out_at.is_(None)).scalar_subquery()
    )
    member_counts = (
        select(
            User.account_id,
            func.count().label("advocates"),
            func.sum(case((User.id.in_(open_consent), 1), else_=0)).label("opted_in"),
            func.sum(case((User.password_hash.is_(None), 1), else_=0)).label("invited"),
        )
        .where(User.role == Role.ADVOCATE, User.active.is_(True))
        .group_by(User.account_id)
        .subquery()
    )
    request_counts = (
        select(GiftPolicyRequest.account_id, func.count().label("open_requests"))
        .where(GiftPolicyRequest.resolved_at.is_(None))
        .group_by(GiftPolicyRequest.account_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Account,
            func.coalesce(member_counts.c.advocates, 0),
            func.coalesce(member_counts.c.opted_in, 0),
            func.coalesce(member_counts.c.invited, 0),
            func.coalesce(request_counts.c.open_requests, 0),
        )
        .outerjoin(member_counts, member_counts.c.account_id == Account.id)
        .outerjoin(request_counts, request_counts.c.account_id == Account.id)
        .options(selectinload(Account.owner))
        .order_by(Account.name)
    ).all()
    return [AccountRow(*row) for row in rows]


def account_choices(session: Session) -> list[tuple[int, str]]:
    return [(a.id, a.name) for a in session.scalars(select(Account).order_by(Account.name))]


def staff_choices(session: Session) -> list[tuple[int, str]]:
    staff = session.scalars(
        select(User)
        .where(User.role.in_([Role.MANAGER, Role.ADMIN]), User.active.is_(True))
        .order_by(User.name, User.email)
    )
    return [(u.id, f"{u.display_name} ({u.email})") for u in staff]


def list_users(
    session: Session, role: str | None = None, account_id: int | None = None, query: str = ""
) -> list[User]:
    statement = (
        select(User)
        .options(selectinload(User.account), selectinload(User.consents))
        .order_by(User.email)
    )
    if role:
        statement = statement.where(User.role == role)
    if account_id:
        statement = statement.where(User.account_id == account_id)
    if query:
        like = f"%{query.strip().lower()}%"
        statement = statement.where(
            func.lower(User.email).like(like) | func.lower(User.name).like(like)
        )
    return list(session.scalars(statement))


def open_policy_requests(session: Session) -> list[GiftPolicyRequest]:
    return list(
        session.scalars(
            select(GiftPolicyRequest)
            .where(GiftPolicyRequest.resolved_at.is_(None))
            .options(selectinload(GiftPolicyRequest.user), selectinload(GiftPolicyRequest.account))
            .order_by(GiftPolicyRequest.created_at)
        )
    )


def recent_audit(session: Session, limit: int = 200, target: Account | User | None = None):
    statement = (
        select(AuditEvent)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    if target is not None:
        statement = statement.where(
            AuditEvent.target_type == type(target).__name__.lower(),
            AuditEvent.target_id == target.id,
        )
    return list(session.scalars(statement))


def advocate_choices(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(
        select(User.id, User.name, User.email, Account.name)
        .join(Account, User.account_id == Account.id)
        .where(User.role == Role.ADVOCATE)
        .order_by(Account.name, User.email)
    )
    return [(uid, f"{name or email} ({account})") for uid, name, email, account in rows]
