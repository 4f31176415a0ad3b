"""Demo data for `flask --app wsgi seed-demo`: realistic accounts, staff and advocates."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges.authoring import program_settings
from challenges.badges import ensure_default_badges
from challenges.demo import SETUP_DAYS, seed_challenges
from points.demo import DemoClock, dated_by, seed_rewards
from points.levels import ensure_default_levels
from portal.accounts.models import GiftPolicy, JobLevel, Role, User
from portal.accounts.passwords import hash_password
from portal.accounts.services import (
    AccountFields,
    create_account,
    create_user,
    find_account_by_name,
    find_user_by_email,
    set_gift_policy,
)
from portal.auth.services import opt_in
from portal.config import Settings
from portal.db import utcnow
from references.demo import plan_references

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - published in the README for the demo


class DemoLogin:
    """One argon2 hash of the demo password for every demo login: hashing each one would
    take half a second apiece."""

    def __init__(self) -> None:
        self._hash: str | None = None

    def create(self, session: Session, email: str, role: Role, account=None, name="") -> User:
        user = create_user(session, email, role, None, account, name)
        self._hash = self._hash or hash_password(DEMO_PASSWORD)
        user.password_hash = self._hash
        return user


STAFF = [
    ("admin@vouch.example", "Alex Admin", Role.ADMIN),
    ("manager@vouch.example", "Maya Patel", Role.MANAGER),
    # sales: they file reference requests (references.demo plays their requests)
    ("sam.rivera@vouch.example", "Sam Rivera", Role.SALES),
    ("priya.shah@vouch.example", "Priya Shah", Role.SALES),
]

ACCOUNTS = [
    # name, industry, segment, region, arr, policy, reason
    ("Northwind Health", "Healthcare", "Enterprise", "North America", 480_000, None, None),
    (
        "Globex Federal",
        "Government",
        "Enterprise",
        "North America",
        1_250_000,
        GiftPolicy.NO_GIFTS,
        "Federal ethics rules: employees may not accept gifts of any value.",
    ),
    (
        "Initech Bank",
        "Financial services",
        "Mid-market",
        "EMEA",
        220_000,
        GiftPolicy.NEEDS_APPROVAL,
        "Compliance reviews every gift over EUR 25; route all through us.",
    ),
    (
        "Umbrella Pharma",
        "Life sciences",
        "Enterprise",
        "APAC",
        760_000,
        GiftPolicy.CHARITY_ONLY,
        "Their code of conduct allows charity donations in their name only.",
    ),
    ("Acme Retail", "Retail", "SMB", "LATAM", 48_000, None, None),
]

# email, name, account, job level, title, state (the story in challenges.demo plays the rest)
ADVOCATES = [
    (
        "ana.ruiz@northwind.example",
        "Ana Ruiz",
        "Northwind Health",
        JobLevel.DIRECTOR,
        "Director of Patient Operations",
        "member",
    ),
    (
        "ben.okafor@globex.example",
        "Ben Okafor",
        "Globex Federal",
        JobLevel.VP,
        "VP, Digital Services",
        "member",
    ),
    (
        "carla.meyer@initech.example",
        "Carla Meyer",
        "Initech Bank",
        JobLevel.MANAGER,
        "Contact Center Manager",
        "declines_gifts",
    ),
    ("dev.sharma@acme.example", "", "Acme Retail", None, "", "invited"),
    (
        "emi.tanaka@umbrella.example",
        "Emi Tanaka",
        "Umbrella Pharma",
        JobLevel.INDIVIDUAL,
        "CX Analyst",
        "left",
    ),
    (
        "marta.gomez@initech.example",
        "Marta Gómez",
        "Initech Bank",
        JobLevel.MANAGER,
        "Responsable de Atención al Cliente",
        "member",
    ),
    (
        "raj.mehta@northwind.example",
        "Raj Mehta",
        "Northwind Health",
        JobLevel.MANAGER,
        "IT Service Manager",
        "member",
    ),
]

# where the named people live: language (None: the browser's) and time zone
HOMES = {
    "admin@vouch.example": (None, "America/New_York"),
    "manager@vouch.example": (None, "America/New_York"),
    "sam.rivera@vouch.example": (None, "America/Chicago"),
    "priya.shah@vouch.example": (None, "Europe/London"),
    "ana.ruiz@northwind.example": (None, "America/New_York"),
    "ben.okafor@globex.example": (None, "America/New_York"),
    "carla.meyer@initech.example": (None, "Europe/Berlin"),
    "emi.tanaka@umbrella.example": (None, "Asia/Tokyo"),
    "marta.gomez@initech.example": ("es", "Europe/Madrid"),
    "raj.mehta@northwind.example": (None, "America/Chicago"),
}
# the roster's time zones by region; every seventh has not logged in since zones came in
REGION_ZONES = {
    "North America": ("America/New_York", "America/Chicago", "America/Los_Angeles"),
    "EMEA": ("Europe/London", "Europe/Berlin", "Europe/Madrid"),
    "APAC": ("Asia/Singapore", "Asia/Tokyo", "Australia/Sydney"),
    "LATAM": ("America/Sao_Paulo", "America/Mexico_City", "America/Bogota"),
}


def seed(session: Session, settings: Settings, only_if_empty: bool = False) -> int:
    """Create whatever demo record is missing; return how many were created. Everything is
    dated along one story: set up some thirteen months ago, a pilot, the launch, today."""
    if only_if_empty and session.scalar(select(func.count()).select_from(User)):
        return 0
    now = utcnow()
    clock = DemoClock(setup_start(now))
    with dated_by(session, clock):
        return _seed(session, settings, clock, now)


def setup_start(now: datetime) -> datetime:
    return (now - timedelta(days=SETUP_DAYS)).replace(hour=13, minute=0, second=0, microsecond=0)


def _seed(session: Session, settings: Settings, clock: DemoClock, now: datetime) -> int:
    created = 0
    logins = DemoLogin()
    staff: dict[str, User] = {}
    for email, name, role in STAFF:
        user = find_user_by_email(session, email)
        if user is None:
            user = logins.create(session, email, role, name=name)
            _home(user)
            created += 1
        staff[email] = user
        clock.tick(45)
    admin, manager = staff["admin@vouch.example"], staff["manager@vouch.example"]

    clock.now = setup_start(now) + timedelta(days=1)
    for name, industry, segment, region, arr, policy, reason in ACCOUNTS:
        if find_account_by_name(session, name):
            continue
        fields = AccountFields(name, industry, segment, region, arr, owner_id=manager.id)
        account = create_account(session, admin, fields)
        if policy is not None:
            clock.tick(4)
            set_gift_policy(session, admin, account.id, policy, reason)
        created += 1
        clock.tick(11)

    for email, name, account_name, level, title, state in ADVOCATES:
        if find_user_by_email(session, email):
            continue
        created += 1
        if state == "invited":
            continue  # invited in the story (challenges.demo), this morning
        account = find_account_by_name(session, account_name)
        user = logins.create(session, email, Role.ADVOCATE, account, name)
        user.job_level, user.title = (level.value if level else None), title
        _home(user)
        opt_in(session, settings, user)  # when they joined is the story's (challenges.demo)
    session.flush()
    created += seed_roster(session, settings, admin, manager, logins, clock)
    # migration 0005 seeds these; a database emptied since (the tests) gets them back
    ensure_default_levels(session)
    ensure_default_badges(session)
    rules = program_settings(session)
    rules.digest_weekday, rules.digest_hour = 0, 9  # Mondays at 9:00, program time
    clock.now = setup_start(now) + timedelta(days=4)
    rewards = seed_rewards(session, settings, admin, clock)
    created += len(rewards)
    return created + seed_challenges(
        session, settings, manager, admin, clock, now, more=plan_references
    )


def _home(user: User, region: str | None = None, n: int = 0) -> None:
    if user.email in HOMES:
        user.locale, user.time_zone = HOMES[user.email]
    elif region in REGION_ZONES and n % 7:
        user.time_zone = REGION_ZONES[region][n % 3]


# The rest of the program, so that lists page and search finds something: 60 more
# customer accounts and their advocates (they log in with the demo password too).
ROSTER_COMPANIES = [
    f"{first} {second}"
    for first in ("Bluewater", "Summit", "Harbor", "Redwood", "Keystone", "Lakeside")
    for second in (
        "Logistics", "Clinics", "Insurance", "Foods", "Energy",
        "Software", "Credit Union", "Hotels", "Telecom", "Schools",
    )
]  # fmt: skip
ROSTER_FIRST = ("Lucia", "Omar", "Priya", "Tom", "Sofia", "Kenji", "Amara", "Jonas", "Wei", "Nora")
ROSTER_LAST = ("Garcia", "Haddad", "Iyer", "Novak", "Rossi", "Sato", "Mensah", "Berg", "Chen")
SEGMENTS = ("Enterprise", "Mid-market", "SMB")
REGIONS = ("North America", "EMEA", "APAC", "LATAM")


def seed_roster(
    session: Session,
    settings: Settings,
    admin: User,
    manager: User,
    logins: DemoLogin,
    clock: DemoClock,
) -> int:
    created = 0
    for n, company in enumerate(ROSTER_COMPANIES):
        clock.tick(17)
        if find_account_by_name(session, company):
            continue
        industry = company.split(" ", 1)[1]
        fields = AccountFields(
            company,
            industry,
            SEGMENTS[n % 3],
            REGIONS[n % 4],
            25_000 + (n * 7_919) % 400_000,
            owner_id=manager.id,
        )
        account = create_account(session, admin, fields)
        created += 1
        for k in range(1 + n % 3):
            first = ROSTER_FIRST[(n + k) % len(ROSTER_FIRST)]
            last = ROSTER_LAST[(n * 3 + k) % len(ROSTER_LAST)]
            domain = company.lower().replace(" ", "")
            email = f"{first}.{last}@{domain}.example".lower()
            user = logins.create(session, email, Role.ADVOCATE, account, f"{first} {last}")
            user.job_level = list(JobLevel)[(n + k) % len(JobLevel)].value
            _home(user, account.region, n + k)
            opt_in(session, settings, user)
            created += 1
    return created
