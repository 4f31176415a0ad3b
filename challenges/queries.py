"""Read-only queries for the challenge pages, loading what each template needs in one go."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.orm import Session, contains_eager, defer, joinedload, load_only

from challenges.authoring import program_settings
from challenges.limits import free_slot
from challenges.models import (
    ACTIVE,
    AdvocateGroup,
    Challenge,
    ChallengeStatus,
    Submission,
    SubmissionStatus,
    ThankYou,
    challenge_groups,
    group_members,
)
from challenges.services import (
    CONFIRMED_ON_REQUEST,
    active_slots,
    high_effort_asks,
    is_open,
    named_in,
    targets,
)
from challenges.thanks import open_count
from challenges.types import REGISTRY, challenge_type
from points.models import EntrySource, LedgerEntry, PointsBalance
from portal.accounts.models import Account, Role, User
from portal.db import utcnow
from portal.i18n import _
from portal.pagination import Page, PageRequest, paginate, paginate_by_key


@dataclass(frozen=True)
class Availability:
    """A challenge as one advocate sees it now."""

    challenge: Challenge
    available: bool
    why_not: str = ""


HOME_CHALLENGES = 12  # cards on the hub's home page; the rest are one click away
CHALLENGES_PER_PAGE = 24  # the all-challenges grid: whole rows of two or three cards
CLOSING_SOON = timedelta(days=7)
FEW_PLACES = 5

# the columns that decide whether a live challenge is open to an advocate, and how urgent
_DECIDING = (
    Challenge.id,
    Challenge.type,
    Challenge.config,
    Challenge.limit_kind,
    Challenge.limit_count,
    Challenge.limit_period,
    Challenge.ends_at,
    Challenge.cap,
    Challenge.taken,
)


def available_challenges(
    session: Session, advocate: User, type_key: str = "", now: datetime | None = None
) -> list[Row]:
    """Challenges open to this advocate now, newest first: published, in window, targeted at
    them, with a place left, within their limit and their high-effort cap.

    Decided in Python over the live challenges (a program runs a few hundred, however many
    advocates and submissions it has), read as rows of the deciding columns only, in the
    same few queries whatever their number; `_challenges` then loads the cards shown.
    """
    now = now or utcnow()
    query = (
        select(*_DECIDING)
        .where(*_live(now), or_(Challenge.cap.is_(None), Challenge.taken < Challenge.cap))
        .order_by(Challenge.published_at.desc(), Challenge.id.desc())
    )
    if type_key:
        query = query.where(Challenge.type == type_key)
    rows = session.execute(query).all()
    elsewhere = _aimed_elsewhere(session, advocate, now)
    slots = _my_slots(session, advocate.id, now)
    capped = high_effort_asks(session, advocate, now).capped
    return [
        row
        for row in rows
        if row.id not in elsewhere
        and not (capped and challenge_type(row.type).is_high_effort(row.config))
        and free_slot(row, slots.get(row.id, set()), now) is not None  # a row has its limits
    ]


def featured_challenges(
    session: Session,
    advocate: User,
    type_key: str = "",
    now: datetime | None = None,
    limit: int = HOME_CHALLENGES,
) -> tuple[list[Challenge], int]:
    """The `limit` most relevant challenges open to the advocate, and how many are open.

    Relevant means: first what will not wait, those closing within a week (soonest first),
    then those with at most five places left (fewest first); then the newest.
    """
    now = now or utcnow()
    available = available_challenges(session, advocate, type_key, now)
    ranked = sorted(available, key=lambda row: _urgency(row, now))
    return _challenges(session, [row.id for row in ranked[:limit]]), len(available)


def available_page(
    session: Session,
    advocate: User,
    wanted: PageRequest,
    type_key: str = "",
    per_page: int = CHALLENGES_PER_PAGE,
) -> Page:
    """A page of every challenge open to the advocate, newest first: the page is cut from
    `available_challenges` and only its challenges are loaded."""
    available = available_challenges(session, advocate, type_key)
    start = (wanted.number - 1) * per_page
    return Page(
        items=_challenges(session, [row.id for row in available[start : start + per_page]]),
        total=len(available),
        per_page=per_page,
        number=wanted.number,
        next_args={"page": wanted.number + 1} if len(available) > start + per_page else None,
        prev_args={"page": wanted.number - 1} if wanted.number > 1 else None,
    )


def _challenges(session: Session, ids: list[int]) -> list[Challenge]:
    """These challenges in this order, for their cards (never their bodies)."""
    if not ids:
        return []
    found = session.scalars(
        select(Challenge)
        .where(Challenge.id.in_(ids))
        .options(defer(Challenge.body, raiseload=True))
    )
    by_id = {challenge.id: challenge for challenge in found}
    return [by_id[i] for i in ids if i in by_id]


def _live(now: datetime) -> tuple:
    """Published and within its window."""
    return (
        Challenge.status == ChallengeStatus.PUBLISHED,
        Challenge.starts_at <= now,
        or_(Challenge.ends_at.is_(None), Challenge.ends_at > now),
    )


def _aimed_elsewhere(session: Session, advocate: User, now: datetime) -> set[int]:
    """Live challenges aimed at groups none of which reaches the advocate (the rule of
    `services.targets`, asked of every group link of the live challenges in one query)."""
    member_of = named_in(session, advocate)
    links = session.execute(
        select(challenge_groups.c.challenge_id, AdvocateGroup)
        .join(AdvocateGroup, AdvocateGroup.id == challenge_groups.c.group_id)
        .join(Challenge, Challenge.id == challenge_groups.c.challenge_id)
        .where(*_live(now))
    )
    aimed: set[int] = set()
    reached: set[int] = set()
    for challenge_id, group in links:
        aimed.add(challenge_id)
        if group.includes(advocate, member_of):
            reached.add(challenge_id)
    return aimed - reached


def _urgency(row: Row, now: datetime) -> tuple:
    """Sorts closing-soon first, then nearly full, then the rest (sorting is stable)."""
    if row.ends_at is not None and row.ends_at - now <= CLOSING_SOON:
        return (0, row.ends_at)
    if row.cap is not None and row.cap - row.taken <= FEW_PLACES:
        return (1, row.cap - row.taken)
    return (2,)


def _my_slots(session: Session, advocate_id: int, now: datetime) -> dict[int, set[str]]:
    """The limit slots the advocate holds on live challenges (closed ones are not read)."""
    slots: dict[int, set[str]] = {}
    rows = session.execute(
        select(Submission.challenge_id, Submission.slot)
        .join(Challenge, Challenge.id == Submission.challenge_id)
        .where(Submission.advocate_id == advocate_id, Submission.slot.is_not(None), *_live(now))
    )
    for challenge_id, slot in rows:
        slots.setdefault(challenge_id, set()).add(slot)
    return slots


def visible_to(session: Session, advocate: User, challenge: Challenge) -> bool:
    """An advocate sees a published challenge meant for them, or one they have taken part in."""
    published = challenge.status == ChallengeStatus.PUBLISHED
    if published and targets(challenge, advocate, named_in(session, advocate)):
        return True
    mine = select(Submission.id).where(
        Submission.challenge_id == challenge.id, Submission.advocate_id == advocate.id
    )
    return session.scalar(mine.limit(1)) is not None


def availability_of(session: Session, advocate: User, challenge: Challenge) -> Availability:
    """Whether this advocate may complete this challenge now, and if not, why not."""
    now = utcnow()
    if not is_open(challenge, now):
        return Availability(challenge, False, _("This challenge is closed."))
    if not targets(challenge, advocate, named_in(session, advocate)):
        return Availability(challenge, False, _("This challenge is not open to you."))
    if challenge.cap is not None and challenge.taken >= challenge.cap:
        return Availability(
            challenge, False, _("All %(num)s places have been taken.", num=challenge.cap)
        )
    if challenge.high_effort and (asks := high_effort_asks(session, advocate, now)).capped:
        return Availability(challenge, False, big_ask_refusal(advocate, asks))
    if free_slot(challenge, active_slots(session, advocate.id, challenge.id), now) is None:
        waiting = session.scalar(
            select(func.count()).where(
                Submission.advocate_id == advocate.id,
                Submission.challenge_id == challenge.id,
                Submission.status == SubmissionStatus.PENDING,
            )
        )
        if waiting:
            return Availability(challenge, False, str(challenge.kind.waiting_note))
        return Availability(
            challenge, False, _("You have done this challenge as often as it allows.")
        )
    return Availability(challenge, True)


def big_ask_refusal(advocate: User, asks) -> str:
    """Why a big ask is closed to this advocate: their own cap, or their company's (which
    their colleagues' asks filled, not theirs)."""
    if asks.advocate >= asks.advocate_cap:
        return _("You have helped with plenty of big asks lately. Thank you!")
    company = advocate.account.name if advocate.account else _("Your company")
    return _(
        "%(company)s has helped with plenty of big asks lately: the most we ask of one "
        "customer in %(days)s days. Thank you!",
        company=company,
        days=asks.window_days,
    )


def submissions_page(session: Session, advocate_id: int, wanted: PageRequest) -> Page:
    """A page of the advocate's submissions, newest first, with their challenge and reviewer."""
    return paginate(session, _submissions_of(advocate_id), wanted)


def submissions_of(session: Session, advocate_id: int) -> list[Submission]:
    """Every submission of the advocate, newest first: their data download."""
    return list(session.scalars(_submissions_of(advocate_id)))


def _submissions_of(advocate_id: int):
    return (
        select(Submission)
        .where(Submission.advocate_id == advocate_id)
        .options(
            joinedload(Submission.challenge).defer(Challenge.body, raiseload=True),
            joinedload(Submission.reviewer),
        )
        .order_by(Submission.created_at.desc(), Submission.id.desc())
    )


def export_for(session: Session, advocate_id: int) -> dict:
    """The advocate's submissions and points, for their data download."""
    balance = session.scalar(select(PointsBalance).where(PointsBalance.advocate_id == advocate_id))
    entries = session.scalars(
        select(LedgerEntry).where(LedgerEntry.advocate_id == advocate_id).order_by(LedgerEntry.id)
    )
    return {
        "submissions": [
            {
                "challenge": submission.title,
                "type": submission.type,
                "status": submission.status,
                "evidence": submission.evidence,
                "file": submission.file_name,
                "points_awarded": submission.points_awarded,
                "reason": submission.reason or None,
                "submitted_at": submission.created_at.isoformat(),
                "reviewed_at": submission.reviewed_at.isoformat()
                if submission.reviewed_at
                else None,
            }
            for submission in submissions_of(session, advocate_id)
        ],
        "points": {
            "balance": balance.balance if balance else 0,
            "held": balance.held if balance else 0,
            "available": balance.available if balance else 0,
            "lifetime_earned": balance.lifetime_earned if balance else 0,
            "about": "amount changes the balance; held_change changes the points held for "
            "open reward requests (held points come back if a request is rejected or "
            "cancelled); a hold's status says what became of it.",
            "entries": _ledger_export(list(entries)),
        },
    }


HOLD_OUTCOMES = {EntrySource.REDEMPTION_POST: "spent", EntrySource.REDEMPTION_VOID: "released"}


def _ledger_export(entries: list[LedgerEntry]) -> list[dict]:
    """Ledger entries for the data download: a hold shows the points it held and whether it
    is still held, was spent (the reward was delivered) or released (back to the balance)."""
    outcomes = {e.source_id: HOLD_OUTCOMES[e.source] for e in entries if e.source in HOLD_OUTCOMES}
    rows = []
    for e in entries:
        row = {"amount": e.amount, "held_change": e.hold_change, "source": e.source}
        if e.source == EntrySource.REDEMPTION_HOLD:
            row["held"] = e.hold_change
            row["status"] = outcomes.get(e.source_id, "held")
        rows.append({**row, "note": e.note, "at": e.created_at.isoformat()})
    return rows


@dataclass(frozen=True)
class ChallengeRow:
    challenge: Challenge
    pending: int
    approved: int


def challenges_for_staff(session: Session, wanted: PageRequest, status: str = "") -> Page:
    """Challenges newest first, a page at a time, with the pending and approved counts of
    the challenges on the page only."""
    statement = (
        select(Challenge)
        .where(~_on_request())
        .order_by(Challenge.created_at.desc(), Challenge.id.desc())
    )
    if status:
        statement = statement.where(Challenge.status == status)
    page = paginate(session, statement, wanted)
    pending = pending_by_challenge(session, [challenge.id for challenge in page.items])
    return replace(
        page,
        items=[
            # `taken` counts pending + approved (kept by submit, reject and withdraw)
            ChallengeRow(c, pending.get(c.id, 0), max(c.taken - pending.get(c.id, 0), 0))
            for c in page.items
        ],
    )


def pending_by_challenge(session: Session, challenge_ids: list[int]) -> dict[int, int]:
    """Pending submissions of the given challenges (read from the status index)."""
    if not challenge_ids:
        return {}
    return dict(
        session.execute(
            select(Submission.challenge_id, func.count())
            .where(
                Submission.status == SubmissionStatus.PENDING,
                Submission.challenge_id.in_(challenge_ids),
            )
            .group_by(Submission.challenge_id)
        ).all()
    )


def _on_request():
    """One advocate's reference call, made when they said yes to a sales request (references):
    its requester confirms it, on the request page; no list of challenges shows it."""
    return (Challenge.type == "reference_call") & Challenge.config[
        CONFIRMED_ON_REQUEST
    ].as_boolean().is_(True)


def _for_review():
    """Pending submissions a reviewer decides."""
    on_request = select(Challenge.id).where(_on_request())
    return (Submission.status == SubmissionStatus.PENDING) & Submission.challenge_id.not_in(
        on_request
    )


def challenge_choices(session: Session) -> list[tuple[int, str]]:
    """Every challenge that can have submissions, by title (no counts: a filter's choices)."""
    rows = session.execute(
        select(Challenge.id, Challenge.title)
        .where(Challenge.status != ChallengeStatus.DRAFT, ~_on_request())
        .order_by(Challenge.title, Challenge.id)
    )
    return [(challenge_id, title) for challenge_id, title in rows]


# what says whether an advocate has left (the "Left the program" badge, templates/challenges)
LEFT_COLUMNS = (User.in_program, User.active, User.left_company_at)


@dataclass
class QueueFilter:
    challenge_id: int | None = None
    type: str = ""
    account: str = ""  # part of the account's name
    older_than_days: int | None = None


def review_queue(session: Session, filters: QueueFilter, wanted: PageRequest) -> Page:
    """Pending submissions, oldest first, a page at a time by (created_at, id), with the
    number pending for the filter."""
    statement = (
        select(Submission)
        .where(_for_review())
        .options(  # what a row of the queue shows, and nothing more per row
            joinedload(Submission.challenge).defer(Challenge.body, raiseload=True),
            joinedload(Submission.advocate).load_only(
                *LEFT_COLUMNS, User.name, User.email, raiseload=True
            ),
            joinedload(Submission.account).load_only(Account.name, raiseload=True),
        )
    )
    if filters.challenge_id:
        statement = statement.where(Submission.challenge_id == filters.challenge_id)
    if filters.type:
        statement = statement.where(Submission.type == filters.type)
    if filters.account:
        named = select(Account.id).where(
            func.lower(Account.name).contains(filters.account.lower(), autoescape=True)
        )
        statement = statement.where(Submission.account_id.in_(named))
    if filters.older_than_days is not None:
        statement = statement.where(
            Submission.created_at <= utcnow() - timedelta(days=filters.older_than_days)
        )
    return paginate_by_key(session, statement, (Submission.created_at, Submission.id), wanted)


def submission_for_review(session: Session, submission_id: int) -> Submission | None:
    """A submission with everything its review page shows, in one query."""
    return session.get(
        Submission,
        submission_id,
        options=[
            joinedload(Submission.challenge),
            joinedload(Submission.advocate),
            joinedload(Submission.account),
            joinedload(Submission.reviewer),
        ],
    )


def pending_count(session: Session, advocate_id: int | None = None) -> int:
    """Submissions waiting for review: everyone's, or one advocate's."""
    if advocate_id is not None:
        mine = Submission.status == SubmissionStatus.PENDING, Submission.advocate_id == advocate_id
        return session.scalar(select(func.count()).where(*mine))
    return session.scalar(select(func.count()).where(_for_review()))


def live_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(Challenge.status == ChallengeStatus.PUBLISHED))


def open_thank_yous(session: Session, wanted: PageRequest) -> Page:
    """Completions not yet thanked, oldest first, a page at a time, with the number owed."""
    statement = (
        select(ThankYou)
        .where(ThankYou.thanked_at.is_(None))
        .options(
            joinedload(ThankYou.submission).joinedload(Submission.advocate),
            joinedload(ThankYou.submission).joinedload(Submission.challenge),
            joinedload(ThankYou.submission).joinedload(Submission.account),
        )
    )
    page = paginate_by_key(
        session, statement, (ThankYou.created_at, ThankYou.id), wanted, count=False
    )
    return replace(page, total=open_count(session))  # the daily counts, not a count(*)


def recently_thanked(session: Session, limit: int = 20) -> list[ThankYou]:
    return list(
        session.scalars(
            select(ThankYou)
            .where(ThankYou.thanked_at.is_not(None))
            .options(
                joinedload(ThankYou.submission).joinedload(Submission.advocate),
                joinedload(ThankYou.submission).joinedload(Submission.challenge),
                joinedload(ThankYou.thanked_by),
            )
            .order_by(ThankYou.thanked_at.desc(), ThankYou.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class NearCap:
    who: User | Account
    asks: int
    cap: int


def advocates_near_cap(session: Session, limit: int, now: datetime | None = None) -> list[NearCap]:
    """Advocates one big ask from their cap, or at it, in the rolling window: the most asked."""
    asks, cap = _near_cap(session, User, now)
    return _who(session, User, session.execute(asks.limit(limit)).all(), cap)


def accounts_near_cap(session: Session, limit: int, now: datetime | None = None) -> list[NearCap]:
    """Accounts one big ask from their cap, or at it, in the rolling window: the most asked."""
    asks, cap = _near_cap(session, Account, now)
    return _who(session, Account, session.execute(asks.limit(limit)).all(), cap)


def near_cap_page(session: Session, wanted: PageRequest, now: datetime | None = None) -> Page:
    """Every advocate near the cap, a page at a time."""
    asks, cap = _near_cap(session, User, now)
    page = paginate(session, asks, wanted)
    return replace(page, items=_who(session, User, page.items, cap))


def _near_cap(session: Session, model: type[User] | type[Account], now: datetime | None):
    """(who_id, asks) of everyone with at least cap - 1 big asks in the window, the most
    asked first, counted from the index of big asks alone; and the cap."""
    settings = program_settings(session)
    if model is User:
        key, cap = Submission.advocate_id, settings.high_effort_per_advocate
    else:
        key, cap = Submission.account_id, settings.high_effort_per_account
    since = (now or utcnow()) - timedelta(days=settings.high_effort_window_days)
    asks = (
        select(key, func.count())
        .where(
            Submission.high_effort, Submission.status.in_(ACTIVE), Submission.created_at >= since
        )
        .group_by(key)
        .having(func.count() >= max(cap - 1, 1))
        .order_by(func.count().desc(), key)
    )
    return asks, cap


def _who(session: Session, model, rows, cap: int) -> list[NearCap]:
    """The advocates (with their accounts) or accounts of a page of counts, in its order."""
    ids = [who_id for who_id, _asks in rows]
    statement = select(model).where(model.id.in_(ids))
    if model is User:
        statement = statement.options(joinedload(User.account))
    found = {who.id: who for who in session.scalars(statement)}
    return [NearCap(found[who_id], asks, cap) for who_id, asks in rows if who_id in found]


def referral_leads(session: Session, wanted: PageRequest) -> Page:
    """Every referral advocates made, newest first, whatever its review status."""
    statement = (
        select(Submission)
        .where(Submission.type == "referral", Submission.challenge_id.is_not(None))
        .options(
            load_only(
                Submission.evidence, Submission.status, Submission.created_at, raiseload=True
            ),
            joinedload(Submission.advocate).load_only(User.name, User.email, raiseload=True),
            joinedload(Submission.account).load_only(Account.name, raiseload=True),
        )
    )
    # no total: counting every referral ever made costs more than the page
    return paginate_by_key(
        session,
        statement,
        (Submission.created_at, Submission.id),
        wanted,
        newest_first=True,
        count=False,
    )


@dataclass(frozen=True)
class GroupRow:
    group: AdvocateGroup
    members: int  # named members; the rules may reach more


def group_list(session: Session, wanted: PageRequest) -> Page:
    """Groups by name, a page at a time, with the named members of the page's groups."""
    page = paginate(session, select(AdvocateGroup).order_by(AdvocateGroup.name), wanted)
    ids = [group.id for group in page.items]
    counts = (
        dict(
            session.execute(
                select(group_members.c.group_id, func.count())
                .where(group_members.c.group_id.in_(ids))
                .group_by(group_members.c.group_id)
            ).all()
        )
        if ids
        else {}
    )
    return replace(page, items=[GroupRow(g, counts.get(g.id, 0)) for g in page.items])


def group_choices(session: Session) -> list[tuple[int, str]]:
    statement = select(AdvocateGroup.id, AdvocateGroup.name).order_by(AdvocateGroup.name)
    rows = session.execute(statement)
    return [(group_id, name) for group_id, name in rows]


def named_members(session: Session, group: AdvocateGroup, wanted: PageRequest) -> Page:
    """The advocates a group names, by email, a page at a time."""
    statement = (
        select(User)
        .join(group_members, group_members.c.user_id == User.id)
        .where(group_members.c.group_id == group.id)
        .options(joinedload(User.account))
        .order_by(User.email)
    )
    return paginate(session, statement, wanted)


def group_reach(group: AdvocateGroup):
    """Who the group reaches, as a condition on User (no join needed): its named members,
    or everyone its rules match (the rule of `AdvocateGroup.includes`)."""
    members = select(group_members.c.user_id).where(group_members.c.group_id == group.id)
    reach = User.id.in_(members)
    rules = group.rules
    if rules:
        matches = [User.job_level == rules["job_level"]] if "job_level" in rules else []
        on_account = [
            func.lower(getattr(Account, name)) == wanted_value.lower()
            for name, wanted_value in rules.items()
            if name != "job_level"
        ]
        if on_account:
            matches.append(User.account_id.in_(select(Account.id).where(*on_account)))
        reach = or_(reach, and_(*matches))
    return reach


def groups_reaching(session: Session, advocate: User) -> list[AdvocateGroup]:
    """The groups that reach this advocate now, by name (a program has a few dozen)."""
    member_of = named_in(session, advocate)
    groups = session.scalars(select(AdvocateGroup).order_by(AdvocateGroup.name))
    return [group for group in groups if group.includes(advocate, member_of)]


def advocates_in(session: Session, group: AdvocateGroup, wanted: PageRequest) -> Page:
    """Who the group reaches now: explicit members plus everyone its rules match."""
    statement = (
        select(User)
        .join(Account, User.account_id == Account.id)
        .where(User.role == Role.ADVOCATE, User.active, group_reach(group))
        .options(contains_eager(User.account))
        .order_by(User.email)
    )
    return paginate(session, statement, wanted)


def type_filter_choices() -> list[tuple[str, str]]:
    return [("", _("All types"))] + [(key, kind.label) for key, kind in REGISTRY.items()]


def segments_in_use(session: Session) -> list[str]:
    """The account segments some account has, by name: a filter's choices."""
    rows = session.scalars(
        select(Account.segment).where(Account.segment != "").distinct().order_by(Account.segment)
    )
    return list(rows)


# --- the advocate's hub: a first-visit path, recent activity, completions by type --------


@dataclass(frozen=True)
class StarterStep:
    challenge: Challenge
    done: bool  # approved
    waiting: bool  # submitted, waiting for review


def starter_path(session: Session, advocate_id: int) -> list[StarterStep]:
    """The published starter challenges, oldest first, each with whether the advocate has
    completed it (or is waiting for review): one query, the cards' columns only."""

    def mine(status):
        return (
            select(Submission.id)
            .where(
                Submission.challenge_id == Challenge.id,
                Submission.advocate_id == advocate_id,
                Submission.status == status,
            )
            .exists()
        )

    rows = session.execute(
        select(Challenge, mine(SubmissionStatus.APPROVED), mine(SubmissionStatus.PENDING))
        .where(Challenge.starter, Challenge.status == ChallengeStatus.PUBLISHED)
        .options(defer(Challenge.body, raiseload=True))
        .order_by(Challenge.published_at, Challenge.id)
    )
    return [StarterStep(challenge, bool(done), bool(waiting)) for challenge, done, waiting in rows]


def recent_submissions(session: Session, advocate_id: int, limit: int = 5) -> list[Submission]:
    """The advocate's newest submissions, with their challenges (the hub's recent activity)."""
    return list(session.scalars(_submissions_of(advocate_id).limit(limit)).unique())


@dataclass(frozen=True)
class TypeCount:
    type: str
    label: str
    completions: int


def completions_by_type(session: Session, advocate_id: int) -> list[TypeCount]:
    """The advocate's approved completions per challenge type, the most first (one GROUP BY)."""
    rows = session.execute(
        select(Submission.type, func.count())
        .where(
            Submission.advocate_id == advocate_id,
            Submission.status == SubmissionStatus.APPROVED,
        )
        .group_by(Submission.type)
        .order_by(func.count().desc(), Submission.type)
    )
    return [TypeCount(key, _type_label(key), count) for key, count in rows]


def _type_label(key: str) -> str:
    """A type's label; a type no longer registered still reads as words."""
    kind = REGISTRY.get(key)
    return kind.label if kind is not None else key.replace("_", " ").capitalize()
