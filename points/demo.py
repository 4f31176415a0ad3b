"""Demo rewards for `flask --app wsgi seed-demo`, and the demo clock that dates the story
(its redemptions and offers are played in challenges.demo, in the order they happened)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from points.demo_images import attach_demo_pictures
from points.models import LevelReached, Reward
from points.rewards import RewardFields, save_reward
from portal.accounts.models import User
from portal.config import Settings
from portal.db import story_clock
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification

REWARDS = [
    RewardFields(
        name="Amazon.com gift card, $25",
        kind="gift_card",
        cost=250,
        money_value=2500,
        currency="USD",
        description="Delivered by email as a code within two working days.",
    ),
    RewardFields(
        name="Vouch hoodie",
        kind="swag",
        cost=400,
        money_value=4500,
        currency="USD",
        stock=40,
        limit_count=1,
        limit_period="year",
        description="Organic cotton, navy, with the advocate logo. Sizes S to XXL: "
        "tell us yours with the address.",
    ),
    RewardFields(
        name="Donate $25 to Doctors Without Borders",
        kind="charity",
        cost=250,
        money_value=2500,
        currency="USD",
        charity_name="Doctors Without Borders",
        description="We donate in your name and send you the receipt.",
    ),
    RewardFields(
        name="Donate €10 to Code Club",
        kind="charity",
        cost=100,
        money_value=1000,
        currency="EUR",
        charity_name="Code Club",
        description="Free coding clubs for children, run by volunteers.",
    ),
    RewardFields(
        name="Dinner with our CEO at Vouch Summit",
        kind="experience",
        cost=2000,
        money_value=15000,
        currency="USD",
        stock=4,
        regions="North America",
        description="Six advocates, one table, no slides.",
    ),
    RewardFields(
        name="Featured in our customer newsletter",
        kind="recognition",
        cost=150,
        description="A short profile of you and your team, approved by you.",
    ),
]


def seed_rewards(
    session: Session, settings: Settings, admin: User, clock: DemoClock
) -> dict[str, Reward]:
    """The catalog, saved a few minutes apart, with its pictures; nothing if rewards exist."""
    if session.scalar(select(func.count()).select_from(Reward)):
        return {}
    rewards = {}
    for fields in REWARDS:
        rewards[fields.name] = save_reward(session, admin, fields)
        clock.tick()
    attach_demo_pictures(session, settings, rewards)
    return rewards


def reward_named(session: Session, name: str) -> Reward:
    return session.scalars(select(Reward).where(Reward.name == name)).one()


# --- the game's history: rows the services write, dated when the demo says they happened ----

DATED_COLUMNS = ("created_at", "reached_at", "awarded_at")


class DemoClock:
    """The moment the demo's story has reached. While `dated_by(session, clock)` is active,
    utcnow() reads `clock.now`, so every row the services write is dated when the story
    says it happened (entries are inserted with their date: the ledger stays append-only)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.session: Session | None = None  # set by dated_by

    def tick(self, minutes: float = 3) -> datetime:
        """Move on a little (no two actions of the story share a minute), once what was done
        is written: rows are dated when they are flushed."""
        if self.session is not None:
            self.session.flush()
        self.now += timedelta(minutes=minutes)
        return self.now


@contextmanager
def dated_by(session: Session, clock: DemoClock):
    def _date_new_rows(session: Session, _context, _instances) -> None:
        for row in session.new:
            for name in DATED_COLUMNS:
                if name in type(row).__mapper__.columns and getattr(row, name) is None:
                    setattr(row, name, clock.now)
            if isinstance(row, OutboxMessage):
                row.next_attempt_at = clock.now

    event.listen(session, "before_flush", _date_new_rows)
    clock.session = session
    try:
        with story_clock(lambda: clock.now):
            yield clock
    finally:
        clock.session = None
        event.remove(session, "before_flush", _date_new_rows)


def close_the_past(session: Session, before: datetime, first_message_id: int) -> None:
    """What had happened by `before` was seen back then: the hub has shown those levels and
    their emails went out (so a fresh `make run` prints only today's mail); a bounced one
    was never delivered."""
    session.execute(
        update(LevelReached)
        .where(LevelReached.reached_at < before, LevelReached.seen_at.is_(None))
        .values(seen_at=LevelReached.reached_at)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id >= first_message_id,
            OutboxMessage.created_at < before,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.bounced_at.is_(None),
        )
        .values(sent_at=OutboxMessage.created_at, attempts=1)
        .execution_options(synchronize_session=False)
    )


def read_by_last_visit(session: Session, visit: timedelta = timedelta(minutes=10)) -> None:
    """Each person has read the notifications that came before or during their last visit."""
    for user_id, last_login in session.execute(
        select(User.id, User.last_login_at).where(User.last_login_at.is_not(None))
    ):
        session.execute(
            update(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.read_at.is_(None),
                Notification.created_at <= last_login + visit,
            )
            .values(read_at=last_login + visit)
            .execution_options(synchronize_session=False)
        )


def next_message_id(session: Session) -> int:
    return (session.scalar(select(func.max(OutboxMessage.id))) or 0) + 1
