"""Reading a person's notifications, a page at a time."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.notifications.models import Notification
from portal.pagination import Page, PageRequest, paginate_by_key

PER_PAGE = 30


def notifications_page(
    session: Session, user_id: int, wanted: PageRequest, per_page: int = PER_PAGE
) -> Page:
    """Newest first, by id (the (user_id, id) index), with no count: a long list stays cheap."""
    return paginate_by_key(
        session,
        select(Notification).where(Notification.user_id == user_id),
        (Notification.id,),
        wanted,
        per_page=per_page,
        newest_first=True,
        count=False,
    )
