"""The reward pages, through the real forms: catalog by gift policy, redeeming, admin
fulfilment, offers, adjustments and the reconcile command."""

import io

from sqlalchemy import func, select, update

from points.models import LedgerEntry, PointsBalance, Redemption, Reward
from points.services import balance_of
from portal.accounts.models import GiftPolicy, GiftPolicyRequest
from tests.factories import PNG, client_for


def _count(session, model, *where):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _catalog(client):
    page = client.get("/hub/rewards").data.decode()
    return {
        name
        for name in ("Gift card", "Hoodie", "Dinner", "Donation", "Newsletter")
        if f">{name}<" in page
    }


def test_the_catalog_shows_what_each_gift_policy_allows(app, make):
    make.reward("Gift card", cost=100)
    make.reward("Hoodie", kind="swag", cost=100)
    make.reward("Dinner", kind="experience", cost=100, regions="EMEA")
    make.reward("Donation", kind="charity", cost=100)
    make.reward("Newsletter", kind="recognition", cost=100)
    make.reward("Retired", cost=100, active=False)
    cases = [
        (
            make.account(region="EMEA"),
            False,
            {"Gift card", "Hoodie", "Dinner", "Donation", "Newsletter"},
        ),
        (make.account(region="APAC"), False, {"Gift card", "Hoodie", "Donation", "Newsletter"}),
        (make.account(policy=GiftPolicy.NO_GIFTS), False, {"Donation", "Newsletter"}),
        (make.account(policy=GiftPolicy.CHARITY_ONLY), False, {"Donation"}),
        (make.account(), True, {"Donation", "Newsletter"}),
    ]
    for account, declines, expected in cases:
        advocate = make.advocate(account=account)
        if declines:
            advocate.declines_gifts = True
            make.session.commit()
        assert _catalog(client_for(app, advocate.email)) == expected, account.gift_policy


def test_a_crafted_request_for_a_forbidden_gift_is_refused_with_the_reason(app, make, session):
    advocate = make.advocate(account=make.account("Globex Federal", GiftPolicy.NO_GIFTS))
    make.points(advocate, 500)
    gift = make.reward("Gift card", cost=100)
    client = client_for(app, advocate.email)
    page = client.get(f"/hub/rewards/{gift.id}")
    assert b"Globex Federal does not allow its people to accept gifts" in page.data
    assert b'data-testid="redeem"' not in page.data
    refused = client.post(f"/hub/rewards/{gift.id}", data={"request_key": "k1"})
    assert refused.status_code == 422
    assert b"Globex Federal does not allow its people to accept gifts" in refused.data
    assert _count(session, Redemption) == 0
    assert balance_of(session, advocate.id).held == 0
    assert client.post("/hub/rewards/999999", data={"request_key": "k2"}).status_code == 404


def test_redeeming_refuses_bad_input_and_changes_nothing(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 300)
    client = client_for(app, advocate.email)
    hoodie = make.reward("Hoodie", kind="swag", cost=100, stock=1, limit_count=1)
    pricey = make.reward("Pricey", cost=1000)
    no_address = client.post(f"/hub/rewards/{hoodie.id}", data={"request_key": "a"})
    assert b"Give the full address we should ship to." in no_address.data
    assert b"shipping_address-errors" in no_address.data
    poor = client.post(f"/hub/rewards/{pricey.id}", data={"request_key": "b"})
    assert b"This costs 1,000 points and you have 300 available." in poor.data
    assert _count(session, Redemption) == 0

    address = {"shipping_address": "Ana Ruiz, 200 Harbor St, Boston MA"}
    ok = client.post(f"/hub/rewards/{hoodie.id}", data={"request_key": "c", **address})
    assert ok.status_code == 302
    again = client.post(
        f"/hub/rewards/{hoodie.id}", data={"request_key": "c", **address}, follow_redirects=True
    )
    assert b"You already requested this" in again.data  # a double click: one redemption
    assert _count(session, Redemption) == 1
    sold_out = client.post(f"/hub/rewards/{hoodie.id}", data={"request_key": "d", **address})
    assert b"out of stock" in sold_out.data
    session.execute(update(Reward).where(Reward.id == hoodie.id).values(stock=5))
    session.commit()
    limited = client.post(f"/hub/rewards/{hoodie.id}", data={"request_key": "e", **address})
    assert b"can be redeemed 1 time a year, and you have." in limited.data
    assert _count(session, Redemption) == 1
    assert balance_of(session, advocate.id).held == 100
    mine = client.get("/hub/redemptions")
    assert b"Hoodie" in mine.data and b"Harbor St" not in mine.data  # addresses are for admins


def test_admin_approves_fulfils_and_refunds_with_emails_and_history(app, make, session, outbox):
    advocate = make.advocate(account=make.account("Initech", GiftPolicy.NEEDS_APPROVAL))
    make.points(advocate, 1000)
    card = make.reward("Gift card", cost=100)
    redemption = make.redemption(advocate, card)
    assert redemption.status == "requested"  # needs approval, however small
    admin = client_for(app, make.admin().email)
    queue = admin.get("/admin/redemptions")
    assert b"Gift card" in queue.data and b"Every gift needs admin approval" in queue.data
    admin.post(f"/admin/redemptions/{redemption.id}/approve")
    empty = admin.post(f"/admin/redemptions/{redemption.id}/fulfil", data={"reference": ""})
    assert b"Enter the gift code." in empty.data
    admin.post(f"/admin/redemptions/{redemption.id}/fulfil", data={"reference": "GIFT-123"})
    assert balance_of(session, advocate.id).balance == 900
    no_reason = admin.post(f"/admin/redemptions/{redemption.id}/refund", data={})
    assert b"Say why the points are being returned." in no_reason.data
    admin.post(
        f"/admin/redemptions/{redemption.id}/refund", data={"refund-reason": "Code did not work"}
    )
    session.expire_all()
    assert balance_of(session, advocate.id).balance == 1000
    page = client_for(app, advocate.email).get("/hub/redemptions")
    assert b"Refunded" in page.data and b"Code did not work" in page.data
    subjects = [mail.subject for mail in outbox.deliver() if mail.recipients == [advocate.email]]
    assert subjects == [
        "Gift card: requested",
        "Gift card: approved",
        "Gift card: fulfilled",
        "Gift card: refunded",
    ]
    twice = admin.post(f"/admin/redemptions/{redemption.id}/approve", follow_redirects=True)
    assert b"Already handled: this redemption is refunded." in twice.data


def test_reject_and_cancel_give_points_and_stock_back(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 2000)
    pricey = make.reward("Dinner", kind="experience", cost=800, stock=3)
    first, second = make.redemption(advocate, pricey), make.redemption(advocate, pricey)
    admin = client_for(app, make.admin().email)
    missing = admin.post(f"/admin/redemptions/{first.id}/reject", data={})
    assert b"Say why, so the advocate understands." in missing.data
    admin.post(f"/admin/redemptions/{first.id}/reject", data={"reject-reason": "Sold out event"})
    client_for(app, advocate.email).post(f"/hub/redemptions/{second.id}/cancel")
    session.expire_all()
    assert balance_of(session, advocate.id).held == 0
    assert session.get(Reward, pricey.id).stock == 3
    stranger = client_for(app, make.advocate().email)
    refused = stranger.post(f"/hub/redemptions/{first.id}/cancel", follow_redirects=True)
    assert b"no such redemption of yours" in refused.data


def test_a_policy_change_flags_open_gifts_which_are_converted_or_cancelled(app, make, session):
    account = make.account("Umbrella")
    advocate = make.advocate(account=account)
    make.points(advocate, 1000)
    card = make.redemption(advocate, make.reward("Gift card", cost=300))
    charity = make.reward("Red Cross", kind="charity", cost=100)
    admin = client_for(app, make.admin().email)
    changed = admin.post(
        f"/admin/accounts/{account.id}/gift-policy",
        data={"policy": "charity_only", "reason": "Code of conduct"},
        follow_redirects=True,
    )
    assert b"1 open redemption of this account the new policy forbids" in changed.data
    assert b"Red Cross" not in admin.get("/admin/redemptions?status=flagged").data
    assert b"Gift card" in admin.get("/admin/redemptions?status=flagged").data
    refused = admin.post(
        f"/admin/redemptions/{card.id}/fulfil", data={"reference": "X"}, follow_redirects=True
    )
    assert b"accepts charity donations only" in refused.data
    admin.post(f"/admin/redemptions/{card.id}/convert", data={"charity_id": charity.id})
    session.expire_all()
    statuses = dict(session.execute(select(Redemption.reward_id, Redemption.status)).all())
    assert statuses == {card.reward_id: "cancelled", charity.id: "approved"}
    assert balance_of(session, advocate.id).held == 300  # the same points, now for a donation


def test_vendor_export_and_bulk_fulfilment_import(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 1000)
    hoodie = make.reward("Hoodie", kind="swag", cost=100)
    one = make.redemption(advocate, hoodie, shipping_address="Ana Ruiz\n1 Main St\nBoston")
    two = make.redemption(
        advocate,
        make.reward("Mug", kind="swag", cost=50),
        shipping_address="Ana Ruiz, 1 Main St, Boston",
    )
    admin = client_for(app, make.admin().email)
    exported = admin.get("/admin/redemptions/export.csv").data.decode()
    assert exported.splitlines()[0].startswith("redemption_id,reward,name,email,shipping_address")
    assert f"{one.id},Hoodie" in exported and "Ana Ruiz, 1 Main St, Boston" in exported
    lines = f"redemption_id,reference\n{one.id},1Z999\n{two.id},\nabc,1Z1\n999999,1Z2\n"
    result = admin.post(
        "/admin/redemptions/import",
        data={"file": (io.BytesIO(lines.encode()), "done.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert b"Fulfilled 1 of 4 lines." in result.data
    assert b"Enter the tracking number." in result.data
    assert (
        b"not a redemption number" in result.data and b"There is no such redemption" in result.data
    )
    session.expire_all()
    assert session.get(Redemption, one.id).reference == "1Z999"


def test_adjustments_are_reasoned_audited_and_never_below_what_is_held(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 300)
    make.redemption(advocate, make.reward(cost=200))
    admin = client_for(app, make.admin().email)
    url = f"/admin/users/{advocate.id}/points"
    no_reason = admin.post(url, data={"amount": "50", "request_key": "r1"})
    assert b"Say why the balance is changing." in no_reason.data
    too_much = admin.post(url, data={"amount": "-150", "reason": "Oops", "request_key": "r2"})
    assert b"the balance can go down by at most 100" in too_much.data
    admin.post(url, data={"amount": "-100", "reason": "Duplicate award", "request_key": "r3"})
    bonus = {"amount": "25", "reason": "Kick-off bonus", "request_key": "r4"}
    admin.post(url, data=bonus)
    again = admin.post(url, data=bonus)
    assert b"This was already booked." in again.data  # one adjustment per form
    assert balance_of(session, advocate.id).balance == 225
    assert b"Duplicate award" in admin.get("/admin/audit").data


def test_offers_ask_before_giving_and_respect_the_policy(app, make, session, outbox):
    manager = client_for(app, make.manager().email)
    hoodie = make.reward("Hoodie", kind="swag", cost=400)
    globex = make.advocate(account=make.account("Globex", GiftPolicy.NO_GIFTS))
    refused = manager.post(
        "/manage/offers",
        data={"advocate_email": globex.email, "reward_id": hoodie.id, "message": "Thanks"},
    )
    assert b"Globex does not allow its people to accept gifts" in refused.data
    ana, ben = make.advocate(), make.advocate()
    for person in (ana, ben):
        manager.post(
            "/manage/offers",
            data={
                "advocate_email": person.email,
                "reward_id": hoodie.id,
                "message": "Thank you for the webinar!",
            },
        )
    offers = {m.recipients[0]: m for m in outbox.deliver() if "thank-you" in m.subject.lower()}
    assert set(offers) == {ana.email, ben.email}
    assert _count(session, Redemption) == 0  # nothing before acceptance

    ana_client = client_for(app, ana.email)
    offer_path = "/hub/offers/" + offers[ana.email].body.split("/hub/offers/")[1].split()[0]
    no_address = ana_client.post(offer_path, data={"accept": "y"})
    assert b"Give the full address we should ship to." in no_address.data
    ana_client.post(offer_path, data={"accept": "y", "shipping_address": "1 Main St, Boston MA"})
    [gift] = session.scalars(select(Redemption))
    assert (gift.cost, gift.status) == (0, "approved")  # a gift costs the advocate nothing

    ben_path = "/hub/offers/" + offers[ben.email].body.split("/hub/offers/")[1].split()[0]
    client_for(app, ben.email).post(ben_path, data={"decline": "y", "employer_forbids": "y"})
    request = session.scalar(select(GiftPolicyRequest))
    assert request.user_id == ben.id
    assert client_for(app, ana.email).get(ben_path).status_code == 404


def test_reward_form_explains_mistakes(app, make, session):
    admin = client_for(app, make.admin().email)
    base = {
        "name": "Donation",
        "kind": "charity",
        "cost": "100",
        "money_value": "10",
        "currency": "USD",
        "limit_period": "year",
        "active": "y",
    }
    no_charity = admin.post("/admin/rewards/new", data=base)
    assert b"Name the charity the donation goes to." in no_charity.data
    bad_image = admin.post(
        "/admin/rewards/new",
        data={**base, "charity_name": "Red Cross", "image": (io.BytesIO(b"%PDF-1.4"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert b"Choose an image: PNG, JPEG, GIF or WebP." in bad_image.data
    assert _count(session, Reward) == 0
    ok = admin.post(
        "/admin/rewards/new",
        data={**base, "charity_name": "Red Cross", "image": (io.BytesIO(PNG), "logo.png")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    reward = session.scalar(select(Reward))
    assert (reward.money_value, reward.charity_name) == (1000, "Red Cross")
    assert admin.get(f"/admin/rewards/{reward.id}/image").data == PNG


def test_liability_and_reconcile_command(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 1000)
    make.redemption(advocate, make.reward(cost=300, money_value=2500, currency="EUR"))
    page = client_for(app, make.admin().email).get("/admin/redemptions?status=approved")
    assert b'data-testid="liability">1,000<' in page.data and "€25.00".encode() in page.data
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["points", "reconcile"])
    assert clean.exit_code == 0 and "1 balances match the ledger" in clean.output
    session.execute(update(PointsBalance).values(balance=PointsBalance.balance + 5))
    session.commit()
    drift = runner.invoke(args=["points", "reconcile"])
    assert drift.exit_code == 1
    assert "balance is 1005, the ledger says 1000" in drift.output
    assert _count(session, LedgerEntry) == 2


def test_editing_a_reward_never_writes_back_stock_redeemed_meanwhile(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 1000)
    hoodie = make.reward("Hoodie", kind="swag", cost=100, stock=5)
    admin = client_for(app, make.admin().email)
    form = {
        "name": "Hoodie",
        "kind": "swag",
        "cost": "100",
        "money_value": "45",
        "currency": "USD",
        "limit_period": "year",
        "active": "y",
        "stock": "5",
        "stock_seen": "5",
    }
    make.redemption(advocate, hoodie, shipping_address="1 Main St, Boston MA")
    stale = admin.post(f"/admin/rewards/{hoodie.id}", data=form)
    assert b"Redemptions changed the stock to 4 while you were editing" in stale.data
    session.expire_all()
    assert session.get(Reward, hoodie.id).stock == 4
    restocked = admin.post(
        f"/admin/rewards/{hoodie.id}", data={**form, "stock": "20", "stock_seen": "4"}
    )
    assert restocked.status_code == 302
    session.expire_all()
    assert session.get(Reward, hoodie.id).stock == 20
    nan = admin.post(f"/admin/rewards/{hoodie.id}", data={**form, "money_value": "sNaN"})
    assert nan.status_code == 422 and b"0 or more." in nan.data


def test_offers_are_made_once_and_costly_gifts_still_wait_for_an_admin(app, make, session):
    manager = client_for(app, make.manager().email)
    advocate = make.advocate()
    dinner = make.reward("Dinner", kind="experience", cost=2000)
    offer = {"advocate_email": advocate.email, "reward_id": dinner.id, "message": "Thanks!"}
    assert manager.post("/manage/offers", data=offer).status_code == 302
    twice = manager.post("/manage/offers", data=offer)
    assert b"already has this offer waiting for an answer" in twice.data
    assert manager.get("/manage/offers?advocate_id=%C2%B2").status_code == 200  # "²"
    from points.models import GiftOffer

    [made] = session.scalars(select(GiftOffer))
    client_for(app, advocate.email).post(f"/hub/offers/{made.id}", data={"accept": "y"})
    [gift] = session.scalars(select(Redemption))
    assert (gift.cost, gift.status) == (0, "requested")  # worth 2,000 points: an admin decides


def test_vendor_csv_cells_are_never_formulas_and_odd_csv_is_reported(app, make, session):
    advocate = make.advocate()
    advocate.name = '=HYPERLINK("http://evil.example")'
    session.commit()
    make.points(advocate, 500)
    make.redemption(
        advocate,
        make.reward("Hoodie", kind="swag", cost=100),
        shipping_address="+1 Main St, Boston MA",
    )
    admin = client_for(app, make.admin().email)
    exported = admin.get("/admin/redemptions/export.csv").data.decode()
    assert "'=HYPERLINK" in exported and "'+1 Main St" in exported
    huge = "1," + "x" * 200_000 + "\n"
    result = admin.post("/admin/redemptions/import", data={"text": huge}, follow_redirects=True)
    assert result.status_code == 200 and b"Fulfilled 0 of 1 lines." in result.data
