"""The ask: the account's relationship owner asks one advocate to take one request's call,
and the advocate says yes, no, or not now.

One advocate has at most one open ask (asked or accepted): the partial unique index
uq_reference_asks_open refuses a second, and the staff member who lost is told who asked
and when. Every move is a conditional UPDATE on the ask's current status, so a double
click or two people at once is one change and a clear "already handled", never two.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from email.utils import parseaddr

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from challenges.models import Approval, Challenge, ChallengeStatus, Submission
from challenges.services import CONFIRMED_ON_REQUEST, check_high_effort_cap, high_effort_asks
from challenges.services import withdraw as withdraw_submission
from points.program import game_settings
from portal.accounts.choosable import why_not_choosable
from portal.accounts.models import Role, User
from portal.accounts.services import record_audit
from portal.config import Settings
from portal.db import get_or_refuse, refuse_duplicates, utcnow
from portal.errors import AlreadyHandled, DomainError, NotFound
from portal.i18n import _, _l, day, speaking_as
from portal.mail.services import queue_email
from references.models import (
    OPEN_ASK,
    AskStatus,
    ReferenceAsk,
    ReferenceRequest,
    RequestStatus,
)
from references.services import open_flags, reference_settings

# "not now": how long the matching leaves someone out after they said so (None: just this one)
NOT_NOW_DAYS = (30, 90, 180)
# an ask that can still be taken back: not yet answered no, confirmed or withdrawn
WITHDRAWABLE = (AskStatus.PROPOSED, AskStatus.ASKED, AskStatus.ACCEPTED)
MESSAGE_LIMIT = 5000


class _OpenElsewhere(Exception):
    """The unique index refused a second open ask for the advocate."""


# --- who may do what ----------------------------------------------------------------------


def may_send(actor: User, ask: ReferenceAsk) -> bool:
    """The relationship owner makes the ask; an admin may stand in, and with no owner on
    record any program manager may."""
    if actor.role == Role.ADMIN:
        return True
    if ask.owner_id is not None:
        return ask.owner_id == actor.id
    return actor.role == Role.MANAGER


def get_ask(session: Session, ask_id: int) -> ReferenceAsk:
    return get_or_refuse(session, ReferenceAsk, ask_id, _("There is no such reference ask."))


def own_ask(session: Session, advocate: User, ask_id: int) -> ReferenceAsk:
    """The advocate's own ask, once it was made (a proposal they were never told of is not
    theirs to see); anyone else's is not found."""
    ask = session.get(ReferenceAsk, ask_id)
    if ask is None or ask.advocate_id != advocate.id or ask.asked_at is None:
        raise NotFound(_("There is no such reference ask."))
    return ask


def open_ask_of(session: Session, advocate_id: int) -> ReferenceAsk | None:
    return session.scalar(
        select(ReferenceAsk).where(
            ReferenceAsk.advocate_id == advocate_id, ReferenceAsk.status.in_(OPEN_ASK)
        )
    )


def already_asked_message(ask: ReferenceAsk) -> str:
    asker = ask.asked_by or ask.owner
    return _(
        "%(asker)s already asked %(advocate)s on %(day)s (for the %(opportunity)s "
        "opportunity); one ask at a time.",
        asker=asker.display_name if asker else _("Someone"),
        advocate=ask.advocate.display_name,
        day=day(ask.asked_at),
        opportunity=ask.request.opportunity_name,
    )


def _moved_message(ask: ReferenceAsk) -> str:
    """Why an ask is no longer where the caller found it (someone else moved it first)."""
    if ask.status in OPEN_ASK and ask.asked_at is not None:
        return already_asked_message(ask)
    return _(
        "This ask was already %(status)s.",
        status=_STATUS_WORDS.get(ask.status, ask.status),
    )


_STATUS_WORDS = {
    "proposed": _l("proposed"),
    "asked": _l("sent"),
    "accepted": _l("accepted"),
    "declined": _l("declined"),
    "withdrawn": _l("withdrawn"),
    "confirmed": _l("confirmed"),
}


def _move(session: Session, ask: ReferenceAsk, frm: tuple[str, ...], **values) -> bool:
    """The conditional UPDATE of one ask from one of `frm`; False when someone moved it first."""
    moved = session.execute(
        update(ReferenceAsk)
        .where(ReferenceAsk.id == ask.id, ReferenceAsk.status.in_(frm))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(ask)
    return bool(moved)


# --- the owner asks -----------------------------------------------------------------------


def default_message(ask: ReferenceAsk, sender: User) -> str:
    """The friendly boilerplate the ask page starts from: the owner edits it before sending."""
    reference = ask.request
    text = _(
        "Hi %(name)s,\n\n"
        "We are talking with %(prospect)s, and your experience would mean a lot to them. "
        "Would you be willing to take a short reference call with them by %(needed_by)s?",
        name=(ask.advocate.name.split() or [ask.advocate.display_name])[0],  # a first name
        prospect=reference.prospect_company,
        needed_by=day(reference.needed_by),
    )
    if reference.talking_points.strip():
        text += "\n\n" + _(
            "What they would like to hear about:\n%(points)s",
            points=reference.talking_points.strip(),
        )
    text += "\n\n" + _(
        "If now is not a good time, just say so: there is no pressure.\n\nThank you,\n%(sender)s",
        sender=sender.display_name,
    )
    return text


def send_ask(
    session: Session, settings: Settings, actor: User, ask_id: int, message: str
) -> ReferenceAsk:
    """Send a proposed ask from its owner to the advocate, by email from the owner."""
    ask = get_ask(session, ask_id)
    if not may_send(actor, ask):
        owner = ask.owner.display_name if ask.owner else _("the relationship owner")
        raise DomainError(_("Only %(owner)s makes this ask.", owner=owner))
    reference, advocate = ask.request, ask.advocate
    if reference.status != RequestStatus.OPEN:
        raise DomainError(_("This request is no longer open."))
    if ask.status != AskStatus.PROPOSED:
        raise AlreadyHandled(_moved_message(ask))
    message = (message or "").strip()
    if not message:
        raise DomainError(_("Write the ask: a few words from you."), "message")
    if len(message) > MESSAGE_LIMIT:
        raise DomainError(
            _("Keep the ask under %(count)s characters.", count=MESSAGE_LIMIT), "message"
        )
    _check_still_askable(session, advocate, ask.account_id)
    now = utcnow()
    try:
        with refuse_duplicates(session, _OpenElsewhere()):
            moved = _move(
                session,
                ask,
                (AskStatus.PROPOSED,),
                status=AskStatus.ASKED,
                asked_at=now,
                asked_by_id=actor.id,
                message=message,
            )
    except _OpenElsewhere:
        other = open_ask_of(session, advocate.id)
        raise AlreadyHandled(
            already_asked_message(other)
            if other is not None
            else _(
                "%(name)s already has an open ask; one ask at a time.", name=advocate.display_name
            )
        ) from None
    if not moved:
        raise AlreadyHandled(_moved_message(ask))
    _email_ask(session, settings, actor, ask)
    record_audit(
        session,
        actor,
        "reference_ask.send",
        ask,
        f"Asked {advocate.display_name} to speak with {reference.prospect_company}",
        request_id=reference.id,
        advocate_id=advocate.id,
    )
    return ask


def _check_still_askable(session: Session, advocate: User, account_id: int) -> None:
    """What may have changed since the candidate was picked: the person, the account's
    flags, their big-ask load, their address."""
    name = advocate.display_name
    if problem := why_not_choosable(advocate):
        raise DomainError(problem)
    if flags := open_flags(session, account_id):
        raise DomainError(
            _(
                "%(account)s's relationship is flagged (%(flags)s): nobody asks its advocates "
                "until a manager clears it.",
                account=advocate.account.name,
                flags=", ".join(str(flag.flag.label) for flag in flags),
            )
        )
    load = high_effort_asks(session, advocate, utcnow())
    if load.capped:
        raise DomainError(
            _(
                "%(name)s (or their company) is at the big-ask cap: %(count)s in the last "
                "%(days)s days. Pick someone else.",
                name=name,
                count=max(load.advocate, load.account),
                days=load.window_days,
            )
        )
    if advocate.email_unreachable_at is not None:
        raise DomainError(
            _(
                "Email to %(name)s bounces (%(email)s): reach them another way, by phone "
                "or in person.",
                name=name,
                email=advocate.email,
            )
        )


def _address(name: str, email: str) -> str:
    """'Name <address>' quoted as needed but not encoded: the mail library encodes it once
    when sending (an already encoded name would arrive encoded twice)."""
    return str(Address(display_name=" ".join(name.split()), addr_spec=email))


def owner_headers(settings: Settings, sender: User) -> dict[str, str]:
    """'<Owner> via Vouch' at the program's own address (mail from a domain we don't send
    for would be refused), and replies straight to the owner."""
    ours = parseaddr(settings.mail_sender)[1] or "hub@vouch.example"
    return {
        "From": _address(f"{sender.display_name} via Vouch", ours),
        "Reply-To": _address(sender.display_name, sender.email),
    }


def hub_link(settings: Settings, ask: ReferenceAsk) -> str:
    return f"{settings.public_url}/hub/references/{ask.id}"


def request_link(settings: Settings, reference: ReferenceRequest) -> str:
    return f"{settings.public_url}/references/{reference.id}"


def _email_ask(session: Session, settings: Settings, sender: User, ask: ReferenceAsk) -> None:
    advocate, reference = ask.advocate, ask.request
    with speaking_as(advocate):
        queue_email(
            session,
            advocate.email,
            "reference_ask",
            _(
                "%(sender)s asks: would you speak with %(prospect)s?",
                sender=sender.display_name,
                prospect=reference.prospect_company,
            ),
            headers=owner_headers(settings, sender),
            name=advocate.display_name,
            sender=sender.display_name,
            message=ask.message,
            prospect=reference.prospect_company,
            level=str(reference.level.label),
            talking_points=reference.talking_points,
            needed_by=reference.needed_by,
            link=hub_link(settings, ask),
            language=advocate.locale or "en",
        )


# --- the advocate answers -----------------------------------------------------------------


def _answerable(ask: ReferenceAsk) -> None:
    if ask.status != AskStatus.ASKED:
        if ask.status == AskStatus.WITHDRAWN:
            raise AlreadyHandled(_("This ask was withdrawn: there is nothing to answer."))
        raise AlreadyHandled(_("You already answered this ask."))
    if ask.request.status != RequestStatus.OPEN:
        raise AlreadyHandled(_("This request is closed: there is nothing to answer."))


def accept(
    session: Session,
    settings: Settings,
    advocate: User,
    ask_id: int,
    availability: str,
    notes: str = "",
) -> ReferenceAsk:
    """Say yes: it counts toward the big-ask cap, and the reference-call challenge is made
    for the advocate with its pending submission (the requester confirms the call later)."""
    ask = own_ask(session, advocate, ask_id)
    _answerable(ask)
    availability, notes = (availability or "").strip(), (notes or "").strip()
    if not availability:
        raise DomainError(_("Say when you are available for the call."), "availability")
    now = utcnow()
    check_high_effort_cap(session, advocate, now)  # under the account's lock
    if open_flags(session, ask.account_id):  # flagged since the ask was sent
        raise DomainError(
            _("This ask is on hold for now; the program team will be in touch. Thank you!")
        )
    if not _move(session, ask, (AskStatus.ASKED,), status=AskStatus.ACCEPTED, responded_at=now):
        raise AlreadyHandled(_("You already answered this ask."))
    reference = ask.request
    challenge, submission = _reference_call(session, ask, availability, notes, now)
    ask.challenge_id, ask.submission_id = challenge.id, submission.id
    session.execute(  # the request's first yes: time to coordinate is measured from it
        update(ReferenceRequest)
        .where(ReferenceRequest.id == reference.id, ReferenceRequest.first_accepted_at.is_(None))
        .values(first_accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.refresh(reference)
    record_audit(
        session,
        advocate,
        "reference_ask.accept",
        ask,
        f"{advocate.display_name} accepted to speak with {reference.prospect_company}",
        request_id=reference.id,
        submission_id=submission.id,
    )
    for person in _staff_of(ask):
        with speaking_as(person):
            queue_email(
                session,
                person.email,
                "reference_ask_accepted",
                _(
                    "%(advocate)s accepted: introduce them to %(contact)s",
                    advocate=advocate.display_name,
                    contact=reference.prospect_contact or reference.prospect_company,
                ),
                name=person.display_name,
                advocate=advocate.display_name,
                advocate_email=advocate.email,
                account=ask.account.name,
                prospect=reference.prospect_company,
                contact=reference.prospect_contact,
                availability=availability,
                notes=notes,
                link=request_link(settings, reference),
                language=person.locale or "en",
            )
    return ask


def _reference_call(
    session: Session, ask: ReferenceAsk, availability: str, notes: str, now: datetime
) -> tuple[Challenge, Submission]:
    reference = ask.request
    rules = game_settings(session)
    title = _("Reference call: %(company)s", company=reference.prospect_company)
    challenge = Challenge(
        type="reference_call",
        title=title[:200],
        # archived from the start: it is this one advocate's call, never listed or opened to
        # anyone else; its one place is taken by the submission below
        status=ChallengeStatus.ARCHIVED,
        # a rewarded program shows no points: the confirmed call is thanked instead
        points=reference_settings(session).call_points if rules.show_points else 0,
        points_visible=rules.show_points,
        approval=Approval.MANUAL,
        cap=1,
        taken=1,
        starts_at=now,
        published_at=now,
        config={
            "arranged_by": reference.requester.display_name,
            CONFIRMED_ON_REQUEST: True,  # by its requester, never from the review queue
        },
        created_by_id=ask.asked_by_id,
    )
    session.add(challenge)
    session.flush()
    submission = Submission(
        challenge_id=challenge.id,
        advocate_id=ask.advocate_id,
        account_id=ask.advocate.account_id,
        type="reference_call",
        high_effort=True,
        slot="1",
        evidence={"availability": availability, "notes": notes},
        created_at=now,
    )
    session.add(submission)
    session.flush()
    return challenge, submission


def _staff_of(ask: ReferenceAsk) -> list[User]:
    """The requester and the relationship owner (and whoever asked), each once, reachable."""
    people: dict[int, User] = {}
    for person in (ask.request.requester, ask.owner, ask.asked_by):
        if person is not None and person.active and person.email_unreachable_at is None:
            people.setdefault(person.id, person)
    return list(people.values())


def not_before(days: int | None, today: date | None = None) -> date | None:
    if days is None:
        return None
    if days not in NOT_NOW_DAYS:
        raise DomainError(_("Choose one of the periods offered."), "not_now")
    return (today or utcnow().date()) + timedelta(days=days)


def decline(
    session: Session,
    settings: Settings,
    advocate: User,
    ask_id: int,
    reason: str = "",
    not_now_days: int | None = None,
) -> ReferenceAsk:
    """Say no; "not now" keeps them out of matching for the period they chose."""
    ask = own_ask(session, advocate, ask_id)
    _answerable(ask)
    reason = (reason or "").strip()[:MESSAGE_LIMIT]
    until = not_before(not_now_days)
    now = utcnow()
    declined = _move(
        session,
        ask,
        (AskStatus.ASKED,),
        status=AskStatus.DECLINED,
        responded_at=now,
        closed_at=now,
        decline_reason=reason,
        not_before=until,
    )
    if not declined:
        raise AlreadyHandled(_("You already answered this ask."))
    reference = ask.request
    record_audit(
        session,
        advocate,
        "reference_ask.decline",
        ask,
        f"{advocate.display_name} declined to speak with {reference.prospect_company}",
        request_id=reference.id,
        reason=reason,
        not_before=until.isoformat() if until else None,
    )
    for person in _staff_of(ask):
        if person.id == reference.requester_id and person.id not in (ask.owner_id, ask.asked_by_id):
            continue  # the owner tells sales (the request page shows it too)
        with speaking_as(person):
            queue_email(
                session,
                person.email,
                "reference_ask_declined",
                _(
                    "%(advocate)s declined the reference call with %(prospect)s",
                    advocate=advocate.display_name,
                    prospect=reference.prospect_company,
                ),
                name=person.display_name,
                advocate=advocate.display_name,
                prospect=reference.prospect_company,
                reason=reason,
                not_before=until,
                link=request_link(settings, reference),
                language=person.locale or "en",
            )
    return ask


# --- staff take an ask back ---------------------------------------------------------------


def withdraw_ask(session: Session, actor: User, ask_id: int, reason: str = "") -> ReferenceAsk:
    """Take one ask back (staff): an accepted ask's pending call is withdrawn too."""
    ask = get_ask(session, ask_id)
    if not (actor.is_staff or actor.id == ask.owner_id):
        raise DomainError(_("Only the program's managers may withdraw an ask."))
    if not _withdraw_one(session, actor, ask, (reason or "").strip()):
        raise AlreadyHandled(_moved_message(ask))
    return ask


def withdraw_asks(
    session: Session, actor: User | None, reference: ReferenceRequest, reason: str = ""
) -> list[ReferenceAsk]:
    """Withdraw every ask of a request still proposed, asked or accepted (the request was
    cancelled or filled); advocates whose ask was open are told. Returns those withdrawn."""
    reason = (reason or "").strip()
    asks = session.scalars(
        select(ReferenceAsk)
        .where(ReferenceAsk.request_id == reference.id, ReferenceAsk.status.in_(WITHDRAWABLE))
        .order_by(ReferenceAsk.id)
    )
    return [ask for ask in list(asks) if _withdraw_one(session, actor, ask, reason)]


def withdraw_for_flags(
    session: Session, actor: User | None, account_ids: list[int], reason: str
) -> list[ReferenceAsk]:
    """A relationship just flagged: its asks not yet answered yes (proposed or asked) are
    taken back, since nobody asks its advocates until a manager clears the flag."""
    if not account_ids:
        return []
    asks = session.scalars(
        select(ReferenceAsk)
        .where(
            ReferenceAsk.account_id.in_(account_ids),
            ReferenceAsk.status.in_((AskStatus.PROPOSED, AskStatus.ASKED)),
        )
        .order_by(ReferenceAsk.id)
    )
    return [ask for ask in list(asks) if _withdraw_one(session, actor, ask, reason)]


def _withdraw_one(session: Session, actor: User | None, ask: ReferenceAsk, reason: str) -> bool:
    # the advocate may answer between our read and our update: read again and retry, so an
    # ask accepted a moment ago is still withdrawn (with its call), never left open
    for _attempt in range(3):
        was = ask.status
        if was not in WITHDRAWABLE:
            return False
        now = utcnow()
        if _move(session, ask, (was,), status=AskStatus.WITHDRAWN, closed_at=now):
            break
    else:
        return False
    if was == AskStatus.ACCEPTED and ask.submission_id is not None:
        # gives the place and the cap's count back through the challenges' own code (one
        # already reviewed or withdrawn holds nothing any more)
        with suppress(AlreadyHandled):
            withdraw_submission(session, ask.advocate, ask.submission_id)
    advocate, reference = ask.advocate, ask.request
    record_audit(
        session,
        actor,
        "reference_ask.withdraw",
        ask,
        f"Withdrew the ask of {advocate.display_name} for {reference.prospect_company}",
        request_id=reference.id,
        was=was,
        reason=reason,
    )
    if was in OPEN_ASK and advocate.active and advocate.email_unreachable_at is None:
        with speaking_as(advocate):
            queue_email(
                session,
                advocate.email,
                "reference_ask_withdrawn",
                _(
                    "No longer needed: the reference call with %(prospect)s",
                    prospect=reference.prospect_company,
                ),
                headers={},
                name=advocate.display_name,
                prospect=reference.prospect_company,
                accepted=was == AskStatus.ACCEPTED,
                reason=reason,
                language=advocate.locale or "en",
            )
    return True
