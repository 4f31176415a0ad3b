"""What a new user tripped over (issue 12): points read one way everywhere, rewards that
show a picture and say what they need, pickers that offer only current members, labels and
messages that say what is true, one rule for the status of a refused form, and a data
download that holds everything."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from challenges.models import Submission
from points.demo_images import DEMO_PICTURES, PICTURES, attach_demo_pictures
from points.models import GiftOffer, Reward
from portal.accounts.models import GiftPolicy, User
from portal.auth.services import opt_out
from portal.config import PROJECT_ROOT
from portal.notifications.models import Notification
from tests.factories import SETTINGS, client_for

BASE_REWARD = {
    "name": "Mug",
    "kind": "swag",
    "cost": "100",
    "money_value": "10",
    "currency": "USD",
    "limit_period": "year",
    "active": "y",
}


def _count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _between(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


# --- 1. points: available, held and lifetime, the same way on every page ------------------


def test_points_read_the_same_on_every_page(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 620)
    reward = make.reward("Amazon card", cost=400)
    make.redemption(advocate, reward)  # the points are held until it is delivered
    me = client_for(app, advocate.email)
    pages = ["/hub/", "/hub/rewards", f"/hub/rewards/{reward.id}", "/hub/redemptions"]
    pages.append("/hub/submissions")
    for path in pages:
        html = me.get(path).get_data(as_text=True)
        summary = _between(html, 'data-testid="points-summary"', "</div>\n  </div>")
        assert 'data-testid="points-balance">220<' in summary, path
        assert 'data-testid="points-held">400<' in summary, path
        assert 'data-testid="points-lifetime">620<' in summary, path
        assert "Available to spend" in summary and "earned in all" in summary, path
        assert "come back if a request is rejected or cancelled" in summary, path
        assert html.count('data-testid="points-balance"') == 1, path  # one way, once


# --- 2. and 3. reward pictures, and a reward the advocate cannot afford yet ---------------


def test_a_reward_out_of_reach_says_how_many_more_points(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 100)
    dear = make.reward("Summit dinner", kind="experience", cost=280)
    cheap = make.reward("Sticker pack", kind="swag", cost=50)
    me = client_for(app, advocate.email)
    catalog = me.get("/hub/rewards").get_data(as_text=True)
    dear_card = _between(catalog, "Summit dinner</a>", "</article>")
    assert "You need 180 more points" in dear_card
    assert "You need" not in _between(catalog, "Sticker pack</a>", "</article>")

    page = me.get(f"/hub/rewards/{dear.id}").get_data(as_text=True)
    assert "You need 180 more points" in page and 'data-testid="redeem"' not in page
    assert 'data-testid="redeem"' in me.get(f"/hub/rewards/{cheap.id}").get_data(as_text=True)

    crafted = me.post(f"/hub/rewards/{dear.id}", data={"request_key": "crafted-1"})
    assert crafted.status_code == 422
    assert "This costs 280 points and you have 100 available." in crafted.get_data(as_text=True)


def test_a_reward_without_a_picture_shows_its_kind_icon(app, make, session):
    advocate = make.advocate()
    make.points(advocate, 10)
    for kind in ("gift_card", "swag", "charity", "experience", "recognition"):
        assert (PICTURES / f"kind-{kind}.svg").is_file()
    make.reward("Hoodie", kind="swag", cost=10)
    me = client_for(app, advocate.email)
    card = _between(
        me.get("/hub/rewards").get_data(as_text=True), 'data-testid="reward-card"', "</h2>"
    )
    assert "/static/img/rewards/kind-swag.svg" in card
    assert ">Swag<" not in card  # no longer the kind's name repeated in a block
    assert me.get("/static/img/rewards/kind-swag.svg").status_code == 200


def test_the_demo_rewards_get_their_pictures(app, make, session):
    rewards = {name: make.reward(name, cost=10) for name in DEMO_PICTURES}
    assert attach_demo_pictures(session, SETTINGS, rewards) == len(DEMO_PICTURES)
    session.commit()
    for name, file_name in DEMO_PICTURES.items():
        picture = (PICTURES / file_name).read_bytes()
        assert picture.startswith(b"\x89PNG")
        assert (PICTURES / file_name).with_suffix(".svg").is_file()  # its drawn source
        reward = session.get(Reward, rewards[name].id)
        assert reward.image_key
    advocate = make.advocate()
    make.points(advocate, 10)
    some = rewards["Vouch hoodie"]
    image = client_for(app, advocate.email).get(f"/hub/rewards/{some.id}/image")
    assert image.data == (PICTURES / "hoodie.png").read_bytes()
    assert "attach_demo_pictures" in (PROJECT_ROOT / "points" / "demo.py").read_text()


# --- 4. only people who can be chosen are filled in or accepted -------------------------


def _people(make, session):
    account = make.account("Initech")
    member = make.advocate("member@initech.example", account)
    invited = make.advocate("invited@initech.example", account, opted_in=False)
    left = make.advocate("left@initech.example", account)
    opt_out(session, left)
    moved = make.advocate("moved@initech.example", account)
    moved.left_company_at = datetime.now(UTC)
    gone = make.advocate("gone@initech.example", account)
    gone.active = False
    session.commit()
    return member, {
        invited.email: "was invited but has not joined the hub yet.",
        left.email: "has left the program: choose someone else.",
        moved.email: "has left Initech: choose someone else.",
        gone.email: "login is deactivated: choose someone else.",
    }


def test_a_gift_is_offered_only_to_current_members(app, make, session):
    member, others = _people(make, session)
    reward = make.reward("Thank-you mug", kind="swag", cost=10)
    staff = client_for(app, make.manager().email)
    opened = staff.get(f"/manage/offers?advocate_id={member.id}").get_data(as_text=True)
    assert f'value="{member.email}"' in opened  # a current member is filled in
    for email, reason in others.items():
        refused = staff.post(
            "/manage/offers", data={"advocate_email": email, "reward_id": reward.id}
        )
        assert refused.status_code == 422, email
        beside = _between(refused.get_data(as_text=True), 'id="advocate_email-errors"', "</div>")
        assert reason in beside, email
        prefilled = staff.get(f"/manage/offers?advocate_id={_id(session, email)}")
        assert f'value="{email}"' not in prefilled.get_data(as_text=True)
    assert _count(session, GiftOffer) == 0
    ok = staff.post("/manage/offers", data={"advocate_email": member.email, "reward_id": reward.id})
    assert ok.status_code == 302 and _count(session, GiftOffer) == 1


def test_an_activity_is_logged_only_for_current_members(app, make, session):
    member, others = _people(make, session)
    staff = client_for(app, make.manager().email)
    opened = staff.get(f"/manage/activities/new?advocate_id={member.id}").get_data(as_text=True)
    assert f'value="{member.email}"' in opened
    form = {"type": "reference_call", "description": "Call with Contoso", "points": "0"}
    form["occurred_on"] = "2026-01-05"
    for email, reason in others.items():
        refused = staff.post("/manage/activities/new", data={**form, "advocate_email": email})
        assert refused.status_code == 422, email
        assert reason in refused.get_data(as_text=True), email
        prefilled = staff.get(f"/manage/activities/new?advocate_id={_id(session, email)}")
        assert f'value="{email}"' not in prefilled.get_data(as_text=True)
    assert _count(session, Submission) == 0
    moved = _id(session, "moved@initech.example")
    their_page = staff.get(f"/manage/advocates/{moved}").get_data(as_text=True)
    assert "has left Initech" in their_page and f"advocate_id={moved}" not in their_page
    ok = staff.post("/manage/activities/new", data={**form, "advocate_email": member.email})
    assert ok.status_code == 302 and _count(session, Submission) == 1


def _id(session, email: str) -> int:
    return session.scalar(select(User.id).where(User.email == email))


# --- 5. the preview labels evidence as the challenge asks for it --------------------------


def test_the_preview_does_not_call_required_evidence_optional(app, make, session):
    manager = make.manager()
    staff = client_for(app, manager.email)
    needed = make.challenge("case_study", title="Our story", evidence_required=True)
    page = staff.get(f"/manage/challenges/{needed.id}/preview").get_data(as_text=True)
    assert "Link to the draft or published piece" in page
    assert "(optional)" not in page
    assert "one of the two is needed" in page
    free = make.challenge("case_study", title="Their story", evidence_required=False)
    page = staff.get(f"/manage/challenges/{free.id}/preview").get_data(as_text=True)
    assert "Link to the draft or published piece (optional)" in page


# --- 6. and 7. errors beside the field, in friendly words, with one status rule -----------


def test_a_reward_window_that_ends_before_it_starts_is_an_error_by_ends(app, make, session):
    admin = client_for(app, make.admin().email)
    window = {**BASE_REWARD, "starts_on": "2026-12-10", "ends_on": "2026-12-01"}
    refused = admin.post("/admin/rewards/new", data=window)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "The end must come after the start." in _between(html, 'id="ends_on-errors"', "</div>")
    assert 'class="alert alert-danger' not in html.split("<form", 1)[0]  # not a banner
    three = admin.post("/admin/rewards/new", data={**BASE_REWARD, "currency": "US"})
    beside = _between(three.get_data(as_text=True), 'id="currency-errors"', "</div>")
    assert "Use a three-letter currency code, like USD or EUR." in beside
    assert _count(session, Reward) == 0


def test_library_messages_are_replaced_with_friendly_ones(app, make, session):
    admin = client_for(app, make.admin().email)
    bad = admin.post("/admin/rewards/new", data={**BASE_REWARD, "cost": "lots", "kind": "yacht"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Enter a whole number, such as 25." in _between(html, 'id="cost-errors"', "</div>")
    assert "Choose one of the options offered." in _between(html, 'id="kind-errors"', "</div>")
    staff = client_for(app, make.manager().email)
    make.advocate("ana@example.com")
    crafted = staff.post(
        "/manage/offers", data={"advocate_email": "ana@example.com", "reward_id": "x"}
    )
    text = crafted.get_data(as_text=True)
    assert crafted.status_code == 422 and "Choose one of the options offered." in text
    for library in (
        "Not a valid",
        "could not coerce",
        "This field is required.",
        "characters long",
        "Invalid Choice",
    ):
        assert library not in html and library not in text


def test_refused_forms_answer_422_and_a_lost_race_409(app, make, session):
    advocate = make.advocate("ana@example.com")
    reward = make.reward("Mug", kind="swag", cost=10)
    wrong = app.test_client().post("/login", data={"email": advocate.email, "password": "nope"})
    assert wrong.status_code == 422 and "password" in wrong.get_data(as_text=True).lower()
    me = client_for(app, advocate.email)
    blank = me.post("/hub/profile", data={"name": "", "job_level": ""})
    assert blank.status_code == 422 and 'id="name-errors"' in blank.get_data(as_text=True)
    staff = client_for(app, make.manager().email)
    untitled = staff.post("/manage/challenges/new", data={"type": "survey", "title": ""})
    assert untitled.status_code == 422
    offer = {"advocate_email": advocate.email, "reward_id": reward.id}
    assert staff.post("/manage/offers", data=offer).status_code == 302
    twice = staff.post("/manage/offers", data=offer)  # one open offer of it per advocate
    assert twice.status_code == 409
    assert "already has this offer waiting" in twice.get_data(as_text=True)


# --- 8. the reviewer sees the disclosure ---------------------------------------------------


def test_the_reviewer_sees_that_the_advocate_disclosed_the_points(app, make, session):
    review = make.challenge("review", title="Review us on G2")
    submission = make.submission(review, make.advocate())
    staff = client_for(app, make.manager().email)
    html = staff.get(f"/manage/review/{submission.id}").get_data(as_text=True)
    shown = _between(html, "I said in my review that I received points for writing it", "</dd>")
    assert "Yes" in shown


# --- 9. the big-ask cap names whose it is --------------------------------------------------


def test_the_company_cap_is_said_to_be_the_company_s(app, make, session):
    account = make.account("Busy Corp")
    staff = client_for(app, make.manager().email)
    staff.post(
        "/manage/settings",
        data={
            "high_effort_per_advocate": "1",
            "high_effort_per_account": "1",
            "high_effort_window_days": "90",
            "thank_you_template": "Thanks {name}",
        },
    )
    first, second = make.advocate(account=account), make.advocate(account=account)
    calls = [make.challenge("reference_call") for _ in range(2)]
    make.submission(calls[0], first)
    theirs = client_for(app, second.email).get(f"/hub/challenges/{calls[1].id}")
    html = theirs.get_data(as_text=True)
    assert "Busy Corp has helped with plenty of big asks lately" in html
    assert "You have helped with plenty" not in html
    own = client_for(app, first.email).get(f"/hub/challenges/{calls[1].id}")
    assert "You have helped with plenty of big asks lately" in own.get_data(as_text=True)


# --- 10. the data download holds the holds, the offers and the new settings ---------------


def test_the_data_download_holds_holds_offers_settings_and_notifications(app, make, session):
    advocate = make.advocate()
    advocate.locale, advocate.time_zone = "es", "Europe/Madrid"
    session.commit()
    make.points(advocate, 500)
    reward = make.reward("Hoodie", kind="swag", cost=300)
    make.redemption(advocate, reward, shipping_address="Calle Mayor 1, Madrid")
    manager = make.manager()
    staff = client_for(app, manager.email)
    staff.post("/manage/offers", data={"advocate_email": advocate.email, "reward_id": reward.id})
    session.add(
        Notification(user_id=advocate.id, topic="rewards", message="Your hoodie is on its way")
    )
    session.commit()

    data = json.loads(client_for(app, advocate.email).get("/hub/export.json").data)
    points = data["points"]
    assert (points["balance"], points["held"], points["available"]) == (500, 300, 200)
    [hold] = [e for e in points["entries"] if e["source"] == "redemption_hold"]
    assert (hold["held"], hold["status"], hold["amount"]) == (300, "held", 0)
    [offer] = data["gift_offers"]
    assert (offer["reward"], offer["status"]) == ("Hoodie", "offered") and offer["offered_at"]
    prefs = data["preferences"]
    assert (prefs["language"], prefs["time_zone"]) == ("es", "Europe/Madrid")
    assert {"email_results", "email_rewards", "email_thanks", "email_game", "email_events"} <= set(
        prefs
    )
    [note] = [n for n in data["notifications"] if n["message"] == "Your hoodie is on its way"]
    assert (note["topic"], note["read_at"]) == ("rewards", None) and note["at"]


# --- 11. wording -----------------------------------------------------------------------------


def test_a_refused_kind_is_named_naturally(app, make, session):
    account = make.account("Globex", policy=GiftPolicy.CHARITY_ONLY)
    advocate = make.advocate(account=account)
    swag = make.reward("Hoodie", kind="swag", cost=10)
    html = client_for(app, advocate.email).get(f"/hub/rewards/{swag.id}").get_data(as_text=True)
    assert "Globex accepts charity donations only, so swag can&#39;t be given." in html
    assert "a swag" not in html
