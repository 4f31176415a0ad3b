"""Flagged relationships: an account whose advocates nobody asks for a reference until a
manager clears the flag. A detractor's survey answer raises one (references.surveys), a
manager raises an open escalation; at most one open flag per account and kind (a partial
unique index), and clearing is a conditional update on the flag still being open."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portal.accounts.models import Account, User
from portal.accounts.services import get_account, record_audit
from portal.db import utcnow
from portal.errors import AlreadyHandled, DomainError, NotFound
from portal.i18n import _, day
from portal.pagination import Page, PageRequest, paginate_by_key
from references.asks import withdraw_for_flags
from references.models import AccountFlag, FlagKind

MAX_REASON = 1000


@dataclass(frozen=True)
class DetractorAnswer:
    """A detractor's answer that flags its account (unless a detractor flag is open)."""

    account_id: int
    reason: str
    response_id: int


def _reason(text: str | None, field: str = "reason") -> str:
    reason = (text or "").strip()
    if not reason:
        raise DomainError(_("Say why."), field)
    if len(reason) > MAX_REASON:
        raise DomainError(_("Keep the reason under %(limit)s characters.", limit=MAX_REASON), field)
    return reason


def flag_account(
    session: Session, actor: User, account_id: int, kind: FlagKind | str, reason: str
) -> AccountFlag:
    """Flag the relationship (audited); a second open flag of the kind is refused, saying
    who raised the open one and when."""
    reason = _reason(reason)
    try:
        kind = FlagKind(kind)
    except ValueError:
        raise DomainError(_("Choose what kind of flag this is."), "kind") from None
    account = get_account(session, account_id)
    flag = AccountFlag(account_id=account.id, kind=kind, reason=reason, created_by_id=actor.id)
    try:
        with session.begin_nested():
            session.add(flag)
            session.flush()
    except IntegrityError:
        raise _already_flagged(session, account, kind) from None
    record_audit(
        session,
        actor,
        "account_flag.raise",
        account,
        f"Flagged {account.name}: {kind.value}",
        flag_id=flag.id,
        kind=kind.value,
        reason=reason,
    )
    withdraw_for_flags(session, actor, [account.id], _("The relationship was flagged."))
    return flag


def _already_flagged(session: Session, account: Account, kind: FlagKind) -> AlreadyHandled:
    open_one = session.scalar(
        select(AccountFlag)
        .options(joinedload(AccountFlag.created_by))
        .where(
            AccountFlag.account_id == account.id,
            AccountFlag.kind == kind,
            AccountFlag.cleared_at.is_(None),
        )
    )
    who = open_one.created_by.display_name if open_one and open_one.created_by else _("an import")
    return AlreadyHandled(
        _(
            "%(account)s already has an open “%(kind)s” flag, raised by %(who)s on %(when)s.",
            account=account.name,
            kind=kind.label,
            who=who,
            when=day(open_one.created_at) if open_one else "",
        ),
        "account",
    )


def clear_flag(session: Session, actor: User, flag_id: int, reason: str) -> AccountFlag:
    """Clear an open flag with the reason (audited "account_flag.clear"); a flag someone
    cleared first is AlreadyHandled, saying who and when."""
    reason = _reason(reason)
    cleared = session.execute(
        update(AccountFlag)
        .where(AccountFlag.id == flag_id, AccountFlag.cleared_at.is_(None))
        .values(cleared_at=utcnow(), cleared_by_id=actor.id, clear_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    flag = session.get(AccountFlag, flag_id, populate_existing=True)
    if flag is None:
        raise NotFound(_("No such flag."))
    if not cleared:
        who = flag.cleared_by.display_name if flag.cleared_by else _("someone")
        raise AlreadyHandled(
            _(
                "%(who)s cleared this flag on %(when)s.",
                who=who,
                when=day(flag.cleared_at),
            )
        )
    record_audit(
        session,
        actor,
        "account_flag.clear",
        flag.account,
        f"Cleared the {flag.kind} flag on {flag.account.name}",
        flag_id=flag.id,
        kind=flag.kind,
        reason=reason,
    )
    return flag


def open_flags_page(session: Session, wanted: PageRequest, account_id: int | None = None) -> Page:
    """Open flags, newest first, with their account and who raised them (one query a page)."""
    statement = (
        select(AccountFlag)
        .options(joinedload(AccountFlag.account), joinedload(AccountFlag.created_by))
        .where(AccountFlag.cleared_at.is_(None))
    )
    if account_id is not None:
        statement = statement.where(AccountFlag.account_id == account_id)
    return paginate_by_key(
        session, statement, (AccountFlag.created_at, AccountFlag.id), wanted, newest_first=True
    )


def flag_detractors(session: Session, actor: User | None, answers: list[DetractorAnswer]) -> int:
    """Open a detractor flag on each answer's account that has none open (one insert; an
    open flag, or a concurrent import's, wins quietly). Returns how many were raised."""
    if not answers:
        return 0
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    now = utcnow()
    statement = (
        insert(AccountFlag.__table__)
        .on_conflict_do_nothing(
            index_elements=["account_id", "kind"], index_where=AccountFlag.cleared_at.is_(None)
        )
        .returning(AccountFlag.id, AccountFlag.account_id)
    )
    rows = [
        {
            "account_id": answer.account_id,
            "kind": FlagKind.DETRACTOR.value,
            "reason": answer.reason,
            "response_id": answer.response_id,
            "created_by_id": actor.id if actor else None,
            "created_at": now,
            "clear_reason": "",
        }
        for answer in answers
    ]
    raised = session.execute(statement, rows).all()
    for flag_id, account_id in raised:
        target = session.get(Account, account_id)
        record_audit(
            session,
            actor,
            "account_flag.raise",
            target,
            f"Flagged {target.name}: detractor (survey import)",
            flag_id=flag_id,
            kind=FlagKind.DETRACTOR.value,
        )
    flagged = [account_id for _flag_id, account_id in raised]
    withdraw_for_flags(session, actor, flagged, _("The relationship was flagged."))
    return len(raised)
