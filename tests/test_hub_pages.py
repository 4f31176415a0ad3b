"""The advocate's challenge pages stay small and fast however big the program grows."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from challenges import services
from challenges.authoring import program_settings
from challenges.limits import free_slot
from challenges.models import AdvocateGroup, Challenge, LimitKind, Submission
from points.program import game_settings
from portal.db import utcnow
from tests.factories import SETTINGS, login

CARD = b'data-testid="challenge-card"'


def _cards(response) -> int:
    return response.data.count(CARD)


def _next_link(response) -> str | None:
    found = re.search(rb'rel="next" href="([^"]+)"', response.data)
    return found.group(1).decode().replace("&amp;", "&") if found else None


def _surveys(make, count: int, manager=None, **fields) -> list[Challenge]:
    manager = manager or make.manager()
    return [make.challenge("survey", manager=manager, **fields) for _ in range(count)]


def test_home_shows_the_dozen_most_relevant_with_a_link_to_all(client, make):
    manager = make.manager()
    closing = make.challenge(
        "survey", title="Closing on Friday", manager=manager, ends_at=utcnow() + timedelta(days=2)
    )
    nearly_full = make.challenge("survey", title="Two places left", manager=manager, cap=2)
    _surveys(make, 4, manager)  # older
    newer = _surveys(make, 10, manager)
    login(client, make.advocate().email)

    home = client.get("/hub/")
    assert _cards(home) == 12
    shown = [title.decode() for title in re.findall(rb"stretched-link[^>]*>([^<]+)<", home.data)]
    newest_first = [challenge.title for challenge in reversed(newer)]
    assert shown == [closing.title, nearly_full.title, *newest_first]  # the 4 older: one click
    assert b"2 places left" in home.data
    assert b'href="/hub/challenges" data-testid="all-challenges">All challenges (16)' in home.data

    no_shares = client.get("/hub/?type=social_share")
    assert _cards(no_shares) == 0 and b"All challenges (" not in no_shares.data


def test_home_and_all_challenges_leave_out_what_is_not_open_to_them(client, make, session):
    manager = make.manager()
    advocate = make.advocate(account=make.account("Initech", region="EMEA"))
    americas = AdvocateGroup(name="Americas", region="North America")
    emea = AdvocateGroup(name="EMEA", region="emea")
    session.add_all([americas, emea])
    session.commit()
    open_ = [
        make.challenge("survey", title="For EMEA", manager=manager, group_ids=[emea.id]),
        make.challenge("survey", title="For everyone", manager=manager),
    ]
    make.challenge("survey", title="For the Americas", manager=manager, group_ids=[americas.id])
    make.submission(make.challenge("survey", title="Full already", manager=manager, cap=1))
    done = make.challenge("survey", title="Done it", manager=manager)
    make.submission(done, advocate)
    make.challenge("survey", title="Not yet", manager=manager, starts_at=utcnow() + timedelta(1))
    make.challenge("survey", title="A draft", manager=manager, publish=False)
    login(client, advocate.email)

    for path in ("/hub/", "/hub/challenges"):
        page = client.get(path)
        assert _cards(page) == 2, path
        assert all(challenge.title.encode() in page.data for challenge in open_)
    assert b"All challenges (2)" in client.get("/hub/").data


def test_all_challenges_page_by_page_keeping_the_type_filter(client, make):
    manager = make.manager()
    surveys = _surveys(make, 30, manager)
    shares = [make.challenge("social_share", manager=manager) for _ in range(3)]
    login(client, make.advocate().email)

    first = client.get("/hub/challenges")
    assert _cards(first) == 24 and b"1\xe2\x80\x9324 of 33 challenges" in first.data
    assert _cards(client.get(_next_link(first))) == 9

    home = client.get("/hub/?type=survey")
    assert b'href="/hub/challenges?type=survey"' in home.data
    only_surveys = client.get("/hub/challenges?type=survey")
    assert _cards(only_surveys) == 24 and shares[0].title.encode() not in only_surveys.data
    assert surveys[-1].title.encode() in only_surveys.data  # newest first
    following = _next_link(only_surveys)
    assert following == "/hub/challenges?type=survey&page=2"
    second = client.get(following)
    assert _cards(second) == 6 and surveys[0].title.encode() in second.data
    assert _next_link(second) is None
    assert b'<option value="survey" selected' in second.data

    beyond = client.get("/hub/challenges?type=survey&page=9")
    assert _cards(beyond) == 0 and b"Back to the first page" in beyond.data
    assert client.get("/hub/challenges?type=nonsense&page=x").status_code == 200


def test_my_submissions_fifty_a_page_newest_first_and_actions_keep_the_page(client, make, session):
    challenge = make.challenge(
        "social_share", approval="manual", limit_kind="times", limit_count=99
    )
    advocate = make.advocate()
    made = [make.submission(challenge, advocate) for _ in range(55)]
    login(client, advocate.email)

    first = client.get("/hub/submissions")
    ids = [int(n) for n in re.findall(rb'id="submission-(\d+)"', first.data)]
    assert ids == [s.id for s in reversed(made)][:50]
    assert b"1\xe2\x80\x9350 of 55 submissions" in first.data
    second = client.get(_next_link(first))
    ids = [int(n) for n in re.findall(rb'id="submission-(\d+)"', second.data)]
    assert ids == [s.id for s in reversed(made[:5])]

    oldest = made[0]
    assert f"/hub/submissions/{oldest.id}/withdraw?page=2".encode() in second.data
    withdrawn = client.post(f"/hub/submissions/{oldest.id}/withdraw?page=2")
    assert withdrawn.headers["Location"] == "/hub/submissions?page=2"
    assert session.scalar(select(Submission.status).where(Submission.id == oldest.id)) == (
        "withdrawn"
    )
    again = client.get(withdrawn.headers["Location"])
    assert b"Withdrawn." in again.data and b"Try again" in again.data
    assert client.post(f"/hub/submissions/{made[1].id}/withdraw").headers["Location"] == (
        "/hub/submissions"
    )


def _home_queries(client, count_queries) -> int:
    with count_queries() as counted:
        assert client.get("/hub/").status_code == 200
    return counted.n


def test_home_and_submissions_query_counts_do_not_grow(client, make, session, count_queries):
    manager = make.manager()
    emea = make.account("Initech", region="EMEA")
    advocate = make.advocate(account=emea)
    group = AdvocateGroup(name="EMEA", region="EMEA")
    session.add(group)
    program_settings(session)  # a read inserts the row when it is missing: not what we count
    game_settings(session)
    session.commit()
    make.challenge("survey", manager=manager, group_ids=[group.id])
    make.challenge("webinar", manager=manager)
    repeatable = make.challenge(
        "social_share", manager=manager, approval="manual", limit_kind="times", limit_count=10**6
    )
    login(client, advocate.email)
    make.submission(repeatable, advocate)
    few_challenges = _home_queries(client, count_queries)
    with count_queries() as counted:
        client.get("/hub/submissions")
    few_submissions = counted.n

    _surveys(make, 17, manager, group_ids=[group.id])
    _surveys(make, 10, manager, cap=50)
    big = [make.challenge("case_study", manager=manager) for _ in range(10)]
    reviewers = [make.manager() for _ in range(3)]
    for n in range(30):
        made = make.submission(repeatable, advocate)
        services.approve(session, SETTINGS, reviewers[n % 3], made.id)
        session.commit()
    make.submission(big[0], advocate)

    assert _cards(client.get("/hub/")) == 12
    assert _home_queries(client, count_queries) == few_challenges
    # the boxes: level, badges, board and my rank, rewards, the first-visit path
    assert _home_queries(client, count_queries) <= 24
    with count_queries() as counted:
        page = client.get("/hub/submissions")
    assert page.data.count(b'data-testid="submission"') == 32
    assert counted.n == few_submissions
    with count_queries() as counted:
        assert _cards(client.get("/hub/challenges")) == 24
    assert counted.n <= few_challenges


class CountingSet(set):
    """A set of taken slots that counts how many candidates were checked against it."""

    checked = 0

    def __contains__(self, slot) -> bool:
        self.checked += 1
        return super().__contains__(slot)


def test_free_slot_checks_a_handful_of_candidates_even_for_a_billion_times():
    challenge = Challenge(limit_kind=LimitKind.TIMES.value, limit_count=10**9, limit_period="month")
    now = utcnow()
    assert free_slot(challenge, CountingSet(), now) == "1"

    taken = CountingSet({"1", "2", "4", "junk", "1000000001"})
    assert free_slot(challenge, taken, now) == "3"
    assert taken.checked <= len(taken) + 1

    full_run = CountingSet(str(n) for n in range(1, 1001))
    assert free_slot(challenge, full_run, now) == "1001"
    assert full_run.checked == 1001

    three = Challenge(limit_kind=LimitKind.TIMES.value, limit_count=3, limit_period="month")
    assert free_slot(three, {"1", "2", "3", "4", "5"}, now) is None
    assert free_slot(three, {"2", "3", "4", "5"}, now) == "1"
