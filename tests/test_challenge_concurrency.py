"""Challenge races fired at PostgreSQL: real requests released together by a barrier.

Each test checks the answers people get (one winner, clear refusals, never a 500) and the
rows left behind (one award, caps and limits kept, `taken` in step with the submissions).
"""

import threading
import time

import pytest
from sqlalchemy import func, select, text

from challenges.authoring import update_program_settings
from challenges.models import (
    ACTIVE,
    Challenge,
    Submission,
    SubmissionStatus,
    ThankYou,
)
from points.models import LedgerEntry, PointsBalance
from points.program import game_settings
from tests.test_concurrency import logged_in, race

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("postgres_only")]

APPROVE = {"approve": "y", "reason": ""}
REJECT = {"reject": "y", "reason": "The link does not show your post."}
POST = {"post_url": "https://www.linkedin.com/posts/1"}


# --- reading what the race left behind (fresh statements, never the identity map) ---------


def codes_of(answers) -> list[int]:
    """Status codes, sorted; a request that raised (TESTING propagates errors) counts as 500."""
    return sorted(500 if answer is None else answer.status_code for answer in answers)


def body(answer) -> str:
    return answer.get_data(as_text=True)


def taken(session, challenge_id: int) -> int:
    return session.scalar(select(Challenge.taken).where(Challenge.id == challenge_id))


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def active(session, challenge_id: int) -> int:
    return count(
        session,
        Submission,
        Submission.challenge_id == challenge_id,
        Submission.status.in_(ACTIVE),
    )


def entries_for(session, submission_id: int) -> list[LedgerEntry]:
    return list(
        session.scalars(
            select(LedgerEntry).where(LedgerEntry.idempotency_key == f"submission:{submission_id}")
        )
    )


def balance(session, advocate_id: int) -> int:
    return (
        session.scalar(
            select(PointsBalance.balance).where(PointsBalance.advocate_id == advocate_id)
        )
        or 0
    )


def ledger_sum(session, advocate_id: int) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.advocate_id == advocate_id
        )
    )


def status_of(session, submission_id: int) -> str:
    return session.scalar(select(Submission.status).where(Submission.id == submission_id))


def thank_yous(session, submission_id: int) -> int:
    return count(session, ThankYou, ThankYou.submission_id == submission_id)


# --- review races -------------------------------------------------------------------------


def test_four_managers_approving_one_submission_award_it_once(app, make, session):
    challenge = make.challenge("social_share", approval="manual", points=70)
    advocate = make.advocate()
    submission = make.submission(challenge, advocate)
    managers = [make.manager() for _ in range(4)]

    answers = race(
        logged_in(app, [m.email for m in managers]),
        lambda client, i: client.post(f"/manage/review/{submission.id}", data=APPROVE),
    )

    assert codes_of(answers) == [302, 409, 409, 409]
    for answer in answers:
        if answer.status_code == 409:
            assert "Already reviewed" in body(answer)
    assert status_of(session, submission.id) == SubmissionStatus.APPROVED
    [entry] = entries_for(session, submission.id)
    assert entry.amount == 70
    assert balance(session, advocate.id) == 70 == ledger_sum(session, advocate.id)
    assert thank_yous(session, submission.id) == 1
    assert taken(session, challenge.id) == 1


@pytest.mark.parametrize("round_", range(4))
def test_reject_racing_approve_has_one_outcome(app, make, session, round_):
    challenge = make.challenge("social_share", approval="manual", points=40, cap=5)
    advocate = make.advocate()
    submission = make.submission(challenge, advocate)
    assert taken(session, challenge.id) == 1
    approver, rejecter = make.manager(), make.manager()
    # a running program has its settings rows: two requests creating them at once deadlock
    game_settings(session)
    session.commit()
    # swap which thread approves, so each outcome turns up across the rounds
    order = [(approver, APPROVE), (rejecter, REJECT)]
    if round_ % 2:
        order.reverse()

    answers = race(
        logged_in(app, [manager.email for manager, _ in order]),
        lambda client, i: client.post(f"/manage/review/{submission.id}", data=order[i][1]),
    )

    assert codes_of(answers) == [302, 409]
    loser = next(a for a in answers if a.status_code == 409)
    assert "Already reviewed" in body(loser)
    status = status_of(session, submission.id)
    if status == SubmissionStatus.APPROVED:
        assert [e.amount for e in entries_for(session, submission.id)] == [40]
        assert balance(session, advocate.id) == 40
        assert thank_yous(session, submission.id) == 1
        assert taken(session, challenge.id) == 1
    else:
        assert status == SubmissionStatus.REJECTED
        assert entries_for(session, submission.id) == []
        assert balance(session, advocate.id) == 0
        assert thank_yous(session, submission.id) == 0
        assert taken(session, challenge.id) == 0  # given back exactly once
        slot = session.scalar(select(Submission.slot).where(Submission.id == submission.id))
        assert slot is None
    assert taken(session, challenge.id) == active(session, challenge.id)


def test_an_advocate_withdrawing_while_a_manager_approves_has_one_outcome(app, make, session):
    challenge = make.challenge("social_share", approval="manual", points=30, cap=2)
    advocate = make.advocate()
    submission = make.submission(challenge, advocate)
    manager = make.manager()

    requests = [
        lambda client: client.post(f"/manage/review/{submission.id}", data=APPROVE),
        lambda client: client.post(f"/hub/submissions/{submission.id}/withdraw"),
    ]
    answers = race(
        logged_in(app, [manager.email, advocate.email]),
        lambda client, i: requests[i](client),
    )

    assert 500 not in codes_of(answers)
    assert answers[1].status_code == 302  # the withdraw page always redirects, with a message
    status = status_of(session, submission.id)
    if status == SubmissionStatus.APPROVED:
        assert answers[0].status_code == 302
        assert [e.amount for e in entries_for(session, submission.id)] == [30]
        assert taken(session, challenge.id) == 1
    else:
        assert status == SubmissionStatus.WITHDRAWN
        assert answers[0].status_code == 409
        assert entries_for(session, submission.id) == []
        assert taken(session, challenge.id) == 0
    assert balance(session, advocate.id) == ledger_sum(session, advocate.id)


def test_two_managers_bulk_approving_the_same_page_award_each_once(app, make, session):
    challenge = make.challenge("social_share", approval="manual", points=25)
    advocates = [make.advocate() for _ in range(5)]
    submissions = [make.submission(challenge, advocate) for advocate in advocates]
    ids = [s.id for s in submissions]
    managers = [make.manager() for _ in range(2)]

    answers = race(
        logged_in(app, [m.email for m in managers]),
        lambda client, i: client.post(
            "/manage/review/bulk", data={"submission_ids": ids, "approve": "y", "reason": ""}
        ),
    )

    assert codes_of(answers) == [302, 302]
    for submission, advocate in zip(submissions, advocates, strict=True):
        assert status_of(session, submission.id) == SubmissionStatus.APPROVED
        assert [e.amount for e in entries_for(session, submission.id)] == [25]
        assert thank_yous(session, submission.id) == 1
        assert balance(session, advocate.id) == 25
    assert taken(session, challenge.id) == 5


# --- submission races ---------------------------------------------------------------------


def test_eight_tabs_submitting_a_once_only_challenge_make_one_submission(app, make, session):
    challenge = make.challenge("social_share", approval="auto", points=15)
    advocate = make.advocate()

    answers = race(
        logged_in(app, [advocate.email] * 8),
        lambda client, i: client.post(f"/hub/challenges/{challenge.id}", data=POST),
    )

    codes = codes_of(answers)
    assert codes.count(302) == 1
    assert set(codes) <= {200, 302, 422}
    for answer in answers:
        if answer.status_code != 302:
            page = body(answer)
            assert (
                "You have already done this challenge." in page
                or "You have done this challenge as often as it allows." in page
            ), page
    assert count(session, Submission, Submission.challenge_id == challenge.id) == 1
    [submission] = session.scalars(
        select(Submission).where(Submission.challenge_id == challenge.id)
    )
    assert submission.status == SubmissionStatus.APPROVED
    assert [e.amount for e in entries_for(session, submission.id)] == [15]
    assert balance(session, advocate.id) == 15 == ledger_sum(session, advocate.id)
    assert thank_yous(session, submission.id) == 1
    assert taken(session, challenge.id) == 1


def test_ten_advocates_racing_for_three_places_take_exactly_three(app, make, session):
    challenge = make.challenge("social_share", approval="manual", points=10, cap=3)
    advocates = [make.advocate() for _ in range(10)]

    answers = race(
        logged_in(app, [a.email for a in advocates]),
        lambda client, i: client.post(f"/hub/challenges/{challenge.id}", data=POST),
    )

    codes = codes_of(answers)
    assert codes.count(302) == 3
    assert set(codes) <= {200, 302, 422}
    for answer in answers:
        if answer.status_code != 302:
            assert "All 3 places" in body(answer)
    assert count(session, Submission, Submission.challenge_id == challenge.id) == 3
    assert taken(session, challenge.id) == 3 == active(session, challenge.id)
    winners = {advocates[i].id for i, answer in enumerate(answers) if answer.status_code == 302}
    submitted = set(
        session.scalars(
            select(Submission.advocate_id).where(Submission.challenge_id == challenge.id)
        )
    )
    assert submitted == winners


def test_one_advocate_racing_four_big_asks_gets_at_most_the_cap(app, make, session):
    # program default: 2 high-effort asks per advocate per 90 days
    calls = [
        make.challenge("reference_call", config={"arranged_by": "Maya Patel"}, points=200)
        for _ in range(4)
    ]
    advocate = make.advocate()

    answers = race(
        logged_in(app, [advocate.email] * 4),
        lambda client, i: client.post(
            f"/hub/challenges/{calls[i].id}", data={"availability": "Tuesdays"}
        ),
    )

    codes = codes_of(answers)
    assert 500 not in codes
    assert codes.count(302) == 2  # nothing else stands in the way of the first two
    for answer in answers:
        if answer.status_code != 302:
            assert "big asks" in body(answer)
    made = count(
        session,
        Submission,
        Submission.advocate_id == advocate.id,
        Submission.high_effort,
        Submission.status.in_(ACTIVE),
    )
    assert made == 2
    assert sum(taken(session, c.id) for c in calls) == 2


def test_advocates_of_one_account_racing_big_asks_keep_the_account_cap(app, make, session):
    manager = make.manager()
    update_program_settings(session, manager, 2, 3, 90, "")
    session.commit()
    account = make.account()
    advocates = [make.advocate(account=account) for _ in range(6)]
    calls = [make.challenge("reference_call", manager=manager) for _ in range(6)]

    answers = race(
        logged_in(app, [a.email for a in advocates]),
        lambda client, i: client.post(
            f"/hub/challenges/{calls[i].id}", data={"availability": "Mornings"}
        ),
    )

    codes = codes_of(answers)
    assert 500 not in codes
    assert codes.count(302) == 3
    for answer in answers:
        if answer.status_code != 302:
            assert "Your company has helped with 3 big asks" in body(answer)
    assert count(session, Submission, Submission.account_id == account.id) == 3


# --- bulk review against single review: a deterministic interleaving ------------------------
#
# Not a barrier race: a third connection holds a row lock so that the bulk request is
# paused mid-batch, holding the locks of the items it has already done, while a single
# review takes a lock the batch needs later. Each request must still finish, never with a
# deadlock (an error page to one of the managers).


def _waiting_on_locks(session) -> int:
    # a fresh connection each time: pg_stat_activity is a snapshot per transaction
    with session.get_bind().connect() as connection:
        return connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )


def _wait_until(condition, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def _in_background(client, request) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def run():
        try:
            box["answer"] = request(client)
        except Exception as error:  # noqa: BLE001 - reported by the test
            box["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def _bulk_paused_while_one_is_reviewed(session, clients, paused_id, bulk_data, single):
    """Start the bulk review, pause it on `paused_id`, start `single`, then let both go."""
    bulk_client, single_client = clients
    holder = session.get_bind().connect()
    holder.begin()
    holder.execute(select(Submission.id).where(Submission.id == paused_id).with_for_update())
    try:
        bulk = _in_background(
            bulk_client, lambda client: client.post("/manage/review/bulk", data=bulk_data)
        )
        _wait_until(lambda: _waiting_on_locks(session) >= 1, "the bulk review is paused")
        one = _in_background(single_client, single)
        _wait_until(
            lambda: _waiting_on_locks(session) >= 2 or not one[0].is_alive(),
            "the single review waits too, or is done",
        )
    finally:
        holder.rollback()
        holder.close()
    outcomes = []
    for thread, box in (bulk, one):
        thread.join(timeout=60)
        assert not thread.is_alive(), "a request never finished"
        outcomes.append(box)
    return outcomes


def _no_errors(outcomes) -> list[int]:
    errors = [repr(box["error"]) for box in outcomes if "error" in box]
    assert not errors, f"a manager got an error page: {errors}"
    codes = [box["answer"].status_code for box in outcomes]
    assert 500 not in codes
    return codes


def test_bulk_approve_and_a_single_approve_of_the_same_advocate_both_finish(app, make, session):
    first = make.challenge("social_share", approval="manual", points=10)
    second = make.challenge("social_share", approval="manual", points=10)
    advocate = make.advocate()
    early = make.submission(first, advocate)
    others = [make.submission(first) for _ in range(3)]
    late = make.submission(second, advocate)
    ids = [early.id, *[o.id for o in others], late.id]
    clients = logged_in(app, [make.manager().email, make.manager().email])

    outcomes = _bulk_paused_while_one_is_reviewed(
        session,
        clients,
        paused_id=others[0].id,
        bulk_data={"submission_ids": ids, "approve": "y", "reason": ""},
        single=lambda client: client.post(f"/manage/review/{late.id}", data=APPROVE),
    )

    codes = _no_errors(outcomes)
    assert codes[0] == 302 and codes[1] in (302, 409)
    for submission_id in ids:
        assert status_of(session, submission_id) == SubmissionStatus.APPROVED
        assert [e.amount for e in entries_for(session, submission_id)] == [10]
    assert balance(session, advocate.id) == 20 == ledger_sum(session, advocate.id)


def test_bulk_reject_and_a_single_reject_on_one_challenge_both_finish(app, make, session):
    challenge = make.challenge("social_share", approval="manual", points=10, cap=10)
    submissions = [make.submission(challenge) for _ in range(4)]
    ids = [s.id for s in submissions]
    clients = logged_in(app, [make.manager().email, make.manager().email])

    outcomes = _bulk_paused_while_one_is_reviewed(
        session,
        clients,
        paused_id=ids[1],
        bulk_data={"submission_ids": ids, "reject": "y", "reason": "Not a public post."},
        single=lambda client: client.post(f"/manage/review/{ids[-1]}", data=REJECT),
    )

    codes = _no_errors(outcomes)
    assert codes[0] == 302 and codes[1] in (302, 409)
    for submission_id in ids:
        assert status_of(session, submission_id) == SubmissionStatus.REJECTED
    assert taken(session, challenge.id) == 0 == active(session, challenge.id)
