"""Demo data for `flask --app wsgi seed-demo`: realistic accounts, staff and advocates."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges.badges import ensure_default_badges
from challenges.demo import seed_challenges
from points.demo import seed_rewards
from points.levels import ensure_default_levels
from portal.accounts.models import GiftPolicy, JobLevel, Role, User
from portal.accounts.passwords import hash_password
from portal.accounts.services import (
    AccountFields,
    create_account,
    create_user,
    find_account_by_name,
    find_user_by_email,
    set_declines_gifts,
    set_gift_policy,
)
from portal.auth.services import invite_user, opt_in, opt_out
from portal.config import Settings

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

# email, name, account, job level, title, state
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
]


def seed(session: Session, settings: Settings, only_if_empty: bool = False) -> int:
    """Create whatever demo record is missing; return how many were created."""
    if only_if_empty and session.scalar(select(func.count()).select_from(User)):
        return 0
    created = 0
    logins = DemoLogin()
    staff: dict[str, User] = {}
    for email, name, role in STAFF:
        user = find_user_by_email(session, email)
        if user is None:
            user = logins.create(session, email, role, name=name)
            created += 1
        staff[email] = user
    admin, manager = staff["admin@vouch.example"], staff["manager@vouch.example"]

    for name, industry, segment, region, arr, policy, reason in ACCOUNTS:
        if find_account_by_name(session, name):
            continue
        fields = AccountFields(name, industry, segment, region, arr, owner_id=manager.id)
        account = create_account(session, admin, fields)
        if policy is not None:
            set_gift_policy(session, admin, account.id, policy, reason)
        created += 1

    for email, name, account_name, level, title, state in ADVOCATES:
        if find_user_by_email(session, email):
            continue
        account = find_account_by_name(session, account_name)
        created += 1
        if state == "invited":
            invite_user(session, settings, manager, email, Role.ADVOCATE, account)
            continue
        user = logins.create(session, email, Role.ADVOCATE, account, name)
        user.job_level, user.title = (level.value if level else None), title
        opt_in(session, settings, user)
        if state == "declines_gifts":
            set_declines_gifts(session, user, True, "Our compliance team says no gifts at all.")
        if state == "left":
            opt_out(session, user)
    session.flush()
    created += seed_roster(session, settings, admin, manager, logins)
    # migration 0005 seeds these; a database emptied since (the tests) gets them back
    ensure_default_levels(session)
    ensure_default_badges(session)
    created += seed_challenges(session, settings, manager)
    return created + seed_rewards(session, settings, admin, manager)


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
    session: Session, settings: Settings, admin: User, manager: User, logins: DemoLogin
) -> int:
    created = 0
    for n, company in enumerate(ROSTER_COMPANIES):
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
            opt_in(session, settings, user)
            created += 1
    return created
