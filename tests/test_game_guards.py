"""Guards found in review: a starter challenge is open to everyone, a "hide me" saved while
an award waits is honoured, other advocates never see an email address or a manual badge's
reason, and two admins saving one level at once get a clear answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from challenges.authoring import ChallengeFields, create_challenge, set_cover_image
from challenges.badges import Manual, ensure_default_badges, give_manual_badge
from challenges.models import AdvocateGroup
from points.leaderboard import current_periods, score_count_differences, top
from points.levels import ensure_default_levels, save_level
from points.models import Badge, PeriodTotal
from points.program import game_settings
from portal.accounts.models import User
from portal.db import utcnow
from portal.errors import DomainError
from portal.uploads import Upload
from tests.factories import PNG, SETTINGS, book_at, client_for


@pytest.fixture
def game(session):
    ensure_default_levels(session)
    ensure_default_badges(session)
    game_settings(session)
    session.commit()


def test_a_starter_challenge_is_for_everyone_and_always_open(make, session, game):
    manager = make.manager()
    group = AdvocateGroup(name="EMEA", region="EMEA")
    session.add(group)
    session.commit()
    for wrong in (
        {"group_ids": [group.id]},
        {"ends_at": utcnow() + timedelta(days=7)},
        {"cap": 10},
    ):
        fields = ChallengeFields(type="survey", title="Say hello", points=10, starter=True, **wrong)
        with pytest.raises(DomainError) as refused:
            create_challenge(session, manager, fields)
        session.rollback()
        assert refused.value.field == "starter"
        assert "for every advocate and always open" in refused.value.message


def test_hiding_while_an_award_waits_keeps_the_new_period_off_the_board(make, session, game):
    """The award holds a stale copy of the advocate (not hidden); the "hide me" commits
    first. The new month's row is written from the users row as it is now: unlisted."""
    advocate = make.advocate()
    book_at(session, advocate, 300, utcnow() - timedelta(days=100))
    session.commit()
    stale = session.get(User, advocate.id)
    with Session(session.get_bind()) as other:
        other.get(User, advocate.id).hide_from_leaderboard = True
        other.commit()
    book_at(session, stale, 200, utcnow())  # a new month and quarter for them
    session.commit()
    rows = list(session.scalars(select(PeriodTotal).where(PeriodTotal.advocate_id == advocate.id)))
    assert len(rows) >= 4  # the old month (and quarter), this month, this quarter, all
    assert not any(row.listed for row in rows)
    assert score_count_differences(session) == []


def test_other_advocates_see_a_name_never_an_email(make, session, game, app):
    nameless = make.advocate("quiet.person@example.com")
    session.execute(update(User).where(User.id == nameless.id).values(name=""))
    session.commit()
    make.points(nameless, 500)
    viewer = make.advocate()
    make.points(viewer, 100)
    client = client_for(app, viewer.email)
    for path in ("/hub/leaderboard", "/hub/activity", f"/hub/people/{nameless.id}"):
        page = client.get(path).data.decode()
        assert "quiet.person@example.com" not in page, path
    assert f"Advocate #{nameless.id}" in client.get("/hub/leaderboard").data.decode()


def test_a_manual_badges_reason_is_for_the_advocate_and_staff(make, session, game, app):
    manager = make.manager()
    advocate, other = make.advocate(), make.advocate()
    badge = session.scalar(select(Badge).where(Badge.rule == Manual.key))
    give_manual_badge(session, manager, advocate, badge.id, "Hosted our Madrid meetup")
    session.commit()
    path = f"/hub/people/{advocate.id}"
    assert "Hosted our Madrid meetup" in client_for(app, advocate.email).get(path).data.decode()
    assert "Hosted our Madrid meetup" in client_for(app, manager.email).get(path).data.decode()
    seen_by_other = client_for(app, other.email).get(path).data.decode()
    assert badge.name in seen_by_other and "Hosted our Madrid meetup" not in seen_by_other


def test_a_level_name_taken_at_the_same_moment_is_a_clear_refusal(make, session, game, monkeypatch):
    """Both admins' checks passed before either saved: the unique key answers, clearly."""
    from points import levels

    admin = make.admin()
    save_level(session, admin, "Ambassador", 5_000, "")
    session.commit()
    monkeypatch.setattr(levels, "_check", lambda _session, name, _threshold, _id: name)
    with pytest.raises(DomainError) as refused:
        save_level(session, admin, "Ambassador", 6_000, "")
    assert refused.value.field == "name"
    assert "just taken" in refused.value.message


def test_a_cover_is_served_only_to_advocates_the_challenge_is_for(make, session, game, app):
    emea = make.account("Initech", region="EMEA")
    inside, outside = make.advocate(account=emea), make.advocate()
    group = AdvocateGroup(name="EMEA only", region="EMEA")
    session.add(group)
    session.commit()
    challenge = make.challenge("survey", group_ids=[group.id])
    set_cover_image(session, SETTINGS, challenge, Upload("cover.png", PNG))
    session.commit()
    path = f"/hub/challenges/{challenge.id}/cover"
    assert client_for(app, inside.email).get(path).data == PNG
    assert client_for(app, outside.email).get(path).status_code == 404


def test_a_board_read_in_keyset_pages_is_the_board(make, session, game):
    """Ties included (same points: who got there first, then the id), page after page."""
    people = make.many_advocates(23)
    for n, person in enumerate(people):
        make.points(person, 100 + (n % 5) * 10)  # five scores, ties on each
    period = current_periods(session)["month"]
    whole = top(session, period, limit=1_000)
    chained, last = [], None
    while True:
        page = top(session, period, limit=4, after=last)
        chained += page
        if len(page) < 4:
            break
        last = page[-1]
    assert [(p.rank, p.advocate.id) for p in chained] == [(p.rank, p.advocate.id) for p in whole]
    assert len(whole) == 23


def test_the_staff_csv_streams_every_place_once(make, session, game, app, monkeypatch):
    from points.views import boards

    monkeypatch.setattr(boards, "CSV_CHUNK", 3)
    people = make.many_advocates(8)
    for n, person in enumerate(people):
        make.points(person, 50 * (1 + n % 3))
    manager = make.manager()
    lines = client_for(app, manager.email).get("/manage/leaderboard.csv").data.decode()
    rows = lines.strip().splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == [str(n) for n in range(1, 9)]
    assert len({row.split(",")[2] for row in rows}) == 8  # every email once
