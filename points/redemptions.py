"""Redemptions: requested -> approved -> fulfilled (-> refunded), or -> rejected/cancelled.

A request holds the points and reserves the stock at once; fulfilment spends the hold,
rejection or cancellation gives it back. Every transition is a conditional update on the
current status, recorded with its actor. The gift policy is checked at request, approval
and fulfilment under a row lock on the account, the same lock a policy change takes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from points import services as ledger
from points.models import (
    OPEN,
    GiftOffer,
    OfferStatus,
    Redemption,
    RedemptionEvent,
    RedemptionStatus,
    Reward,
    RewardKind,
)
from points.rewards import GiftNotAllowed, get_reward, gift_refusal, reward_settings, unavailable
from portal.accounts.choosable import why_not_choosable
from portal.accounts.models import Account, GiftPolicy, Role, User
from portal.accounts.services import record_audit, set_declines_gifts
from portal.config import Settings
from portal.db import get_or_refuse, refuse_duplicates, utcnow
from portal.errors import AlreadyHandled, DomainError, NotFound
from portal.i18n import _, _l, ngettext
from portal.ids import parse_row_id
from portal.inputs import CONTROL_MESSAGE, has_control_character
from portal.notifications.models import Topic
from portal.notifications.services import notify
from portal.periods import period_key

S = RedemptionStatus


class AlreadyRequested(AlreadyHandled):
    """This form was already submitted (a double click): one redemption, not two."""


class OutOfStock(DomainError):
    pass


class LimitReached(DomainError):
    pass


def get_redemption(session: Session, redemption_id: int) -> Redemption:
    return get_or_refuse(session, Redemption, redemption_id, _("There is no such redemption."))


def _check_policy(session: Session, advocate: User, reward: Reward, then: str = "") -> str:
    """Refuse a reward the gift policy forbids; return the policy. The account row stays
    locked until we commit, so the policy can't change under us (a policy change takes the
    same lock); the advocate's own word is read fresh with it."""
    policy, declines = session.execute(
        select(Account.gift_policy, User.declines_gifts)
        .join(User, User.account_id == Account.id)
        .where(User.id == advocate.id)
        .with_for_update(of=Account)
    ).one()
    refusal = gift_refusal(advocate, reward.kind, policy, declines)
    if refusal:
        raise GiftNotAllowed(f"{refusal} {then}".strip(), "reward_id")
    return policy


# --- requesting ---------------------------------------------------------------------------


def redeem(
    session: Session,
    settings: Settings,
    advocate: User,
    reward_id: int,
    request_key: str,
    shipping_address: str = "",
    now: datetime | None = None,
    offered: bool = False,
) -> Redemption:
    """Hold the points and reserve the stock at once; small ones are approved at once."""
    now = now or utcnow()
    if advocate.role != Role.ADVOCATE or not advocate.opted_in:
        raise DomainError(_("Only members of the hub can redeem rewards."))
    if not request_key or len(request_key) > 64:
        raise DomainError(_("This form has expired: reload the page and try again."))
    already = AlreadyRequested(_("You already requested this: it is in your redemptions."))
    if session.scalar(select(Redemption.id).where(Redemption.request_key == request_key)):
        raise already  # the unique key below is the backstop when both arrive at once
    reward = get_reward(session, reward_id)
    problem = unavailable(reward, advocate, now)
    if problem:
        raise DomainError(problem, "reward_id")
    policy = _check_policy(session, advocate, reward)
    shipping_address = shipping_address.strip()
    if reward.needs_address and len(shipping_address) < 10:
        raise DomainError(_("Give the full address we should ship to."), "shipping_address")
    cost = 0 if offered else reward.cost
    redemption = Redemption(
        request_key=request_key,
        advocate_id=advocate.id,
        account_id=advocate.account_id,
        reward_id=reward.id,
        cost=cost,
        money_value=reward.money_value,
        currency=reward.currency,
        slot=None if offered else _free_slot(session, advocate, reward, now),
        shipping_address=shipping_address if reward.needs_address else "",
        created_at=now,
        updated_at=now,
    )
    with refuse_duplicates(session, already):
        session.add(redemption)
        session.flush()
    _reserve_stock(session, reward)
    if cost:
        ledger.hold(
            session,
            advocate.id,
            cost,
            f"redemption:{redemption.id}:hold",
            redemption.id,
            reward.name,
        )
    _record(session, redemption, "", S.REQUESTED, advocate, "")
    # a gift a manager offered is judged by its catalog price, like any other
    small = reward.cost < reward_settings(session).auto_approve_below
    if policy != GiftPolicy.NEEDS_APPROVAL and small:
        _move(session, redemption, (S.REQUESTED,), S.APPROVED, None, "under the approval threshold")
    _tell(session, settings, redemption)
    return redemption


def _free_slot(session: Session, advocate: User, reward: Reward, now: datetime) -> str | None:
    """A per-advocate limit slot, held under a unique key like the challenge limits."""
    if reward.limit_count is None:
        return None
    period = period_key(reward.limit_period, now) if reward.limit_period != "ever" else "ever"
    taken = set(
        session.scalars(
            select(Redemption.slot).where(
                Redemption.reward_id == reward.id,
                Redemption.advocate_id == advocate.id,
                Redemption.slot.is_not(None),
            )
        )
    )
    for number in range(1, reward.limit_count + 1):
        slot = f"{period}#{number}"
        if slot not in taken:
            return slot
    per = _LIMIT_PERIODS.get(reward.limit_period) or reward.limit_period
    raise LimitReached(
        ngettext(
            "%(reward)s can be redeemed %(num)s time %(per)s, and you have.",
            "%(reward)s can be redeemed %(num)s times %(per)s, and you have.",
            reward.limit_count,
            reward=reward.name,
            per=per,
        ),
        "reward_id",
    )


_LIMIT_PERIODS = {
    "ever": _l("in all"),
    "week": _l("a week"),
    "month": _l("a month"),
    "quarter": _l("a quarter"),
    "year": _l("a year"),
}


def _reserve_stock(session: Session, reward: Reward) -> None:
    if reward.stock is None:
        return
    reserved = session.execute(
        update(Reward)
        .where(Reward.id == reward.id, Reward.stock >= 1)
        .values(stock=Reward.stock - 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not reserved:
        raise OutOfStock(_("%(reward)s is out of stock.", reward=reward.name), "reward_id")


def _release_stock(session: Session, reward_id: int) -> None:
    session.execute(
        update(Reward)
        .where(Reward.id == reward_id, Reward.stock.is_not(None))
        .values(stock=Reward.stock + 1)
        .execution_options(synchronize_session=False)
    )


# --- transitions --------------------------------------------------------------------------


def _move(
    session: Session,
    redemption: Redemption,
    allowed_from: tuple[str, ...],
    to: RedemptionStatus,
    actor: User | None,
    note: str,
    **values,
) -> None:
    # the status as it is now, under the row lock: a transition that waited for another
    # records where it really started
    before = session.scalar(
        select(Redemption.status).where(Redemption.id == redemption.id).with_for_update()
    )
    if to in (S.REJECTED, S.CANCELLED):
        values["slot"] = None  # the limit slot is free again
    moved = session.execute(
        update(Redemption)
        .where(Redemption.id == redemption.id, Redemption.status.in_(allowed_from))
        .values(status=to, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(redemption)
    if not moved:
        raise AlreadyHandled(
            _("Already handled: this redemption is %(status)s.", status=redemption.status)
        )
    _record(session, redemption, before, to, actor, note)


def _record(session, redemption, before, to, actor, note) -> None:
    session.add(
        RedemptionEvent(
            redemption_id=redemption.id,
            from_status=before,
            to_status=to,
            actor_id=actor.id if actor else None,
            note=note,
        )
    )


def approve_redemption(
    session: Session, settings: Settings, admin: User, redemption_id: int
) -> Redemption:
    redemption = get_redemption(session, redemption_id)
    _check_policy(
        session, redemption.advocate, redemption.reward, _("Convert it to a donation or cancel it.")
    )
    _move(session, redemption, (S.REQUESTED,), S.APPROVED, admin, "")
    _audit(session, admin, redemption, "approve", "Approved")
    _tell(session, settings, redemption)
    return redemption


def reject_redemption(
    session: Session, settings: Settings, admin: User, redemption_id: int, reason: str
) -> Redemption:
    if not reason.strip():
        raise DomainError(_("Say why, so the advocate understands."), "reason")
    redemption = get_redemption(session, redemption_id)
    _move(session, redemption, OPEN, S.REJECTED, admin, reason.strip(), reason=reason.strip())
    _give_back(session, redemption, admin)
    _audit(session, admin, redemption, "reject", "Rejected", reason=reason.strip())
    _tell(session, settings, redemption)
    return redemption


def cancel_redemption(
    session: Session, settings: Settings, actor: User, redemption_id: int, reason: str = ""
) -> Redemption:
    """The advocate cancels their own open request, or an admin cancels any (points back)."""
    redemption = get_redemption(session, redemption_id)
    if actor.role != Role.ADMIN and redemption.advocate_id != actor.id:
        raise NotFound(_("There is no such redemption of yours."))
    note = reason.strip() or ("Cancelled by the advocate" if actor.role != Role.ADMIN else "")
    _move(session, redemption, OPEN, S.CANCELLED, actor, note, reason=note)
    _give_back(session, redemption, actor)
    if actor.role == Role.ADMIN:
        _audit(session, actor, redemption, "cancel", "Cancelled", reason=note)
    _tell(session, settings, redemption)
    return redemption


def _give_back(session: Session, redemption: Redemption, actor: User | None) -> None:
    _release_stock(session, redemption.reward_id)
    if redemption.cost:
        ledger.settle(
            session,
            redemption.advocate_id,
            redemption.cost,
            f"redemption:{redemption.id}:settle",
            redemption.id,
            spend=False,
            actor=actor,
            note=redemption.reward.name,
        )


def fulfil_redemption(
    session: Session, settings: Settings, admin: User, redemption_id: int, reference: str
) -> Redemption:
    """Record what was delivered and spend the held points; never a gift the policy forbids."""
    redemption = get_redemption(session, redemption_id)
    label = redemption.reward.kind_enum.reference_label
    if not reference.strip():
        raise DomainError(_("Enter the %(what)s.", what=label.lower()), "reference")
    _check_policy(
        session, redemption.advocate, redemption.reward, _("Convert it to a donation or cancel it.")
    )
    # the reference (a gift code is as good as cash) stays on the redemption, not in its history
    note = f"{label} recorded"
    _move(
        session,
        redemption,
        (S.APPROVED,),
        S.FULFILLED,
        admin,
        note,
        reference=reference.strip()[:500],
    )
    if redemption.cost:
        ledger.settle(
            session,
            redemption.advocate_id,
            redemption.cost,
            f"redemption:{redemption.id}:settle",
            redemption.id,
            spend=True,
            actor=admin,
            note=redemption.reward.name,
        )
    _audit(session, admin, redemption, "fulfil", "Fulfilled")
    _tell(session, settings, redemption)
    return redemption


def refund_redemption(
    session: Session, settings: Settings, admin: User, redemption_id: int, reason: str
) -> Redemption:
    if not reason.strip():
        raise DomainError(_("Say why the points are being returned."), "reason")
    redemption = get_redemption(session, redemption_id)
    _move(
        session,
        redemption,
        (S.FULFILLED,),
        S.REFUNDED,
        admin,
        reason.strip(),
        reason=reason.strip(),
    )
    if redemption.cost:
        ledger.refund(
            session,
            redemption.advocate_id,
            redemption.cost,
            f"redemption:{redemption.id}:refund",
            redemption.id,
            admin,
            reason.strip(),
        )
    _audit(session, admin, redemption, "refund", "Refunded", reason=reason.strip())
    _tell(session, settings, redemption)
    return redemption


def convert_to_donation(
    session: Session, settings: Settings, admin: User, redemption_id: int, charity_id: int
) -> Redemption:
    """Swap an open gift the policy now forbids for a charity donation of the same points."""
    redemption = get_redemption(session, redemption_id)
    charity = get_reward(session, charity_id)
    if charity.kind != RewardKind.CHARITY or not charity.active:
        raise DomainError(_("Choose an active charity donation."), "charity_id")
    _move(session, redemption, OPEN, S.CANCELLED, admin, f"Converted to {charity.name}")
    _give_back(session, redemption, admin)
    _reserve_stock(session, charity)
    donation = Redemption(
        request_key=f"convert:{redemption.id}",
        advocate_id=redemption.advocate_id,
        account_id=redemption.account_id,
        reward_id=charity.id,
        cost=redemption.cost,
        money_value=charity.money_value,
        currency=charity.currency,
        status=S.APPROVED,
    )
    with refuse_duplicates(session, AlreadyHandled(_("This was already converted."))):
        session.add(donation)
        session.flush()
    if donation.cost:
        ledger.hold(
            session,
            donation.advocate_id,
            donation.cost,
            f"redemption:{donation.id}:hold",
            donation.id,
            charity.name,
        )
    _record(session, donation, "", S.APPROVED, admin, f"Converted from #{redemption.id}")
    _audit(
        session,
        admin,
        donation,
        "convert",
        f"Converted #{redemption.id} ({redemption.reward.name}) to",
    )
    _tell(session, settings, donation)
    return donation


def flag_forbidden(session: Session, account_id: int) -> int:
    """After a policy change: mark the account's open redemptions the new policy forbids
    (and clear marks it now allows). Returns how many are flagged."""
    flagged = 0
    open_ones = session.scalars(
        select(Redemption).where(Redemption.account_id == account_id, Redemption.status.in_(OPEN))
    )
    for redemption in open_ones:
        refusal = gift_refusal(redemption.advocate, redemption.reward.kind)
        redemption.flagged = refusal or ""
        flagged += bool(refusal)
    return flagged


def _audit(session, admin, redemption, verb, summary, **details) -> None:
    record_audit(
        session,
        admin,
        f"redemption.{verb}",
        redemption,
        f"{summary} {redemption.advocate.display_name}'s {redemption.reward.name} "
        f"(#{redemption.id})",
        **details,
    )


# the subject's word for each state (the email's sentences are in its templates)
STATUS_WORDS = {
    S.REQUESTED: _l("requested"),
    S.APPROVED: _l("approved"),
    S.FULFILLED: _l("fulfilled"),
    S.REJECTED: _l("rejected"),
    S.CANCELLED: _l("cancelled"),
    S.REFUNDED: _l("refunded"),
}


def _tell(session: Session, settings: Settings, redemption: Redemption) -> None:
    reward = redemption.reward
    notify(
        session,
        settings,
        redemption.advocate,
        Topic.REWARDS,
        "redemption_update",
        _l(
            "%(reward)s: %(status)s",
            reward=reward.name,
            status=STATUS_WORDS[S(redemption.status)],
        ),
        link=f"{settings.public_url}/hub/redemptions",
        name=redemption.advocate.display_name,
        reward=reward.name,
        status=str(redemption.status),
        reference_label=reward.kind_enum.reference_label,
        reference=redemption.reference if redemption.status == S.FULFILLED else "",
        reason=redemption.reason,
    )


# --- fulfilment in bulk -------------------------------------------------------------------


@dataclass
class ImportLine:
    line: int
    redemption_id: str
    outcome: str
    done: bool = False


def import_fulfilments(
    session: Session, settings: Settings, admin: User, text: str
) -> list[ImportLine]:
    """Fulfil from a CSV of `redemption_id,reference`; each line commits on its own."""
    results = []
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        return [ImportLine(0, "", f"That is not a CSV file we can read: {error}.")]
    for number, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip():
            continue
        if number == 1 and row[0].strip().lower() in ("redemption_id", "id"):
            continue  # a header
        raw_id = row[0].strip().lstrip("#")
        reference = row[1].strip() if len(row) > 1 else ""
        if any(has_control_character(cell) for cell in row):
            results.append(ImportLine(number, raw_id[:20], CONTROL_MESSAGE))
            continue
        if parse_row_id(raw_id) is None:
            results.append(ImportLine(number, raw_id, "not a redemption number"))
            continue
        try:
            fulfil_redemption(session, settings, admin, int(raw_id), reference)
        except DomainError as error:
            session.rollback()
            results.append(ImportLine(number, raw_id, error.message))
        else:
            session.commit()
            results.append(ImportLine(number, raw_id, "fulfilled", done=True))
    return results


# --- asking before giving -----------------------------------------------------------------


def offer_gift(
    session: Session,
    settings: Settings,
    manager: User,
    advocate_id: int,
    reward_id: int,
    message: str,
) -> GiftOffer:
    """Offer a thank-you gift; nothing is sent unless the advocate accepts."""
    advocate = session.get(User, advocate_id)
    if advocate is None or advocate.role != Role.ADVOCATE:
        raise NotFound(_("There is no such advocate."), "advocate_id")
    if problem := why_not_choosable(advocate):  # never joined, left, or deactivated
        raise DomainError(problem, "advocate_id")
    reward = get_reward(session, reward_id)
    refusal = gift_refusal(advocate, reward.kind) or unavailable(reward, advocate, utcnow())
    if refusal:
        raise GiftNotAllowed(_("%(refusal)s Offer something else.", refusal=refusal), "reward_id")
    offer = GiftOffer(
        advocate_id=advocate.id,
        reward_id=reward.id,
        offered_by_id=manager.id,
        message=message.strip(),
    )
    pending = AlreadyHandled(
        f"{advocate.display_name} already has this offer waiting for an answer.", "reward_id"
    )
    with refuse_duplicates(session, pending):
        session.add(offer)
        session.flush()
    record_audit(
        session, manager, "offer.create", advocate, f"Offered {advocate.display_name} {reward.name}"
    )
    notify(
        session,
        settings,
        advocate,
        Topic.THANKS,
        "gift_offer",
        _l("A thank-you from %(sender)s", sender=manager.display_name),
        link=f"{settings.public_url}/hub/offers/{offer.id}",
        name=advocate.display_name,
        sender=manager.display_name,
        reward=reward.name,
        message=offer.message,
    )
    return offer


def own_offer(session: Session, advocate: User, offer_id: int) -> GiftOffer:
    offer = session.get(GiftOffer, offer_id)
    if offer is None or offer.advocate_id != advocate.id:
        raise NotFound(_("There is no such offer for you."))
    return offer


def _decide(session: Session, offer: GiftOffer, to: OfferStatus, **values) -> None:
    decided = session.execute(
        update(GiftOffer)
        .where(GiftOffer.id == offer.id, GiftOffer.status == OfferStatus.OFFERED)
        .values(status=to, decided_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(offer)
    if not decided:
        raise AlreadyHandled(
            _("You accepted this offer already.")
            if offer.status == OfferStatus.ACCEPTED
            else _("You declined this offer already.")
        )


def accept_offer(
    session: Session, settings: Settings, advocate: User, offer_id: int, shipping_address: str
) -> GiftOffer:
    offer = own_offer(session, advocate, offer_id)
    redemption = redeem(
        session,
        settings,
        advocate,
        offer.reward_id,
        f"offer:{offer.id}",
        shipping_address,
        offered=True,
    )
    _decide(session, offer, OfferStatus.ACCEPTED, redemption_id=redemption.id)
    return offer


def decline_offer(
    session: Session, advocate: User, offer_id: int, employer_forbids: bool, note: str = ""
) -> GiftOffer:
    """Decline; "my employer does not allow gifts" also records it for the admins."""
    offer = own_offer(session, advocate, offer_id)
    _decide(session, offer, OfferStatus.DECLINED)
    if employer_forbids and not advocate.declines_gifts:
        set_declines_gifts(session, advocate, True, note or "Said so when declining a gift offer")
        flag_forbidden(session, advocate.account_id)
    return offer
