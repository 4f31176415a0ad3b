"""The program's activity feed: completions, levels and badges, newest first. Advocates who
hide from boards or left the program are not shown."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from points.models import FeedEvent, FeedKind
from portal.accounts.models import Account, Role, User
from portal.pagination import Page, PageRequest, paginate_by_key


def add_to_feed(session: Session, advocate_id: int, kind: FeedKind, subject: str) -> None:
    session.add(FeedEvent(advocate_id=advocate_id, kind=kind, subject=subject))


def feed_page(session: Session, wanted: PageRequest, per_page: int = 30) -> Page:
    listed = select(User.id).where(
        User.role == Role.ADVOCATE,
        User.active,
        User.in_program,
        User.hide_from_leaderboard.is_(False),
    )
    # load_only without raiseload: the rows share the session's identity map, and the
    # viewer's own account may be among them with every column a later page part needs
    statement = (
        select(FeedEvent)
        .where(FeedEvent.advocate_id.in_(listed))
        .options(
            joinedload(FeedEvent.advocate)
            .load_only(User.name, User.email, User.account_id)
            .joinedload(User.account)
            .load_only(Account.name)
        )
    )
    return paginate_by_key(
        session,
        statement,
        (FeedEvent.created_at, FeedEvent.id),
        wanted,
        newest_first=True,
        per_page=per_page,
        count=False,
    )
