"""Services for program managers: challenges, the groups they target, program settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from challenges.models import (
    AdvocateGroup,
    Challenge,
    ChallengeStatus,
    LimitKind,
    Period,
    ProgramSettings,
    Submission,
)
from challenges.types import ChallengeType, challenge_type, check_url
from portal import uploads
from portal.accounts.models import JobLevel, Role, User
from portal.accounts.services import normalise_email, record_audit
from portal.config import Settings
from portal.db import get_or_refuse, refuse_duplicates, single_row, utcnow
from portal.errors import AlreadyHandled, DomainError
from portal.i18n import _
from portal.uploads import Upload


@dataclass
class ChallengeFields:
    type: str
    title: str
    body: str = ""
    points: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    limit_kind: str = LimitKind.ONCE
    limit_count: int = 1
    limit_period: str = Period.MONTH
    cap: int | None = None
    approval: str = ""
    evidence_required: bool = True
    points_visible: bool = True
    starter: bool = False  # on the first-visit path
    event_at: datetime | None = None  # an event type's start (aware; stored UTC)
    event_minutes: int | None = None
    join_url: str = ""
    config: dict = field(default_factory=dict)
    group_ids: list[int] = field(default_factory=list)


def get_challenge(session: Session, challenge_id: int) -> Challenge:
    return get_or_refuse(session, Challenge, challenge_id, _("There is no such challenge."))


def create_challenge(session: Session, manager: User, fields: ChallengeFields) -> Challenge:
    challenge = Challenge(created_by_id=manager.id, config={})
    _apply(session, challenge, fields)
    session.add(challenge)
    session.flush()
    record_audit(session, manager, "challenge.create", challenge, f"Drafted “{challenge.title}”")
    return challenge


def update_challenge(
    session: Session, manager: User, challenge_id: int, fields: ChallengeFields
) -> Challenge:
    """Edit at any time; submissions already approved keep the points they were given."""
    challenge = get_challenge(session, challenge_id)
    if fields.type != challenge.type and _has_submissions(session, challenge.id):
        raise DomainError(_("The type can't change once advocates have submitted."), "type")
    if fields.cap is not None and fields.cap < challenge.taken:
        raise DomainError(
            _("%(taken)s places are already taken; the cap can't be lower.", taken=challenge.taken),
            "cap",
        )
    _apply(session, challenge, fields)
    challenge.updated_at = utcnow()
    # the cap check above read `taken` earlier; the CHECK constraint decides a race
    lower_than_taken = DomainError(_("More places were taken meanwhile: raise the cap."), "cap")
    with refuse_duplicates(session, lower_than_taken):
        session.flush()
    record_audit(session, manager, "challenge.update", challenge, f"Edited “{challenge.title}”")
    return challenge


def _has_submissions(session: Session, challenge_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Submission.challenge_id == challenge_id))))


def _apply(session: Session, challenge: Challenge, fields: ChallengeFields) -> None:
    kind = challenge_type(fields.type)
    title = fields.title.strip()
    if not title:
        raise DomainError(_("Give the challenge a title."), "title")
    if fields.points < 0:
        raise DomainError(_("Points can't be negative."), "points")
    # a type with one approval mode leaves nothing to choose
    one_mode = len(kind.approvals) == 1
    approval = kind.default_approval if one_mode or not fields.approval else fields.approval
    if approval not in kind.approvals:
        raise DomainError(_("Choose how submissions are approved."), "approval")
    starts_at = fields.starts_at or challenge.starts_at or utcnow()
    if fields.ends_at is not None and fields.ends_at <= starts_at:
        raise DomainError(_("The end must come after the start."), "ends_at")
    if fields.limit_kind == LimitKind.TIMES and fields.limit_count < 1:
        raise DomainError(_("Allow at least one completion."), "limit_count")
    if fields.starter and (fields.group_ids or fields.ends_at is not None or fields.cap):
        # every new advocate must be able to finish the path (and earn its badge)
        raise DomainError(
            _(
                "A starter challenge is for every advocate and always open: no groups, no end "
                "date and no cap on places."
            ),
            "starter",
        )
    groups = []
    if fields.group_ids:
        groups = list(
            session.scalars(select(AdvocateGroup).where(AdvocateGroup.id.in_(fields.group_ids)))
        )
        if len(groups) != len(set(fields.group_ids)):
            raise DomainError(_("One of those groups no longer exists."), "group_ids")
    event = _event(kind, fields)
    challenge.type = kind.key
    challenge.title = title
    challenge.body = fields.body
    challenge.points = fields.points
    challenge.starts_at = starts_at
    challenge.ends_at = fields.ends_at
    challenge.limit_kind = fields.limit_kind
    challenge.limit_count = fields.limit_count if fields.limit_kind == LimitKind.TIMES else 1
    challenge.limit_period = fields.limit_period
    challenge.cap = fields.cap
    challenge.approval = approval
    challenge.evidence_required = fields.evidence_required
    challenge.points_visible = fields.points_visible
    challenge.starter = fields.starter
    challenge.event_at, challenge.event_minutes, challenge.join_url = event
    challenge.config = kind.clean_config(fields.config)
    challenge.groups = groups


MAX_EVENT_MINUTES = 24 * 60


def _event(kind: ChallengeType, fields: ChallengeFields) -> tuple[datetime | None, int | None, str]:
    """An event type's start, length and join link (https only); other types have none."""
    if not kind.is_event:
        return None, None, ""
    if fields.event_at is None:
        raise DomainError(_("Give the date and time of the event."), "event_at")
    minutes = fields.event_minutes
    if minutes is not None and not 1 <= minutes <= MAX_EVENT_MINUTES:
        raise DomainError(_("An event lasts between 1 minute and 24 hours."), "event_minutes")
    join_url = (fields.join_url or "").strip()
    if join_url:
        check_url(join_url, "join_url")
        if not join_url.lower().startswith("https://") or len(join_url) > 500:
            raise DomainError(
                _("Enter the join link in full, starting with https:// (at most 500 characters)."),
                "join_url",
            )
    return fields.event_at, minutes, join_url


def set_cover_image(
    session: Session, settings: Settings, challenge: Challenge, image: Upload
) -> None:
    """Store the challenge's cover (images only); the old file goes once this commits."""
    try:
        stored = uploads.store(session, settings, image, images_only=True)
    except DomainError as error:
        raise DomainError(error.message, "cover") from None
    remove_cover_image(session, settings, challenge)
    challenge.cover_image_key = stored.key


def remove_cover_image(session: Session, settings: Settings, challenge: Challenge) -> None:
    if challenge.cover_image_key:
        uploads.discard_after_commit(session, settings, challenge.cover_image_key)
    challenge.cover_image_key = None


def _move(
    session: Session, challenge_id: int, to: ChallengeStatus, allowed_from: tuple[str, ...]
) -> Challenge:
    challenge = get_challenge(session, challenge_id)
    values = {"status": to, "updated_at": utcnow()}
    if to == ChallengeStatus.PUBLISHED:
        values["published_at"] = utcnow()
    moved = session.execute(
        update(Challenge)
        .where(Challenge.id == challenge_id, Challenge.status.in_(allowed_from))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(challenge)
    if not moved:
        raise AlreadyHandled(
            _("“%(title)s” is already %(status)s.", title=challenge.title, status=challenge.status)
        )
    return challenge


def publish_challenge(session: Session, manager: User, challenge_id: int) -> Challenge:
    challenge = _move(
        session, challenge_id, ChallengeStatus.PUBLISHED, (ChallengeStatus.DRAFT, "archived")
    )
    record_audit(session, manager, "challenge.publish", challenge, f"Published “{challenge.title}”")
    return challenge


def archive_challenge(session: Session, manager: User, challenge_id: int) -> Challenge:
    challenge = _move(
        session, challenge_id, ChallengeStatus.ARCHIVED, (ChallengeStatus.DRAFT, "published")
    )
    record_audit(session, manager, "challenge.archive", challenge, f"Archived “{challenge.title}”")
    return challenge


def duplicate_challenge(session: Session, manager: User, challenge_id: int) -> Challenge:
    """A draft copy with the same settings and targeting, and no submissions."""
    original = get_challenge(session, challenge_id)
    copy = Challenge(
        type=original.type,
        title=f"Copy of {original.title}"[:200],
        body=original.body,
        points=original.points,
        ends_at=None,
        limit_kind=original.limit_kind,
        limit_count=original.limit_count,
        limit_period=original.limit_period,
        cap=original.cap,
        approval=original.approval,
        evidence_required=original.evidence_required,
        points_visible=original.points_visible,
        starter=original.starter,  # the cover is not copied: each file has one owner
        event_at=original.event_at,
        event_minutes=original.event_minutes,
        join_url=original.join_url,
        config=dict(original.config),
        groups=list(original.groups),
        created_by_id=manager.id,
    )
    session.add(copy)
    session.flush()
    record_audit(
        session, manager, "challenge.duplicate", copy, f"Copied “{original.title}” to a new draft"
    )
    return copy


# --- groups -------------------------------------------------------------------------------


@dataclass
class GroupFields:
    name: str
    description: str = ""
    segment: str = ""
    industry: str = ""
    region: str = ""
    job_level: str = ""
    member_emails: str = ""  # one per line or comma-separated


def get_group(session: Session, group_id: int) -> AdvocateGroup:
    return get_or_refuse(session, AdvocateGroup, group_id, _("There is no such group."))


def save_group(
    session: Session, manager: User, fields: GroupFields, group_id: int | None = None
) -> AdvocateGroup:
    group = get_group(session, group_id) if group_id else AdvocateGroup()
    name = fields.name.strip()
    if not name:
        raise DomainError(_("Give the group a name."), "name")
    if fields.job_level and fields.job_level not in set(JobLevel):
        raise DomainError(_("Choose a job level from the list."), "job_level")
    # no flush until the duplicate-name check below: loading the members would flush a
    # renamed group outside it (a unique-key 500 instead of the message beside the name)
    with session.no_autoflush:
        group.name = name
        group.description = fields.description.strip()
        group.segment = fields.segment.strip()
        group.industry = fields.industry.strip()
        group.region = fields.region.strip()
        group.job_level = fields.job_level
        group.members = _advocates_by_email(session, fields.member_emails)
        if not group.members and not group.rules:
            raise DomainError(
                _("Add members, or at least one rule, so the group has someone in it."),
                "member_emails",
            )
    with refuse_duplicates(session, DomainError(_("A group with that name exists."), "name")):
        session.add(group)
        session.flush()
    record_audit(session, manager, "group.save", group, f"Saved group “{group.name}”")
    return group


def _advocates_by_email(session: Session, text: str) -> list[User]:
    emails = [part for part in text.replace(",", "\n").split() if part.strip()]
    wanted = []
    for raw in emails:
        email = normalise_email(raw)
        if email not in wanted:
            wanted.append(email)
    if not wanted:
        return []
    found = {
        user.email: user
        for user in session.scalars(
            select(User).where(User.email.in_(wanted), User.role == Role.ADVOCATE)
        )
    }
    missing = [email for email in wanted if email not in found]
    if missing:
        raise DomainError(
            _("No advocate has the address %(addresses)s.", addresses=", ".join(missing)),
            "member_emails",
        )
    return [found[email] for email in wanted]


# --- program settings ---------------------------------------------------------------------

DEFAULT_THANK_YOU = (
    "Hi {name},\n\n"
    "Thank you for {what}. Advocates like you are the best thing that happens to our "
    "customers' prospects, and we noticed.\n\n"
    "With gratitude,\n{sender}"
)


def program_settings(session: Session) -> ProgramSettings:
    return single_row(session, ProgramSettings, thank_you_template=DEFAULT_THANK_YOU)


def update_program_settings(
    session: Session,
    manager: User,
    per_advocate: int,
    per_account: int,
    window_days: int,
    thank_you_template: str,
    digest_weekday: int | None = None,
    digest_hour: int | None = None,
) -> ProgramSettings:
    if per_advocate < 1 or per_account < 1 or window_days < 1:
        raise DomainError(_("Caps and the window must be at least 1."))
    if per_account < per_advocate:
        raise DomainError(
            _("The account cap can't be below the advocate cap."), "high_effort_per_account"
        )
    row = program_settings(session)
    row.high_effort_per_advocate = per_advocate
    row.high_effort_per_account = per_account
    row.high_effort_window_days = window_days
    row.thank_you_template = thank_you_template.strip() or DEFAULT_THANK_YOU
    if digest_weekday is not None or digest_hour is not None:  # the weekly digest's time
        weekday = row.digest_weekday if digest_weekday is None else digest_weekday
        hour = row.digest_hour if digest_hour is None else digest_hour
        if not (0 <= weekday <= 6 and 0 <= hour <= 23):
            raise DomainError(_("Choose a day of the week and an hour."), "digest_weekday")
        row.digest_weekday, row.digest_hour = weekday, hour
    row.updated_at = utcnow()
    record_audit(
        session,
        manager,
        "program.settings",
        None,
        f"High-effort caps: {per_advocate} per advocate, {per_account} per account, "
        f"per {window_days} days; weekly digest on day {row.digest_weekday} "
        f"(0 = Monday) at {row.digest_hour:02d}:00",
        digest_weekday=row.digest_weekday,
        digest_hour=row.digest_hour,
    )
    return row
