"""Addresses that bounce: which SMTP refusals are permanent (the recipient, for good), the
advocates of an account whose address is marked unreachable, and clearing the mark once the
address is fixed."""

from __future__ import annotations

import re
import smtplib

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Role, User
from portal.accounts.services import record_audit
from portal.errors import AlreadyHandled, NotFound
from portal.i18n import _
from portal.mail.services import PermanentFailure
from portal.pagination import Page, PageRequest, paginate

# enhanced status codes (RFC 3463) that are about the recipient's address or mailbox
_ABOUT_RECIPIENT = re.compile(r"\b5\.(1\.\d+|2\.1)\b")
_RECIPIENT_WORDS = ("recipient", "user unknown", "no such user", "mailbox unavailable")


def permanent_refusal(error: smtplib.SMTPException) -> PermanentFailure | None:
    """A PermanentFailure when the server refused the recipient for good (a 5xx answer to
    RCPT, or a 5xx about the address later on); None for anything worth retrying (a 4xx,
    a refused sender, a dropped connection)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = list(error.recipients.values())
        if answers and all(500 <= code < 600 for code, _text in answers):
            return PermanentFailure("; ".join(_answer(code, text) for code, text in answers))
        return None
    if isinstance(error, smtplib.SMTPSenderRefused):  # our sender, not their address
        return None
    if isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600:
        text = _answer(error.smtp_code, error.smtp_error)
        lowered = text.lower()
        if _ABOUT_RECIPIENT.search(text) or any(word in lowered for word in _RECIPIENT_WORDS):
            return PermanentFailure(text)
    return None


def _answer(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {text}".strip()


def unreachable_page(session: Session, account_id: int, wanted: PageRequest) -> Page:
    """An account's advocates whose address bounced, the most recent first."""
    statement = (
        select(User)
        .where(
            User.account_id == account_id,
            User.role == Role.ADVOCATE,
            User.email_unreachable_at.is_not(None),
        )
        .order_by(User.email_unreachable_at.desc(), User.id.desc())
    )
    return paginate(session, statement, wanted)


def clear_unreachable(session: Session, actor: User, user_id: int) -> User:
    """Staff fixed the address (or the mailbox is back): non-essential mail may go again."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such person."))
    if user.email_unreachable_at is None:
        raise AlreadyHandled(_("%(email)s is not marked unreachable.", email=user.email))
    record_audit(
        session,
        actor,
        "user.reachable",
        user,
        f"Marked {user.email} reachable again (it bounced: {user.email_unreachable_reason})",
        reason=user.email_unreachable_reason,
    )
    user.email_unreachable_at = None
    user.email_unreachable_reason = ""
    return user
