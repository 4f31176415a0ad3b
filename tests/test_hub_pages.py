"""The advocate's challenge pages stay small and fast however big the program grows."""

from __future__ import annotations

from challenges.limits import free_slot
from challenges.models import Challenge, LimitKind
from portal.db import utcnow


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
