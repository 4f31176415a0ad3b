"""Accounts, users, gift policies and the audit trail. The only code that changes them."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.accounts.models import (
    Account,
    AuditEvent,
    ConsentRecord,
    GiftPolicy,
    GiftPolicyChange,
    GiftPolicyRequest,
    Role,
    User,
    new_session_token,
)
from portal.accounts.passwords import check_strength, hash_password
from portal.db import Base, get_or_refuse, refuse_duplicates, utcnow
from portal.errors import AlreadyHandled, DomainError, DuplicateEmail, LastAdmin, NotFound
from portal.i18n import _


def normalise_email(raw: str) -> str:
    """Lower-cased and trimmed; raises DomainError when it is not an email address."""
    candidate = (raw or "").strip()
    if not candidate:
        raise DomainError(_("Enter an email address."), field="email")
    try:
        parsed = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        raise DomainError(
            _(
                "%(candidate)s is not a valid email address: %(error)s",
                candidate=candidate,
                error=error,
            ),
            "email",
        ) from None
    return parsed.normalized.lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def record_audit(
    session: Session,
    actor: User | None,
    action: str,
    target: Base | None,
    summary: str,
    **details,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        target_type=type(target).__name__.lower() if target else "",
        target_id=target.id if target else None,
        summary=summary,
        details=details,
    )
    session.add(event)
    return event


# --- accounts ---------------------------------------------------------------------------


@dataclass
class AccountFields:
    name: str
    industry: str = ""
    segment: str = ""
    region: str = ""
    arr: int | None = None
    owner_id: int | None = None


def _check_account_fields(session: Session, fields: AccountFields, account_id: int | None) -> None:
    name = fields.name.strip()
    if not name:
        raise DomainError(_("Give the account a name."), field="name")
    clash = session.scalar(
        select(Account.id).where(func.lower(Account.name) == name.lower(), Account.id != account_id)
    )
    if clash:
        raise DomainError(_("An account named %(name)s already exists.", name=name), field="name")
    if fields.owner_id is not None:
        owner = session.get(User, fields.owner_id)
        if owner is None or not owner.is_staff or not owner.active:
            raise DomainError(_("The relationship owner must be an active staff user."), "owner_id")


def create_account(session: Session, actor: User | None, fields: AccountFields) -> Account:
    _check_account_fields(session, fields, None)
    account = Account(
        name=fields.name.strip(),
        industry=fields.industry.strip(),
        segment=fields.segment.strip(),
        region=fields.region.strip(),
        arr=fields.arr,
        owner_id=fields.owner_id,
    )
    session.add(account)
    session.flush()
    record_audit(session, actor, "account.create", account, f"Created account {account.name}")
    return account


def update_account(
    session: Session, actor: User, account_id: int, fields: AccountFields
) -> Account:
    account = get_account(session, account_id)
    _check_account_fields(session, fields, account.id)
    before = {"name": account.name, "segment": account.segment, "owner_id": account.owner_id}
    account.name = fields.name.strip()
    account.industry = fields.industry.strip()
    account.segment = fields.segment.strip()
    account.region = fields.region.strip()
    account.arr = fields.arr
    account.owner_id = fields.owner_id
    record_audit(
        session, actor, "account.update", account, f"Edited account {account.name}", before=before
    )
    return account


def get_account(session: Session, account_id: int) -> Account:
    return get_or_refuse(session, Account, account_id, _("No such account."))


def find_account_by_name(session: Session, name: str) -> Account | None:
    return session.scalar(select(Account).where(func.lower(Account.name) == name.strip().lower()))


def set_gift_policy(
    session: Session, actor: User, account_id: int, policy: GiftPolicy, reason: str
) -> GiftPolicyChange:
    """Change an account's gift policy under a row lock, so gifting checks see one answer."""
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Say why the policy is changing."), field="reason")
    account = session.scalar(select(Account).where(Account.id == account_id).with_for_update())
    if account is None:
        raise NotFound(_("No such account."))
    if account.gift_policy == policy:
        raise DomainError(
            _(
                "%(account)s already has the policy “%(policy)s”.",
                account=account.name,
                policy=policy.label,
            ),
            "policy",
        )
    now = utcnow()
    change = GiftPolicyChange(
        account_id=account.id,
        from_policy=account.gift_policy,
        to_policy=policy,
        reason=reason,
        changed_by_id=actor.id,
        changed_at=now,
    )
    session.add(change)
    account.gift_policy = policy
    account.gift_policy_reason = reason
    account.gift_policy_set_by_id = actor.id
    account.gift_policy_set_at = now
    session.execute(
        update(GiftPolicyRequest)
        .where(GiftPolicyRequest.account_id == account.id, GiftPolicyRequest.resolved_at.is_(None))
        .values(
            resolved_at=now, resolved_by_id=actor.id, resolution=f"Policy set to {policy.label}"
        )
    )
    record_audit(
        session,
        actor,
        "account.gift_policy",
        account,
        f"Gift policy of {account.name}: {change.from_policy} → {policy}",
        reason=reason,
        from_policy=change.from_policy,
        to_policy=str(policy),
    )
    session.flush()
    return change


def dismiss_policy_request(session: Session, actor: User, request_id: int, note: str) -> None:
    note = note.strip() or "Dismissed"
    result = session.execute(
        update(GiftPolicyRequest)
        .where(GiftPolicyRequest.id == request_id, GiftPolicyRequest.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=actor.id, resolution=note)
    )
    if result.rowcount == 0:
        raise DomainError(_("That request was already handled."))
    request = session.get(GiftPolicyRequest, request_id)
    record_audit(
        session,
        actor,
        "account.policy_request_dismissed",
        request.account,
        f"Dismissed {request.user.email}'s no-gifts request",
        note=note,
    )


def set_declines_gifts(session: Session, user: User, declines: bool, note: str = "") -> None:
    """The advocate's own word applies to them at once and asks an admin to set the policy."""
    user.declines_gifts = declines
    open_request = session.scalar(
        select(GiftPolicyRequest).where(
            GiftPolicyRequest.user_id == user.id, GiftPolicyRequest.resolved_at.is_(None)
        )
    )
    if declines and open_request is None and user.account_id is not None:
        request = GiftPolicyRequest(account_id=user.account_id, user_id=user.id, note=note)
        with refuse_duplicates(
            session, AlreadyHandled(_("Your request is already with an admin."))
        ):
            session.add(request)
    elif not declines and open_request is not None:
        open_request.resolved_at = utcnow()
        open_request.resolution = "Withdrawn by the advocate"
    session.flush()


# --- users ------------------------------------------------------------------------------


def create_user(
    session: Session,
    email: str,
    role: Role,
    password: str | None = None,
    account: Account | None = None,
    name: str = "",
) -> User:
    """A user with a password (CLI, demo data) or without one (an invitation follows)."""
    email = normalise_email(email)
    if role == Role.ADVOCATE and account is None:
        raise DomainError(_("An advocate must belong to an account."), field="account_id")
    if find_user_by_email(session, email):
        raise DuplicateEmail(_("%(email)s already has a login.", email=email))
    user = User(email=email, role=role, account=account, name=name.strip())
    if password is not None:
        check_strength(password, email)
        user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> User:
    return get_or_refuse(session, User, user_id, _("No such user."))


def _lock_active_admins(session: Session) -> list[int]:
    """Locking every active admin row makes two demotions of the last two admins take turns."""
    return list(
        session.scalars(
            select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).with_for_update()
        )
    )


def change_role(
    session: Session, actor: User, user_id: int, role: Role, account_id: int | None = None
) -> User:
    admins = _lock_active_admins(session)
    user = get_user(session, user_id)
    if user.role == role:
        raise DomainError(
            _("%(email)s is already %(label)s.", email=user.email, label=role.label.lower()),
            field="role",
        )
    if user.id in admins and role != Role.ADMIN and len(admins) == 1:
        raise LastAdmin(_("This is the last active admin: make someone else admin first."))
    if role == Role.ADVOCATE:
        account_id = account_id or user.account_id
        if account_id is None:
            raise DomainError(_("Choose the account this advocate belongs to."), field="account_id")
        user.account_id = get_account(session, account_id).id
    before = user.role
    user.role = role
    if before == Role.ADVOCATE:
        _leave_program(session, user)
    record_audit(
        session,
        actor,
        "user.role",
        user,
        f"{user.email}: {before} → {role}",
        from_role=before,
        to_role=str(role),
    )
    session.flush()
    return user


def _leave_program(session: Session, user: User) -> None:
    """An advocate made staff or sales is no longer a member (no challenges, boards or
    advocate mail); their consent is closed, not deleted, and their history kept. As an
    advocate again they join afresh."""
    session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.user_id == user.id, ConsentRecord.opted_out_at.is_(None))
        .values(opted_out_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    user.in_program = False
    session.expire(user, ["consents"])


def set_active(session: Session, actor: User, user_id: int, active: bool) -> User:
    admins = _lock_active_admins(session)
    user = get_user(session, user_id)
    if user.active == active:
        already = (
            _("%(email)s is already active.") if active else _("%(email)s is already deactivated.")
        )
        raise DomainError(already % {"email": user.email})
    if not active and user.id in admins and len(admins) == 1:
        raise LastAdmin(_("This is the last active admin: it cannot be deactivated."))
    user.active = active
    if not active:
        user.session_token = new_session_token()  # ends their sessions now
    verb = "Reactivated" if active else "Deactivated"
    record_audit(session, actor, "user.active", user, f"{verb} {user.email}", active=active)
    session.flush()
    return user


@dataclass
class ProfileFields:
    name: str
    title: str = ""
    job_level: str | None = None
    email_digests: bool = True
    hide_from_leaderboard: bool = False
    declines_gifts: bool = False
    gifts_note: str = ""
    hide_company: bool = False
    # the other kinds of email (portal.notifications.Topic), each its own switch
    email_results: bool = True
    email_rewards: bool = True
    email_thanks: bool = True
    email_game: bool = True
    email_events: bool = True
    locale: str | None = None  # None: the browser's language
    time_zone: str | None = None  # None: the program's zone


def update_profile(session: Session, user: User, fields: ProfileFields) -> None:
    if not fields.name.strip():
        raise DomainError(_("Tell us your name."), field="name")
    user.name = fields.name.strip()
    user.title = fields.title.strip()
    user.job_level = fields.job_level or None
    user.email_digests = fields.email_digests
    user.email_results = fields.email_results
    user.email_rewards = fields.email_rewards
    user.email_thanks = fields.email_thanks
    user.email_game = fields.email_game
    user.email_events = fields.email_events
    user.locale = fields.locale or None
    user.time_zone = fields.time_zone or None
    user.hide_from_leaderboard = fields.hide_from_leaderboard
    user.hide_company = fields.hide_company
    set_declines_gifts(session, user, fields.declines_gifts, fields.gifts_note.strip())
