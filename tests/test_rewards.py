"""Redemptions: points held and stock reserved at once, gift policies at every step."""

import pytest
from sqlalchemy import func, select

from points import redemptions as flow
from points.models import LedgerEntry, Redemption
from points.rewards import GiftNotAllowed, catalog_for
from points.services import InsufficientPoints, adjust, balance_of, reconcile
from portal.accounts.models import GiftPolicy
from portal.accounts.services import set_gift_policy
from tests.factories import SETTINGS


def _balance(session, advocate):
    session.expire_all()
    return balance_of(session, advocate.id)


def test_a_redemption_holds_then_spends_the_points(make, session):
    advocate = make.advocate()
    make.points(advocate, 500)
    reward = make.reward("Amazon $25", cost=300, stock=2)
    redemption = make.redemption(advocate, reward)
    assert redemption.status == "approved"  # under the auto-approval threshold
    held = _balance(session, advocate)
    assert (held.balance, held.held, held.available) == (500, 300, 200)
    session.refresh(reward)
    assert reward.stock == 1
    admin = make.admin()
    flow.fulfil_redemption(session, SETTINGS, admin, redemption.id, "CODE-123")
    session.commit()
    spent = _balance(session, advocate)
    assert (spent.balance, spent.held, spent.lifetime_earned) == (200, 0, 500)
    assert reconcile(session) == []


def test_insufficient_points_out_of_stock_and_policy_refusals(make, session):
    advocate = make.advocate(account=make.account("Globex", GiftPolicy.NO_GIFTS))
    make.points(advocate, 100)
    gift = make.reward("Hoodie", kind="swag", cost=50)
    donation = make.reward("Donate", kind="charity", cost=500)
    with pytest.raises(GiftNotAllowed, match="does not allow its people to accept gifts"):
        make.redemption(advocate, gift, shipping_address="1 Main St, Springfield")
    session.rollback()
    with pytest.raises(InsufficientPoints, match="costs 500 points and you have 100"):
        make.redemption(advocate, donation)
    session.rollback()
    assert [r.name for r in catalog_for(session, advocate)] == ["Donate"]
    assert session.scalar(select(func.count()).select_from(Redemption)) == 0
    assert reconcile(session) == []


def test_policy_change_flags_and_fulfilment_is_refused(make, session):
    account = make.account("Initech")
    advocate = make.advocate(account=account)
    make.points(advocate, 1000)
    redemption = make.redemption(advocate, make.reward("Gift card", cost=200))
    admin = make.admin()
    set_gift_policy(session, admin, account.id, GiftPolicy.NO_GIFTS, "Compliance")
    assert flow.flag_forbidden(session, account.id) == 1
    session.commit()
    with pytest.raises(GiftNotAllowed, match="Convert it to a donation"):
        flow.fulfil_redemption(session, SETTINGS, admin, redemption.id, "CODE")
    session.rollback()
    charity = make.reward("Red Cross", kind="charity", cost=150)
    donation = flow.convert_to_donation(session, SETTINGS, admin, redemption.id, charity.id)
    session.commit()
    assert (donation.status, donation.cost) == ("approved", 200)
    assert _balance(session, advocate).held == 200
    assert reconcile(session) == []


def test_adjustment_never_goes_below_what_is_held_and_reconcile_finds_drift(make, session):
    advocate = make.advocate()
    make.points(advocate, 300)
    make.redemption(advocate, make.reward(cost=250))
    admin = make.admin()
    with pytest.raises(InsufficientPoints, match="at most 50"):
        adjust(session, admin, advocate, -100, "Duplicate award", "adj-1")
    session.rollback()
    adjust(session, admin, advocate, -50, "Duplicate award", "adj-2")
    session.commit()
    assert _balance(session, advocate).balance == 250
    assert reconcile(session) == []
    session.execute(balance_of(session, advocate.id).__table__.update().values(balance=999))
    session.commit()
    [drift] = reconcile(session)
    assert (drift.field, drift.recorded, drift.from_ledger) == ("balance", 999, 250)
    assert (
        session.scalar(select(func.count()).select_from(LedgerEntry)) == 3
    )  # award, hold, adjustment
