"""Candidate matching: the advocates best placed to take a reference request's call, ranked
in SQL with the reasons for each score, and picking one for the account's owner to ask.

One statement ranks everyone: the score is an SQL expression over the advocate, their
account and a few small aggregates (big asks in the window, reference asks, survey score,
lifetime points), ordered and limited in the database. Each part of the score is also
selected on its own, so the reasons shown beside a candidate are the very numbers that
ranked them. Who may never be asked (left, flagged, at a cap, asked already, "not now")
is filtered out in the same statement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, and_, case, cast, exists, func, literal, or_, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from challenges.authoring import program_settings
from challenges.models import ACTIVE, Submission
from challenges.services import high_effort_asks
from points.levels import all_levels, progress
from points.models import PointsBalance
from points.program import program_zone, zone
from portal.accounts.models import Account, JobLevel, Role, User
from portal.accounts.services import record_audit
from portal.config import Settings
from portal.db import get_or_refuse, refuse_duplicates, utcnow
from portal.errors import AlreadyHandled, DomainError, NotFound
from portal.i18n import _, day, ngettext, speaking_as
from portal.mail.services import queue_email
from references.models import (
    OPEN_ASK,
    AccountFlag,
    AskStatus,
    ConversationLevel,
    FlagKind,
    LatestScore,
    ReferenceAsk,
    ReferenceRequest,
    RequestStatus,
)
from references.services import open_flags

# --- the weights: each one line of why ---------------------------------------------------

# fit: how much the prospect will hear "someone like us"
INDUSTRY_FIT = 30  # the prospect's first question: who in my industry uses it?
SEGMENT_FIT = 15  # a company of the same size had the same problems
REGION_FIT = 10  # the same market and rules, often the same working hours
JOB_LEVEL_FIT = 20  # peers speak to peers: a VP wants to hear a VP
JOB_LEVEL_NEAR = 8  # one step up or down still speaks the language
PRODUCT_FIT = 20  # per wanted product use the account has (the call is about using it)
MAX_PRODUCTS = 3  # wanted product uses counted, so a long list cannot swamp the rest
NAMED_BY_SALES = 40  # the rep already had this customer in mind: they know the story
# load: the customers we ask most are the ones we must protect
RECENT_REFERENCE = -25  # gave a reference call in the last RECENT_DAYS days
RECENT_DAYS = 30
REFERENCE_IN_WINDOW = -15  # gave one earlier in the big-ask window
BIG_ASK = -10  # per big ask of theirs in the window (at the cap they are left out)
PICKED_ELSEWHERE = -10  # per other request they are picked for and not yet asked
ACCOUNT_BIG_ASK = -3  # per big ask of anyone at their account in the window
ACCOUNT_REFERENCE = -5  # per open (or recent, confirmed) reference ask at their account
ACCOUNT_LOAD_FLOOR = -20  # the account's load takes at most this much
# history: who has said yes before says yes again, and speaks from experience
COMPLETION = 2  # per approved completion ...
COMPLETIONS_CAP = 20  # ... up to this, so history ranks but never outweighs fit
LEVEL_STEP = 5  # per level above the first (levels come from lifetime points)
# survey score (NPS scale; CSAT is stored scaled to it)
PROMOTER = 15  # 9-10: glad to tell others
DETRACTOR = -50  # 0-6 personally: ranked last even when their account's flag was cleared

MAX_LIMIT = 100

# the prospect's conversation level, as the job level that speaks to it best
CONVERSATION_JOB_LEVEL = {
    ConversationLevel.C_LEVEL: JobLevel.C_LEVEL,
    ConversationLevel.VP: JobLevel.VP,
    ConversationLevel.DIRECTOR: JobLevel.DIRECTOR,
    ConversationLevel.ADMIN: JobLevel.INDIVIDUAL,  # the people who run it day to day
}
JOB_LEVEL_ORDER = list(JobLevel)  # C-level first


class position_in(FunctionElement):  # noqa: N801 - an SQL function's name
    """Where `needle` starts in `text` (1-based), 0 when absent: strpos / instr. No LIKE,
    so a % or _ in an account's name is just a character."""

    type = Integer()
    inherit_cache = True
    name = "position_in"


@compiles(position_in)
def _strpos(element, compiler, **kw):
    text, needle = list(element.clauses)
    return f"strpos({compiler.process(text, **kw)}, {compiler.process(needle, **kw)})"


@compiles(position_in, "sqlite")
def _instr(element, compiler, **kw):
    text, needle = list(element.clauses)
    return f"instr({compiler.process(text, **kw)}, {compiler.process(needle, **kw)})"


@dataclass(frozen=True)
class Candidate:
    advocate_id: int
    name: str
    email: str
    title: str
    job_level: str | None
    account_id: int
    account_name: str
    industry: str
    segment: str
    region: str
    products: str
    arr: int | None
    owner_id: int | None
    owner_name: str  # who will make the ask ("" when the account has no owner)
    score: int
    reasons: list[str] = field(default_factory=list)
    completions: int = 0
    level_name: str | None = None
    nps: int | None = None
    last_reference_on: date | None = None
    big_asks: int = 0  # theirs in the window
    account_big_asks: int = 0
    account_reference_asks: int = 0  # open, or confirmed in the window

    @property
    def job_level_label(self) -> str:
        return JobLevel(self.job_level).label if self.job_level in set(JobLevel) else ""


@dataclass(frozen=True)
class _Moment:
    """The clock the rules read: the big-ask window and the program's calendar day."""

    now: datetime
    today: date
    since: datetime
    since_day: date
    recent_day: date
    window_days: int
    advocate_cap: int
    account_cap: int


def _moment(session: Session, now: datetime | None) -> _Moment:
    now = now or utcnow()
    rules = program_settings(session)
    today = now.astimezone(zone(program_zone(session))).date()
    days = rules.high_effort_window_days
    return _Moment(
        now=now,
        today=today,
        since=now - timedelta(days=days),
        since_day=today - timedelta(days=days),
        recent_day=today - timedelta(days=RECENT_DAYS),
        window_days=days,
        advocate_cap=rules.high_effort_per_advocate,
        account_cap=rules.high_effort_per_account,
    )


def wanted_job_level(reference: ReferenceRequest) -> JobLevel | None:
    if reference.desired_job_level in set(JobLevel):
        return JobLevel(reference.desired_job_level)
    return CONVERSATION_JOB_LEVEL.get(reference.conversation_level)


def wanted_products(reference: ReferenceRequest) -> list[str]:
    """The wanted product uses, as typed ("Analytics, contact center")."""
    terms = [t.strip() for t in (reference.desired_product_use or "").split(",")]
    return list(dict.fromkeys(t for t in terms if t))[:MAX_PRODUCTS]


def _wanted_industry(reference: ReferenceRequest) -> str:
    return (reference.desired_industry or reference.prospect_industry or "").strip()


def _near_levels(level: JobLevel) -> list[str]:
    at = JOB_LEVEL_ORDER.index(level)
    return [str(JOB_LEVEL_ORDER[i]) for i in (at - 1, at + 1) if 0 <= i < len(JOB_LEVEL_ORDER)]


# --- the statement ------------------------------------------------------------------------


def _loads(moment: _Moment, reference_id: int | None):
    """The small aggregates: per advocate and per account big asks in the window (from the
    partial index of big asks alone), per advocate their reference asks, per account its
    open or recent reference asks."""
    big = (
        select(Submission.advocate_id, Submission.account_id, func.count().label("n"))
        .where(
            Submission.high_effort,
            Submission.status.in_(ACTIVE),
            Submission.created_at >= moment.since,
        )
        .group_by(Submission.advocate_id, Submission.account_id)
        .cte("big_asks")
    )
    advocate_big = (
        select(big.c.advocate_id, cast(func.sum(big.c.n), Integer).label("n"))
        .group_by(big.c.advocate_id)
        .subquery("advocate_big")
    )
    account_big = (
        select(big.c.account_id, cast(func.sum(big.c.n), Integer).label("n"))
        .group_by(big.c.account_id)
        .subquery("account_big")
    )
    elsewhere = ReferenceAsk.request_id != (reference_id or 0)
    asks = (  # what scores them: their last confirmed call, their picks not yet asked
        select(
            ReferenceAsk.advocate_id,
            func.max(
                case((ReferenceAsk.status == AskStatus.CONFIRMED, ReferenceAsk.call_on))
            ).label("last_reference"),
            cast(
                func.sum(
                    case((and_(ReferenceAsk.status == AskStatus.PROPOSED, elsewhere), 1), else_=0)
                ),
                Integer,
            ).label("picked"),
        )
        .where(ReferenceAsk.status.in_((AskStatus.CONFIRMED, AskStatus.PROPOSED)))
        .group_by(ReferenceAsk.advocate_id)
        .subquery("advocate_asks")
    )
    account_asks = (
        select(ReferenceAsk.account_id, func.count().label("n"))
        .where(
            or_(
                ReferenceAsk.status.in_((AskStatus.PROPOSED, *OPEN_ASK)),
                and_(
                    ReferenceAsk.status == AskStatus.CONFIRMED,
                    ReferenceAsk.call_on >= moment.since_day,
                ),
            )
        )
        .group_by(ReferenceAsk.account_id)
        .subquery("account_asks")
    )
    return big, (advocate_big, account_big, asks, account_asks)


def _members(moment: _Moment, reference_id: int | None):
    """Every active member advocate joined with the loads that score them, and the rules
    that leave one out, by name: the base the ranking, the counts and the "why not" share.

    Each rule is an anti-join (NOT EXISTS) rather than a filter on the outer-joined loads:
    the planner estimates those well, where a filter on a COALESCE of an outer join made
    it expect one row and pick nested loops (minutes at 100k advocates)."""
    big, loads = _loads(moment, reference_id)
    advocate_big, account_big, asks, account_asks = loads
    statement = (
        select()
        .select_from(User)
        .join(Account, Account.id == User.account_id)
        .outerjoin(advocate_big, advocate_big.c.advocate_id == User.id)
        .outerjoin(account_big, account_big.c.account_id == User.account_id)
        .outerjoin(asks, asks.c.advocate_id == User.id)
        .outerjoin(account_asks, account_asks.c.account_id == User.account_id)
        .where(
            User.role == Role.ADVOCATE,
            User.active,
            User.in_program,
            User.left_company_at.is_(None),
        )
    )
    capped_advocates = (
        select(big.c.advocate_id)
        .group_by(big.c.advocate_id)
        .having(func.sum(big.c.n) >= moment.advocate_cap)
        .subquery("capped_advocates")
    )
    capped_accounts = (
        select(big.c.account_id)
        .group_by(big.c.account_id)
        .having(func.sum(big.c.n) >= moment.account_cap)
        .subquery("capped_accounts")
    )
    theirs = ReferenceAsk.advocate_id == User.id
    rules = {
        "flagged": ~exists().where(
            AccountFlag.account_id == User.account_id, AccountFlag.cleared_at.is_(None)
        ),
        "advocate_cap": ~exists().where(capped_advocates.c.advocate_id == User.id),
        "account_cap": ~exists().where(capped_accounts.c.account_id == User.account_id),
        "open_ask": ~exists().where(theirs, ReferenceAsk.status.in_(OPEN_ASK)),
        "resting": ~exists().where(theirs, ReferenceAsk.not_before > moment.today),
        "on_request": ~exists().where(theirs, ReferenceAsk.request_id == (reference_id or 0)),
    }
    return statement, rules, loads


def _eligible(moment: _Moment, reference_id: int | None):
    """Every advocate who may be asked now (for this request, when given), with the loads
    that score them: the base statement both the ranking and the counts start from."""
    statement, rules, loads = _members(moment, reference_id)
    return statement.where(*rules.values()), loads


def _terms(session: Session, reference: ReferenceRequest, moment: _Moment, loads) -> dict:
    """Each part of the score as an SQL expression, by name (only the parts this request
    can score: a blank wanted trait adds nothing)."""
    advocate_big, account_big, asks, account_asks = loads
    terms = {}
    if industry := _wanted_industry(reference):
        terms["industry"] = _when(func.lower(Account.industry) == industry.lower(), INDUSTRY_FIT)
    if segment := reference.desired_segment.strip():
        terms["segment"] = _when(func.lower(Account.segment) == segment.lower(), SEGMENT_FIT)
    if region := reference.desired_region.strip():
        terms["region"] = _when(func.lower(Account.region) == region.lower(), REGION_FIT)
    if level := wanted_job_level(reference):
        terms["job_level"] = case(
            (User.job_level == str(level), JOB_LEVEL_FIT),
            (User.job_level.in_(_near_levels(level)), JOB_LEVEL_NEAR),
            else_=0,
        )
    for number, product in enumerate(wanted_products(reference)):
        has_it = position_in(func.lower(Account.products), product.lower()) > 0
        terms[f"product_{number}"] = _when(has_it, PRODUCT_FIT)
    if mind := reference.customers_in_mind.strip().lower():
        named = and_(
            func.length(Account.name) >= 3, position_in(mind, func.lower(Account.name)) > 0
        )
        terms["named"] = _when(named, NAMED_BY_SALES)
    terms["recent_reference"] = case(
        (asks.c.last_reference >= moment.recent_day, RECENT_REFERENCE),
        (asks.c.last_reference >= moment.since_day, REFERENCE_IN_WINDOW),
        else_=0,
    )
    terms["big_asks"] = func.coalesce(advocate_big.c.n, 0) * BIG_ASK
    terms["picked"] = func.coalesce(asks.c.picked, 0) * PICKED_ELSEWHERE
    account_load = (
        func.coalesce(account_big.c.n, 0) * ACCOUNT_BIG_ASK
        + func.coalesce(account_asks.c.n, 0) * ACCOUNT_REFERENCE
    )
    terms["account_load"] = case(
        (account_load < ACCOUNT_LOAD_FLOOR, ACCOUNT_LOAD_FLOOR), else_=account_load
    )
    terms["completions"] = case(
        (User.completions * COMPLETION >= COMPLETIONS_CAP, COMPLETIONS_CAP),
        else_=User.completions * COMPLETION,
    )
    lifetime = func.coalesce(PointsBalance.lifetime_earned, 0)
    levels = [level for level in all_levels(session) if level.threshold > 0]
    if levels:
        steps = [(lifetime >= lv.threshold, (n + 1) * LEVEL_STEP) for n, lv in enumerate(levels)]
        terms["level"] = case(*reversed(steps), else_=0)
    terms["nps"] = case(
        (LatestScore.score >= 9, PROMOTER), (LatestScore.score <= 6, DETRACTOR), else_=0
    )
    return terms


def _when(condition, points: int):
    return case((condition, points), else_=0)


def _scored(session: Session, reference: ReferenceRequest, moment: _Moment):
    """Every member with what scores them joined on; the rules; the score's parts."""
    statement, rules, loads = _members(moment, reference.id)
    statement = statement.outerjoin(PointsBalance, PointsBalance.advocate_id == User.id).outerjoin(
        LatestScore, LatestScore.user_id == User.id
    )
    return statement, rules, loads, _terms(session, reference, moment, loads)


def _ranking(
    session: Session,
    reference: ReferenceRequest,
    moment: _Moment,
    limit: int,
    advocate_id: int | None = None,
):
    """The one ranking statement: (advocate id, score) of the best `limit` who may be
    asked, best first. Only the score is computed for everyone (once a row: the parts are
    read for the rows shown, by `_details`)."""
    statement, rules, _loads, terms = _scored(session, reference, moment)
    score = sum(terms.values(), literal(0)).label("score")
    statement = (
        statement.where(*rules.values())
        .add_columns(User.id, score)
        .order_by(score.desc(), User.id)
        .limit(limit)
    )
    if advocate_id is not None:
        statement = statement.where(User.id == advocate_id)
    return statement


def _details(session: Session, reference: ReferenceRequest, moment: _Moment, ids: list[int]):
    """What a candidate row shows, and each part of its score, for the ranked `ids`."""
    statement, _rules, loads, terms = _scored(session, reference, moment)
    advocate_big, account_big, asks, account_asks = loads
    score = sum(terms.values(), literal(0)).label("score")
    statement = statement.where(User.id.in_(ids)).add_columns(
        User.id,
        User.name,
        User.email,
        User.title,
        User.job_level,
        User.completions,
        Account.id.label("account_id"),
        Account.name.label("account_name"),
        Account.industry,
        Account.segment,
        Account.region,
        Account.products,
        Account.arr,
        Account.owner_id,
        func.coalesce(PointsBalance.lifetime_earned, 0).label("lifetime"),
        LatestScore.score.label("nps"),
        func.coalesce(advocate_big.c.n, 0).label("big_asks"),
        func.coalesce(account_big.c.n, 0).label("account_big_asks"),
        func.coalesce(account_asks.c.n, 0).label("account_reference_asks"),
        func.coalesce(asks.c.picked, 0).label("picked_count"),
        asks.c.last_reference,
        *(expression.label(f"t_{name}") for name, expression in terms.items()),
        score,
    )
    return statement, list(terms)


def _ranked(session, reference, moment, limit, advocate_id=None) -> list[Candidate]:
    ranking = _ranking(session, reference, moment, limit, advocate_id)
    ids = [row.id for row in session.execute(ranking)]
    if not ids:
        return []
    statement, names = _details(session, reference, moment, ids)
    found = {row.id: row for row in session.execute(statement)}
    rows = [found[advocate_id] for advocate_id in ids if advocate_id in found]
    return _candidates(session, reference, moment, rows, names)


def rank_candidates(
    session: Session, reference: ReferenceRequest, limit: int = 25, now: datetime | None = None
) -> list[Candidate]:
    """The best `limit` advocates to ask for this request, best first (ties by id), each
    with the reasons for their score: the ranking statement, then the shown rows' details
    and their owners' names."""
    moment = _moment(session, now)
    return _ranked(session, reference, moment, max(1, min(limit, MAX_LIMIT)))


def _candidates(session, reference, moment, rows, names) -> list[Candidate]:
    owner_ids = {row.owner_id for row in rows if row.owner_id}
    owners = {}
    if owner_ids:
        found = session.execute(
            select(User.id, User.name, User.email).where(User.id.in_(owner_ids))
        )
        owners = {user_id: name or email for user_id, name, email in found}
    levels = all_levels(session)
    named = {
        row.id: reached.name if (reached := progress(levels, row.lifetime).level) else None
        for row in rows
    }
    return [
        Candidate(
            advocate_id=row.id,
            name=row.name or row.email,
            email=row.email,
            title=row.title,
            job_level=row.job_level,
            account_id=row.account_id,
            account_name=row.account_name,
            industry=row.industry,
            segment=row.segment,
            region=row.region,
            products=row.products,
            arr=row.arr,
            owner_id=row.owner_id,
            owner_name=owners.get(row.owner_id, ""),
            score=int(row.score),
            reasons=_reasons(reference, moment, row, names, named[row.id]),
            completions=row.completions,
            level_name=named[row.id],
            nps=row.nps,
            last_reference_on=_as_date(row.last_reference),
            big_asks=int(row.big_asks),
            account_big_asks=int(row.account_big_asks),
            account_reference_asks=int(row.account_reference_asks),
        )
        for row in rows
    ]


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # a computed column read back from SQLite


@dataclass(frozen=True)
class _Context:
    moment: _Moment
    products: list[str]
    level: JobLevel | None  # the wanted one
    level_name: str | None  # the candidate's


def _reasons(
    reference: ReferenceRequest, moment: _Moment, row, names: list[str], level_name: str | None
) -> list[str]:
    """Each part of the score that counted, in words with its points, biggest first."""
    said = []
    context = _Context(moment, wanted_products(reference), wanted_job_level(reference), level_name)
    for name in names:
        points = int(getattr(row, f"t_{name}"))
        if points == 0 and not (name == "nps" and row.nps is not None):
            continue
        said.append((points, _reason(name, points, row, context)))
    said.sort(key=lambda item: -abs(item[0]))
    return [text for _points, text in said]


def _reason(name: str, points: int, row, context: _Context) -> str:  # noqa: C901, PLR0911
    signed = f"{points:+d}" if points else "0"
    if name == "industry":
        return _("Same industry: %(industry)s (%(points)s)", industry=row.industry, points=signed)
    if name == "segment":
        return _("Same segment: %(segment)s (%(points)s)", segment=row.segment, points=signed)
    if name == "region":
        return _("Same region: %(region)s (%(points)s)", region=row.region, points=signed)
    if name == "job_level":
        label = JobLevel(row.job_level).label
        if points == JOB_LEVEL_FIT:
            return _("Job level as wanted: %(level)s (%(points)s)", level=label, points=signed)
        return _(
            "Job level %(level)s, one step from %(wanted)s (%(points)s)",
            level=label,
            wanted=context.level.label,
            points=signed,
        )
    if name.startswith("product_"):
        product = context.products[int(name.removeprefix("product_"))]
        return _("Uses %(product)s (%(points)s)", product=product, points=signed)
    if name == "named":
        return _("Named in the request's customers in mind (%(points)s)", points=signed)
    if name == "recent_reference":
        days = (context.moment.today - _as_date(row.last_reference)).days
        return ngettext(
            "Used for a reference %(num)s day ago (%(points)s)",
            "Used for a reference %(num)s days ago (%(points)s)",
            days,
            points=signed,
        )
    if name == "big_asks":
        return ngettext(
            "%(num)s big ask in the last %(days)s days (%(points)s)",
            "%(num)s big asks in the last %(days)s days (%(points)s)",
            int(row.big_asks),
            days=context.moment.window_days,
            points=signed,
        )
    if name == "picked":
        return ngettext(
            "Picked for %(num)s other request, not yet asked (%(points)s)",
            "Picked for %(num)s other requests, not yet asked (%(points)s)",
            int(row.picked_count),
            points=signed,
        )
    if name == "account_load":
        return _(
            "Their account's load: big asks %(big)s, reference asks %(asks)s (%(points)s)",
            big=int(row.account_big_asks),
            asks=int(row.account_reference_asks),
            points=signed,
        )
    if name == "completions":
        return ngettext(
            "%(num)s completed challenge (%(points)s)",
            "%(num)s completed challenges (%(points)s)",
            row.completions,
            points=signed,
        )
    if name == "level":
        return _("Level %(level)s (%(points)s)", level=context.level_name, points=signed)
    if name == "nps":
        return _("NPS %(score)s (%(points)s)", score=row.nps, points=signed)
    return f"{name} ({signed})"  # pragma: no cover - every term above has its words


def ready_by_level(session: Session, now: datetime | None = None) -> dict[JobLevel, int]:
    """In-program advocates who could be asked today (nobody flagged, capped, asked or
    resting), per job level: the program's "ready advocates per job level"."""
    moment = _moment(session, now)
    statement, _loads = _eligible(moment, None)
    counted = session.execute(
        statement.add_columns(User.job_level, func.count()).group_by(User.job_level)
    )
    ready = dict.fromkeys(JobLevel, 0)
    for level, count in counted:
        if level in ready:
            ready[JobLevel(level)] = count
    return ready


@dataclass(frozen=True)
class LeftOut:
    """Why members are not among a request's candidates: how many each rule leaves out
    (one advocate may be left out by several), and the flagged accounts, newest first."""

    counts: dict[str, int]
    flagged_accounts: list[tuple[str, str, datetime]]  # account, flag, since

    @property
    def labels(self) -> dict[str, str]:
        return {
            "flagged": _("Their account's relationship is flagged"),
            "advocate_cap": _("At their big-ask cap"),
            "account_cap": _("Their account is at its big-ask cap"),
            "open_ask": _("An open reference ask already"),
            "resting": _("Said not now, and the day has not come"),
            "on_request": _("Already picked or asked for this request"),
        }


def left_out(
    session: Session, reference: ReferenceRequest, now: datetime | None = None, flags: int = 10
) -> LeftOut:
    """The "why not" of a request's candidates: one count per rule, in one statement, and
    the `flags` newest open flags (with the account's name)."""
    moment = _moment(session, now)
    statement, rules, _loads = _members(moment, reference.id)
    sums = [func.sum(case((rule, 0), else_=1)).label(name) for name, rule in rules.items()]
    row = session.execute(statement.add_columns(*sums)).one()
    flagged = session.execute(
        select(Account.name, AccountFlag.kind, AccountFlag.created_at)
        .join(Account, Account.id == AccountFlag.account_id)
        .where(AccountFlag.cleared_at.is_(None))
        .order_by(AccountFlag.id.desc())
        .limit(flags)
    )
    return LeftOut(
        counts={name: int(getattr(row, name) or 0) for name in rules},
        flagged_accounts=[(name, FlagKind(kind).label, when) for name, kind, when in flagged],
    )


# --- picking one --------------------------------------------------------------------------


def why_not_candidate(
    session: Session, reference: ReferenceRequest, advocate: User, now: datetime | None = None
) -> DomainError | None:
    """The first rule that keeps `advocate` from being picked for `reference`, as the
    refusal to raise (None when they may be picked). The same rules the ranking filters on,
    one at a time, so the refusal can say why."""
    moment = _moment(session, now)
    name = advocate.display_name
    if advocate.role != Role.ADVOCATE or not advocate.active:
        return NotFound(_("%(name)s is not an advocate of the program.", name=name))
    account = advocate.account
    if advocate.left_company_at is not None:
        return DomainError(
            _("%(name)s has left %(account)s.", name=name, account=account.name if account else "")
        )
    if not advocate.in_program:
        return DomainError(_("%(name)s is not in the program.", name=name))
    this_one = session.scalar(
        select(ReferenceAsk).where(
            ReferenceAsk.request_id == reference.id, ReferenceAsk.advocate_id == advocate.id
        )
    )
    if this_one is not None:
        return _already_picked(this_one)
    for flag in open_flags(session, account.id):
        return DomainError(
            _(
                "%(account)s's relationship is flagged (%(flag)s, since %(day)s): nobody is "
                "asked for a reference until a manager clears it.",
                account=account.name,
                flag=flag.flag.label,
                day=day(flag.created_at),
            )
        )
    open_ask = session.scalar(
        select(ReferenceAsk).where(
            ReferenceAsk.advocate_id == advocate.id, ReferenceAsk.status.in_(OPEN_ASK)
        )
    )
    if open_ask is not None:
        asker = open_ask.asked_by or open_ask.owner
        return AlreadyHandled(
            _(
                "%(name)s already has an open reference ask (from %(asker)s, %(day)s).",
                name=name,
                asker=asker.display_name if asker else _("a former staff member"),
                day=day(open_ask.asked_at or open_ask.created_at),
            )
        )
    resting = session.scalar(
        select(func.max(ReferenceAsk.not_before)).where(
            ReferenceAsk.advocate_id == advocate.id, ReferenceAsk.not_before > moment.today
        )
    )
    if resting is not None:
        return DomainError(
            _(
                "%(name)s said not now: they are not asked again before %(day)s.",
                name=name,
                day=day(_as_date(resting)),
            )
        )
    asks = high_effort_asks(session, advocate, moment.now)
    if asks.advocate >= asks.advocate_cap:
        return DomainError(
            _(
                "%(name)s has already helped with %(count)s big asks in the last %(days)s days "
                "(the cap is %(cap)s).",
                name=name,
                count=asks.advocate,
                days=asks.window_days,
                cap=asks.advocate_cap,
            )
        )
    if asks.account >= asks.account_cap:
        return DomainError(
            _(
                "%(account)s has had %(count)s big asks in the last %(days)s days (the cap "
                "for one account is %(cap)s).",
                account=account.name,
                count=asks.account,
                days=asks.window_days,
                cap=asks.account_cap,
            )
        )
    return None


def _already_picked(ask: ReferenceAsk) -> AlreadyHandled:
    picker = ask.proposed_by
    return AlreadyHandled(
        _(
            "%(name)s was already picked for this request (by %(picker)s, %(day)s).",
            name=ask.advocate.display_name,
            picker=picker.display_name if picker else _("a former staff member"),
            day=day(ask.created_at),
        )
    )


def propose(
    session: Session,
    settings: Settings,
    actor: User,
    reference_id: int,
    advocate_id: int,
    now: datetime | None = None,
) -> ReferenceAsk:
    """Pick `advocate_id` for the request: a proposed ask for the account's relationship
    owner (or, with none, the actor) to make, who is emailed a link to make it. Every rule
    of the ranking is checked again, and a refusal says which."""
    now = now or utcnow()
    reference = get_or_refuse(
        session, ReferenceRequest, reference_id, _("There is no such reference request.")
    )
    # touching the row on its state: a request cancelled meanwhile is refused, and on
    # PostgreSQL its row stays locked against a cancel until this pick commits
    still_open = session.execute(
        update(ReferenceRequest)
        .where(ReferenceRequest.id == reference.id, ReferenceRequest.status == RequestStatus.OPEN)
        .values(status=RequestStatus.OPEN)
    )
    if still_open.rowcount == 0:
        raise AlreadyHandled(_("This request is no longer open: nobody more can be picked for it."))
    advocate = session.get(User, advocate_id)
    if advocate is None or advocate.role != Role.ADVOCATE:
        raise NotFound(_("There is no such advocate."))
    if problem := why_not_candidate(session, reference, advocate, now):
        raise problem
    moment = _moment(session, now)
    found = _ranked(session, reference, moment, 1, advocate_id=advocate.id)
    if not found:
        raise DomainError(
            _("%(name)s can't be picked for this request now.", name=advocate.display_name)
        )
    candidate = found[0]
    account = advocate.account
    owner = account.owner
    if owner is None or not owner.active or not owner.is_staff:
        owner = actor
    ask = ReferenceAsk(
        request_id=reference.id,
        advocate_id=advocate.id,
        account_id=account.id,
        owner_id=owner.id,
        proposed_by_id=actor.id,
        status=AskStatus.PROPOSED,
        score=candidate.score,
        created_at=now,
    )
    try:
        with refuse_duplicates(session, AlreadyHandled("")):
            session.add(ask)
            session.flush()
    except AlreadyHandled:  # a colleague picked them at the same moment
        first = session.scalar(
            select(ReferenceAsk).where(
                ReferenceAsk.request_id == reference.id, ReferenceAsk.advocate_id == advocate.id
            )
        )
        raise (_already_picked(first) if first else AlreadyHandled(_("Already picked."))) from None
    record_audit(
        session,
        actor,
        "reference_ask.propose",
        ask,
        f"Picked {advocate.email} for {reference.opportunity_name} ({reference.prospect_company});"
        f" {owner.email} to ask",
        request_id=reference.id,
        advocate_id=advocate.id,
        owner_id=owner.id,
        score=candidate.score,
    )
    _tell_owner(session, settings, reference, ask, owner, candidate)
    return ask


def _tell_owner(session, settings, reference, ask, owner: User, candidate: Candidate) -> None:
    """The owner's email: who to ask, for what, and the link to make the ask from Vouch."""
    if not owner.active or owner.email_unreachable_at is not None:
        return
    with speaking_as(owner):
        queue_email(
            session,
            owner.email,
            "reference_ask_proposed",
            _(
                "Please ask %(name)s for a reference call (%(prospect)s)",
                name=candidate.name,
                prospect=reference.prospect_company,
            ),
            owner_name=owner.display_name,
            reference=reference,
            stage=reference.stage.label,
            level=reference.level.label,
            candidate=candidate,
            link=f"{settings.public_url}/references/asks/{ask.id}",
            language=owner.locale or "en",
        )
