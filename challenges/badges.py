"""Badge rules: a registry of classes, like challenge types. Each rule says, in one SQL
query, which advocates qualify; the same query decides a live award (for one advocate, in
the transaction of the approval that earns it) and `badges recompute` (for everyone).

Admins switch badges on and off and tune their N; a manager gives a manual badge with a
reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, exists, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from challenges.models import Challenge, ChallengeStatus, Submission, SubmissionStatus
from points.badges import AlreadyEarned, give_badge, held_badge_ids
from points.models import Badge, BadgeAward, FeedEvent, FeedKind
from portal.accounts.models import ConsentRecord, Role, User
from portal.accounts.services import record_audit
from portal.db import refuse_duplicates, utcnow
from portal.errors import DomainError, NotFound
from portal.i18n import _, _l

APPROVAL, VISIT = "approval", "visit"


class BadgeRule:
    key = ""
    label = ""
    default_name = ""
    default_description = ""
    threshold_label = ""  # set when the rule takes an N
    default_threshold: int | None = None
    events: frozenset[str] = frozenset({APPROVAL})

    @property
    def automatic(self) -> bool:
        return bool(self.events)

    def qualifying(self, badge: Badge, now: datetime) -> Select | None:
        """The ids of advocates who qualify (None: the rule never awards by itself)."""
        raise NotImplementedError


def _approved():
    return select(Submission.advocate_id).where(Submission.status == SubmissionStatus.APPROVED)


class FirstCompletion(BadgeRule):
    key, label = "first_completion", _l("First completion")
    default_name = "First step"
    default_description = "Completed a first challenge."

    def qualifying(self, badge, now):
        return _approved().distinct()


class FirstOfType(BadgeRule):
    type_key = ""

    def qualifying(self, badge, now):
        return _approved().where(Submission.type == self.type_key).distinct()


class FirstReview(FirstOfType):
    key, label, type_key = "first_review", _l("First review"), "review"
    default_name = "Reviewer"
    default_description = "Wrote a first review."


class FirstReferenceCall(FirstOfType):
    key, label, type_key = "first_reference_call", _l("First reference call"), "reference_call"
    default_name = "Voice of the customer"
    default_description = "Took a first reference call with a prospect."


class ReferralLead(FirstOfType):
    key, label, type_key = "referral_lead", _l("A referral became a lead"), "referral"
    default_name = "Connector"
    default_description = "Referred a colleague who became a lead."


class Completions(BadgeRule):
    key, label = "completions", _l("N completions")
    default_name = "Regular"
    default_description = "Completed 10 challenges."
    threshold_label, default_threshold = _l("Completions needed"), 10

    def qualifying(self, badge, now):
        return (
            _approved()
            .group_by(Submission.advocate_id)
            .having(func.count() >= (badge.threshold or 1))
        )


class TypesTried(BadgeRule):
    key, label = "types_tried", _l("N challenge types tried")
    default_name = "Explorer"
    default_description = "Completed challenges of 4 different types."
    threshold_label, default_threshold = _l("Types needed"), 4

    def qualifying(self, badge, now):
        return (
            _approved()
            .group_by(Submission.advocate_id)
            .having(func.count(Submission.type.distinct()) >= (badge.threshold or 1))
        )


class YearInProgram(BadgeRule):
    key, label = "year_in_program", _l("A year in the program")
    default_name = "One year strong"
    default_description = "A member of the program for a whole year."
    events = frozenset({APPROVAL, VISIT})

    def qualifying(self, badge, now):
        return select(ConsentRecord.user_id).where(
            ConsentRecord.opted_out_at.is_(None),
            ConsentRecord.opted_in_at <= now - timedelta(days=365),
        )


class StarterPath(BadgeRule):
    key, label = "starter_path", _l("First-visit path completed")
    default_name = "Off to a flying start"
    default_description = "Finished the first-visit path."

    def qualifying(self, badge, now):
        starters = select(Challenge.id).where(
            Challenge.starter, Challenge.status == ChallengeStatus.PUBLISHED
        )
        needed = select(func.count()).select_from(starters.subquery()).scalar_subquery()
        return (
            _approved()
            .where(Submission.challenge_id.in_(starters))
            .group_by(Submission.advocate_id)
            .having(and_(needed > 0, func.count(Submission.challenge_id.distinct()) >= needed))
        )


class Manual(BadgeRule):
    key, label = "manual", "Given by a manager"
    default_name = "Above and beyond"
    default_description = "Recognised by the program team for going above and beyond."
    events = frozenset()

    def qualifying(self, badge, now):
        return None


RULES: dict[str, BadgeRule] = {
    rule.key: rule
    for rule in (
        FirstCompletion(),
        FirstReview(),
        FirstReferenceCall(),
        Completions(),
        TypesTried(),
        YearInProgram(),
        ReferralLead(),
        StarterPath(),
        Manual(),
    )
}


def rule_of(badge: Badge) -> BadgeRule | None:
    return RULES.get(badge.rule)


# --- awarding --------------------------------------------------------------------------


def award_earned(
    session: Session, advocate: User, event: str, now: datetime | None = None
) -> list[Badge]:
    """Give the advocate every switched-on badge the event has just earned them."""
    now = now or utcnow()
    held = held_badge_ids(session, advocate.id)
    given = []
    for badge in session.scalars(select(Badge).where(Badge.enabled).order_by(Badge.id)):
        rule = rule_of(badge)
        if badge.id in held or rule is None or event not in rule.events:
            continue
        query = rule.qualifying(badge, now)
        qualifying = query.where(query.selected_columns[0] == advocate.id)
        if session.scalar(select(exists(qualifying))):
            try:
                give_badge(session, advocate.id, badge)
            except AlreadyEarned:  # a concurrent approval gave it first
                continue
            given.append(badge)
    return given


@dataclass
class Recount:
    added: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.added.values())


def recompute(session: Session, now: datetime | None = None) -> Recount:
    """Give every switched-on badge to everyone who qualifies and lacks it. Idempotent:
    a second run adds nothing."""
    now = now or utcnow()
    report = Recount()
    for badge in session.scalars(select(Badge).where(Badge.enabled).order_by(Badge.id)):
        rule = rule_of(badge)
        if rule is None or not rule.automatic:
            continue
        query = rule.qualifying(badge, now)
        column = query.selected_columns[0]
        members = select(User.id).where(User.role == Role.ADVOCATE)
        missing = query.where(
            column.in_(members),
            ~exists().where(BadgeAward.badge_id == badge.id, BadgeAward.advocate_id == column),
        )
        ids = list(session.scalars(missing))
        if ids:
            report.added[badge.name] = _give_many(session, badge, ids, now)
    return report


def _give_many(session: Session, badge: Badge, ids: list[int], now: datetime) -> int:
    try:
        with session.begin_nested():
            session.execute(
                insert(BadgeAward),
                [{"advocate_id": i, "badge_id": badge.id, "awarded_at": now} for i in ids],
            )
    except IntegrityError:  # someone earned it live meanwhile: one at a time
        given = 0
        for advocate_id in ids:
            try:
                give_badge(session, advocate_id, badge)
                given += 1
            except AlreadyEarned:
                pass
        return given
    session.execute(
        insert(FeedEvent),
        [
            {"advocate_id": i, "kind": FeedKind.BADGE, "subject": badge.name, "created_at": now}
            for i in ids
        ],
    )
    return len(ids)


def give_manual_badge(
    session: Session, manager: User, advocate: User, badge_id: int, reason: str
) -> Badge:
    badge = session.get(Badge, badge_id)
    if badge is None or badge.rule != Manual.key or not badge.enabled:
        raise NotFound(_("There is no such badge to give."), "badge_id")
    if advocate.role != Role.ADVOCATE:
        raise DomainError(_("Only advocates earn badges."))
    if not reason.strip():
        raise DomainError(_("Say why they earned it: they will see it."), "reason")
    give_badge(session, advocate.id, badge, reason.strip(), manager)
    record_audit(
        session,
        manager,
        "badge.give",
        advocate,
        f"Gave {advocate.display_name} the “{badge.name}” badge",
        reason=reason.strip(),
    )
    return badge


# --- admins define the badges ----------------------------------------------------------


@dataclass(frozen=True)
class BadgeFields:
    name: str
    description: str
    rule: str
    threshold: int | None
    enabled: bool


def save_badge(
    session: Session, admin: User, fields: BadgeFields, badge: Badge | None = None
) -> Badge:
    rule = RULES.get(fields.rule)
    if rule is None:
        raise DomainError(_("Choose a rule from the list."), "rule")
    name = fields.name.strip()
    if not name:
        raise DomainError(_("Give the badge a name."), "name")
    taken = session.scalar(
        select(Badge.id).where(
            func.lower(Badge.name) == name.casefold(), Badge.id != (badge.id if badge else 0)
        )
    )
    if taken:
        raise DomainError(_("There is already a badge called “%(name)s”.", name=name), "name")
    threshold = fields.threshold if rule.threshold_label else None
    if rule.threshold_label and not (threshold and 1 <= threshold <= 100_000):
        raise DomainError(
            _("%(what)s: a number from 1 to 100,000.", what=rule.threshold_label), "threshold"
        )
    if badge is None:
        badge = Badge(rule=rule.key)
        session.add(badge)
    elif badge.rule != rule.key:
        raise DomainError(_("A badge keeps its rule; add a new badge for another rule."), "rule")
    badge.name, badge.description = name, fields.description.strip()
    badge.threshold, badge.enabled = threshold, fields.enabled
    with refuse_duplicates(
        session, DomainError(_("Another badge has just taken that name."), "name")
    ):
        session.flush()
    record_audit(
        session,
        admin,
        "badge.save",
        None,
        f"Badge “{name}” ({rule.label}{f', N = {threshold}' if threshold else ''}) "
        f"{'on' if badge.enabled else 'off'}",
    )
    return badge


def ensure_default_badges(session: Session) -> None:
    """One badge per rule, switched on, when the program has none yet."""
    if session.scalar(select(func.count()).select_from(Badge)):
        return
    for rule in RULES.values():
        session.add(
            Badge(
                name=rule.default_name,
                description=rule.default_description,
                rule=rule.key,
                threshold=rule.default_threshold,
            )
        )
    session.flush()
