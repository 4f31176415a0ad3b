"""Reference requests: filing one within the program's boundaries (or a manager's exception
to them), cancelling one, the boundaries themselves, and what each person sees of them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from points.program import program_zone, zone
from portal.accounts.models import Account, JobLevel, Role, User
from portal.accounts.services import record_audit
from portal.config import Settings
from portal.db import utcnow
from portal.errors import AlreadyHandled, DomainError, NotFound
from portal.i18n import _, ngettext, number, speaking_as, whole_money
from portal.mail.services import queue_email
from portal.pagination import Page, PageRequest, paginate_by_key
from references.asks import withdraw_asks
from references.models import (
    AskStatus,
    ConversationLevel,
    DealStage,
    ReferenceAsk,
    ReferenceRequest,
    ReferenceSettings,
    RequestStatus,
    SalesAction,
)
from references.services import credit_sales, reference_settings, revoke_sales_credit

MAX_DEAL_SIZE = 10**12  # whole dollars: beyond any deal, within BIGINT
MAX_CALL_POINTS = 100_000
MAX_REFERENCES = 10
CURRENCY = "USD"  # deal sizes are kept in whole dollars
# the longest each text may be: the columns' own sizes
TEXT_LIMITS = {
    "opportunity_name": 200,
    "crm_id": 60,
    "prospect_company": 200,
    "prospect_industry": 100,
    "prospect_contact": 200,
    "talking_points": 5000,
    "desired_industry": 100,
    "desired_segment": 50,
    "desired_region": 50,
    "desired_product_use": 200,
    "customers_in_mind": 5000,
}
DESIRED_TRAITS = (
    "desired_industry",
    "desired_segment",
    "desired_region",
    "desired_job_level",
    "desired_product_use",
)


@dataclass
class RequestFields:
    """Everything a sales user says about the opportunity and the reference it needs."""

    opportunity_name: str
    prospect_company: str
    deal_stage: str
    deal_size: int
    needed_by: date
    conversation_level: str
    crm_id: str = ""
    prospect_industry: str = ""
    references_needed: int = 1
    prospect_contact: str = ""  # who at the prospect will speak
    talking_points: str = ""
    desired_industry: str = ""
    desired_segment: str = ""
    desired_region: str = ""
    desired_job_level: str | None = None
    desired_product_use: str = ""
    customers_in_mind: str = ""

    @property
    def is_complete(self) -> bool:
        """What the program needs to find the right reference fast: the CRM id, who will
        speak, what about, and at least one trait wanted in the reference."""
        return bool(
            self.crm_id.strip()
            and self.prospect_contact.strip()
            and self.talking_points.strip()
            and any((getattr(self, trait) or "").strip() for trait in DESIRED_TRAITS)
        )


class OutsideBoundaries(DomainError):
    """The request breaks one or more of the program's rules: each message names its rule
    and is meant to sit beside its field (`problems`: field -> message)."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()), field=next(iter(problems)))
        self.problems = problems


def _known(value: str | None, enum: type[StrEnum]) -> bool:
    return value in {member.value for member in enum}


# --- the boundaries ---------------------------------------------------------------------


def deal_money(dollars: int) -> str:
    """A deal size (whole dollars) in the reader's conventions."""
    return whole_money(dollars, CURRENCY)


def boundary_problems(settings: ReferenceSettings, stage: str, deal_size: int) -> list[str]:
    """Each of the program's rules this deal breaks, as a sentence that shows the rule."""
    return list(_broken_rules(settings, stage, deal_size).values())


def _broken_rules(settings: ReferenceSettings, stage: str, deal_size: int) -> dict[str, str]:
    broken = {}
    earliest = DealStage(settings.earliest_stage)
    if _known(stage, DealStage) and DealStage(stage).rank < earliest.rank:
        broken["deal_stage"] = _(
            "The program takes reference requests from the %(earliest)s stage on; "
            "this deal is at %(stage)s.",
            earliest=earliest.label,
            stage=DealStage(stage).label,
        )
    if deal_size < settings.min_deal_size:
        broken["deal_size"] = _(
            "Reference requests start at deals of %(minimum)s; this one is %(size)s.",
            minimum=deal_money(settings.min_deal_size),
            size=deal_money(deal_size),
        )
    return broken


def boundaries_text(settings: ReferenceSettings) -> str:
    """The program's rules in one sentence, for the request form."""
    return _(
        "Requests are taken from the %(stage)s stage on, for deals of %(minimum)s or more.",
        stage=DealStage(settings.earliest_stage).label,
        minimum=deal_money(settings.min_deal_size),
    )


# --- filing -----------------------------------------------------------------------------


def file_request(
    session: Session,
    actor: User,
    fields: RequestFields,
    override_reason: str = "",
    requester_id: int | None = None,
    *,
    config: Settings | None = None,
) -> ReferenceRequest:
    """File a reference request. A sales user files for themselves, within the program's
    boundaries; a manager or admin files for themselves or for an active sales user, and may
    let a request outside the boundaries through by saying why (recorded and audited).
    Managers are told of the new request by email (`config` gives the link's site)."""
    requester = _requester(session, actor, requester_id)
    _check_fields(session, fields)
    broken = _broken_rules(reference_settings(session), fields.deal_stage, fields.deal_size)
    reason = (override_reason or "").strip()
    if broken and not actor.is_staff:
        exception = _("A program manager can make an exception.")
        raise OutsideBoundaries({name: f"{rule} {exception}" for name, rule in broken.items()})
    if broken and not reason:
        how = _("To let it through, say why under “Exception to the boundaries”.")
        raise OutsideBoundaries(
            {
                **{name: f"{rule} {how}" for name, rule in broken.items()},
                "override_reason": _(
                    "Say why this request may go outside the program's boundaries."
                ),
            }
        )
    if len(reason) > 2000:
        raise DomainError(_("Keep the reason under 2,000 characters."), "override_reason")
    request = ReferenceRequest(requester_id=requester.id, **_cleaned(fields))
    if broken:
        request.override_reason, request.overridden_by_id = reason, actor.id
    session.add(request)
    session.flush()
    on_behalf = f" for {requester.email}" if requester.id != actor.id else ""
    record_audit(
        session,
        actor,
        "reference_request.file",
        request,
        f"Filed reference request #{request.id}{on_behalf}: {request.opportunity_name} "
        f"({request.prospect_company}, {request.deal_stage}, ${request.deal_size:,})",
        requester_id=requester.id,
    )
    if broken:
        record_audit(
            session,
            actor,
            "reference_request.override",
            request,
            f"Let reference request #{request.id} through outside the boundaries: {reason}",
            broken=sorted(broken),
            deal_stage=request.deal_stage,
            deal_size=request.deal_size,
            reason=reason,
        )
    if actor.is_sales and fields.is_complete:
        credit_sales(session, requester.id, SalesAction.COMPLETE_REQUEST, request.id)
    _tell_managers(session, actor, request, requester, config)
    return request


def _requester(session: Session, actor: User, requester_id: int | None) -> User:
    if actor.is_sales:
        if requester_id not in (None, actor.id):
            raise DomainError(_("You file reference requests for yourself."), "requester_id")
        return actor
    if not actor.is_staff:
        raise DomainError(_("Only sales and program staff file reference requests."))
    if requester_id in (None, actor.id):
        return actor
    requester = session.get(User, requester_id)
    if requester is None or requester.role != Role.SALES or not requester.active:
        raise DomainError(_("Choose an active sales user to file for."), "requester_id")
    return requester


def _check_fields(session: Session, fields: RequestFields) -> None:
    for name, limit in TEXT_LIMITS.items():
        if len(getattr(fields, name) or "") > limit:
            raise DomainError(
                _("Keep it under %(limit)s characters.", limit=number(limit)), field=name
            )
    if not fields.opportunity_name.strip():
        raise DomainError(_("Name the opportunity."), "opportunity_name")
    if not fields.prospect_company.strip():
        raise DomainError(_("Name the prospect's company."), "prospect_company")
    if not _known(fields.deal_stage, DealStage):
        raise DomainError(_("Choose the deal's stage."), "deal_stage")
    if not _known(fields.conversation_level, ConversationLevel):
        raise DomainError(_("Choose the level of the conversation."), "conversation_level")
    if fields.desired_job_level and not _known(fields.desired_job_level, JobLevel):
        raise DomainError(_("Choose a job level from the list."), "desired_job_level")
    if not 0 <= fields.deal_size <= MAX_DEAL_SIZE:
        raise DomainError(
            _(
                "Enter the deal's size in whole dollars, up to %(most)s.",
                most=number(MAX_DEAL_SIZE),
            ),
            "deal_size",
        )
    if not 1 <= fields.references_needed <= MAX_REFERENCES:
        raise DomainError(
            _("Ask for between 1 and %(most)s references.", most=MAX_REFERENCES),
            "references_needed",
        )
    if fields.needed_by < program_today(session):
        raise DomainError(_("Choose a day from today on."), "needed_by")


def _cleaned(request_fields: RequestFields) -> dict:
    values = {}
    for spec in fields(request_fields):
        value = getattr(request_fields, spec.name)
        values[spec.name] = value.strip() if isinstance(value, str) else value
    values["desired_job_level"] = values["desired_job_level"] or None
    return values


def program_today(session: Session) -> date:
    """Today on the program's calendar."""
    return utcnow().astimezone(zone(program_zone(session))).date()


def _tell_managers(
    session: Session,
    actor: User,
    request: ReferenceRequest,
    requester: User,
    config: Settings | None,
) -> None:
    """Every active program manager learns of the request (work for them: a staff notice,
    not an advocate's email), each in their own language."""
    managers = session.scalars(
        select(User)
        .where(
            User.role == Role.MANAGER,
            User.active,
            User.id != actor.id,
            User.email_unreachable_at.is_(None),
            User.password_hash.is_not(None),
        )
        .order_by(User.id)
    )
    link = f"{config.public_url if config else ''}/references/{request.id}"
    for manager in managers:
        with speaking_as(manager):
            queue_email(
                session,
                manager.email,
                "reference_request_new",
                _(
                    "Reference request: %(prospect)s (%(opportunity)s)",
                    prospect=request.prospect_company,
                    opportunity=request.opportunity_name,
                ),
                manager_name=manager.display_name,
                requester_name=requester.display_name,
                reference=request,
                stage=request.stage.label,
                level=request.level.label,
                job_level=JobLevel(request.desired_job_level).label
                if request.desired_job_level
                else "",
                size=deal_money(request.deal_size),
                overridden=bool(request.override_reason),
                link=link,
                language=manager.locale or "en",
            )


# --- cancelling -------------------------------------------------------------------------


def cancel_request(
    session: Session, actor: User, reference_id: int, reason: str
) -> ReferenceRequest:
    """The requester (or a manager) calls the request off: its open asks are withdrawn and
    the advocates asked are told. A second cancel, or one after it was confirmed, is told so."""
    request = visible_request(session, actor, reference_id)
    if not (actor.is_staff or request.requester_id == actor.id):
        raise NotFound(_("No such reference request."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the request is called off."), "reason")
    if len(reason) > 2000:
        raise DomainError(_("Keep the reason under 2,000 characters."), "reason")
    now = utcnow()
    cancelled = session.execute(
        update(ReferenceRequest)
        .where(ReferenceRequest.id == request.id, ReferenceRequest.status == RequestStatus.OPEN)
        .values(status=RequestStatus.CANCELLED, cancelled_at=now, cancel_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if cancelled.rowcount == 0:
        session.refresh(request)
        if request.status == RequestStatus.CANCELLED:
            raise AlreadyHandled(_("This request was already called off."))
        raise AlreadyHandled(_("This request is confirmed: it can no longer be called off."))
    session.refresh(request)
    withdraw_asks(session, actor, request, reason)
    # a request called off earns nothing: filing and cancelling must not farm points
    revoke_sales_credit(session, SalesAction.COMPLETE_REQUEST, request.id)
    record_audit(
        session,
        actor,
        "reference_request.cancel",
        request,
        f"Cancelled reference request #{request.id}: {reason}",
        reason=reason,
    )
    return request


# --- the program's boundaries -----------------------------------------------------------


def update_settings(
    session: Session, actor: User, earliest_stage: str, min_deal_size: int, call_points: int
) -> ReferenceSettings:
    """Managers set the earliest deal stage and smallest deal a reference may be asked
    for, and the points a confirmed reference call earns."""
    if not actor.is_staff:
        raise DomainError(_("Only program managers set the reference boundaries."))
    if not _known(earliest_stage, DealStage):
        raise DomainError(_("Choose the deal's stage."), "earliest_stage")
    if not 0 <= min_deal_size <= MAX_DEAL_SIZE:
        raise DomainError(
            _(
                "Enter the deal's size in whole dollars, up to %(most)s.",
                most=number(MAX_DEAL_SIZE),
            ),
            "min_deal_size",
        )
    if not 0 <= call_points <= MAX_CALL_POINTS:
        raise DomainError(
            _("Between 0 and %(most)s points.", most=number(MAX_CALL_POINTS)), "call_points"
        )
    row = reference_settings(session)
    before = (row.earliest_stage, row.min_deal_size, row.call_points)
    row.earliest_stage, row.min_deal_size, row.call_points = (
        earliest_stage,
        min_deal_size,
        call_points,
    )
    row.updated_at = utcnow()
    record_audit(
        session,
        actor,
        "reference.settings",
        None,
        f"Reference boundaries: from the {earliest_stage} stage, deals of ${min_deal_size:,} "
        f"or more; a confirmed call earns {call_points} points",
        before=list(before),
        earliest_stage=earliest_stage,
        min_deal_size=min_deal_size,
        call_points=call_points,
    )
    return row


# --- what each person sees --------------------------------------------------------------


def _with_people(statement: Select) -> Select:
    """What a list or the request page shows, loaded with the requests (no N+1)."""
    asks = selectinload(ReferenceRequest.asks)
    return statement.options(
        joinedload(ReferenceRequest.requester),
        joinedload(ReferenceRequest.overridden_by),
        asks.joinedload(ReferenceAsk.advocate),
        asks.joinedload(ReferenceAsk.account),
        asks.joinedload(ReferenceAsk.owner),
    )


def visible_request(session: Session, viewer: User, reference_id: int) -> ReferenceRequest:
    """One request as `viewer` may see it: staff see every request, a sales user their own."""
    statement = _with_people(select(ReferenceRequest).where(ReferenceRequest.id == reference_id))
    if not viewer.is_staff:
        statement = statement.where(ReferenceRequest.requester_id == viewer.id)
    request = session.scalars(statement).unique().one_or_none()
    if request is None:
        raise NotFound(_("No such reference request."))
    return request


def requests_page(
    session: Session,
    viewer: User,
    wanted: PageRequest,
    status: str = "",
    q: str = "",
    requester_id: int | None = None,
    per_page: int = 25,
) -> Page:
    """Requests newest first, filtered in SQL: a sales user's own only; staff all (or one
    requester's); by status; by a search on the opportunity, the prospect or the CRM id."""
    statement = select(ReferenceRequest)
    if not viewer.is_staff:
        statement = statement.where(ReferenceRequest.requester_id == viewer.id)
    elif requester_id:
        statement = statement.where(ReferenceRequest.requester_id == requester_id)
    if _known(status, RequestStatus):
        statement = statement.where(ReferenceRequest.status == status)
    if q := q.strip():
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            or_(
                ReferenceRequest.opportunity_name.ilike(pattern, escape="\\"),
                ReferenceRequest.prospect_company.ilike(pattern, escape="\\"),
                ReferenceRequest.crm_id.ilike(pattern, escape="\\"),
            )
        )
    return paginate_by_key(
        session,
        _with_people(statement),
        (ReferenceRequest.created_at, ReferenceRequest.id),
        wanted,
        per_page=per_page,
        newest_first=True,
    )


def open_requests(session: Session, sales_user: User, limit: int = 50) -> list[ReferenceRequest]:
    """A sales user's open requests, the soonest needed first."""
    return list(
        session.scalars(
            _with_people(
                select(ReferenceRequest)
                .where(
                    ReferenceRequest.requester_id == sales_user.id,
                    ReferenceRequest.status == RequestStatus.OPEN,
                )
                .order_by(ReferenceRequest.needed_by, ReferenceRequest.id)
                .limit(limit)
            )
        ).unique()
    )


def requester_choices(session: Session) -> list[tuple[int, str]]:
    """The active sales users a manager may file for."""
    people = session.scalars(
        select(User).where(User.role == Role.SALES, User.active).order_by(User.name, User.email)
    )
    return [(user.id, user.display_name) for user in people]


def known_traits(session: Session, limit: int = 200) -> dict[str, list[str]]:
    """The industries, segments and regions accounts have, offered as suggestions."""
    traits = {}
    for name, column in (
        ("industry", Account.industry),
        ("segment", Account.segment),
        ("region", Account.region),
    ):
        traits[name] = list(
            session.scalars(
                select(column).where(column != "").distinct().order_by(column).limit(limit)
            )
        )
    return traits


def status_label(status: str) -> str:
    return {
        RequestStatus.OPEN: _("In progress"),
        RequestStatus.CONFIRMED: _("Confirmed"),
        RequestStatus.CANCELLED: _("Called off"),
    }.get(status, status)


def next_step(request: ReferenceRequest) -> str:
    """What has to happen next for this request, and who does it."""
    if request.status == RequestStatus.CANCELLED:
        return _("Called off")
    if request.status == RequestStatus.CONFIRMED:
        return _("Done") if request.outcome else _("Record the deal outcome")
    by_status: dict[str, list[ReferenceAsk]] = {}
    for ask in request.asks:
        by_status.setdefault(ask.status, []).append(ask)
    speaker = request.prospect_contact or request.prospect_company
    for ask in by_status.get(AskStatus.ACCEPTED, []):
        if ask.introduced_at is None:
            return _(
                "Introduce %(advocate)s to %(contact)s",
                advocate=ask.advocate.display_name,
                contact=speaker,
            )
    if accepted := by_status.get(AskStatus.ACCEPTED):
        return _(
            "Confirm the call with %(advocate)s took place",
            advocate=accepted[0].advocate.display_name,
        )
    if asked := by_status.get(AskStatus.ASKED):
        return _("Waiting for %(advocate)s's answer", advocate=asked[0].advocate.display_name)
    if proposed := by_status.get(AskStatus.PROPOSED):
        ask = proposed[0]
        return _(
            "Waiting for %(owner)s to ask %(advocate)s",
            owner=ask.owner.display_name if ask.owner else _("the relationship owner"),
            advocate=ask.advocate.display_name,
        )
    return _("Waiting for a manager to pick candidates")


@dataclass(frozen=True)
class Owed:
    """Something a sales user owes the program: a call to confirm, or a deal's outcome."""

    kind: str  # "confirmation" or "outcome"
    request: ReferenceRequest
    ask: ReferenceAsk | None = None

    @property
    def text(self) -> str:
        if self.kind == "confirmation":
            return _(
                "Confirm whether %(advocate)s's call for %(prospect)s took place",
                advocate=self.ask.advocate.display_name,
                prospect=self.request.prospect_company,
            )
        return _(
            "Record the outcome of %(opportunity)s (%(prospect)s)",
            opportunity=self.request.opportunity_name,
            prospect=self.request.prospect_company,
        )


def owed_by(session: Session, sales_user: User, limit: int = 50) -> list[Owed]:
    """What the sales user owes: confirmations of accepted asks (the call not yet confirmed),
    oldest yes first, then the outcomes of confirmed requests that have none."""
    accepted = session.scalars(
        select(ReferenceAsk)
        .join(ReferenceAsk.request)
        .where(
            ReferenceRequest.requester_id == sales_user.id,
            ReferenceRequest.status == RequestStatus.OPEN,
            ReferenceAsk.status == AskStatus.ACCEPTED,
        )
        .options(joinedload(ReferenceAsk.advocate), joinedload(ReferenceAsk.request))
        .order_by(ReferenceAsk.responded_at, ReferenceAsk.id)
        .limit(limit)
    )
    outcomes = session.scalars(
        select(ReferenceRequest)
        .where(
            ReferenceRequest.requester_id == sales_user.id,
            ReferenceRequest.status == RequestStatus.CONFIRMED,
            ReferenceRequest.outcome.is_(None),
        )
        .order_by(ReferenceRequest.confirmed_at, ReferenceRequest.id)
        .limit(limit)
    )
    return [Owed("confirmation", ask.request, ask) for ask in accepted] + [
        Owed("outcome", request) for request in outcomes
    ]


def readable_duration(delta: timedelta | None) -> str:
    """A span of time the way a person says it: "5 hours", "3 days"."""
    if delta is None:
        return ""
    hours = max(int(delta.total_seconds() // 3600), 0)
    if hours < 48:
        if hours == 0:
            minutes = max(int(delta.total_seconds() // 60), 0)
            return ngettext("%(num)s minute", "%(num)s minutes", minutes)
        return ngettext("%(num)s hour", "%(num)s hours", hours)
    days = hours // 24
    return ngettext("%(num)s day", "%(num)s days", days)


def time_to_coordinate(request: ReferenceRequest) -> dict[str, str]:
    """How long the request took to its first yes and to its first call, or has waited so
    far (the reader sees which)."""
    start = request.created_at
    now = utcnow()
    ended = request.cancelled_at or request.confirmed_at
    return {
        "accepted": readable_duration(request.first_accepted_at - start)
        if request.first_accepted_at
        else "",
        "call": readable_duration(request.first_call_at - start) if request.first_call_at else "",
        "waiting": readable_duration((ended or now) - start),
    }
