"""Demo rewards, redemptions and a gift offer for `flask --app wsgi seed-demo`."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from points import redemptions as flow
from points.models import LevelReached, Redemption, Reward
from points.rewards import RewardFields, save_reward
from portal.accounts.models import User
from portal.accounts.services import find_user_by_email
from portal.config import Settings
from portal.db import utcnow
from portal.mail.models import OutboxMessage

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


def seed_rewards(session: Session, settings: Settings, admin: User, manager: User) -> int:
    """The catalog, redemptions in each state, and an offer; nothing if rewards exist."""
    if session.scalar(select(func.count()).select_from(Reward)):
        return 0
    rewards = {fields.name: save_reward(session, admin, fields) for fields in REWARDS}
    ana = find_user_by_email(session, "ana.ruiz@northwind.example")
    ben = find_user_by_email(session, "ben.okafor@globex.example")
    carla = find_user_by_email(session, "carla.meyer@initech.example")
    if not (ana and ben and carla):
        return len(rewards)

    # two wait past their age limits (3 days to decide, 10 to deliver): each leads its queue
    now = utcnow()
    first_message = next_message_id(session)
    hoodie_at = now - timedelta(days=12, hours=2)
    with dated_by(session, DemoClock(hoodie_at)):
        hoodie = flow.redeem(
            session,
            settings,
            ana,
            rewards["Vouch hoodie"].id,
            "demo-hoodie",
            "Ana Ruiz\n200 Harbor Street\nBoston, MA 02110\nSize M",
            now=hoodie_at,
        )
        session.flush()  # its history is written while the clock says so
    code_club_at = now - timedelta(days=5, hours=3)
    with dated_by(session, DemoClock(code_club_at)):
        code_club = flow.redeem(
            session,
            settings,
            carla,
            rewards["Donate €10 to Code Club"].id,
            "demo-code-club",
            now=code_club_at,
        )
        session.flush()
    # the approval under the threshold came with the request (a transition stamps the clock)
    entered_status_at(session, hoodie, hoodie_at)
    close_the_past(session, now - timedelta(days=1), first_message)
    card = flow.redeem(session, settings, ana, rewards["Amazon.com gift card, $25"].id, "demo-card")
    flow.fulfil_redemption(session, settings, admin, card.id, "AMZN-7Q4K-22XP-9LMT")
    donation = flow.redeem(
        session, settings, ben, rewards["Donate $25 to Doctors Without Borders"].id, "demo-donation"
    )
    flow.fulfil_redemption(session, settings, admin, donation.id, "MSF receipt 2026-118734")
    flow.redeem(
        session, settings, ben, rewards["Featured in our customer newsletter"].id, "demo-newsletter"
    )
    flow.offer_gift(
        session,
        settings,
        manager,
        ana.id,
        rewards["Amazon.com gift card, $25"].id,
        "Thank you for hosting the advisory board, Ana!",
    )
    assert hoodie.status == "approved" and code_club.status == "requested"
    return len(rewards)


def entered_status_at(session: Session, redemption: Redemption, when: datetime) -> None:
    session.execute(
        update(Redemption)
        .where(Redemption.id == redemption.id)
        .values(updated_at=when)
        .execution_options(synchronize_session=False)
    )
    session.refresh(redemption)


# --- the game's history: rows the services write, dated when the demo says they happened ----

DATED_COLUMNS = ("created_at", "reached_at", "awarded_at")


class DemoClock:
    """The moment the demo's history has reached; services stamp rows with utcnow(), so
    while `dated_by(session, clock)` is active every new row is dated at `clock.now`
    instead (entries are inserted with their date: the ledger stays append-only)."""

    def __init__(self, now: datetime) -> None:
        self.now = now


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
    try:
        yield clock
    finally:
        event.remove(session, "before_flush", _date_new_rows)


def close_the_past(session: Session, before: datetime, first_message_id: int) -> None:
    """What had happened by `before` was seen back then: the hub has shown those levels and
    their emails went out (so a fresh `make run` prints only today's mail)."""
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
        )
        .values(sent_at=OutboxMessage.created_at, attempts=1)
        .execution_options(synchronize_session=False)
    )


def next_message_id(session: Session) -> int:
    return (session.scalar(select(func.max(OutboxMessage.id))) or 0) + 1
