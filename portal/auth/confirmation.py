"""Keeping the list true: once a year an advocate confirms they are still at their company,
in the same role; one who says they left is moved out of the account's members (their
history stays with it), leaves the program, and the account's owner is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from portal.accounts.models import (
    Account,
    ConsentRecord,
    JobLevel,
    ProfileConfirmation,
    Role,
    User,
)
from portal.accounts.services import record_audit
from portal.auth.services import opt_out
from portal.config import Settings
from portal.db import utcnow
from portal.errors import AlreadyHandled, DomainError
from portal.i18n import _, speaking_as
from portal.mail.services import queue_email
from portal.pagination import Page, PageRequest, paginate

CONFIRM_EVERY = timedelta(days=365)


def last_confirmed(session: Session, user: User) -> datetime | None:
    """Their last confirmation, else when they joined (the open consent's opt-in)."""
    if user.profile_confirmed_at is not None:
        return user.profile_confirmed_at
    return session.scalar(
        select(ConsentRecord.opted_in_at).where(
            ConsentRecord.user_id == user.id, ConsentRecord.opted_out_at.is_(None)
        )
    )


def confirmation_due_at(session: Session, user: User) -> datetime | None:
    """When the advocate is next asked to confirm; None for anyone not asked (staff, people
    outside the program, those who left their company)."""
    if user.role != Role.ADVOCATE or not user.in_program or user.left_company_at is not None:
        return None
    last = last_confirmed(session, user)
    return None if last is None else last + CONFIRM_EVERY


def confirm_profile(
    session: Session, user: User, title: str, job_level: str | None, now: datetime | None = None
) -> ProfileConfirmation:
    """Still at the company: their title and job level as they say, confirmed now."""
    if job_level and job_level not in {level.value for level in JobLevel}:
        raise DomainError(_("Choose a job level from the list."), "job_level")
    now = now or utcnow()
    previous = user.profile_confirmed_at
    unchanged = (
        User.profile_confirmed_at.is_(None)
        if previous is None
        else User.profile_confirmed_at == previous
    )
    moved = session.execute(  # a double submit confirms once
        update(User)
        .where(User.id == user.id, unchanged)
        .values(profile_confirmed_at=now, title=title.strip(), job_level=job_level or None)
    ).rowcount
    if not moved:
        raise AlreadyHandled(_("You have just confirmed your profile."))
    confirmation = ProfileConfirmation(
        user_id=user.id,
        account_id=user.account_id,
        still_at_company=True,
        title=user.title,
        job_level=user.job_level,
        created_at=now,
    )
    session.add(confirmation)
    return confirmation


def leave_company(
    session: Session, settings: Settings, user: User, now: datetime | None = None
) -> ProfileConfirmation:
    """They left their company: recorded, out of the program (no more mail or asks) and of
    the account's members; the account's relationship owner is emailed."""
    if user.left_company_at is not None:
        raise AlreadyHandled(_("You have already told us you left."))
    now = now or utcnow()
    confirmation = ProfileConfirmation(
        user_id=user.id,
        account_id=user.account_id,
        still_at_company=False,
        title=user.title,
        job_level=user.job_level,
        created_at=now,
    )
    session.add(confirmation)
    user.left_company_at = now
    user.profile_confirmed_at = now
    if user.in_program:
        opt_out(session, user)
    account = session.get(Account, user.account_id)
    record_audit(
        session,
        user,
        "user.left_company",
        user,
        f"{user.email} said they no longer work at {account.name}",
        account_id=account.id,
    )
    _tell_owner(session, settings, user, account)
    return confirmation


def _tell_owner(session: Session, settings: Settings, advocate: User, account: Account) -> None:
    """Email the relationship owner: work for the account's team, not news an advocate
    chose, so it is a staff notice (queue_email) with no unsubscribe link; staff have no
    email switches. An inactive owner or an address that bounces is not written to."""
    owner = account.owner
    if owner is None or not owner.active or owner.email_unreachable_at is not None:
        return
    with speaking_as(owner):
        queue_email(
            session,
            owner.email,
            "advocate_left",
            _("%(name)s has left %(account)s", name=advocate.display_name, account=account.name),
            owner_name=owner.name or owner.email,
            advocate_name=advocate.display_name,
            advocate_email=advocate.email,
            account_name=account.name,
            link=f"{settings.public_url}/manage/accounts/{account.id}",
            language=owner.locale or "en",
        )


@dataclass(frozen=True)
class Leaver:
    user: User
    account: Account
    left_at: datetime


def recent_leavers(session: Session, limit: int = 10) -> list[Leaver]:
    """Advocates who told us lately that they left their company, newest first (read from
    the confirmations backwards: few of them say they left)."""
    rows = session.execute(
        select(ProfileConfirmation, User, Account)
        .join(User, ProfileConfirmation.user_id == User.id)
        .join(Account, ProfileConfirmation.account_id == Account.id)
        .where(ProfileConfirmation.still_at_company.is_(False))
        .order_by(ProfileConfirmation.id.desc())
        .limit(limit)
    )
    return [Leaver(user, account, row.created_at) for row, user, account in rows]


def leavers_page(session: Session, account_id: int, wanted: PageRequest) -> Page:
    """The account's advocates who said they left, most recent first."""
    statement = (
        select(User)
        .where(
            User.account_id == account_id,
            User.role == Role.ADVOCATE,
            User.left_company_at.is_not(None),
        )
        .options(joinedload(User.account))
        .order_by(User.left_company_at.desc(), User.id.desc())
    )
    return paginate(session, statement, wanted)
