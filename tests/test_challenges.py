"""Authoring, targeting and completing challenges, through the real forms."""

import io

import pytest
from sqlalchemy import func, select

from challenges.models import AdvocateGroup, Challenge, Submission
from points.models import LedgerEntry
from points.services import balance_of
from tests.factories import PNG, client_for, login


def _count(session, model, *where):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


CHALLENGE_FORM = {
    "type": "review",
    "title": "Review us on G2",
    "body": "Tell peers **what works**. <script>alert(1)</script>",
    "points": "150",
    "points_visible": "y",
    "approval": "manual",
    "limit_kind": "once",
    "limit_count": "1",
    "limit_period": "month",
    "review_site": "g2",
}


def test_manager_drafts_previews_publishes_and_advocates_see_it(client, make, session):
    manager = make.manager()
    advocate = make.advocate()
    login(client, manager.email)
    saved = client.post("/manage/challenges/new", data=CHALLENGE_FORM, follow_redirects=True)
    assert b"Draft saved" in saved.data
    challenge = session.scalar(select(Challenge))
    assert challenge.status == "draft" and challenge.config["review_site"] == "g2"

    preview = client.get(f"/manage/challenges/{challenge.id}/preview")
    assert b"<strong>what works</strong>" in preview.data
    assert b"<script>" not in preview.data  # Markdown is sanitised
    assert b"Preview: this is what an advocate sees" in preview.data

    advocate_client = client_for(client.application, make.advocate().email)
    assert b"Review us on G2" not in advocate_client.get("/hub/").data  # a draft is invisible
    assert advocate_client.get(f"/hub/challenges/{challenge.id}").status_code == 404

    published = client.post(f"/manage/challenges/{challenge.id}/publish", follow_redirects=True)
    assert b"is live" in published.data
    advocate_client = client_for(client.application, advocate.email)
    home = advocate_client.get("/hub/")
    assert b"Review us on G2" in home.data and b"150 points" in home.data
    again = client.post(f"/manage/challenges/{challenge.id}/publish", follow_redirects=True)
    assert b"is already published" in again.data


def test_authoring_refuses_bad_input_beside_the_field(client, make, session):
    login(client, make.manager().email)
    cases = [
        ({"title": ""}, b"Give the challenge a title."),
        ({"points": "-5"}, b"Between 0 and 100,000 points."),
        ({"review_site": ""}, b"Review site is needed for this type of challenge."),
        ({"review_site": "other", "review_domain": "nodots"}, b"like peerspot.com"),
        ({"type": "survey", "approval": "auto"}, b"Question is needed"),
        ({"starts_at": "2026-12-10T10:00", "ends_at": "2026-12-01T10:00"}, b"must come after"),
        ({"type": "no-such-type"}, b"Choose one of the options offered"),
        (
            {"type": "content", "approval": "auto", "content_url": "javascript:alert(1)"},
            b"starting with https://",
        ),
    ]
    for change, message in cases:
        response = client.post("/manage/challenges/new", data={**CHALLENGE_FORM, **change})
        assert response.status_code == 422, change
        assert message in response.data, (change, response.data[-3000:])
        assert b"invalid-feedback" in response.data
    assert _count(session, Challenge) == 0


def test_a_type_with_one_approval_mode_takes_it(client, make, session):
    login(client, make.manager().email)
    form = {**CHALLENGE_FORM, "type": "survey", "approval": "manual", "question": "Why?"}
    assert client.post("/manage/challenges/new", data=form).status_code == 302
    assert session.scalar(select(Challenge)).approval == "auto"


def test_editing_a_live_challenge_keeps_approved_points(client, make, session):
    challenge = make.challenge("survey", points=40, approval="auto")
    first = make.submission(challenge)
    login(client, challenge.created_by.email)
    form = {
        **CHALLENGE_FORM,
        "type": "survey",
        "approval": "auto",
        "question": "Why?",
        "title": challenge.title,
        "points": "90",
    }
    client.post(f"/manage/challenges/{challenge.id}/edit", data=form)
    session.expire_all()
    second = make.submission(challenge)
    session.expire_all()
    assert first.points_awarded == 40 and second.points_awarded == 90
    assert balance_of(session, first.advocate_id).balance == 40
    type_change = client.post(
        f"/manage/challenges/{challenge.id}/edit", data={**form, "type": "content"}
    )
    assert b"The type can&#39;t change once advocates have submitted." in type_change.data


def test_duplicate_and_archive(client, make, session):
    challenge = make.challenge("survey", approval="auto", cap=5)
    login(client, challenge.created_by.email)
    client.post(f"/manage/challenges/{challenge.id}/duplicate")
    copy = session.scalar(select(Challenge).where(Challenge.id != challenge.id))
    assert copy.title == f"Copy of {challenge.title}"
    assert (copy.status, copy.cap, copy.taken) == ("draft", 5, 0)
    client.post(f"/manage/challenges/{challenge.id}/archive")
    client = client_for(client.application, make.advocate().email)
    assert challenge.title.encode() not in client.get("/hub/").data
    page = client.post(f"/hub/challenges/{challenge.id}", data={"answer": "x"})
    assert page.status_code == 404  # archived and never done by them: not shown at all
    assert _count(session, Submission) == 0


def test_groups_target_by_rule_and_by_name(client, make, session):
    emea = make.account("Initech", region="EMEA", segment="Mid-market")
    us = make.account("Northwind", region="North America")
    in_emea = make.advocate("carla@initech.example", account=emea)
    named = make.advocate("ana@northwind.example", account=us)
    outsider = make.advocate("zed@northwind.example", account=us)
    login(client, make.manager().email)
    bad = client.post("/manage/groups/new", data={"name": "Nobody"})
    assert b"so the group has someone in it" in bad.data
    unknown = client.post("/manage/groups/new", data={"name": "X", "member_emails": "no@x.io"})
    assert b"No advocate has the address no@x.io" in unknown.data
    client.post(
        "/manage/groups/new",
        data={"name": "EMEA + Ana", "region": "emea", "member_emails": named.email},
    )
    group = session.scalar(select(AdvocateGroup))
    reach = client.get(f"/manage/groups/{group.id}")
    assert b"carla@initech" in reach.data or b"Carla" in reach.data.title()
    challenge = make.challenge("survey", approval="auto", group_ids=[group.id])

    for advocate, sees in ((in_emea, True), (named, True), (outsider, False)):
        client = client_for(client.application, advocate.email)
        assert (challenge.title.encode() in client.get("/hub/").data) is sees, advocate.email
    refused = client.post(f"/hub/challenges/{challenge.id}", data={"answer": "Tickets"})
    assert refused.status_code == 404  # not meant for them: not even its description
    assert _count(session, Submission, Submission.advocate_id == outsider.id) == 0


def test_hub_filters_by_type_and_hides_points_until_thanked(client, make):
    make.challenge("survey", title="Quick poll", approval="auto", points_visible=False)
    make.challenge("social_share", title="Share the launch", points=25)
    login(client, make.advocate().email)
    home = client.get("/hub/")
    assert b"Quick poll" in home.data and b"Share the launch" in home.data
    assert b"A thank-you from us" in home.data and b"25 points" in home.data
    only_surveys = client.get("/hub/?type=survey")
    assert b"Quick poll" in only_surveys.data and b"Share the launch" not in only_surveys.data


def test_review_evidence_must_be_on_the_sites_domain(client, make, session):
    challenge = make.challenge("review", points=150)
    login(client, make.advocate().email)
    url = f"/hub/challenges/{challenge.id}"
    wrong = client.post(url, data={"review_url": "https://evil.example/g2.com", "disclosed": "y"})
    assert b"The link must be on g2.com; this one is on evil.example." in wrong.data
    lookalike = client.post(url, data={"review_url": "https://notg2.com/x", "disclosed": "y"})
    assert b"must be on g2.com" in lookalike.data
    missing = client.post(url, data={"disclosed": "y"})
    assert b"Enter link to your published review." in missing.data
    undisclosed = client.post(url, data={"review_url": "https://www.g2.com/r/1"})
    assert b"Tick this box to confirm." in undisclosed.data
    assert b"disclose incentives" in undisclosed.data
    assert _count(session, Submission) == 0
    done = client.post(url, data={"review_url": "https://www.g2.com/r/1", "disclosed": "y"})
    assert done.status_code == 302
    assert _count(session, Submission, Submission.status == "pending") == 1


def test_file_evidence_checks_type_and_size_and_is_private(app, client, make, session):
    challenge = make.challenge("review", evidence_required=True)
    owner = make.advocate()
    login(client, owner.email)
    url = f"/hub/challenges/{challenge.id}"
    form = {"review_url": "https://g2.com/r/1", "disclosed": "y"}

    def post(content: bytes, name: str):
        return client.post(
            url,
            data={**form, "file": (io.BytesIO(content), name)},
            content_type="multipart/form-data",
        )

    assert b"Attach a screenshot of your review." in client.post(url, data=form).data
    assert b"Attach an image (PNG, JPEG, GIF, WebP) or a PDF." in post(b"MZ\x90\x00", "x.png").data
    too_big = post(PNG + b"\0" * (5 * 1024 * 1024), "big.png")
    assert b"the limit is 5 MB" in too_big.data
    assert _count(session, Submission) == 0

    assert post(PNG, "my review.png").status_code == 302
    submission = session.scalar(select(Submission))
    assert submission.file_type == "image/png" and submission.file_name == "my review.png"
    assert "static" not in app.config["UPLOAD_DIR"]
    mine = client.get(f"/hub/submissions/{submission.id}/file")
    assert mine.status_code == 200 and mine.data == PNG
    stranger = client_for(client.application, make.advocate().email)
    assert stranger.get(f"/hub/submissions/{submission.id}/file").status_code == 404
    manager = client_for(client.application, make.manager().email)
    assert manager.get(f"/manage/submissions/{submission.id}/file").data == PNG


def test_limits_once_n_times_and_resubmitting_after_rejection(client, make, session):
    once = make.challenge("social_share", approval="manual")
    twice = make.challenge("social_share", approval="auto", limit_kind="times", limit_count=2)
    advocate = make.advocate()
    login(client, advocate.email)
    share = {"post_url": "https://www.linkedin.com/posts/1"}
    assert client.post(f"/hub/challenges/{once.id}", data=share).status_code == 302
    again = client.post(f"/hub/challenges/{once.id}", data=share)
    assert b"Your submission is waiting for review." in again.data

    for _ in range(2):
        assert client.post(f"/hub/challenges/{twice.id}", data=share).status_code == 302
    third = client.post(f"/hub/challenges/{twice.id}", data=share)
    assert b"as often as it allows" in third.data
    assert _count(session, Submission, Submission.challenge_id == twice.id) == 2

    pending = session.scalar(select(Submission).where(Submission.challenge_id == once.id))
    manager_client = client_for(client.application, make.manager().email)
    manager_client.post(f"/manage/review/{pending.id}", data={"reject": "y", "reason": "Private"})
    page = client.get("/hub/submissions")
    assert b"Why not: Private" in page.data and b"Try again" in page.data
    assert client.post(f"/hub/challenges/{once.id}", data=share).status_code == 302
    assert _count(session, Submission, Submission.challenge_id == once.id) == 2


def test_closed_and_capped_challenges_refuse_politely(client, make, session):
    from datetime import timedelta

    from portal.db import utcnow

    ended = make.challenge("survey", approval="auto")
    ended.starts_at, ended.ends_at = utcnow() - timedelta(days=9), utcnow() - timedelta(days=1)
    session.commit()
    capped = make.challenge("survey", approval="auto", cap=1)
    make.submission(capped)
    login(client, make.advocate().email)
    assert b"is closed" in client.post(f"/hub/challenges/{ended.id}", data={"answer": "x"}).data
    full = client.post(f"/hub/challenges/{capped.id}", data={"answer": "x"})
    assert b"All 1 places have been taken." in full.data
    assert client.post("/hub/challenges/999999", data={"answer": "x"}).status_code == 404
    assert _count(session, Submission) == 1


def test_tampered_ids_of_other_advocates_submissions_change_nothing(client, make, session):
    challenge = make.challenge("webinar")
    victim = make.submission(challenge)
    login(client, make.advocate().email)
    withdrawn = client.post(f"/hub/submissions/{victim.id}/withdraw", follow_redirects=True)
    assert b"There is no such submission of yours." in withdrawn.data
    code = client.post(
        f"/hub/submissions/{victim.id}/attendance",
        data={"attendance_code": "BLUE-42"},
        follow_redirects=True,
    )
    assert b"There is no such submission of yours." in code.data
    session.refresh(victim)
    assert victim.status == "pending"


def test_webinar_rsvp_then_attendance_code(client, make, session, outbox):
    challenge = make.challenge("webinar", points=80)
    advocate = make.advocate()
    login(client, advocate.email)
    wrong = client.post(f"/hub/challenges/{challenge.id}", data={"attendance_code": "nope"})
    assert b"That attendance code is not right." in wrong.data
    rsvp = client.post(f"/hub/challenges/{challenge.id}", data={}, follow_redirects=True)
    assert b"on the list" in rsvp.data and b"RSVP: to be confirmed" in rsvp.data
    submission = session.scalar(select(Submission))
    client.post(f"/hub/submissions/{submission.id}/attendance", data={"attendance_code": "x"})
    assert session.get(Submission, submission.id).status == "pending"
    confirmed = client.post(
        f"/hub/submissions/{submission.id}/attendance",
        data={"attendance_code": "blue-42"},
        follow_redirects=True,
    )
    assert b"Attendance confirmed" in confirmed.data and b"+80 points" in confirmed.data
    rsvp_mail, mail = outbox.deliver()  # the RSVP (with its invite), then the approval
    assert "on the list" in rsvp_mail.body and "80 points" in mail.body


def test_referral_is_kept_as_a_lead_and_not_for_ones_own_company(client, make, session):
    account = make.account("Northwind Health")
    challenge = make.challenge("referral", points=200)
    login(client, make.advocate(account=account).email)
    url = f"/hub/challenges/{challenge.id}"
    own = {"name": "Li", "email": "li@northwind.example", "company": "northwind health"}
    assert b"another company than your own" in client.post(url, data=own).data
    bad_email = client.post(url, data={**own, "company": "Contoso", "email": "li@"})
    assert b"is not a valid email address" in bad_email.data
    client.post(url, data={**own, "company": "Contoso", "note": "Evaluating"})
    leads = client_for(client.application, make.manager().email).get("/manage/leads")
    assert b"li@northwind.example" in leads.data and b"Contoso" in leads.data


@pytest.mark.parametrize("type_key", ["case_study", "video"])
def test_case_study_needs_a_link_or_file_when_evidence_is_required(client, make, type_key):
    challenge = make.challenge(type_key, evidence_required=True)
    login(client, make.advocate().email)
    response = client.post(f"/hub/challenges/{challenge.id}", data={"notes": "I helped"})
    assert b"Give a link or attach a file to show your part." in response.data
    linked = {"notes": "I helped", "link": "https://vouch.example/case/1"}
    assert client.post(f"/hub/challenges/{challenge.id}", data=linked).status_code == 302


def test_ledger_entries_can_never_be_changed_or_deleted(make, session):
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DatabaseError

    make.submission(make.challenge("survey", approval="auto", points=10))
    entry = session.scalar(select(LedgerEntry))
    for statement in (
        update(LedgerEntry).where(LedgerEntry.id == entry.id).values(amount=10_000),
        delete(LedgerEntry).where(LedgerEntry.id == entry.id),
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(statement)
        session.rollback()
    assert session.get(LedgerEntry, entry.id).amount == 10


def test_broken_addresses_and_missing_files_are_refused_not_500(app, client, make, session):
    challenge = make.challenge("social_share", approval="manual")
    login(client, make.advocate().email)
    broken = client.post(f"/hub/challenges/{challenge.id}", data={"post_url": "https://[x"})
    assert b"Enter a full web address starting with https://." in broken.data
    assert (
        client.post(
            f"/hub/challenges/{challenge.id}", data={"post_url": "https://x.example/" + "a" * 1200}
        ).data.count(b"Keep it under 1,000 characters.")
        == 1
    )
    done = client.post(
        f"/hub/challenges/{challenge.id}", data={"post_url": "https://www.linkedin.com/p/1"}
    )
    assert done.status_code == 302
    submission = session.scalar(select(Submission))
    submission.file_key, submission.file_name, submission.file_type = (
        "gone.png",
        "gone.png",
        "image/png",
    )
    session.commit()
    assert client.get(f"/hub/submissions/{submission.id}/file").status_code == 404


def test_uploads_live_and_die_with_their_transaction(session):
    from pathlib import Path

    from portal import uploads
    from tests.factories import SETTINGS

    session.execute(select(1))  # as in a request: the transaction is under way
    kept = uploads.store(session, SETTINGS, uploads.Upload("a.png", PNG))
    session.commit()
    session.execute(select(1))
    dropped = uploads.store(session, SETTINGS, uploads.Upload("b.png", PNG))
    uploads.discard_after_commit(session, SETTINGS, kept.key)
    session.rollback()
    folder = Path(SETTINGS.upload_dir)
    assert (folder / kept.key).exists()  # the rollback also cancelled its replacement
    assert not (folder / dropped.key).exists()
    session.execute(select(1))
    uploads.discard_after_commit(session, SETTINGS, kept.key)
    session.commit()
    assert not (folder / kept.key).exists()
