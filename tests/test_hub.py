"""The advocate's side: nothing before opting in; leaving keeps history; data download."""

import json

from sqlalchemy import select

from portal.accounts.models import ConsentRecord
from tests.factories import login


def test_until_they_opt_in_advocates_see_only_the_join_page(client, make, session):
    advocate = make.advocate(opted_in=False)
    login(client, advocate.email)
    for path in ("/hub/", "/hub/profile", "/hub/leave"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == "/hub/join"
    refused = client.post("/hub/join", data={})
    assert b"Tick the box to join the program." in refused.data
    assert session.scalar(select(ConsentRecord)) is None

    joined = client.post("/hub/join", data={"consent": "y"}, follow_redirects=True)
    assert b"Welcome to the hub!" in joined.data
    assert client.get("/hub/profile").status_code == 200


def test_leaving_keeps_history_and_rejoining_records_new_consent(client, make, session):
    advocate = make.advocate()
    login(client, advocate.email)
    unconfirmed = client.post("/hub/leave", data={})
    assert b"Tick the box to confirm you want to leave." in unconfirmed.data

    left = client.post("/hub/leave", data={"confirm": "y"}, follow_redirects=True)
    assert b"You have left the program" in left.data
    assert client.get("/hub/").headers["Location"] == "/hub/join"
    session.refresh(advocate)
    assert advocate.email_digests is False
    assert advocate.in_program is False  # the column every page reads, beside the consent
    [consent] = session.scalars(select(ConsentRecord))
    assert consent.opted_out_at is not None

    client.post("/hub/join", data={"consent": "y"})
    consents = list(session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))
    assert len(consents) == 2
    assert consents[0].opted_out_at is not None
    assert consents[1].opted_out_at is None
    session.refresh(advocate)
    assert advocate.in_program is True


def test_advocate_downloads_their_own_data_even_after_leaving(client, make):
    account = make.account("Northwind Health")
    advocate = make.advocate("ana@northwind.example", account=account)
    login(client, advocate.email)
    client.post(
        "/hub/profile",
        data={
            "name": "Ana Ruiz",
            "title": "Director",
            "job_level": "director",
            "declines_gifts": "y",
            "gifts_note": "No gifts here",
        },
    )
    make.submission(make.challenge("survey", title="Poll", approval="auto", points=30), advocate)
    make.redemption(advocate, make.reward("Donation", kind="charity", cost=20))
    client.post("/hub/leave", data={"confirm": "y"})

    response = client.get("/hub/export.json")
    assert response.headers["Content-Disposition"] == "attachment; filename=my-vouch-data.json"
    data = json.loads(response.data)
    assert data["profile"]["email"] == "ana@northwind.example"
    assert data["profile"]["account"] == "Northwind Health"
    assert data["profile"]["job_level"] == "director"
    assert data["preferences"]["declines_gifts"] is True
    assert data["gift_policy_requests"][0]["note"] == "No gifts here"
    assert data["consents"][0]["opted_out_at"] is not None
    [submission] = data["submissions"]
    assert (submission["challenge"], submission["status"]) == ("Poll", "approved")
    assert submission["evidence"] == {"answer": "Support tickets"}
    assert data["points"]["balance"] == 30 and data["points"]["entries"][0]["amount"] == 30
    [redemption] = data["redemptions"]
    assert (redemption["reward"], redemption["status"]) == ("Donation", "approved")


def test_profile_errors_are_shown_beside_the_field(client, make, session):
    advocate = make.advocate()
    login(client, advocate.email)
    response = client.post("/hub/profile", data={"name": "", "job_level": "emperor"})
    assert b"Tell us your name." in response.data
    assert b"Choose one of the options offered." in response.data
    session.refresh(advocate)
    assert advocate.name != ""


def test_withdrawing_the_no_gifts_word_closes_the_request(client, make, session):
    from portal.accounts.models import GiftPolicyRequest

    advocate = make.advocate()
    login(client, advocate.email)
    client.post("/hub/profile", data={"name": "A", "declines_gifts": "y"})
    client.post("/hub/profile", data={"name": "A", "declines_gifts": "y"})  # still one request
    assert len(list(session.scalars(select(GiftPolicyRequest)))) == 1
    client.post("/hub/profile", data={"name": "A"})
    request = session.scalar(select(GiftPolicyRequest))
    session.refresh(request)
    assert request.resolution == "Withdrawn by the advocate"
