"""Telling people things: the one place that decides whether a person may be emailed, the
notifications list in the hub, and the signed one-click unsubscribe links.

Every email except the must-send ones (password reset, invitation: `queue_email` directly)
goes through `notify`, so that leaving the program, turning a kind off or an address that
bounces stops that mail everywhere at once.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.accounts.models import Role, User
from portal.config import Settings
from portal.db import utcnow
from portal.i18n import speaking_as
from portal.mail.models import OutboxMessage
from portal.mail.services import Attachment, queue_email
from portal.notifications.models import Notification, Topic


def may_email(user: User, topic: Topic) -> bool:
    """Still in the program (advocates), this kind switched on, the address reachable."""
    if not user.active or user.email_unreachable_at is not None:
        return False
    if user.role == Role.ADVOCATE and (not user.in_program or user.left_company_at is not None):
        return False
    return bool(getattr(user, topic.column))


def notify(
    session: Session,
    settings: Settings,
    user: User,
    topic: Topic,
    kind: str,
    subject: str,
    link: str = "",
    attachment: Attachment | None = None,
    **context,
) -> OutboxMessage | None:
    """Tell `user`: a line in their notifications list (advocates), and the email
    templates/mail/<kind>.* when `may_email` allows, in their language and time zone.

    `subject` may be a lazy string (`_l`): it is written in the recipient's language.
    Returns the queued message, or None when no email was sent.
    """
    with speaking_as(user):
        subject = str(subject)
        if user.role == Role.ADVOCATE:
            session.add(Notification(user_id=user.id, topic=topic, message=subject, link=link))
        if not may_email(user, topic):
            return None
        unsubscribe = unsubscribe_url(settings, user, topic)
        return queue_email(
            session,
            user.email,
            kind,
            subject,
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            attachment=attachment,
            topic=topic.value,
            link=link,
            unsubscribe_url=unsubscribe,
            preferences_url=f"{settings.public_url}/hub/profile#email",
            language=user.locale or "en",
            **context,
        )


def add_notification(
    session: Session, user: User, topic: Topic, message: str, link: str = ""
) -> None:
    """Only a line in an advocate's notifications list, no email: news that the hub shows
    (a badge, points a manager logged for them) without writing to anyone."""
    if user.role != Role.ADVOCATE:
        return
    with speaking_as(user):
        session.add(Notification(user_id=user.id, topic=topic, message=str(message), link=link))


def still_wanted(session: Session, message: OutboxMessage) -> bool:
    """The gate asked again as a queued message is sent: one who left, turned that kind off
    or bounced since it was queued gets nothing. Must-send mail (no topic) always goes."""
    if message.topic is None:
        return True
    user = session.scalar(select(User).where(User.email == message.to_email))
    return user is not None and may_email(user, Topic(message.topic))


def _signer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt="vouch.unsubscribe")


def unsubscribe_url(settings: Settings, user: User, topic: Topic) -> str:
    """A link that turns off one kind of email for one person, without logging in. It does
    not expire: an old email's link must still work."""
    token = _signer(settings).dumps({"user": user.id, "topic": topic.value})
    return f"{settings.public_url}/unsubscribe/{token}"


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[int, Topic] | None:
    """The (user id, topic) a link names, or None for a forged or mangled one."""
    try:
        data = _signer(settings).loads(token)
        return int(data["user"]), Topic(data["topic"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def set_email_choice(session: Session, user: User, topic: Topic, wanted: bool) -> None:
    setattr(user, topic.column, wanted)


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def mark_read(session: Session, user_id: int, ids: set[int]) -> None:
    if ids:
        session.execute(
            update(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.id.in_(ids),
                Notification.read_at.is_(None),
            )
            .values(read_at=utcnow())
        )
