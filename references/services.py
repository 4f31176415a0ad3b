"""What every part of the reference process shares: the program's boundaries and thank-you
for a call, sales users' internal points, and which accounts are flagged."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.db import refuse_duplicates, single_row
from references.models import AccountFlag, ReferenceSettings, SalesAction, SalesCredit

# internal points, per action that keeps the program's data true (never redeemable)
SALES_POINTS = {
    SalesAction.COMPLETE_REQUEST: 10,
    SalesAction.PROMPT_CONFIRMATION: 15,
    SalesAction.OUTCOME: 20,
}


class _AlreadyCredited(Exception):
    pass


def reference_settings(session: Session) -> ReferenceSettings:
    return single_row(session, ReferenceSettings)


def credit_sales(
    session: Session, user_id: int, action: SalesAction, request_id: int, ask_id: int | None = None
) -> bool:
    """Give `user_id` the action's internal points once per request (or per ask, for a
    confirmed call): the unique key makes a repeat, or a race, a no-op. True when given."""
    credit = SalesCredit(
        user_id=user_id,
        action=action,
        request_id=request_id,
        points=SALES_POINTS[action],
        key=f"{action}:{ask_id if ask_id is not None else request_id}",
    )
    try:
        with refuse_duplicates(session, _AlreadyCredited()):
            session.add(credit)
            session.flush()
    except _AlreadyCredited:
        return False
    return True


def revoke_sales_credit(session: Session, action: SalesAction, request_id: int) -> None:
    """Take back the points an action on a request earned (the request was called off)."""
    session.execute(delete(SalesCredit).where(SalesCredit.key == f"{action}:{request_id}"))


def open_flags(session: Session, account_id: int) -> list[AccountFlag]:
    """The account's flags not yet cleared: while any is open, nobody asks its advocates."""
    return list(
        session.scalars(
            select(AccountFlag)
            .where(AccountFlag.account_id == account_id, AccountFlag.cleared_at.is_(None))
            .order_by(AccountFlag.id)
        )
    )
