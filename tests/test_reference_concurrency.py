"""Reference asks fired at PostgreSQL: real requests released together by a barrier.

One advocate has at most one open ask: of two staff asking at once, one wins and the other
is told who asked and when; the same ask sent twice at once is one ask and one email."""

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.mail.models import OutboxMessage
from references.models import OPEN_ASK, AskStatus, ReferenceAsk
from tests.test_challenge_concurrency import body, codes_of
from tests.test_concurrency import logged_in, race
from tests.test_reference_asks import MESSAGE, file_request, propose

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("postgres_only")]


def open_asks(session, advocate_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(ReferenceAsk)
        .where(ReferenceAsk.advocate_id == advocate_id, ReferenceAsk.status.in_(OPEN_ASK))
    )


def emails(session) -> int:
    return session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "reference_ask")
    )


@pytest.fixture
def advocate(make):
    account = make.account("Initech")
    person = make.advocate("dana@initech.example", account=account)
    person.name = "Dana Lee"
    make.session.commit()
    return person


@pytest.mark.parametrize("round_", range(3))
def test_two_staff_asking_one_advocate_at_once_leave_one_open_ask(
    app, make, session, advocate, round_
):
    # the account changed hands between the two proposals: each ask has its own owner
    maya = make.user(Role.MANAGER, f"maya{round_}@vouch.example", name="Maya Patel")
    omar = make.user(Role.MANAGER, f"omar{round_}@vouch.example", name="Omar Ng")
    sales = make.sales()
    first = propose(session, file_request(session, sales, "Globex"), advocate, maya)
    second = propose(session, file_request(session, sales, "Umbrella"), advocate, omar)
    asks = [first.id, second.id]

    answers = race(
        logged_in(app, [maya.email, omar.email]),
        lambda client, i: client.post(f"/references/asks/{asks[i]}", data={"message": MESSAGE}),
    )

    assert codes_of(answers) == [302, 409]
    assert open_asks(session, advocate.id) == 1
    winner = "Maya Patel" if answers[0].status_code == 302 else "Omar Ng"
    [loser] = [answer for answer in answers if answer.status_code == 409]
    assert f"{winner} already asked Dana Lee on" in body(loser)
    assert "one ask at a time" in body(loser)
    assert emails(session) == 1


def test_the_same_ask_sent_twice_at_once_is_one_email(app, make, session, advocate):
    maya = make.user(Role.MANAGER, "maya@vouch.example", name="Maya Patel")
    ask = propose(session, file_request(session, make.sales(), "Globex"), advocate, maya)

    answers = race(
        logged_in(app, [maya.email, maya.email]),
        lambda client, i: client.post(f"/references/asks/{ask.id}", data={"message": MESSAGE}),
    )

    assert codes_of(answers) == [302, 409]
    [loser] = [answer for answer in answers if answer.status_code == 409]
    assert "Maya Patel already asked Dana Lee on" in body(loser)
    assert emails(session) == 1
    session.expire_all()
    assert session.get(ReferenceAsk, ask.id).status == AskStatus.ASKED


def test_an_admin_and_the_owner_asking_at_once_ask_once(app, make, session, advocate):
    maya = make.user(Role.MANAGER, "maya@vouch.example", name="Maya Patel")
    admin = make.user(Role.ADMIN, "root@vouch.example", name="Ada Admin")
    ask = propose(session, file_request(session, make.sales(), "Globex"), advocate, maya)

    answers = race(
        logged_in(app, [maya.email, admin.email]),
        lambda client, i: client.post(f"/references/asks/{ask.id}", data={"message": MESSAGE}),
    )

    assert codes_of(answers) == [302, 409]
    [loser] = [answer for answer in answers if answer.status_code == 409]
    assert "already asked Dana Lee on" in body(loser)
    assert emails(session) == 1
