"""Invitations, logins, password resets and consent."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.accounts.models import (
    Account,
    ConsentRecord,
    GiftPolicyRequest,
    Invitation,
    Role,
    User,
    new_session_token,
)
from portal.accounts.passwords import check_strength, hash_password, verify_password
from portal.accounts.services import (
    find_user_by_email,
    normalise_email,
    record_audit,
)
from portal.config import Settings
from portal.db import refuse_duplicates, utcnow
from portal.errors import AlreadyHandled, DomainError, DuplicateEmail, InvalidToken
from portal.i18n import _, speaking_as
from portal.mail.services import queue_email

INVITE_SALT = "invitation"
RESET_SALT = "password-reset"


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=salt)


# --- invitations ------------------------------------------------------------------------


def invite_user(
    session: Session,
    settings: Settings,
    inviter: User | None,
    email: str,
    role: Role,
    account: Account | None,
) -> Invitation:
    """Create the (password-less) user if new, and email them a signed, single-use link."""
    email = normalise_email(email)
    user = find_user_by_email(session, email)
    if user is not None and user.has_password:
        raise DuplicateEmail(_("%(email)s is already a member.", email=email))
    if user is not None and not user.active:
        raise DuplicateEmail(_("%(email)s was deactivated; reactivate them instead.", email=email))
    if role == Role.ADVOCATE and account is None:
        raise DomainError(_("Choose the account this advocate belongs to."), field="account_id")
    if role != Role.ADVOCATE:
        account = None  # staff and sales work for us: no customer's account is theirs
    if user is None:
        user = User(email=email, role=role, account_id=account.id if account else None)
        with refuse_duplicates(
            session, DuplicateEmail(_("%(email)s was invited a moment ago.", email=email))
        ):
            session.add(user)
    else:  # still pending: a fresh link, with what the latest invitation says
        user.role, user.account = role, account
    now = utcnow()
    invitation = Invitation(
        user=user,
        invited_by_id=inviter.id if inviter else None,
        created_at=now,
        expires_at=now + timedelta(days=settings.invite_ttl_days),
    )
    session.add(invitation)
    session.flush()
    token = _serializer(settings, INVITE_SALT).dumps(invitation.id)
    queue_email(
        session,
        email,
        "invitation",
        _("You're invited to the Vouch customer hub"),
        inviter=inviter.display_name if inviter else _("The Vouch team"),
        account=account.name if account else None,
        role=Role(role).label,
        link=f"{settings.public_url}/invite/{token}",
        days=settings.invite_ttl_days,
    )
    record_audit(
        session,
        inviter,
        "user.invite",
        user,
        f"Invited {email} as {role}",
        account=account.name if account else None,
    )
    return invitation


@dataclass
class InviteLine:
    number: int
    text: str
    outcome: str
    invited: bool


def invite_many(
    session: Session, settings: Settings, inviter: User, account: Account, pasted: str
) -> list[InviteLine]:
    """Invite every valid address in a pasted list; report each line's outcome."""
    lines: list[InviteLine] = []
    seen: set[str] = set()
    entries = [
        part.strip() for line in pasted.splitlines() for part in line.replace(";", ",").split(",")
    ]
    for number, raw in enumerate((e for e in entries if e), start=1):
        try:
            email = normalise_email(_strip_display_name(raw))
        except DomainError as error:
            lines.append(InviteLine(number, raw, error.message, False))
            continue
        if email in seen:
            lines.append(InviteLine(number, raw, _("Listed twice: invited once."), False))
            continue
        seen.add(email)
        try:
            with session.begin_nested():
                invite_user(session, settings, inviter, email, Role.ADVOCATE, account)
        except DomainError as error:
            lines.append(InviteLine(number, raw, error.message, False))
        else:
            lines.append(
                InviteLine(number, raw, _("Invitation sent to %(email)s.", email=email), True)
            )
    return lines


def _strip_display_name(raw: str) -> str:
    """Accept 'Ana Ruiz <ana@example.com>' as pasted from a mail client."""
    if "<" in raw and raw.endswith(">"):
        return raw[raw.rindex("<") + 1 : -1]
    return raw


def load_invitation(session: Session, settings: Settings, token: str) -> Invitation:
    max_age = int(timedelta(days=settings.invite_ttl_days).total_seconds())
    try:
        invitation_id = _serializer(settings, INVITE_SALT).loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidToken(
            _("This invitation has expired. Ask your program manager for a new one.")
        ) from None
    except BadSignature:
        raise InvalidToken(
            _("This invitation link is not valid. Check you copied all of it.")
        ) from None
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise InvalidToken(_("This invitation link is not valid. Check you copied all of it."))
    if invitation.accepted_at is not None or invitation.user.has_password:
        raise InvalidToken(_("This invitation was already used. Log in with your password."))
    if not invitation.user.active:
        raise InvalidToken(_("This invitation was withdrawn."))
    if invitation.expires_at <= utcnow():
        raise InvalidToken(
            _("This invitation has expired. Ask your program manager for a new one.")
        )
    return invitation


def accept_invitation(
    session: Session, settings: Settings, token: str, name: str, password: str, consent: bool
) -> User:
    invitation = load_invitation(session, settings, token)
    user = invitation.user
    if not name.strip():
        raise DomainError(_("Tell us your name."), field="name")
    check_strength(password, user.email)
    if user.role == Role.ADVOCATE and not consent:
        raise DomainError(_("Tick the box to join the program."), field="consent")
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
    )
    if claimed.rowcount == 0:
        raise AlreadyHandled(_("This invitation was already used. Log in with your password."))
    user.name = name.strip()
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    if user.role == Role.ADVOCATE:
        opt_in(session, settings, user)
    session.flush()
    return user


# --- logging in and passwords -----------------------------------------------------------


def generic_login_error() -> str:
    """The same words for a wrong password and an unknown email (nothing to learn from it)."""
    return _("That email and password don't match an active login.")


def authenticate(session: Session, email: str, password: str, time_zone: str = "") -> User:
    user = find_user_by_email(session, email)
    if user is None or not user.active or not verify_password(user.password_hash, password):
        raise DomainError(generic_login_error(), field="password")
    user.last_login_at = utcnow()
    remember_time_zone(user, time_zone)
    return user


def remember_time_zone(user: User, name: str | None) -> None:
    """Keep the zone the browser reported at the first login; never overwrite one the person
    has (their own choice on the profile, or an earlier login's)."""
    from points.program import time_zones  # the zone list, not the game

    if user.time_zone is None and name and name in time_zones():
        user.time_zone = name


def request_password_reset(session: Session, settings: Settings, email: str) -> None:
    """Email a reset link if the login exists; the caller answers the same either way."""
    user = find_user_by_email(session, email)
    if user is None or not user.active or not user.has_password:
        return
    token = _serializer(settings, RESET_SALT).dumps({"u": user.id, "s": user.session_token})
    # in the person's own language if they chose one, else the one this page is read in
    with speaking_as(user) if user.locale else nullcontext():
        queue_email(
            session,
            user.email,
            "password_reset",
            _("Reset your Vouch password"),
            name=user.display_name,
            link=f"{settings.public_url}/reset/{token}",
            minutes=settings.reset_ttl_seconds // 60,
        )


def user_for_reset_token(session: Session, settings: Settings, token: str) -> User:
    """The token names the session token it was made with, so it dies when the password changes."""
    try:
        payload = _serializer(settings, RESET_SALT).loads(token, max_age=settings.reset_ttl_seconds)
    except SignatureExpired:
        raise InvalidToken(_("This reset link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise InvalidToken(_("This reset link is not valid. Ask for a new one.")) from None
    user = session.get(User, payload.get("u")) if isinstance(payload, dict) else None
    if user is None or not user.active or user.session_token != payload.get("s"):
        raise InvalidToken(_("This reset link was already used or is no longer valid."))
    return user


def reset_password(session: Session, settings: Settings, token: str, password: str) -> User:
    user = user_for_reset_token(session, settings, token)
    check_strength(password, user.email)
    _set_password(session, user, password, expected_token=user.session_token)
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise DomainError(_("That is not your current password."), field="current_password")
    check_strength(new, user.email)
    if current == new:
        raise DomainError(_("Choose a password different from the current one."), "new_password")
    _set_password(session, user, new, expected_token=user.session_token)


def _set_password(session: Session, user: User, password: str, expected_token: str) -> None:
    """Rotating the session token ends every other session; a lost race is 'already used'."""
    changed = session.execute(
        update(User)
        .where(User.id == user.id, User.session_token == expected_token)
        .values(password_hash=hash_password(password), session_token=new_session_token())
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount == 0:
        raise InvalidToken(_("This reset link was already used or is no longer valid."))
    session.refresh(user)


# --- consent ----------------------------------------------------------------------------


def opt_in(session: Session, settings: Settings, user: User) -> ConsentRecord:
    if user.role != Role.ADVOCATE:
        raise DomainError(_("Only advocates join the program."))
    if user.current_consent is not None:
        raise AlreadyHandled(_("You are already in the program."))
    consent = ConsentRecord(
        user_id=user.id, terms_version=settings.terms_version, opted_in_at=utcnow()
    )
    with refuse_duplicates(session, AlreadyHandled(_("You are already in the program."))):
        session.add(consent)
    user.in_program = True
    session.expire(user, ["consents"])
    return consent


def opt_out(session: Session, user: User) -> None:
    """Leave the program: no more emails or challenges. History is kept."""
    left = session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.user_id == user.id, ConsentRecord.opted_out_at.is_(None))
        .values(opted_out_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if left.rowcount == 0:
        raise AlreadyHandled(_("You have already left the program."))
    user.email_digests = False
    user.in_program = False
    session.flush()
    session.expire(user, ["consents"])


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def export_user_data(session: Session, user: User) -> dict:
    """Everything we hold about this person, as they would want to download it."""
    requests = session.scalars(
        select(GiftPolicyRequest).where(GiftPolicyRequest.user_id == user.id)
    ).all()
    return {
        "exported_at": utcnow().isoformat(),
        "profile": {
            "email": user.email,
            "name": user.name,
            "title": user.title,
            "job_level": user.job_level,
            "role": user.role,
            "account": user.account.name if user.account else None,
            "created_at": user.created_at.isoformat(),
            "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        },
        "preferences": {
            "declines_gifts": user.declines_gifts,
            "hide_from_leaderboard": user.hide_from_leaderboard,
            "hide_company": user.hide_company,
            "email_digests": user.email_digests,
            "email_results": user.email_results,
            "email_rewards": user.email_rewards,
            "email_thanks": user.email_thanks,
            "email_game": user.email_game,
            "email_events": user.email_events,
            "language": user.locale,  # None: the browser's
            "time_zone": user.time_zone,
        },
        "email_unreachable_at": _iso(user.email_unreachable_at),
        "profile_confirmed_at": _iso(user.profile_confirmed_at),
        "left_company_at": _iso(user.left_company_at),
        "consents": [
            {
                "terms_version": c.terms_version,
                "opted_in_at": c.opted_in_at.isoformat(),
                "opted_out_at": c.opted_out_at.isoformat() if c.opted_out_at else None,
            }
            for c in user.consents
        ],
        "gift_policy_requests": [
            {
                "note": r.note,
                "created_at": r.created_at.isoformat(),
                "resolution": r.resolution or None,
            }
            for r in requests
        ],
    }
