"""A state machine over the points ledger: random award / redeem / approve / reject / fulfil /
cancel / refund / adjust / convert / gift-policy sequences through the real services.

Every command runs like a request: a fresh session from the app's sessionmaker, the service
call, a commit, or a rollback of a refusal (DomainError). A simple in-memory model predicts
each outcome (which refusal, in the order the code checks), and after every step the
database must agree with it: balances equal the ledger sums, `held` is the open holds,
stock is the initial stock less live reservations, nothing is negative, reconcile() finds
nothing, and a refused command leaves no trace. Runs on SQLite and (with TEST_DATABASE_URL)
PostgreSQL.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from points import redemptions as flow
from points.models import (
    EntrySource,
    LedgerEntry,
    PointsBalance,
    Redemption,
    RedemptionEvent,
    RedemptionStatus,
    Reward,
    RewardKind,
)
from points.redemptions import AlreadyRequested, LimitReached, OutOfStock
from points.rewards import GiftNotAllowed, RewardFields, save_reward
from points.services import InsufficientPoints, adjust, award, reconcile
from portal.accounts.models import Account, GiftPolicy, GiftPolicyChange, Role, User
from portal.accounts.services import set_gift_policy
from portal.auth.services import opt_in
from portal.errors import AlreadyHandled, DomainError, NotFound
from tests.factories import SETTINGS, Factory

S = RedemptionStatus
OPEN = {S.REQUESTED, S.APPROVED}
RESERVING = {S.REQUESTED, S.APPROVED, S.FULFILLED, S.REFUNDED}  # stock stays taken
THRESHOLD = 500  # RewardSettings.auto_approve_below, the default
_keys = itertools.count(1)
# (aim at a redemption the command should succeed on?, which one)
CHOICES = st.tuples(st.booleans(), st.integers(0, 10**6))


@dataclass
class Item:
    """A reward as the model sees it."""

    id: int
    kind: str
    cost: int
    initial_stock: int | None
    limit: int | None

    @property
    def is_gift(self) -> bool:
        return RewardKind(self.kind).is_gift


@dataclass
class Booked:
    """A redemption as the model sees it."""

    who: int  # index of the advocate
    item: str  # name of the reward in the model
    cost: int
    status: str
    key: str
    slotted: bool  # holds a limit slot while not rejected or cancelled


def forbids(policy: str, item: Item) -> bool:
    return item.is_gift and policy in (GiftPolicy.NO_GIFTS, GiftPolicy.CHARITY_ONLY)


def test_random_ledger_sequences_keep_the_books(app):
    maker = app.extensions["vouch.sessionmaker"]

    class Ledger(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.items: dict[str, Item] = {}
            self.booked: dict[int, Booked] = {}
            self.balance = [0, 0]
            self.earned = [0, 0]
            self.policy = [GiftPolicy.ALLOWED, GiftPolicy.ALLOWED]
            with maker() as session:
                make = Factory(session)
                self.admin_id = make.user(Role.ADMIN, password=None).id
                self.advocate_ids, self.account_ids = [], []
                for _ in range(2):  # fresh people each example: examples never interfere
                    user = make.user(Role.ADVOCATE, account=make.account(), password=None)
                    opt_in(session, SETTINGS, user)
                    session.commit()
                    self.advocate_ids.append(user.id)
                    self.account_ids.append(user.account_id)

        # --- setting up the catalog -------------------------------------------------------

        @initialize(
            small_cost=st.integers(1, THRESHOLD - 1),
            small_stock=st.integers(0, 3),
            big_cost=st.integers(THRESHOLD, 1500),
            big_limit=st.integers(1, 2),
            charity_cost=st.integers(1, 900),
            charity_stock=st.none() | st.integers(0, 2),
            start=st.tuples(st.integers(0, 2500), st.integers(0, 2500)),
        )
        def catalog(
            self, small_cost, small_stock, big_cost, big_limit, charity_cost, charity_stock, start
        ):
            """A small gift with little stock, an experience above the auto-approval
            threshold with a yearly limit, a charity donation, and some points to start."""
            specs = {
                "small": RewardFields("Gift card", "gift_card", small_cost, stock=small_stock),
                "big": RewardFields(
                    "Offsite", "experience", big_cost, limit_count=big_limit, limit_period="year"
                ),
                "charity": RewardFields(
                    "Donation", "charity", charity_cost, stock=charity_stock, charity_name="Unicef"
                ),
            }
            with maker() as session:
                admin = session.get(User, self.admin_id)
                for name, fields in specs.items():
                    reward = save_reward(session, admin, fields)
                    session.flush()
                    self.items[name] = Item(
                        reward.id, fields.kind, fields.cost, fields.stock, fields.limit_count
                    )
                session.commit()
            for who, amount in enumerate(start):
                if amount:
                    self.give(who, amount)

        # --- running a command like a request ----------------------------------------------

        def attempt(self, expected: tuple[type, ...] | None, act):
            """Run `act(session)`; a refusal must be `expected` (exact classes) and leave no
            trace, and success must be what the model predicted (expected is None)."""
            before = self.snapshot()
            refusal, result = None, None
            with maker() as session:
                try:
                    done = act(session)
                except DomainError as error:
                    session.rollback()
                    refusal = error
                else:
                    if isinstance(done, Redemption):
                        result = (done.id, done.status)
                    session.commit()
            event(
                f"{sys._getframe(1).f_code.co_name}: {type(refusal).__name__ if refusal else 'ok'}"
            )
            if refusal is not None:
                assert expected is not None, f"refused unexpectedly: {refusal!r}"
                assert type(refusal) in expected, f"{refusal!r}, expected {expected}"
                assert self.snapshot() == before, "a refused command changed the books"
                return None
            assert expected is None, f"should have been refused with {expected}"
            return result

        def user(self, session, who: int) -> User:
            return session.get(User, self.advocate_ids[who])

        def admin(self, session) -> User:
            return session.get(User, self.admin_id)

        def available(self, who: int) -> int:
            return self.balance[who] - self.held(who)

        def held(self, who: int) -> int:
            return sum(b.cost for b in self.booked.values() if b.who == who and b.status in OPEN)

        def pick(self, target: tuple[bool, int], statuses=None) -> tuple[int, Booked]:
            """A redemption by index; when aiming, one in `statuses` (where the command should
            succeed) if there is one, so successes are not left to chance."""
            aim, index = target
            ids = sorted(self.booked)
            if aim and statuses:
                ids = [i for i in ids if self.booked[i].status in statuses] or ids
            chosen = ids[index % len(ids)]
            return chosen, self.booked[chosen]

        def stock_left(self, name: str) -> int | None:
            item = self.items[name]
            if item.initial_stock is None:
                return None
            taken = sum(1 for b in self.booked.values() if b.item == name and b.status in RESERVING)
            return item.initial_stock - taken

        # --- the rules ---------------------------------------------------------------------

        @rule(who=st.integers(0, 1), amount=st.integers(1, 800))
        def award_points(self, who, amount):
            self.give(who, amount)

        def give(self, who: int, amount: int) -> None:
            key = f"stateful:{next(_keys)}"
            self.attempt(
                None,
                lambda s: award(s, self.user(s, who), amount, key, EntrySource.SUBMISSION),
            )
            self.balance[who] += amount
            self.earned[who] += amount

        def expect_redeem(self, who: int, name: str, key: str) -> tuple[type, ...] | None:
            """The refusal redeem() gives, in the order it checks, or None."""
            item = self.items[name]
            if any(b.key == key for b in self.booked.values()):
                return (AlreadyRequested,)  # a repeated form is recognised before any check
            left = self.stock_left(name)
            if left is not None and left < 1:
                return (DomainError, OutOfStock)  # unavailable(), or the conditional UPDATE
            if forbids(self.policy[who], item):
                return (GiftNotAllowed,)
            if item.limit is not None:
                live = [
                    b
                    for b in self.booked.values()
                    if b.who == who and b.item == name and b.slotted
                    if b.status not in (S.REJECTED, S.CANCELLED)
                ]
                if len(live) >= item.limit:
                    return (LimitReached,)
            if self.available(who) < item.cost:
                return (InsufficientPoints,)
            return None

        def do_redeem(self, who: int, name: str, key: str) -> None:
            item = self.items[name]
            expected = self.expect_redeem(who, name, key)
            done = self.attempt(
                expected,
                lambda s: flow.redeem(s, SETTINGS, self.user(s, who), item.id, key),
            )
            if done is None:
                return
            redemption_id, status = done
            small = item.cost < THRESHOLD and self.policy[who] != GiftPolicy.NEEDS_APPROVAL
            assert status == (S.APPROVED if small else S.REQUESTED)
            self.booked[redemption_id] = Booked(
                who, name, item.cost, status, key, slotted=item.limit is not None
            )

        @rule(who=st.integers(0, 1), name=st.sampled_from(["small", "big", "charity"]))
        def redeem(self, who, name):
            self.do_redeem(who, name, f"form-{next(_keys)}")

        @rule(who=st.integers(0, 1), name=st.sampled_from(["small", "big", "charity"]))
        def redeem_another(self, who, name):  # the same again: redemptions twice as likely
            self.do_redeem(who, name, f"form-{next(_keys)}")

        @precondition(lambda self: self.booked)
        @rule(choice=CHOICES)
        def submit_the_same_form_again(self, choice):
            _, booked = self.pick(choice)
            if booked.key.startswith("convert:"):
                return
            self.do_redeem(booked.who, booked.item, booked.key)

        @precondition(lambda self: self.booked)
        @rule(choice=CHOICES)
        def approve(self, choice):
            redemption_id, booked = self.pick(choice, {S.REQUESTED})
            if forbids(self.policy[booked.who], self.items[booked.item]):
                expected = (GiftNotAllowed,)
            elif booked.status != S.REQUESTED:
                expected = (AlreadyHandled,)
            else:
                expected = None
            self.attempt(
                expected,
                lambda s: flow.approve_redemption(s, SETTINGS, self.admin(s), redemption_id),
            )
            if expected is None:
                booked.status = S.APPROVED

        @precondition(lambda self: self.booked)
        @rule(choice=CHOICES)
        def reject(self, choice):
            redemption_id, booked = self.pick(choice, OPEN)
            expected = None if booked.status in OPEN else (AlreadyHandled,)
            self.attempt(
                expected,
                lambda s: flow.reject_redemption(
                    s, SETTINGS, self.admin(s), redemption_id, "Not this quarter"
                ),
            )
            if expected is None:
                booked.status = S.REJECTED

        @precondition(lambda self: self.booked)
        @rule(choice=CHOICES, by=st.sampled_from(["owner", "other", "admin"]))
        def cancel(self, choice, by):
            redemption_id, booked = self.pick(choice, OPEN)
            if by == "other":
                expected = (NotFound,)
            elif booked.status not in OPEN:
                expected = (AlreadyHandled,)
            else:
                expected = None

            def act(s):
                if by == "admin":
                    actor = self.admin(s)
                else:
                    actor = self.user(s, booked.who if by == "owner" else 1 - booked.who)
                return flow.cancel_redemption(s, SETTINGS, actor, redemption_id)

            self.attempt(expected, act)
            if expected is None:
                booked.status = S.CANCELLED

        @precondition(lambda self: self.booked)
        @rule(choice=CHOICES)
        def fulfil(self, choice):
            redemption_id, booked = self.pick(choice, {S.APPROVED})
            if forbids(self.policy[booked.who], self.items[booked.item]):
                expected = (GiftNotAllowed,)
            elif booked.status != S.APPROVED:
                expected = (AlreadyHandled,)
            else:
                expected = None
            self.attempt(
                expected,
                lambda s: flow.fulfil_redemption(s, SETTINGS, self.admin(s), redemption_id, "REF"),
            )
            if expected is None:
                booked.status = S.FULFILLED
                self.balance[booked.who] -= booked.cost

        @precondition(lambda self: self.booked)
        @rule(choice=CHOICES)
        def refund(self, choice):
            redemption_id, booked = self.pick(choice, {S.FULFILLED})
            expected = None if booked.status == S.FULFILLED else (AlreadyHandled,)
            self.attempt(
                expected,
                lambda s: flow.refund_redemption(
                    s, SETTINGS, self.admin(s), redemption_id, "Code did not work"
                ),
            )
            if expected is None:
                booked.status = S.REFUNDED
                self.balance[booked.who] += booked.cost

        @precondition(lambda self: self.booked)
        @rule(choice=CHOICES)
        def convert_to_donation(self, choice):
            redemption_id, booked = self.pick(choice, OPEN)
            charity = self.items["charity"]
            left = self.stock_left("charity")
            if booked.status not in OPEN:
                expected = (AlreadyHandled,)
            elif left is not None and left + (booked.item == "charity") < 1:
                expected = (OutOfStock,)  # after the original's unit went back
            else:
                expected = None
            done = self.attempt(
                expected,
                lambda s: flow.convert_to_donation(
                    s, SETTINGS, self.admin(s), redemption_id, charity.id
                ),
            )
            if done is not None:
                booked.status = S.CANCELLED
                donation_id, status = done
                assert status == S.APPROVED
                self.booked[donation_id] = Booked(
                    booked.who,
                    "charity",
                    booked.cost,
                    S.APPROVED,
                    f"convert:{redemption_id}",
                    slotted=False,
                )

        @rule(who=st.integers(0, 1), amount=st.integers(-900, 900).filter(bool))
        def adjust_balance(self, who, amount):
            if self.balance[who] + amount < self.held(who):
                expected = (InsufficientPoints,)
            else:
                expected = None
            key = f"adjust:{next(_keys)}"
            self.attempt(
                expected,
                lambda s: adjust(s, self.admin(s), self.user(s, who), amount, "Correction", key),
            )
            if expected is None:
                self.balance[who] += amount

        @rule(
            who=st.integers(0, 1),
            policy=st.sampled_from(
                [GiftPolicy.ALLOWED, GiftPolicy.NO_GIFTS, GiftPolicy.NEEDS_APPROVAL]
            ),
        )
        def change_gift_policy(self, who, policy):
            """What the admin view does: the change, then the flags, in one transaction."""
            expected = (DomainError,) if self.policy[who] == policy else None
            account_id = self.account_ids[who]

            def act(s):
                set_gift_policy(s, self.admin(s), account_id, policy, "Compliance review")
                return flow.flag_forbidden(s, account_id)

            self.attempt(expected, act)
            if expected is None:
                self.policy[who] = policy

        # --- what the database must say after every step -----------------------------------

        def snapshot(self):
            """Everything a refused command could have touched."""
            with maker() as s:
                return (
                    s.execute(select(PointsBalance.__table__).order_by("advocate_id")).all(),
                    s.execute(select(Reward.id, Reward.stock).order_by(Reward.id)).all(),
                    s.execute(
                        select(
                            Redemption.id, Redemption.status, Redemption.slot, Redemption.flagged
                        ).order_by(Redemption.id)
                    ).all(),
                    s.execute(select(Account.id, Account.gift_policy).order_by(Account.id)).all(),
                    s.scalar(select(func.count()).select_from(LedgerEntry)),
                    s.scalar(select(func.count()).select_from(RedemptionEvent)),
                    s.scalar(select(func.count()).select_from(GiftPolicyChange)),
                )

        @invariant()
        def books_agree_with_the_model(self):
            if not self.items:
                return
            with maker() as s:
                # every redemption of ours, as the model has it
                rows = s.execute(
                    select(
                        Redemption.id,
                        Redemption.status,
                        Redemption.cost,
                        Redemption.reward_id,
                        Redemption.slot,
                        Redemption.flagged,
                    ).where(Redemption.advocate_id.in_(self.advocate_ids))
                ).all()
                assert {r.id: (r.status, r.cost, r.reward_id) for r in rows} == {
                    i: (b.status, b.cost, self.items[b.item].id) for i, b in self.booked.items()
                }
                for r in rows:
                    booked = self.booked[r.id]
                    holds_slot = booked.slotted and r.status not in (S.REJECTED, S.CANCELLED)
                    assert (r.slot is not None) == holds_slot, (r, booked)
                    if r.status in OPEN:  # flagged exactly when the policy now forbids it
                        forbidden = forbids(self.policy[booked.who], self.items[booked.item])
                        assert bool(r.flagged) == forbidden, (r, self.policy[booked.who])

                for who, advocate_id in enumerate(self.advocate_ids):
                    row = s.execute(
                        select(PointsBalance.__table__).where(
                            PointsBalance.advocate_id == advocate_id
                        )
                    ).one_or_none()
                    balance, held, earned = (
                        (row.balance, row.held, row.lifetime_earned) if row else (0, 0, 0)
                    )
                    sums = s.execute(
                        select(
                            func.coalesce(func.sum(LedgerEntry.amount), 0),
                            func.coalesce(func.sum(LedgerEntry.hold_change), 0),
                        ).where(LedgerEntry.advocate_id == advocate_id)
                    ).one()
                    assert (balance, held) == tuple(sums), "the balance row left the ledger"
                    assert (balance, held, earned) == (
                        self.balance[who],
                        self.held(who),
                        self.earned[who],
                    )
                    assert 0 <= held <= balance

                for name, item in self.items.items():
                    left = s.scalar(select(Reward.stock).where(Reward.id == item.id))
                    assert left == self.stock_left(name), name
                    assert left is None or left >= 0

                policies = dict(
                    s.execute(
                        select(Account.id, Account.gift_policy).where(
                            Account.id.in_(self.account_ids)
                        )
                    ).all()
                )
                assert [policies[a] for a in self.account_ids] == self.policy
                assert reconcile(s) == []

    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
