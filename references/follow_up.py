"""After the yes: the requester introduces advocate and prospect, confirms the call took place
(the reference-call submission approved through the reviewers' own service, a milestone on the
account), records the deal's outcome; weekly reminders of open requests; time to coordinate per
relationship owner; the sales users' internal points board.

Every change is a conditional UPDATE on the current state, so a lost race is an AlreadyHandled
refusal, never a second approval or a second credit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Interval, and_, case, cast, extract, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.types import DateTime

from challenges.digests import digest_week
from challenges.models import Submission, SubmissionStatus
from challenges.services import AlreadyReviewed, approve
from points.program import program_zone, zone
from portal.accounts.models import Role, User
from portal.accounts.services import record_audit
from portal.config import Settings
from portal.db import refuse_duplicates, utcnow
from portal.errors import AlreadyHandled, DomainError, NotFound
from portal.i18n import _, day, speaking_as
from portal.mail.services import queue_email
from portal.pagination import Page, PageRequest, paginate
from references.models import (
    AccountMilestone,
    AskStatus,
    Outcome,
    ReferenceAsk,
    ReferenceReminder,
    ReferenceRequest,
    RequestStatus,
    SalesAction,
    SalesCredit,
)
from references.services import credit_sales

PROMPT_DAYS = 7  # a call confirmed within a week of taking place earns the requester points
MAX_AMOUNT = 10**12  # whole dollars, as deal sizes
REMIND_AFTER = timedelta(days=3)  # a request filed this week is not reminded at once
BOARD_PERIODS = ("all", "month", "quarter")
MILESTONES_SHOWN = 20
RECENT_CREDITS = 10


class NotYours(NotFound):
    pass


# --- who may follow up ----------------------------------------------------------------------


def _request_for(session: Session, actor: User, reference_id: int, lock: bool = False):
    """The request, when the actor is its requester or a manager/admin (else: not found).
    `lock` takes its row lock: confirmations of one request are counted one at a time."""
    statement = select(ReferenceRequest).where(ReferenceRequest.id == reference_id)
    if lock:
        statement = statement.with_for_update()
    reference = session.scalar(statement)
    if reference is None or not may_follow_up(actor, reference):
        raise NotYours(_("There is no such reference request."))
    return reference


def may_follow_up(actor: User, reference: ReferenceRequest) -> bool:
    return actor.is_staff or actor.id == reference.requester_id


def _ask_for(session: Session, actor: User, ask_id: int) -> ReferenceAsk:
    ask = session.get(ReferenceAsk, ask_id)
    if ask is None or not may_follow_up(actor, ask.request):
        raise NotYours(_("There is no such reference ask."))
    return ask


def _today(session: Session, actor: User) -> date:
    """Today where the actor is (their zone, else the program's): a call 'today' in Sydney
    is not refused as tomorrow's by a program kept in New York."""
    name = actor.time_zone or program_zone(session)
    return utcnow().astimezone(zone(name)).date()


def _day_in(session: Session, actor: User, when: datetime) -> date:
    return when.astimezone(zone(actor.time_zone or program_zone(session))).date()


def call_moment(call_on: date, said_yes_at: datetime, confirmed_at: datetime) -> datetime:
    """When a call took place, for time to coordinate: the requester names a day, not an
    hour, so its noon (UTC), never before the advocate's yes nor after the confirmation."""
    noon = datetime.combine(call_on, time(12), UTC)
    return min(max(noon, said_yes_at), confirmed_at)


# --- introductions, confirmed calls, calls that did not happen --------------------------------


def mark_introduced(session: Session, actor: User, ask_id: int) -> ReferenceAsk:
    """The requester introduced the advocate and the prospect (once, on an accepted ask)."""
    ask = _ask_for(session, actor, ask_id)
    now = utcnow()
    moved = session.execute(
        update(ReferenceAsk)
        .where(
            ReferenceAsk.id == ask.id,
            ReferenceAsk.status == AskStatus.ACCEPTED,
            ReferenceAsk.introduced_at.is_(None),
        )
        .values(introduced_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(ask)
    if not moved:
        if ask.introduced_at is not None:
            raise AlreadyHandled(
                _(
                    "%(advocate)s was already introduced on %(when)s.",
                    advocate=ask.advocate.display_name,
                    when=day(ask.introduced_at),
                )
            )
        raise DomainError(_("Only an accepted ask's advocate can be introduced."))
    record_audit(
        session,
        actor,
        "reference_ask.introduce",
        ask,
        f"Introduced {ask.advocate.display_name} to {ask.request.prospect_company}",
        request_id=ask.request_id,
    )
    return ask


def confirm_call(
    session: Session, settings: Settings, actor: User, ask_id: int, call_on: date | None
) -> ReferenceAsk:
    """The call took place on `call_on`: the ask is confirmed (once), its reference-call
    submission approved through the reviewers' own service (points once, or a thank-you owed
    in a rewarded program; the advocate told), a milestone recorded on the account, and the
    request confirmed once it has the references it needed."""
    ask = _ask_for(session, actor, ask_id)
    reference = _request_for(session, actor, ask.request_id, lock=True)
    if call_on is None:
        raise DomainError(_("Say when the call took place."), "call_on")
    if call_on > _today(session, actor):
        raise DomainError(
            _("That day has not come yet: confirm the call once it happened."), "call_on"
        )
    filed_on = _day_in(session, actor, reference.created_at)
    if call_on < filed_on:
        raise DomainError(
            _("The request was filed on %(day)s: the call cannot be before it.", day=day(filed_on)),
            "call_on",
        )
    now = utcnow()
    moved = session.execute(
        update(ReferenceAsk)
        .where(ReferenceAsk.id == ask.id, ReferenceAsk.status == AskStatus.ACCEPTED)
        .values(
            status=AskStatus.CONFIRMED,
            confirmed_at=now,
            confirmed_by_id=actor.id,
            call_on=call_on,
            closed_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(ask)
    if not moved:
        raise _not_confirmable(ask)
    _approve_call(session, settings, actor, ask)
    _record_milestone(session, ask, reference, call_on)
    moment = call_moment(call_on, ask.responded_at or reference.created_at, now)
    session.execute(
        update(ReferenceRequest)
        .where(
            ReferenceRequest.id == reference.id,
            or_(ReferenceRequest.first_call_at.is_(None), ReferenceRequest.first_call_at > moment),
        )
        .values(first_call_at=moment)
        .execution_options(synchronize_session=False)
    )
    filled = _confirm_request_when_filled(session, reference, now)
    if (
        actor.id == reference.requester_id
        and actor.is_sales
        and (_today(session, actor) - call_on).days <= PROMPT_DAYS
    ):
        credit_sales(
            session, actor.id, SalesAction.PROMPT_CONFIRMATION, reference.id, ask_id=ask.id
        )
    record_audit(
        session,
        actor,
        "reference_ask.confirm",
        ask,
        f"Confirmed {ask.advocate.display_name}'s reference call for "
        f"{reference.prospect_company} on {call_on.isoformat()}",
        request_id=reference.id,
        call_on=call_on.isoformat(),
    )
    session.refresh(reference)
    if filled:
        _withdraw_the_rest(session, actor, reference)
    return ask


def _not_confirmable(ask: ReferenceAsk) -> DomainError:
    if ask.status == AskStatus.CONFIRMED:
        who = ask.confirmed_by.display_name if ask.confirmed_by else _("someone")
        return AlreadyHandled(
            _(
                "Already confirmed: %(name)s confirmed this call (on %(day)s).",
                name=who,
                day=day(ask.call_on),
            )
        )
    if ask.status in (AskStatus.WITHDRAWN, AskStatus.DECLINED):
        return AlreadyHandled(_("This ask is closed: there is no call to confirm."))
    return DomainError(_("Only an accepted ask's call can be confirmed."))


def _approve_call(session: Session, settings: Settings, actor: User, ask: ReferenceAsk) -> None:
    """The reference-call submission approved as a reviewer would: one award (the ledger's
    key), the thank-you owed, the advocate told."""
    if ask.submission_id is None:
        return
    submission = session.get(Submission, ask.submission_id)
    if submission is None or submission.status != SubmissionStatus.PENDING:
        return
    try:
        approve(session, settings, actor, submission.id, on_request=True)
    except AlreadyReviewed:  # a reviewer decided it a moment ago: nothing was changed here
        return


def _record_milestone(
    session: Session, ask: ReferenceAsk, reference: ReferenceRequest, call_on: date
) -> None:
    milestone = AccountMilestone(
        account_id=ask.account_id,
        kind="reference",
        title=milestone_title(reference)[:300],
        happened_on=call_on,
        advocate_id=ask.advocate_id,
        request_id=reference.id,
        ask_id=ask.id,
    )
    with refuse_duplicates(session, AlreadyHandled(_("This call is already on the account."))):
        session.add(milestone)
        session.flush()


def milestone_title(reference: ReferenceRequest) -> str:
    """Stored as written (kept if the request goes); pages translate it from the request."""
    if reference.prospect_company.casefold() in reference.opportunity_name.casefold():
        return f"Reference call for {reference.opportunity_name}"  # the prospect said once
    return f"Reference call for {reference.prospect_company} ({reference.opportunity_name})"


def _confirm_request_when_filled(
    session: Session, reference: ReferenceRequest, now: datetime
) -> bool:
    """open -> confirmed once its confirmed asks reach the references it needed (the request's
    row lock, taken first, makes two confirmations count one after the other)."""
    confirmed = session.scalar(
        select(func.count())
        .select_from(ReferenceAsk)
        .where(ReferenceAsk.request_id == reference.id, ReferenceAsk.status == AskStatus.CONFIRMED)
    )
    if confirmed < reference.references_needed:
        return False
    return bool(
        session.execute(
            update(ReferenceRequest)
            .where(
                ReferenceRequest.id == reference.id, ReferenceRequest.status == RequestStatus.OPEN
            )
            .values(status=RequestStatus.CONFIRMED, confirmed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _withdraw_the_rest(session: Session, actor: User, reference: ReferenceRequest) -> None:
    """A filled request needs no more calls: its other open asks are taken back."""
    if not any(a.status in (AskStatus.PROPOSED, *_OPEN) for a in reference.asks):
        return
    from references.asks import withdraw_asks  # the asks' own withdrawal (and its emails)

    withdraw_asks(session, actor, reference, _("The request has the references it needed."))


_OPEN = (AskStatus.ASKED, AskStatus.ACCEPTED)


def call_fell_through(session: Session, actor: User, ask_id: int, reason: str) -> ReferenceAsk:
    """The call did not happen: the ask is withdrawn (its submission with it), so a manager
    can pick another candidate."""
    ask = _ask_for(session, actor, ask_id)
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError(
            _("Say what happened, so the manager can pick another candidate."), "reason"
        )
    if ask.status != AskStatus.ACCEPTED:
        if ask.status in (AskStatus.CONFIRMED, AskStatus.WITHDRAWN, AskStatus.DECLINED):
            raise AlreadyHandled(_("This ask is already closed."))
        raise DomainError(_("Only an accepted ask's call can fall through."))
    # the asks' own withdrawal (the submission's place given back, the advocate told); its
    # public withdraw_ask is for staff, and here the requester may say it too
    from references.asks import _withdraw_one

    if not _withdraw_one(session, actor, ask, reason):
        raise AlreadyHandled(_("This ask is already closed."))
    record_audit(
        session,
        actor,
        "reference_ask.fell_through",
        ask,
        f"The call with {ask.advocate.display_name} for {ask.request.prospect_company} "
        "did not happen",
        request_id=ask.request_id,
        reason=reason,
    )
    session.refresh(ask)
    return ask


# --- the deal's outcome ----------------------------------------------------------------------


def record_outcome(
    session: Session,
    actor: User,
    reference_id: int,
    outcome: Outcome | str | None,
    amount: int | None,
    closed_on: date | None,
) -> ReferenceRequest:
    """Won (with its amount) or lost, and when: once, after at least one confirmed call."""
    reference = _request_for(session, actor, reference_id)
    if outcome not in (Outcome.WON, Outcome.LOST):
        raise DomainError(_("Say whether the deal was won or lost."), "outcome")
    outcome = Outcome(outcome)
    if outcome == Outcome.WON and not amount:
        raise DomainError(_("Enter the amount the deal was won for."), "amount")
    if amount is not None and not 0 <= amount <= MAX_AMOUNT:
        raise DomainError(_("Enter an amount between 0 and 1,000,000,000,000."), "amount")
    if closed_on is None:
        raise DomainError(_("Say when the deal closed."), "closed_on")
    if closed_on > _today(session, actor):
        raise DomainError(_("That day has not come yet."), "closed_on")
    filed_on = _day_in(session, actor, reference.created_at)
    if closed_on < filed_on:
        raise DomainError(
            _(
                "The deal closed after the request was filed (%(day)s): check the date.",
                day=day(filed_on),
            ),
            "closed_on",
        )
    confirmed = session.scalar(
        select(func.count())
        .select_from(ReferenceAsk)
        .where(ReferenceAsk.request_id == reference.id, ReferenceAsk.status == AskStatus.CONFIRMED)
    )
    if not confirmed:
        raise DomainError(_("Record the outcome once a reference call has been confirmed."))
    now = utcnow()
    moved = session.execute(
        update(ReferenceRequest)
        .where(ReferenceRequest.id == reference.id, ReferenceRequest.outcome.is_(None))
        .values(
            outcome=outcome,
            outcome_amount=amount,
            outcome_closed_on=closed_on,
            outcome_recorded_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(reference)
    if not moved:
        raise AlreadyHandled(
            _(
                "The outcome was already recorded on %(day)s.",
                day=day(reference.outcome_recorded_at),
            )
        )
    if actor.id == reference.requester_id and actor.is_sales:
        credit_sales(session, actor.id, SalesAction.OUTCOME, reference.id)
    record_audit(
        session,
        actor,
        "reference_request.outcome",
        reference,
        f"Recorded the {reference.opportunity_name} deal as {outcome.value}",
        outcome=outcome.value,
        amount=amount,
        closed_on=closed_on.isoformat(),
    )
    return reference


# --- weekly reminders -------------------------------------------------------------------------


A_WEEK = timedelta(days=7)


def send_reminders(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """One email a week, never two within 7 days, to the requester of each open request filed
    a few days ago: "did the reference call happen?" with its accepted asks (or where it
    stands). The week's reference_reminders row is inserted first: a second run that week, or
    one running at the same moment, sends nothing (UNIQUE request, week). The caller commits.
    Returns the count."""
    now = now or utcnow()
    week = digest_week(now, program_zone(session))
    # this week's already went, or one went less than a week ago (late last week)
    already = (
        select(ReferenceReminder.id)
        .where(
            ReferenceReminder.request_id == ReferenceRequest.id,
            (ReferenceReminder.week == week) | (ReferenceReminder.created_at > now - A_WEEK),
        )
        .exists()
    )
    open_requests = session.scalars(
        select(ReferenceRequest)
        .join(ReferenceRequest.requester)
        .where(
            ReferenceRequest.status == RequestStatus.OPEN,
            ReferenceRequest.created_at <= now - REMIND_AFTER,
            User.active,
            User.role.in_((Role.SALES, Role.MANAGER, Role.ADMIN)),
            User.email_unreachable_at.is_(None),
            ~already,
        )
        .options(
            joinedload(ReferenceRequest.requester),
            selectinload(ReferenceRequest.asks).joinedload(ReferenceAsk.advocate),
        )
        .order_by(ReferenceRequest.id)
    ).all()
    sent = 0
    for reference in open_requests:
        if not _record_reminder(session, reference.id, week, now):
            continue  # another run has this week's
        _email_reminder(session, settings, reference)
        sent += 1
    return sent


def _record_reminder(session: Session, request_id: int, week: str, now: datetime) -> bool:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    recorded = session.execute(
        insert(ReferenceReminder)
        .values(request_id=request_id, week=week, created_at=now)
        .on_conflict_do_nothing(index_elements=["request_id", "week"])
        .returning(ReferenceReminder.id)
    ).scalar()
    return recorded is not None


def _email_reminder(session: Session, settings: Settings, reference: ReferenceRequest) -> None:
    requester = reference.requester
    accepted = [a for a in reference.asks if a.status == AskStatus.ACCEPTED]
    with speaking_as(requester):
        if accepted:
            subject = _(
                "Did the reference call happen? %(opportunity)s",
                opportunity=reference.opportunity_name,
            )
        else:
            subject = _(
                "Your reference request for %(opportunity)s: where it stands",
                opportunity=reference.opportunity_name,
            )
        queue_email(
            session,
            requester.email,
            "reference_reminder",
            subject,
            name=requester.name or requester.email,
            opportunity=reference.opportunity_name,
            prospect=reference.prospect_company,
            needed_by=reference.needed_by,
            accepted=[
                {
                    "advocate": a.advocate.display_name,
                    "accepted_on": a.responded_at,
                    "introduced": a.introduced_at is not None,
                }
                for a in accepted
            ],
            confirmed=sum(a.status == AskStatus.CONFIRMED for a in reference.asks),
            needed=reference.references_needed,
            link=f"{settings.public_url}/references/{reference.id}#follow-up",
            language=requester.locale or "en",
        )


# --- time to coordinate ---------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerTiming:
    owner_id: int
    owner_name: str
    requests: int  # requests with an ask this owner made (or was to make)
    accepted: int  # their asks the advocate said yes to
    confirmed: int  # their asks whose call took place
    accept_median: float | None  # hours from the request to the yes
    accept_mean: float | None
    call_median: float | None  # hours from the request to the call
    call_mean: float | None


def _hours(session: Session, later, earlier):
    """Hours between two moments (or a moment and a day's noon), in SQL on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _call_noon(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        midnight = func.timezone("UTC", cast(ReferenceAsk.call_on, DateTime()))
        return midnight + literal(timedelta(hours=12), Interval())
    return func.datetime(ReferenceAsk.call_on, "+12 hours")


def _clamped(session: Session, value, low, high):
    greatest, least = (
        (func.greatest, func.least)
        if session.get_bind().dialect.name == "postgresql"
        else (func.max, func.min)
    )
    return greatest(least(value, high), low)


def _median_and_mean(session: Session, hours, where) -> dict[int, tuple[float, float]]:
    """Per owner: the median (the middle one, or the mean of the middle two, by window
    functions both databases know) and the mean of `hours` over the asks `where` picks."""
    rows = (
        select(
            ReferenceAsk.owner_id.label("owner_id"),
            hours.label("hours"),
            func.row_number().over(partition_by=ReferenceAsk.owner_id, order_by=hours).label("rn"),
            func.count().over(partition_by=ReferenceAsk.owner_id).label("n"),
        )
        .join(ReferenceRequest, ReferenceRequest.id == ReferenceAsk.request_id)
        .where(ReferenceAsk.owner_id.is_not(None), *where)
        .subquery()
    )
    middle = or_(rows.c.rn == (rows.c.n + 1) // 2, rows.c.rn == (rows.c.n + 2) // 2)
    medians = (
        select(rows.c.owner_id, func.avg(rows.c.hours)).where(middle).group_by(rows.c.owner_id)
    )
    means = select(rows.c.owner_id, func.avg(rows.c.hours)).group_by(rows.c.owner_id)
    mean_of = dict(session.execute(means).all())
    return {
        owner: (float(median), float(mean_of[owner])) for owner, median in session.execute(medians)
    }


def coordination_by_owner(session: Session) -> list[OwnerTiming]:
    """Time to coordinate per relationship owner, from their asks: how many requests and
    yeses, and the median and mean hours from the request to the yes and to the call."""
    said_yes = and_(
        ReferenceAsk.responded_at.is_not(None), ReferenceAsk.status != AskStatus.DECLINED
    )
    counts = session.execute(
        select(
            ReferenceAsk.owner_id,
            func.count(func.distinct(ReferenceAsk.request_id)),
            func.count(case((said_yes, 1))),
            func.count(case((ReferenceAsk.status == AskStatus.CONFIRMED, 1))),
        )
        .where(ReferenceAsk.owner_id.is_not(None))
        .group_by(ReferenceAsk.owner_id)
    ).all()
    if not counts:
        return []
    to_yes = _median_and_mean(
        session, _hours(session, ReferenceAsk.responded_at, ReferenceRequest.created_at), [said_yes]
    )
    to_call = _median_and_mean(
        session,
        _clamped(
            session,
            _hours(session, _call_noon(session), ReferenceRequest.created_at),
            _hours(session, ReferenceAsk.responded_at, ReferenceRequest.created_at),  # the yes
            _hours(session, ReferenceAsk.confirmed_at, ReferenceRequest.created_at),
        ),
        [ReferenceAsk.status == AskStatus.CONFIRMED, ReferenceAsk.call_on.is_not(None)],
    )
    names = {
        user.id: user.display_name
        for user in session.scalars(select(User).where(User.id.in_([row[0] for row in counts])))
    }
    timings = [
        OwnerTiming(
            owner_id=owner,
            owner_name=names.get(owner, ""),
            requests=requests,
            accepted=accepted,
            confirmed=confirmed,
            accept_median=to_yes.get(owner, (None, None))[0],
            accept_mean=to_yes.get(owner, (None, None))[1],
            call_median=to_call.get(owner, (None, None))[0],
            call_mean=to_call.get(owner, (None, None))[1],
        )
        for owner, requests, accepted, confirmed in counts
    ]
    return sorted(timings, key=lambda t: (t.owner_name.lower(), t.owner_id))


def requests_timing_page(session: Session, wanted: PageRequest, per_page: int = 25) -> Page:
    """Every request, newest first, with what its time-to-coordinate columns say (a page)."""
    statement = (
        select(ReferenceRequest)
        .options(joinedload(ReferenceRequest.requester))
        .order_by(ReferenceRequest.created_at.desc(), ReferenceRequest.id.desc())
    )
    return paginate(session, statement, wanted, per_page=per_page)


def hours_between(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else (later - earlier).total_seconds() / 3600


# --- the sales users' board ---------------------------------------------------------------------


@dataclass(frozen=True)
class SalesStanding:
    user_id: int
    name: str
    points: int
    credits: int


def _period_start(session: Session, period: str, now: datetime) -> datetime | None:
    """When this month or quarter began on the program's calendar (UTC), or None: all time."""
    if period == "all":
        return None
    local = now.astimezone(zone(program_zone(session)))
    month = local.month if period == "month" else (local.month - 1) // 3 * 3 + 1
    return datetime(local.year, month, 1, tzinfo=local.tzinfo).astimezone(UTC)


def _credits_in(session: Session, period: str, now: datetime):
    start = _period_start(session, period, now)
    return [SalesCredit.created_at >= start] if start is not None else []


def sales_board(
    session: Session, period: str, wanted: PageRequest, now: datetime | None = None
) -> Page:
    """Sales users by internal points earned in the period (all, month, quarter), most
    first: summed in SQL, a page at a time. Recognition only: never redeemable."""
    if period not in BOARD_PERIODS:
        period = "all"
    now = now or utcnow()
    total = func.sum(SalesCredit.points).label("points")
    statement = (
        select(User.id, User.name, User.email, total, func.count(SalesCredit.id).label("credits"))
        .join(SalesCredit, SalesCredit.user_id == User.id)
        .where(User.role == Role.SALES, *_credits_in(session, period, now))
        .group_by(User.id, User.name, User.email)
        .order_by(total.desc(), User.id)
    )
    page = paginate(session, statement, wanted)
    standings = [
        SalesStanding(row.id, row.name or row.email, int(row.points), row.credits)
        for row in page.items
    ]
    return replace(page, items=standings)


@dataclass(frozen=True)
class OwnCredit:
    credit: SalesCredit
    opportunity: str  # the request it was earned on ("" when that request is gone)


@dataclass(frozen=True)
class OwnCredits:
    points: int
    recent: list[OwnCredit]


def own_credits(
    session: Session, user: User, period: str = "all", now: datetime | None = None
) -> OwnCredits:
    """A sales user's total in the period and their latest credits."""
    now = now or utcnow()
    where = [SalesCredit.user_id == user.id, *_credits_in(session, period, now)]
    points = session.scalar(select(func.coalesce(func.sum(SalesCredit.points), 0)).where(*where))
    recent = session.execute(
        select(SalesCredit, ReferenceRequest.opportunity_name)
        .outerjoin(ReferenceRequest, ReferenceRequest.id == SalesCredit.request_id)
        .where(SalesCredit.user_id == user.id)
        .order_by(SalesCredit.created_at.desc(), SalesCredit.id.desc())
        .limit(RECENT_CREDITS)
    ).all()
    return OwnCredits(int(points), [OwnCredit(credit, name or "") for credit, name in recent])


# --- an account's milestones ----------------------------------------------------------------


MILESTONES_ARG = "milestones_page"  # its own page argument: the account pages list people too


def milestones_page(
    session: Session, account_id: int, number: int = 1, per_page: int = MILESTONES_SHOWN
) -> Page:
    """The account's milestones, latest first, with who and for which request; the page's
    links say ?milestones_page=N."""
    statement = (
        select(AccountMilestone)
        .where(AccountMilestone.account_id == account_id)
        .options(joinedload(AccountMilestone.advocate), joinedload(AccountMilestone.request))
        .order_by(AccountMilestone.happened_on.desc(), AccountMilestone.id.desc())
    )
    page = paginate(session, statement, PageRequest(number=number), per_page=per_page)
    return replace(
        page,
        next_args={MILESTONES_ARG: number + 1} if page.next_args else None,
        prev_args={MILESTONES_ARG: number - 1} if page.prev_args else None,
    )


def milestones_page_number(args) -> int:
    """The milestones' page a URL asks for (a query-string mapping), 1 when none or junk."""
    return PageRequest.from_args({"page": args.get(MILESTONES_ARG) or ""}).number
