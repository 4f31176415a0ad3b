"""Factory helpers, so a test reads like the user's steps."""

from __future__ import annotations

import itertools
import re
import tempfile
from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from challenges.authoring import ChallengeFields, create_challenge, publish_challenge
from challenges.models import Challenge, Submission
from challenges.services import submit
from points.models import EntrySource, Redemption, Reward
from points.redemptions import redeem
from points.rewards import RewardFields, save_reward
from points.services import award
from portal.accounts.models import Account, ConsentRecord, GiftPolicy, Role, User
from portal.accounts.services import AccountFields, create_account, create_user, set_gift_policy
from portal.auth.services import opt_in
from portal.config import TERMS_VERSION, Settings
from portal.db import utcnow
from portal.extensions import mail
from portal.mail.services import deliver_due

PASSWORD = "correct-horse-battery"
SETTINGS = Settings(
    secret_key="test-secret-key",
    public_url="http://vouch.test",
    upload_dir=tempfile.mkdtemp(prefix="vouch-uploads-"),
)
_numbers = itertools.count(1)
# the smallest valid PNG: 1x1 transparent pixel
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
)


DEFAULT_CONFIG = {
    "review": {"review_site": "g2"},
    "webinar": {"event_role": "attend", "attendance_code": "BLUE-42"},
    "reference_call": {"arranged_by": "Maya Patel"},
    "social_share": {"share_url": "https://vouch.example/blog/launch"},
    "survey": {"question": "What do you use us for?"},
    "content": {"content_url": "https://vouch.example/guide"},
}

EVIDENCE = {
    "review": {"review_url": "https://www.g2.com/products/vouch/reviews/1", "disclosed": True},
    "webinar": {},
    "reference_call": {"availability": "Tuesdays after 2pm"},
    "case_study": {"notes": "Interviewed with the writer"},
    "video": {"notes": "Recorded a 2 minute clip"},
    "social_share": {"post_url": "https://www.linkedin.com/posts/1"},
    "referral": {"name": "Jo Park", "email": "jo@contoso.example", "company": "Contoso"},
    "survey": {"answer": "Support tickets"},
    "content": {"done": True},
}


class ChallengeFactory:
    def challenge(
        self, type: str = "survey", title: str = "", publish: bool = True, **fields
    ) -> Challenge:
        manager = fields.pop("manager", None) or self.manager()
        config = {**DEFAULT_CONFIG.get(type, {}), **fields.pop("config", {})}
        fields.setdefault("points", 50)
        fields.setdefault("evidence_required", False)
        if type == "webinar":  # an event has a time (a week away unless given)
            fields.setdefault("event_at", utcnow() + timedelta(days=7))
        challenge = create_challenge(
            self.session,
            manager,
            ChallengeFields(
                type=type, title=title or f"{type} {next(_numbers)}", config=config, **fields
            ),
        )
        if publish:
            publish_challenge(self.session, manager, challenge.id)
        self.session.commit()
        return challenge

    def submission(
        self, challenge: Challenge, advocate: User | None = None, **evidence
    ) -> Submission:
        advocate = advocate or self.advocate()
        made = submit(
            self.session,
            SETTINGS,
            advocate,
            challenge.id,
            {**EVIDENCE.get(challenge.type, {}), **evidence},
        )
        self.session.commit()
        return made


class RewardFactory:
    def reward(self, name: str = "", kind: str = "gift_card", cost: int = 100, **fields) -> Reward:
        if kind == "charity":
            fields.setdefault("charity_name", "Doctors Without Borders")
        fields.setdefault("money_value", cost * 10)
        reward = save_reward(
            self.session,
            self.admin(),
            RewardFields(name=name or f"{kind} {next(_numbers)}", kind=kind, cost=cost, **fields),
        )
        self.session.commit()
        return reward

    def points(self, advocate: User, amount: int) -> None:
        """Give an advocate points, as an approved challenge would."""
        award(self.session, advocate, amount, f"test:{next(_numbers)}", EntrySource.SUBMISSION)
        self.session.commit()

    def redemption(self, advocate: User, reward: Reward, **fields) -> Redemption:
        made = redeem(
            self.session, SETTINGS, advocate, reward.id, f"key-{next(_numbers)}", **fields
        )
        self.session.commit()
        return made


class Factory(ChallengeFactory, RewardFactory):
    def __init__(self, session: Session):
        self.session = session

    def account(
        self, name: str | None = None, policy: GiftPolicy | None = None, **fields
    ) -> Account:
        name = name or f"Account {next(_numbers)}"
        account = create_account(self.session, None, AccountFields(name=name, **fields))
        if policy is not None and policy != GiftPolicy.ALLOWED:
            admin = (
                self.session.get(User, fields.get("owner_id")) if fields.get("owner_id") else None
            )
            set_gift_policy(self.session, admin or self.admin(), account.id, policy, "test setup")
        self.session.commit()
        return account

    def user(
        self,
        role: Role,
        email: str | None = None,
        account: Account | None = None,
        name: str = "",
        password: str | None = PASSWORD,
    ) -> User:
        email = email or f"{role}{next(_numbers)}@example.com"
        user = create_user(
            self.session, email, role, password, account, name or email.split("@")[0]
        )
        self.session.commit()
        return user

    def admin(self, email: str | None = None) -> User:
        return self.user(Role.ADMIN, email)

    def manager(self, email: str | None = None) -> User:
        return self.user(Role.MANAGER, email)

    def sales(self, email: str | None = None, name: str = "") -> User:
        return self.user(Role.SALES, email, name=name)

    def advocate(
        self, email: str | None = None, account: Account | None = None, opted_in: bool = True
    ) -> User:
        user = self.user(Role.ADVOCATE, email, account or self.account())
        if opted_in:
            opt_in(self.session, SETTINGS, user)
            self.session.commit()
        return user

    def many_advocates(self, count: int, account: Account | None = None) -> list[User]:
        """Opted-in advocates in bulk (no password: far faster than hashing one each)."""
        account = account or self.account()
        start = next(_numbers)
        users = [
            User(
                email=f"bulk{start}-{n:04d}@example.com",
                name=f"Bulk advocate {n:04d}",
                role=Role.ADVOCATE,
                account_id=account.id,
                in_program=True,
            )
            for n in range(count)
        ]
        self.session.add_all(users)
        self.session.flush()
        self.session.add_all(
            ConsentRecord(user_id=user.id, terms_version=TERMS_VERSION) for user in users
        )
        self.session.commit()
        return users


class Outbox:
    """Runs the real delivery path with Flask-Mail's record_messages capturing the mail."""

    def __init__(self, app: Flask):
        self.app = app

    def deliver(self) -> list:
        from portal.cli import _send_with_flask_mail
        from portal.notifications.services import still_wanted

        with self.app.app_context(), mail.record_messages() as sent:
            deliver_due(
                self.app.extensions["vouch.sessionmaker"],
                _send_with_flask_mail,
                still_wanted=still_wanted,
            )
        return list(sent)


def link_in(body: str) -> str:
    """The first link in an email body, as a path on this site."""
    match = re.search(r"http://vouch\.test(/\S+)", body)
    assert match, f"no link in: {body}"
    return match.group(1)


def client_for(app: Flask, email: str):
    """A fresh browser session logged in as `email`."""
    client = app.test_client()
    login(client, email)
    return client


def login(client, email: str, password: str = PASSWORD, follow: bool = True):
    return client.post(
        "/login", data={"email": email, "password": password}, follow_redirects=follow
    )


# --- the game: approvals, entries at a chosen moment, the books side by side ---------------


def complete(make: Factory, challenge: Challenge, advocate: User, reviewer: User | None = None):
    """The advocate completes the challenge and it is approved (by `reviewer`, or a new
    manager, unless the challenge approves itself); returns the submission."""
    from challenges.models import SubmissionStatus
    from challenges.services import approve

    submission = make.submission(challenge, advocate)
    if submission.status == SubmissionStatus.PENDING:
        approve(make.session, SETTINGS, reviewer or make.manager(), submission.id)
        make.session.commit()
    return submission


def book_at(session: Session, advocate: User, amount: int, when, source=EntrySource.SUBMISSION):
    """An entry booked at `when` exactly as the points services book one now: the entry, the
    balance row, and (for a scored source) the period totals. Not committed."""
    from points import services
    from points.leaderboard import SCORED, add_to_totals
    from points.models import LedgerEntry

    entry = LedgerEntry(
        advocate_id=advocate.id,
        amount=amount,
        source=source,
        idempotency_key=f"at:{next(_numbers)}",
        created_at=when,
    )
    session.add(entry)
    session.flush()
    services._ensure_balance_row(session, advocate.id)
    earned = amount if source == EntrySource.SUBMISSION else 0
    services._change_balance(session, advocate.id, balance=amount, earned=earned)
    if source in SCORED:
        add_to_totals(session, advocate, amount, when)
    return entry


def expire_points(session: Session, advocate: User, amount: int, key: str = ""):
    """Unspent points expire: a ledger entry of source `expiry` and the balance with it."""
    from points import services

    entry = services._book(
        session,
        advocate.id,
        -amount,
        0,
        key or f"expiry:{advocate.id}:{next(_numbers)}",
        EntrySource.EXPIRY,
        None,
        "Expired",
        None,
    )
    services._change_balance(session, advocate.id, balance=-amount)
    return entry


def period_rows(session: Session, advocate_id: int | None = None) -> dict:
    """(advocate, period) -> (points, reached_at, listed), read fresh from the database."""
    from sqlalchemy import select

    from points.models import PeriodTotal

    table = PeriodTotal.__table__
    statement = select(table)
    if advocate_id is not None:
        statement = statement.where(table.c.advocate_id == advocate_id)
    return {
        (row.advocate_id, row.period): (row.points, row.reached_at, row.listed)
        for row in session.execute(statement)
    }
