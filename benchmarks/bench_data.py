"""Benchmark data: `flask --app wsgi bench-data` fills a migrated database with a realistic
program at scale (100k advocates and 10M ledger entries in minutes).

The rows are what the services would have written over two years: accounts of every gift
policy, advocates with their consent, challenges of every type with the config their type
accepts, submissions in every state with the thank-yous owed for them, redemptions in
every state with their history, a few gift offers, audit events, and the ledger behind all
of it (benchmarks/activity.py), then the game it implies (benchmarks/game.py): levels
reached, badges, leaderboard totals and the activity feed. Every balance and period total
is the sum of its entries, so `points reconcile` finds it exact; challenges' `taken`
counts their pending and approved submissions; rewards' stock is what their live
redemptions left.

Rows go in with COPY on PostgreSQL and multi-row inserts on SQLite (benchmarks/bulk.py),
in one transaction: a failed load leaves nothing behind. Passwords are hashed once.
"""

from __future__ import annotations

import random
import re
import secrets
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

import click
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from benchmarks import program as content
from benchmarks.activity import evidence_for, load_activity
from benchmarks.bulk import Batch, BulkWriter
from benchmarks.game import load_game
from benchmarks.plans import (
    DAY,
    HISTORY,
    INVITED,
    LEFT,
    MEMBER,
    AccountPlan,
    BigAsks,
    ChallengePlan,
    Member,
    Person,
    Program,
    RewardPlan,
    Sizes,
    audit,
)
from benchmarks.references import load_references
from challenges.authoring import program_settings
from challenges.models import (
    AdvocateGroup,
    Approval,
    Challenge,
    ChallengeStatus,
    LimitKind,
    ProgramSettings,
    Submission,
    challenge_groups,
)
from challenges.thanks import recount_thanks_by_day
from challenges.types import REGISTRY, REVIEW_SITES
from points.models import GameSettings, GiftOffer, Redemption, Reward, RewardSettings
from points.program import month_starts
from points.rewards import reward_settings
from portal.accounts.models import Account, GiftPolicy, Role, User
from portal.accounts.passwords import hash_password
from portal.config import TERMS_VERSION
from portal.db import utcnow
from portal.migrate import alembic_config

__all__ = ["PASSWORD", "BenchDataError", "Sizes", "load"]

PASSWORD = "bench-password"  # noqa: S105 - every bench login's password, documented
EXPLICIT_IDS = (User, Account, AdvocateGroup, Challenge, Reward, Submission, Redemption, GiftOffer)


class BenchDataError(click.ClickException):
    """Why the loader will not load, for the person who ran it."""


def load(engine: Engine, sizes: Sizes, append: bool = False, seed: int = 2026) -> dict[str, int]:
    """Fill the database, phase by phase; returns the rows written per table."""
    with engine.connect() as connection:
        check_database(connection, append)
    password_hash = hash_password(PASSWORD)  # once: argon2 per user would take hours
    now = utcnow().replace(microsecond=0)
    with engine.begin() as connection:
        writer = BulkWriter(connection)
        zone_name = connection.scalar(select(GameSettings.time_zone)) or "UTC"
        program = Program(
            writer=writer,
            sizes=sizes,
            rng=random.Random(seed),
            now=now,
            password_hash=password_hash,
            next_id={
                model.__tablename__: writer.next_id(model.__table__) for model in EXPLICIT_IDS
            },
            big_asks=big_ask_caps(connection),
            auto_approve_below=connection.scalar(select(RewardSettings.auto_approve_below)) or 500,
            month_start=month_starts(now, now, zone_name)[0],
        )
        with writer.foreign_keys_checked_at_the_end():
            load_staff(program, connection)
            load_accounts(program)
            load_advocates(program, connection)
            read_program(program, connection)
            load_challenges(program)
            if not program.rewards:
                load_rewards(program)
            load_activity(program)
            load_references(program, connection)
            finish(program, connection)
            load_game(program, connection)
    analyze(engine)
    return dict(writer.counts)


def check_database(connection: Connection, append: bool) -> None:
    """Refuse a database that is not migrated, or that holds data (unless appending)."""
    script = ScriptDirectory.from_config(alembic_config(str(connection.engine.url)))
    current = MigrationContext.configure(connection).get_current_revision()
    if current != script.get_current_head():
        raise BenchDataError(
            f"The database is at revision {current or 'none'}, not {script.get_current_head()}: "
            "run `flask --app wsgi db upgrade` first."
        )
    users = connection.scalar(select(func.count()).select_from(User))
    accounts = connection.scalar(select(func.count()).select_from(Account))
    if (users or accounts) and not append:
        raise BenchDataError(
            f"The database already holds data ({users:,} users, {accounts:,} accounts): "
            "bench-data fills an empty database. Pass --append to add another batch to it."
        )


def big_ask_caps(connection: Connection) -> BigAsks:
    caps = connection.execute(
        select(
            ProgramSettings.high_effort_per_advocate,
            ProgramSettings.high_effort_per_account,
            ProgramSettings.high_effort_window_days,
        )
    ).first() or (2, 6, 90)  # the defaults of challenges.models.ProgramSettings
    return BigAsks(caps[0], caps[1], timedelta(days=caps[2]))


def shares(choices: list[tuple]) -> list:
    """A list to draw from: each choice (first item) as often as its share (second)."""
    return [choice[0] for choice in choices for _ in range(round(choice[1] * 100))]


# --- people and accounts ------------------------------------------------------------------


def load_staff(program: Program, connection: Connection) -> None:
    """The bench logins and a few more staff; those already there (--append) are reused."""
    emails = [email for email, _role, _name in content.STAFF]
    found = connection.execute(select(User.email, User.id).where(User.email.in_(emails)))
    existing = {email: user_id for email, user_id in found}
    batch = program.batch()
    joined = program.now - HISTORY - 30 * DAY
    with click.progressbar(content.STAFF, label="staff      ") as bar:
        for email, role, name in bar:
            user_id = existing.get(email)
            if user_id is None:
                user_id = program.take_id("users")
                add_user(program, batch, user_id, email, name, role, None, joined)
            staff = program.admins if role == Role.ADMIN else program.managers
            staff.append(Person(user_id, name))
    batch.flush()


def add_user(program, batch, user_id, email, name, role, account_id, created_at, **more) -> None:
    values = dict(
        id=user_id,
        email=email,
        name=name,
        password_hash=program.password_hash,
        role=role,
        account_id=account_id,
        job_level=None,
        title="",
        active=True,
        session_token=secrets.token_urlsafe(32),
        declines_gifts=False,
        hide_from_leaderboard=False,
        email_digests=True,
        created_at=created_at,
        last_login_at=None,
    )
    batch.add("users", **(values | more))


def load_accounts(program: Program) -> None:
    """Customer companies of every segment, region and gift policy, owned by managers."""
    rng = program.rng
    segments = {segment: (weight, arr) for segment, _share, weight, arr in content.SEGMENTS}
    draw_segment, draw_region = shares(content.SEGMENTS), shares(content.REGIONS)
    draw_policy = shares(content.GIFT_POLICIES)
    batch = program.batch()
    with click.progressbar(range(program.sizes.accounts), label="accounts   ") as bar:
        for number in bar:
            account_id = program.take_id("accounts")
            segment = rng.choice(draw_segment)
            weight, (low, high) = segments[segment]
            account = AccountPlan(
                id=account_id,
                name=f"{rng.choice(content.COMPANY_WORDS)} {rng.choice(content.COMPANY_KINDS)} "
                f"{account_id}",
                # the first account of a load is advocate1's: gifts allowed
                policy=GiftPolicy.ALLOWED if number == 0 else rng.choice(draw_policy),
                segment=segment,
                industry=rng.choice(content.INDUSTRIES),
                region=rng.choice(draw_region),
                weight=weight,
            )
            program.accounts.append(account)
            add_account(program, batch, account, arr=rng.randrange(low, high, 1000))
    batch.flush()


def add_account(program: Program, batch: Batch, account: AccountPlan, arr: int) -> None:
    """The account, its creation and, unless gifts are allowed, its policy change."""
    created = program.now - HISTORY - program.rng.randint(1, 60) * DAY
    setter = set_at = None
    reason = content.POLICY_REASONS.get(account.policy, "")
    if account.policy != GiftPolicy.ALLOWED:
        setter = program.admin()
        set_at = program.between(created, program.now - 90 * DAY)
    batch.add(
        "accounts",
        id=account.id,
        name=account.name,
        industry=account.industry,
        segment=account.segment,
        region=account.region,
        arr=arr,
        owner_id=program.manager().id,
        gift_policy=account.policy,
        gift_policy_reason=reason,
        gift_policy_set_by_id=setter.id if setter else None,
        gift_policy_set_at=set_at,
        created_at=created,
    )
    target = ("account", account.id)
    audit(
        program,
        program.admin(),
        "account.create",
        target,
        f"Created account {account.name}",
        created,
    )
    if setter is None:
        return
    batch.add(
        "gift_policy_changes",
        account_id=account.id,
        from_policy=GiftPolicy.ALLOWED.value,
        to_policy=account.policy,
        reason=reason,
        changed_by_id=setter.id,
        changed_at=set_at,
    )
    summary = f"Gift policy of {account.name}: allowed → {account.policy}"
    audit(
        program,
        setter,
        "account.gift_policy",
        target,
        summary,
        set_at,
        reason=reason,
        from_policy="allowed",
        to_policy=str(account.policy),
    )


def first_advocate_number(connection: Connection) -> int:
    """advocate<N>@bench.example: numbers continue after those already loaded."""
    pattern = re.compile(rf"advocate(\d+)@{re.escape(content.DOMAIN)}")
    emails = connection.scalars(
        select(User.email).where(User.email.like(f"advocate%@{content.DOMAIN}"))
    )
    return max((int(m[1]) for m in map(pattern.fullmatch, emails) if m), default=0) + 1


def load_advocates(program: Program, connection: Connection) -> None:
    """Advocates at the accounts: most opted in, a few who left, a few still invited."""
    rng, now = program.rng, program.now
    first = first_advocate_number(connection)
    placed = rng.choices(
        program.accounts, [a.weight for a in program.accounts], k=program.sizes.advocates
    )
    draw_level = shares(content.JOB_LEVELS)
    batch = program.batch()
    with click.progressbar(range(program.sizes.advocates), label="advocates  ") as bar:
        for index in bar:
            number = first + index
            is_advocate1 = number == 1
            roll = rng.random()
            status = MEMBER if is_advocate1 or roll < 0.93 else LEFT if roll < 0.97 else INVITED
            if status == INVITED:
                joined = now - rng.randint(1, 60) * DAY
            else:
                joined = now - HISTORY * (0.96 if is_advocate1 else 1 - 0.92 * rng.random())
            level = "director" if is_advocate1 else rng.choice(draw_level)
            advocate = Member(
                id=program.take_id("users"),
                email=f"advocate{number}@{content.DOMAIN}",
                name=f"{rng.choice(content.FIRST_NAMES)} {rng.choice(content.LAST_NAMES)}",
                account=program.accounts[0] if is_advocate1 else placed[index],
                job_level=level and str(level),
                status=status,
                joined_at=joined,
                until=program.between(joined + 45 * DAY, now - DAY) if status == LEFT else now,
                declines_gifts=not is_advocate1 and rng.random() < 0.01,
                activity=1.0 if is_advocate1 else rng.gammavariate(2.0, 0.5),
                ledger_weight=1.0 if is_advocate1 else rng.gammavariate(1.5, 1 / 1.5),
                is_advocate1=is_advocate1,
            )
            program.advocates.append(advocate)
            add_advocate(program, batch, advocate)
            if batch.size >= 100_000:
                batch.flush()
    batch.flush()


def add_advocate(program: Program, batch: Batch, advocate: Member) -> None:
    """The login, the invitation it came from and, once they joined, their consent."""
    rng = program.rng
    invited_at = advocate.joined_at - rng.randint(1, 5) * DAY
    inviter = program.manager()
    invited = advocate.status == INVITED
    add_user(
        program,
        batch,
        advocate.id,
        advocate.email,
        advocate.name,
        Role.ADVOCATE,
        advocate.account.id,
        invited_at,
        password_hash=None if invited else program.password_hash,
        job_level=advocate.job_level,
        title=rng.choice(content.TITLES[advocate.job_level]) if advocate.job_level else "",
        declines_gifts=advocate.declines_gifts,
        in_program=advocate.status == MEMBER,
        hide_from_leaderboard=not advocate.is_advocate1 and rng.random() < 0.03,
        email_digests=advocate.is_advocate1 or rng.random() < 0.85,
        last_login_at=None
        if invited
        else program.between(max(advocate.joined_at, advocate.until - 30 * DAY), advocate.until),
        # asked yearly: a few are due to confirm again, never advocate1 (the pages measured)
        profile_confirmed_at=None
        if invited
        else advocate.until - 5 * DAY
        if advocate.is_advocate1
        else program.between(max(advocate.joined_at, advocate.until - 400 * DAY), advocate.until),
        locale="es" if rng.random() < 0.15 else None,
        time_zone=rng.choice(BENCH_ZONES),
    )
    batch.add(
        "invitations",
        user_id=advocate.id,
        invited_by_id=inviter.id,
        created_at=invited_at,
        expires_at=invited_at + 7 * DAY,
        accepted_at=None if invited else advocate.joined_at,
    )
    if rng.random() < 0.02:  # most came in bulk imports; a few were invited one by one
        audit(
            program,
            inviter,
            "user.invite",
            ("user", advocate.id),
            f"Invited {advocate.email} as advocate",
            invited_at,
            account=advocate.account.name,
        )
    if invited:
        return
    batch.add(
        "consent_records",
        user_id=advocate.id,
        terms_version=TERMS_VERSION,
        opted_in_at=advocate.joined_at,
        opted_out_at=advocate.until if advocate.status == LEFT else None,
    )
    add_notifications(program, batch, advocate)
    if advocate.declines_gifts and advocate.account.policy in (
        GiftPolicy.ALLOWED,
        GiftPolicy.NEEDS_APPROVAL,
    ):  # their word, waiting for an admin to set the account's policy
        batch.add(
            "gift_policy_requests",
            account_id=advocate.account.id,
            user_id=advocate.id,
            note="My employer does not allow me to accept gifts.",
            created_at=program.between(advocate.joined_at, advocate.until),
            resolved_at=None,
            resolved_by_id=None,
            resolution="",
        )


# --- the program: groups, challenges, rewards ---------------------------------------------


def read_program(program: Program, connection: Connection) -> None:
    """What is there already (with --append): the groups, the challenges that are or were
    live, and the rewards catalog, so a new batch joins the same program."""
    rule_names = ("segment", "industry", "region", "job_level")
    for group in connection.execute(select(AdvocateGroup.__table__)):
        program.groups[group.id] = {n: getattr(group, n) for n in rule_names if getattr(group, n)}
    targeted = defaultdict(list)
    for challenge_id, group_id in connection.execute(select(challenge_groups)):
        targeted[challenge_id].append(group_id)
    live = select(Challenge.__table__).where(Challenge.status != ChallengeStatus.DRAFT)
    for row in connection.execute(live.order_by(Challenge.id)):
        values = dict(row._mapping)
        program.challenges.append(challenge_plan_of(values, targeted[row.id]))
    for row in connection.execute(select(Reward.__table__).order_by(Reward.id)):
        program.rewards.append(reward_plan_of(dict(row._mapping)))
    if program.sizes.challenges is None:
        program.sizes = replace(program.sizes, challenges=0 if program.challenges else 200)


def challenge_plan_of(values: dict, group_ids: list[int]) -> ChallengePlan:
    kind = REGISTRY[values["type"]]
    return ChallengePlan(
        **{name: values[name] for name in CHALLENGE_FIELDS},
        high_effort=kind.is_high_effort(values["config"]),
        group_ids=group_ids,
        popularity=content.CHALLENGE_MIX.get(values["type"], (0, 1.0))[1],
    )


CHALLENGE_FIELDS = content.words(
    "id type title points status approval limit_kind limit_count limit_period cap taken "
    "starts_at ends_at evidence_required config"
)


def reward_plan_of(values: dict) -> RewardPlan:
    return RewardPlan(
        id=values["id"],
        name=values["name"],
        kind=values["kind"],
        cost=values["cost"],
        money_value=values["money_value"],
        currency=values["currency"],
        stock=values["stock"],
        limit_count=values["limit_count"],
        limit_period=values["limit_period"],
        regions=[region.strip() for region in values["regions"].split(",") if region.strip()],
        starts_at=values["starts_at"],
        ends_at=values["ends_at"],
        active=values["active"],
    )


BENCH_ZONES = (None, "America/New_York", "Europe/London", "Europe/Madrid", "Asia/Singapore")
NOTICES = ("Approved: Write a G2 review", "You are now a Contributor", "New badge: Connector")


def add_notifications(program: Program, batch: Batch, advocate: Member) -> None:
    """What the hub told them: a handful each, the newest few unread."""
    rng = program.rng
    count = rng.randint(2, 8)
    unread = rng.randint(0, min(3, count))
    for index, when in enumerate(sorted(program.between(advocate.joined_at, advocate.until)
                                        for _ in range(count))):  # fmt: skip
        batch.add(
            "notifications",
            user_id=advocate.id,
            topic=rng.choice(("results", "game", "rewards", "thanks")),
            message=rng.choice(NOTICES),
            link="/hub/",
            created_at=when,
            read_at=None if index >= count - unread else when + DAY,
        )


def load_challenges(program: Program) -> None:
    """Groups (on an empty program), then published challenges of every type, and a few
    drafts and archived ones; every config is checked by its type."""
    published = program.sizes.challenges
    if not published:
        return
    batch = program.batch()
    if not program.groups:
        load_groups(program, batch)
    statuses = (
        [ChallengeStatus.PUBLISHED] * published
        + [ChallengeStatus.DRAFT] * max(1, published // 20)
        + [ChallengeStatus.ARCHIVED] * max(1, published // 10)
    )
    types = list(content.CHALLENGE_MIX)
    type_shares = [share for share, _popularity in content.CHALLENGE_MIX.values()]
    with click.progressbar(statuses, label="challenges ") as bar:
        for number, status in enumerate(bar):
            # every type at least once among the published ones, then by their shares
            kind = (
                types[number] if number < len(types) else program.rng.choices(types, type_shares)[0]
            )
            plan = challenge_plan(program, program.take_id("challenges"), kind, status)
            program.challenges.append(plan)
            add_challenge(program, batch, plan)
    batch.flush()


def load_groups(program: Program, batch: Batch) -> None:
    """Groups by rule (segment, region, job level, industry) and one of named members."""
    manager, created = program.manager(), program.now - HISTORY
    named = ("Reference-ready", "Advocates who told us they're happy to talk to prospects.", {})
    for name, description, rules in [*content.GROUPS, named]:
        group_id = program.take_id("advocate_groups")
        program.groups[group_id] = rules
        batch.add(
            "advocate_groups",
            id=group_id,
            name=name,
            description=description,
            segment=rules.get("segment", ""),
            industry=rules.get("industry", ""),
            region=rules.get("region", ""),
            job_level=rules.get("job_level", ""),
            created_at=created,
        )
        audit(
            program,
            manager,
            "group.save",
            ("advocategroup", group_id),
            f"Saved group “{name}”",
            created,
        )
    members = [a for a in program.advocates if a.status == MEMBER]
    ready = members[: max(10, len(members) // 200)]
    program.group_members[group_id] = {advocate.id for advocate in ready}
    for advocate in ready:
        batch.add("group_members", group_id=group_id, user_id=advocate.id)


def challenge_plan(program: Program, challenge_id: int, kind: str, status: str) -> ChallengePlan:
    """A challenge of this type: its title, points, config, limit, window and cap."""
    rng, now = program.rng, program.now
    topic = rng.choice(content.TOPICS)
    industry = rng.choice(content.INDUSTRIES).lower()
    config, limit = {}, (LimitKind.ONCE, 1, "month")
    if kind == "review":
        site = rng.choice(["g2", "g2", "capterra", "trustradius", "gartner", "other"])
        config = {"review_site": site, "review_domain": "peerspot.com" if site == "other" else ""}
        title = f"Review us on {'PeerSpot' if site == 'other' else REVIEW_SITES[site][0]}"
        points = rng.choice([150, 200, 250, 300])
    elif kind == "webinar":
        speak = rng.random() < 0.25
        code = f"CODE{challenge_id}" if rng.random() < 0.7 else ""
        config = {"event_role": "speak" if speak else "attend", "attendance_code": code}
        title = f"{'Speak at' if speak else 'Join'} our webinar on {topic}"
        points = rng.choice([400, 500, 600] if speak else [40, 50, 75])
    elif kind == "reference_call":
        config = {"arranged_by": program.manager().name}
        title = f"Take a reference call with a {industry} prospect"
        points, limit = rng.choice([300, 400, 500]), (LimitKind.TIMES, 3, "month")
    elif kind in ("case_study", "video"):
        what = "Be featured in a customer story" if kind == "case_study" else "Record a video"
        title, points = f"{what} about {topic}", rng.choice([500, 600, 750, 900])
    elif kind == "social_share":
        config = {"share_url": f"https://vouch.example/blog/{challenge_id}"}
        title, points = f"Share our post on {topic}", rng.choice([20, 30, 40])
        limit = (LimitKind.PER_PERIOD, 1, rng.choice(["week", "month", "month"]))
    elif kind == "referral":
        title, points = f"Refer a peer in {industry}", rng.choice([200, 250, 300])
        limit = (LimitKind.TIMES, 5, "month")
    elif kind == "survey":
        choices = content.SURVEY_CHOICES if rng.random() < 0.6 else ""
        config = {"question": f"What do you think of {topic}?", "choices": choices}
        title, points = f"Quick question: {topic}", rng.choice([10, 20, 25])
    else:  # content
        config = {"content_url": f"https://vouch.example/videos/{challenge_id}"}
        title, points = f"Watch: {topic}", rng.choice([5, 10, 15])
    type_ = REGISTRY[kind]
    config = type_.clean_config(config)
    approval = Approval.AUTO if kind == "review" and rng.random() < 0.3 else type_.default_approval
    if status == ChallengeStatus.DRAFT:
        starts, ends = now + rng.randint(1, 30) * DAY, None
    elif status == ChallengeStatus.ARCHIVED:
        starts = now - HISTORY + rng.randint(0, 300) * DAY
        ends = starts + rng.randint(30, 180) * DAY
    else:
        starts = now - HISTORY + rng.randint(0, 700) * DAY
        ends = now + rng.randint(7, 120) * DAY if rng.random() < 0.25 else None
    capped = status != ChallengeStatus.DRAFT and rng.random() < 0.1
    cap = rng.choice([25, 100, 500, max(50, program.sizes.submissions // 400)]) if capped else None
    targeted = program.groups and status != ChallengeStatus.DRAFT and rng.random() < 0.1
    plan = ChallengePlan(
        id=challenge_id,
        type=kind,
        title=title,
        points=points,
        status=status,
        approval=approval,
        limit_kind=limit[0],
        limit_count=limit[1],
        limit_period=limit[2],
        cap=cap,
        taken=0,
        starts_at=starts,
        ends_at=ends,
        high_effort=type_.is_high_effort(config),
        # a review's required screenshot would need files: bench reviews ask for links only
        evidence_required=kind != "review",
        config=config,
        group_ids=[rng.choice(list(program.groups))] if targeted else [],
        popularity=content.CHALLENGE_MIX[kind][1],
    )
    check_evidence(plan)
    return plan


def check_evidence(plan: ChallengePlan) -> None:
    """The evidence the loader writes for this challenge is what its type accepts."""
    challenge = Challenge(
        type=plan.type, config=plan.config, evidence_required=plan.evidence_required
    )
    sample = evidence_for(random.Random(plan.id), plan, plan.id, confirmed=True)
    sample.pop("rsvp", None)
    REGISTRY[plan.type].clean_evidence(challenge, sample, has_file=False)


def add_challenge(program: Program, batch: Batch, plan: ChallengePlan) -> None:
    author = program.manager()
    created = plan.starts_at - program.rng.randint(1, 10) * DAY
    published = None if plan.status == ChallengeStatus.DRAFT else plan.starts_at
    batch.add(
        "challenges",
        id=plan.id,
        type=plan.type,
        title=plan.title,
        body=f"**{plan.title}.** {REGISTRY[plan.type].summary} Thank you for helping other "
        "customers hear what it's really like.",
        points=plan.points,
        status=plan.status,
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        limit_kind=plan.limit_kind,
        limit_count=plan.limit_count,
        limit_period=plan.limit_period,
        cap=plan.cap,
        taken=0,  # counted as submissions are made; written at the end
        approval=plan.approval,
        evidence_required=plan.evidence_required,
        points_visible=program.rng.random() < 0.95,
        config=plan.config,
        created_by_id=author.id,
        created_at=created,
        updated_at=plan.ends_at if plan.status == ChallengeStatus.ARCHIVED else created,
        published_at=published,
    )
    for group_id in plan.group_ids:
        batch.add("challenge_groups", challenge_id=plan.id, group_id=group_id)
    target = ("challenge", plan.id)
    audit(program, author, "challenge.create", target, f"Drafted “{plan.title}”", created)
    if published:
        audit(program, author, "challenge.publish", target, f"Published “{plan.title}”", published)


def load_rewards(program: Program) -> None:
    """The catalog: about a dozen rewards of every kind, some with stock or limits, some
    for one region, two retired."""
    rng = program.rng
    admin = program.admin()
    demand = program.sizes.redemptions / len(content.REWARDS)  # redemptions of one reward
    batch = program.batch()
    with click.progressbar(list(enumerate(content.REWARDS)), label="rewards    ") as bar:
        for number, spec in bar:
            share = spec.get("stock")  # of the demand: below 1, it ran out
            limit_count, limit_period = spec.get("limit") or (None, "year")
            values = dict(
                id=program.take_id("rewards"),
                name=spec["name"],
                description=content.REWARD_DESCRIPTIONS[spec["kind"]],
                kind=spec["kind"].value,
                cost=spec["cost"],
                money_value=spec["money_value"],
                currency=spec["currency"],
                stock=None if share is None else max(5, int(share * demand)),
                limit_count=limit_count,
                limit_period=limit_period,
                starts_at=None,
                ends_at=None,
                regions=spec.get("regions", ""),
                charity_name=spec.get("charity_name", ""),
                active=number % 29 != 28,
                created_at=program.now - HISTORY - rng.randint(1, 30) * DAY,
            )
            program.rewards.append(reward_plan_of(values))
            batch.add("rewards", **values)
            summary = f"Saved reward “{values['name']}”"
            audit(
                program,
                admin,
                "reward.save",
                ("reward", values["id"]),
                summary,
                values["created_at"],
            )
    batch.flush()


# --- the end ------------------------------------------------------------------------------


def finish(program: Program, connection: Connection) -> None:
    """Counters the rows imply: challenges' places taken, rewards' stock left, the daily
    thank-you counts; and on PostgreSQL, id sequences after the ids the loader gave."""
    stocked = [reward for reward in program.rewards if reward.stock is not None]
    with click.progressbar(
        length=len(program.challenges) + len(stocked) + 1, label="counters   "
    ) as bar:
        for challenge in program.challenges:
            connection.execute(
                update(Challenge).where(Challenge.id == challenge.id).values(taken=challenge.taken)
            )
            bar.update(1)
        for reward in stocked:
            connection.execute(
                update(Reward).where(Reward.id == reward.id).values(stock=reward.stock)
            )
            bar.update(1)
        with Session(connection) as session:
            recount_thanks_by_day(session)
            # the settings rows, as a program that has saved its settings has them
            program_settings(session)
            reward_settings(session)
            session.flush()
        bar.update(1)
    program.audit_log.sort("audit_events", "created_at")
    program.audit_log.flush()
    for model in EXPLICIT_IDS:
        program.writer.bump_sequence(model.__table__)


def analyze(engine: Engine) -> None:
    """PostgreSQL: planner statistics and visibility maps, as a live database has them."""
    if engine.dialect.name != "postgresql":
        return
    tables = inspect(engine).get_table_names()
    autocommit = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with autocommit as connection, click.progressbar(tables, label="analyze    ") as bar:
        for table in bar:
            connection.execute(text(f'VACUUM (ANALYZE) "{table}"'))
