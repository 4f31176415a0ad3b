"""Redemption races fired at PostgreSQL: service calls released together by a barrier.

Each thread is one request: its own session from the app's sessionmaker, the service call,
a commit on success or a rollback on a refusal (DomainError). Anything else is a failure,
the equivalent of a 500. After every race the books are read afresh and checked: no
negative balance or stock, held within the balance, the ledger reconciled, and exactly the
expected winners and refusals.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text

from points import redemptions as flow
from points.models import (
    EntrySource,
    LedgerEntry,
    PointsBalance,
    Redemption,
    RedemptionEvent,
    RedemptionStatus,
    Reward,
)
from points.services import reconcile
from portal.accounts.models import Account, GiftPolicy, GiftPolicyChange, Role, User
from portal.accounts.services import set_gift_policy
from portal.auth.services import opt_in
from portal.errors import DomainError
from tests.factories import SETTINGS

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("postgres_only")]

S = RedemptionStatus
THREADS = 8
EXPENSIVE = 800  # above the default auto-approval threshold (500): stays `requested`


@dataclass
class Outcome:
    """What one thread got: the service's return value, a refusal, or a failure (a 500)."""

    value: object = None
    refusal: DomainError | None = None
    failure: BaseException | None = None

    @property
    def kind(self) -> str:
        if self.failure is not None:
            return f"FAILURE {type(self.failure).__name__}: {self.failure}"
        if self.refusal is not None:
            return type(self.refusal).__name__
        return "ok"


def race(app, calls, delays=None) -> list[Outcome]:
    """Run every `(prepare, act)` in its own thread and session, released by one barrier.

    `prepare(session)` loads what a request loads first (the user); `act(session, loaded)`
    returns what it made (its id is kept) or raises. `delays` (seconds, one per call) hold
    a thread back after the barrier, so both orders of a two-way race turn up.
    """
    maker = app.extensions["vouch.sessionmaker"]
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome(failure=RuntimeError("thread never finished")) for _ in calls]

    def fire(i: int) -> None:
        session = maker()
        try:
            prepare, act = calls[i]
            loaded = prepare(session)  # e.g. the logged-in user, as a request loads it first
            barrier.wait(timeout=30)
            if delays and delays[i]:
                time.sleep(delays[i])
            try:
                value = act(session, loaded)
                value = getattr(value, "id", value)
                session.commit()
                outcomes[i] = Outcome(value=value)
            except DomainError as refusal:
                session.rollback()
                outcomes[i] = Outcome(refusal=refusal)
        except BaseException as failure:  # noqa: BLE001 - anything else is a 500
            session.rollback()
            outcomes[i] = Outcome(failure=failure)
        finally:
            session.close()

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (a deadlock?)"
    return outcomes


def user(user_id: int):
    """A `prepare` step: load the acting user in the thread's own session."""
    return lambda session: session.get(User, user_id)


def kinds(outcomes: list[Outcome]) -> Counter:
    return Counter(outcome.kind for outcome in outcomes)


def winners(outcomes: list[Outcome]) -> list[Outcome]:
    return [outcome for outcome in outcomes if outcome.kind == "ok"]


# --- reading the books afresh -------------------------------------------------------------


def advocate(make) -> User:
    """An opted-in advocate with an account of their own, and no password (no argon2)."""
    user = make.user(Role.ADVOCATE, account=make.account(), password=None)
    opt_in(make.session, SETTINGS, user)
    make.session.commit()
    return user


def admin(make) -> User:
    return make.user(Role.ADMIN, password=None)


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def balance_row(session, advocate_id: int) -> tuple[int, int]:
    row = session.execute(
        select(PointsBalance.balance, PointsBalance.held).where(
            PointsBalance.advocate_id == advocate_id
        )
    ).one()
    return row.balance, row.held


def stock(session, reward_id: int) -> int | None:
    return session.scalar(select(Reward.stock).where(Reward.id == reward_id))


def status_of(session, redemption_id: int) -> str:
    return session.scalar(select(Redemption.status).where(Redemption.id == redemption_id))


def events_of(session, redemption_id: int) -> list[RedemptionEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(RedemptionEvent)
            .where(RedemptionEvent.redemption_id == redemption_id)
            .order_by(RedemptionEvent.id)
        )
    )


def settle_entries(session, redemption_id: int) -> list[LedgerEntry]:
    session.expire_all()
    return list(
        session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.idempotency_key == f"redemption:{redemption_id}:settle"
            )
        )
    )


def check_books(session) -> None:
    """The invariants of DESIGN.md, over every balance and reward in the database."""
    session.expire_all()
    for row in session.execute(select(PointsBalance.__table__)):
        assert row.balance >= 0, row
        assert 0 <= row.held <= row.balance, row
        open_costs = session.scalar(
            select(func.coalesce(func.sum(Redemption.cost), 0)).where(
                Redemption.advocate_id == row.advocate_id, Redemption.status.in_(flow.OPEN)
            )
        )
        assert row.held == open_costs, f"held {row.held} but open redemptions cost {open_costs}"
    for left in session.scalars(select(Reward.stock)):
        assert left is None or left >= 0
    assert reconcile(session) == []


def check_event_chain(session, redemption_id: int) -> None:
    """The events tell the story in order: each one starts where the one before ended."""
    events = events_of(session, redemption_id)
    story = [(e.from_status, e.to_status) for e in events]
    before = ""
    for from_status, to_status in story:
        assert from_status == before, f"redemption #{redemption_id} history is wrong: {story}"
        before = to_status
    assert before == status_of(session, redemption_id), story


# --- a. spending more than the balance ----------------------------------------------------


def test_eight_redemptions_against_a_balance_for_three_hold_three(app, make, session):
    spender = advocate(make)
    make.points(spender, 300)
    reward = make.reward("Coffee card", cost=100)  # unlimited stock, approved at once

    outcomes = race(
        app,
        [
            (
                user(spender.id),
                lambda s, me, i=i: flow.redeem(s, SETTINGS, me, reward.id, f"spend-{i}"),
            )
            for i in range(THREADS)
        ],
    )

    assert kinds(outcomes) == {"ok": 3, "InsufficientPoints": 5}, kinds(outcomes)
    assert balance_row(session, spender.id) == (300, 300)
    assert count(session, Redemption, Redemption.advocate_id == spender.id) == 3
    assert (
        count(
            session,
            LedgerEntry,
            LedgerEntry.advocate_id == spender.id,
            LedgerEntry.source == EntrySource.REDEMPTION_HOLD,
        )
        == 3
    )
    for outcome in winners(outcomes):
        assert status_of(session, outcome.value) == S.APPROVED
    check_books(session)


# --- b. the last units of stock -----------------------------------------------------------


def test_eight_advocates_racing_for_the_last_two_units_get_two(app, make, session):
    crowd = [advocate(make) for _ in range(THREADS)]
    for person in crowd:
        make.points(person, 500)
    reward = make.reward("Headphones", cost=200, stock=2)

    outcomes = race(
        app,
        [
            (
                user(person.id),
                lambda s, me, i=i: flow.redeem(s, SETTINGS, me, reward.id, f"last-{i}"),
            )
            for i, person in enumerate(crowd)
        ],
    )

    got = kinds(outcomes)
    assert got["ok"] == 2, got
    # the losers are told it is out of stock: OutOfStock when they lost at the conditional
    # UPDATE, or a plain DomainError when they read the reward after a winner committed
    losers = [outcome for outcome in outcomes if outcome.kind != "ok"]
    assert len(losers) == THREADS - 2
    for loser in losers:
        assert loser.refusal is not None, loser.kind
        assert isinstance(loser.refusal, DomainError)
        assert loser.refusal.message.endswith("is out of stock."), loser.refusal.message
    assert stock(session, reward.id) == 0
    assert count(session, Redemption, Redemption.reward_id == reward.id) == 2
    for person in crowd:
        expected = (
            (500, 200)
            if count(session, Redemption, Redemption.advocate_id == person.id)
            else (500, 0)
        )
        assert balance_row(session, person.id) == expected
    check_books(session)


# --- c. a limit of one a year -------------------------------------------------------------


def test_eight_requests_for_a_once_a_year_reward_make_one(app, make, session):
    spender = advocate(make)
    make.points(spender, 5000)
    reward = make.reward("Conference pass", cost=100, limit_count=1, limit_period="year")

    outcomes = race(
        app,
        [
            (
                user(spender.id),
                lambda s, me, i=i: flow.redeem(s, SETTINGS, me, reward.id, f"limit-{i}"),
            )
            for i in range(THREADS)
        ],
    )

    assert kinds(outcomes) == {"ok": 1, "LimitReached": THREADS - 1}, kinds(outcomes)
    assert count(session, Redemption, Redemption.reward_id == reward.id) == 1
    assert balance_row(session, spender.id) == (5000, 100)
    check_books(session)


# --- d. a double click --------------------------------------------------------------------


def test_six_submissions_of_one_form_book_one_redemption(app, make, session):
    spender = advocate(make)
    make.points(spender, 1000)
    reward = make.reward("Sticker pack", cost=150, stock=10)

    outcomes = race(
        app,
        [
            (
                user(spender.id),
                lambda s, me: flow.redeem(s, SETTINGS, me, reward.id, "the-same-form"),
            )
            for _ in range(6)
        ],
    )

    assert kinds(outcomes) == {"ok": 1, "AlreadyRequested": 5}, kinds(outcomes)
    [redemption_id] = session.scalars(
        select(Redemption.id).where(Redemption.request_key == "the-same-form")
    ).all()
    assert winners(outcomes)[0].value == redemption_id
    assert count(session, LedgerEntry, LedgerEntry.source_id == redemption_id) == 1  # one hold
    assert balance_row(session, spender.id) == (1000, 150)
    assert stock(session, reward.id) == 9
    check_event_chain(session, redemption_id)
    check_books(session)


# --- e. two admins (or the advocate) deciding one redemption at once --------------------

# (first thread's delay, second thread's delay) in seconds after the barrier. Left alone,
# the side with less work before its first lock nearly always wins; holding it back a
# few milliseconds makes the other order turn up too (measured on a 2-core machine).
APPROVE_CANCEL = [(0, 0), (0.002, 0), (0, 0.002), (0, 0.004), (0, 0.006), (0, 0.01)]
FULFIL_CANCEL = [(0, 0), (0.002, 0), (0, 0.004), (0, 0.008), (0, 0.012), (0, 0.02)]
POLICY_FULFIL = [(0, 0), (0, 0.002), (0.004, 0), (0.008, 0), (0.012, 0), (0.02, 0)]


@pytest.mark.parametrize("delays", APPROVE_CANCEL)
def test_approve_racing_cancel_cancels_once(app, make, session, delays):
    """Cancelling is allowed from `requested` and from `approved`, so the serial orders are
    approve-then-cancel (both succeed) and cancel-then-approve (approve refused). Either way
    the redemption ends cancelled, with its hold voided and its stock released once."""
    spender = advocate(make)
    make.points(spender, 1000)
    reward = make.reward("Team offsite", cost=EXPENSIVE, stock=3)
    redemption = make.redemption(spender, reward)
    assert redemption.status == S.REQUESTED
    approver = admin(make)
    approve = (
        user(approver.id),
        lambda s, me: flow.approve_redemption(s, SETTINGS, me, redemption.id),
    )
    cancel = (
        user(spender.id),
        lambda s, me: flow.cancel_redemption(s, SETTINGS, me, redemption.id, "Changed my mind"),
    )

    approved, cancelled = race(app, [approve, cancel], delays)

    assert cancelled.kind == "ok", cancelled.kind
    assert approved.kind in ("ok", "AlreadyHandled"), approved.kind
    assert status_of(session, redemption.id) == S.CANCELLED
    [void] = settle_entries(session, redemption.id)
    assert (void.source, void.amount, void.hold_change) == (
        EntrySource.REDEMPTION_VOID,
        0,
        -EXPENSIVE,
    )
    assert stock(session, reward.id) == 3  # reserved once, released once
    assert balance_row(session, spender.id) == (1000, 0)
    transitions = [event.to_status for event in events_of(session, redemption.id)]
    if approved.kind == "ok":
        assert transitions == [S.REQUESTED, S.APPROVED, S.CANCELLED]
    else:
        assert transitions == [S.REQUESTED, S.CANCELLED]
    check_books(session)
    check_event_chain(session, redemption.id)


def wait_until_blocked(session, timeout: float = 10) -> None:
    """Until some other connection to this database waits on a row lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        session.rollback()
        if waiting:
            return
        time.sleep(0.005)
    raise AssertionError("the second transaction never waited for the first")


def test_a_cancel_that_waited_for_an_approval_records_where_it_started(app, make, session):
    """The same race as above, in the one order that shows it, without timing luck.

    The approval's UPDATE is done but not committed; the cancellation reads the redemption
    (still `requested` to it), then waits at its own UPDATE for the approval's row lock.
    Once the approval commits, the cancellation's `status IN ('requested', 'approved')`
    still matches, so it goes ahead: its event must say approved -> cancelled.
    """
    spender = advocate(make)
    make.points(spender, 1000)
    reward = make.reward("Team offsite", cost=EXPENSIVE, stock=3)
    redemption = make.redemption(spender, reward)
    approver = admin(make)
    maker = app.extensions["vouch.sessionmaker"]
    first = maker()
    flow.approve_redemption(first, SETTINGS, first.get(User, approver.id), redemption.id)

    [cancelled] = race(
        app,
        [
            (
                lambda s: (s.get(User, spender.id), wait_then_commit(first, session)),
                lambda s, loaded: flow.cancel_redemption(
                    s, SETTINGS, loaded[0], redemption.id, "Changed my mind"
                ),
            )
        ],
    )
    first.close()

    assert cancelled.kind == "ok", cancelled.kind
    assert status_of(session, redemption.id) == S.CANCELLED
    check_books(session)
    check_event_chain(session, redemption.id)


def wait_then_commit(first, watcher) -> None:
    """Commit `first` from another thread once the calling transaction is stuck behind it."""

    def later():
        try:
            wait_until_blocked(watcher)
        finally:
            first.commit()

    threading.Thread(target=later, daemon=True).start()


@pytest.mark.parametrize("delays", FULFIL_CANCEL)
def test_fulfil_racing_cancel_has_one_winner(app, make, session, delays):
    """From `approved`, fulfilment and cancellation exclude each other: exactly one wins."""
    spender = advocate(make)
    make.points(spender, 1000)
    reward = make.reward("Gift card", cost=300, stock=3)
    redemption = make.redemption(spender, reward)
    assert redemption.status == S.APPROVED
    fulfiller, canceller = admin(make), admin(make)
    fulfil = (
        user(fulfiller.id),
        lambda s, me: flow.fulfil_redemption(s, SETTINGS, me, redemption.id, "CODE-1"),
    )
    cancel = (
        user(canceller.id),
        lambda s, me: flow.cancel_redemption(s, SETTINGS, me, redemption.id, "Duplicate"),
    )

    outcomes = race(app, [fulfil, cancel], delays)

    assert sorted(kinds(outcomes).elements()) == ["AlreadyHandled", "ok"], kinds(outcomes)
    [settled] = settle_entries(session, redemption.id)
    if status_of(session, redemption.id) == S.FULFILLED:
        assert outcomes[0].kind == "ok"
        assert settled.source == EntrySource.REDEMPTION_POST
        assert stock(session, reward.id) == 2
        assert balance_row(session, spender.id) == (700, 0)
    else:
        assert outcomes[1].kind == "ok"
        assert status_of(session, redemption.id) == S.CANCELLED
        assert settled.source == EntrySource.REDEMPTION_VOID
        assert stock(session, reward.id) == 3
        assert balance_row(session, spender.id) == (1000, 0)
    check_books(session)
    check_event_chain(session, redemption.id)


# --- f. a no-gifts policy arriving while a gift is fulfilled ------------------------------


def change_policy_to_no_gifts(session, me, account_id: int):
    """What the admin view does: the policy change, then the flags, under one account lock."""
    change = set_gift_policy(session, me, account_id, GiftPolicy.NO_GIFTS, "Compliance says no")
    flow.flag_forbidden(session, account_id)
    return change


@pytest.mark.parametrize("delays", POLICY_FULFIL)
def test_no_gifts_policy_racing_fulfilment_never_delivers_a_forbidden_gift(
    app, make, session, delays
):
    spender = advocate(make)
    make.points(spender, 1000)
    reward = make.reward("Amazon $50", kind="gift_card", cost=400, stock=5)
    redemption = make.redemption(spender, reward)
    assert redemption.status == S.APPROVED
    policy_admin, fulfiller = admin(make), admin(make)
    account_id = spender.account_id
    policy = (
        user(policy_admin.id),
        lambda s, me: change_policy_to_no_gifts(s, me, account_id),
    )
    fulfil = (
        user(fulfiller.id),
        lambda s, me: flow.fulfil_redemption(s, SETTINGS, me, redemption.id, "GIFT-CODE"),
    )

    policy_outcome, fulfil_outcome = race(app, [policy, fulfil], delays)

    assert policy_outcome.kind == "ok", policy_outcome.kind  # a policy change always lands
    assert fulfil_outcome.kind in ("ok", "GiftNotAllowed"), fulfil_outcome.kind
    session.expire_all()
    assert session.get(Account, account_id).gift_policy == GiftPolicy.NO_GIFTS
    [change] = session.scalars(
        select(GiftPolicyChange).where(GiftPolicyChange.account_id == account_id)
    ).all()
    final = session.get(Redemption, redemption.id)
    fulfilments = [e for e in events_of(session, redemption.id) if e.to_status == S.FULFILLED]
    if final.status == S.FULFILLED:
        # delivered before the policy changed: the fulfilment committed first
        assert fulfil_outcome.kind == "ok"
        [fulfilled] = fulfilments
        assert fulfilled.created_at < change.changed_at, (fulfilled.created_at, change.changed_at)
        assert final.flagged == ""  # no longer open when the flags were set
        assert balance_row(session, spender.id) == (600, 0)
    else:
        # refused: the policy was already no_gifts, and the open gift is flagged for an admin
        assert final.status == S.APPROVED
        assert fulfil_outcome.kind == "GiftNotAllowed"
        assert "does not allow its people to accept gifts" in fulfil_outcome.refusal.message
        assert fulfilments == []
        assert final.flagged != ""
        assert balance_row(session, spender.id) == (1000, 400)
    check_books(session)
    check_event_chain(session, redemption.id)
