"""Each advocate's two years, for bench-data: submissions and the thank-yous owed for
them, redemptions and gift offers, then the ledger entries behind it all and the balance.

The entries mirror the services exactly: an approved submission books
`submission:<id>` (points.services.award); a redemption books `redemption:<id>:hold`
(held +cost, points.services.hold), then `redemption:<id>:settle`, spending (-cost from
balance and held) when fulfilled or voiding (-cost from held) when rejected or cancelled,
and a fulfilled one refunded books `redemption:<id>:refund` (+cost); the rest are
adjustments. An advocate's entries are booked in time order, and the first, the points
carried over from the previous program, is large enough that what is available
(balance - held) never goes below zero.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import click

from benchmarks import program as content
from benchmarks.bulk import Batch
from benchmarks.plans import (
    DAY,
    INVITED,
    MEMBER,
    ChallengePlan,
    Member,
    Person,
    Program,
    RewardPlan,
    audit,
)
from challenges.models import Approval, ChallengeStatus, LimitKind, SubmissionStatus
from challenges.types import REGISTRY
from points.models import EntrySource, OfferStatus, RedemptionStatus, RewardKind
from points.rewards import allowed_kinds
from portal.accounts.models import GiftPolicy
from portal.periods import period_key

S, R = SubmissionStatus, RedemptionStatus
# advocate1's adjustments this month: a score mid-board, so "my rank" is measured outside the top
ADVOCATE1_THIS_MONTH = 2
PENDING_SHARE = 0.005  # of submissions waiting for review: about 10k of 2M
FLUSH_AT_ROWS = 250_000
LEDGER_COLUMNS = content.words(
    "advocate_id amount hold_change source source_id idempotency_key note actor_id created_at"
)
WHEN = LEDGER_COLUMNS.index("created_at")
REFERENCES = {  # what an admin records on fulfilment, by kind
    RewardKind.GIFT_CARD: "GIFT-{n:08X}",
    RewardKind.SWAG: "1Z999AA1{n:010d}",
    RewardKind.CHARITY: "Donation receipt {n}",
    RewardKind.EXPERIENCE: "Booking BK-{n}",
    RewardKind.RECOGNITION: "https://vouch.example/newsletter/{n}",
}
WITH_REASON = (R.REJECTED, R.CANCELLED, R.REFUNDED)  # transitions that record why
AUDITED = {  # redemption transitions an admin makes: (audit verb, summary)
    R.APPROVED: ("approve", "Approved"),
    R.FULFILLED: ("fulfil", "Fulfilled"),
    R.REJECTED: ("reject", "Rejected"),
    R.CANCELLED: ("cancel", "Cancelled"),
    R.REFUNDED: ("refund", "Refunded"),
}


def load_activity(program: Program) -> None:
    """Every advocate who joined, one after the other: their submissions, redemptions and
    offers, then their ledger and balance."""
    joined = [advocate for advocate in program.advocates if advocate.status != INVITED]
    if not joined:
        return
    pools = Pools.of(program)
    budget = EntryBudget(
        left=program.sizes.entries,
        weights_left=sum(advocate.ledger_weight for advocate in joined),
        advocates_left=len(joined),
    )
    submissions_each = program.sizes.submissions / len(joined)
    redemptions_each = program.sizes.redemptions / len(joined)
    catalogs: dict[tuple, list[RewardPlan]] = {}
    batch = program.batch()
    with click.progressbar(joined, label="activity   ") as bar:
        for advocate in bar:
            history = History(program, batch, advocate)
            busy = advocate.activity
            history.add_submissions(pools, 20 if advocate.is_advocate1 else submissions_each * busy)
            catalog = catalog_for(program, catalogs, advocate)
            count = 4 if advocate.is_advocate1 else redemptions_each * (0.5 + 0.5 * busy)
            history.add_redemptions(catalog, count)
            other = len(history.entries)
            written = history.book_ledger(budget.adjustments(advocate, other))
            budget.spent(advocate, other, written)
            if batch.size >= FLUSH_AT_ROWS:
                batch.flush()
    batch.flush()


@dataclass
class EntryBudget:
    """Shares out adjustment entries, by weight, so the ledger ends at `--entries` rows."""

    left: int  # entries still to write
    weights_left: float
    advocates_left: int
    other_seen: int = 0  # award and redemption entries so far
    advocates_seen: int = 0

    def adjustments(self, advocate: Member, other: int) -> int:
        average = (self.other_seen + other) / (self.advocates_seen + 1)
        after = self.advocates_left - 1
        room = self.left - other - round(average * after)  # adjustments for all who are left
        if not after:
            return max(0, room)
        return max(0, round(room * advocate.ledger_weight / self.weights_left))

    def spent(self, advocate: Member, other: int, written: int) -> None:
        self.left -= written
        self.weights_left -= advocate.ledger_weight
        self.advocates_left -= 1
        self.other_seen += other
        self.advocates_seen += 1


@dataclass
class Pools:
    """Challenges to draw from, by what a submission's status needs: any that is or was
    live; reviewed by hand (rejected, withdrawn); reviewed by hand and open now (pending)."""

    live: tuple[list[ChallengePlan], list[float]]
    manual: tuple[list[ChallengePlan], list[float]]
    open_manual: tuple[list[ChallengePlan], list[float]]

    @classmethod
    def of(cls, program: Program) -> Pools:
        now = program.now
        live = [c for c in program.challenges if c.status != ChallengeStatus.DRAFT]
        manual = [c for c in live if c.approval == Approval.MANUAL]
        open_manual = [
            c
            for c in manual
            if c.status == ChallengeStatus.PUBLISHED
            and c.starts_at < now - DAY
            and (c.ends_at is None or c.ends_at > now)
        ]
        return cls(_weighted(live), _weighted(manual), _weighted(open_manual))

    def draw(self, rng: random.Random, status: str) -> ChallengePlan | None:
        if status == S.PENDING:
            pool, weights = self.open_manual
        elif status in (S.REJECTED, S.WITHDRAWN):
            pool, weights = self.manual
        else:
            pool, weights = self.live
        return rng.choices(pool, cum_weights=weights)[0] if pool else None


def _weighted(pool: list[ChallengePlan]) -> tuple[list[ChallengePlan], list[float]]:
    running, cumulative = 0.0, []
    for challenge in pool:
        running += challenge.popularity
        cumulative.append(running)
    return pool, cumulative


def catalog_for(program: Program, catalogs: dict, advocate: Member) -> list[RewardPlan]:
    """Active rewards the advocate's gift policy and region allow (as points.rewards)."""
    account = advocate.account
    key = (account.policy, advocate.declines_gifts, account.region)
    if key not in catalogs:
        kinds = allowed_kinds(account.policy, advocate.declines_gifts)
        catalogs[key] = [
            reward
            for reward in program.rewards
            if reward.active
            and reward.kind in kinds
            and (not reward.regions or account.region in reward.regions)
        ]
    return catalogs[key]


class History:
    """One advocate's rows, added to the batch as they are made, and their ledger entries,
    kept until `book_ledger` puts them in time order."""

    def __init__(self, program: Program, batch: Batch, advocate: Member):
        self.program, self.batch, self.advocate = program, batch, advocate
        self.rng, self.now = program.rng, program.now
        self.me = Person(advocate.id, advocate.name)
        self.entries: list[tuple] = []
        self.slots: dict[int, set[str]] = defaultdict(set)  # challenge id: limit slots taken
        self.reward_slots: set[tuple[int, str]] = set()  # (reward id, limit slot) taken

    def entry(self, amount, hold_change, source, source_id, key, note, actor, when) -> None:
        actor_id = actor.id if actor else None
        source = source.value
        self.entries.append(
            (self.advocate.id, amount, hold_change, source, source_id, key, note, actor_id, when)
        )

    def about(self, mean: float) -> int:
        """A whole number whose average is `mean`."""
        whole = int(mean)
        return whole + (self.rng.random() < mean - whole)

    # --- submissions ----------------------------------------------------------------------

    def add_submissions(self, pools: Pools, mean: float) -> None:
        for index in range(self.about(mean)):
            status = self.submission_status(index)
            for _attempt in range(6):  # another challenge when a window or limit is wrong
                challenge = pools.draw(self.rng, status)
                if challenge and self.add_submission(challenge, status):
                    break
        advocate = self.advocate
        if advocate.status == MEMBER and not advocate.is_advocate1 and self.rng.random() < 0.01:
            self.add_logged_activity()

    def submission_status(self, index: int) -> str:
        if self.advocate.is_advocate1:  # two waiting for review, two rejected, one withdrawn
            mixed = (S.PENDING, S.PENDING, S.REJECTED, S.REJECTED, S.WITHDRAWN)
            return mixed[index] if index < len(mixed) else S.APPROVED
        roll = self.rng.random()
        if roll < PENDING_SHARE:
            return S.PENDING if self.advocate.status == MEMBER else S.APPROVED
        if roll < 0.035:
            return S.WITHDRAWN
        if roll < 0.1:
            return S.REJECTED
        return S.APPROVED

    def targeted(self, challenge: ChallengePlan) -> bool:
        """As challenges.services.targets: no groups, or a group that reaches the advocate."""
        if not challenge.group_ids:
            return True
        advocate = self.advocate
        for group_id in challenge.group_ids:
            if advocate.id in self.program.group_members.get(group_id, ()):
                return True
            rules = self.program.groups.get(group_id)
            if rules and all(_matches(advocate, name, wanted) for name, wanted in rules.items()):
                return True
        return False

    def add_submission(self, challenge: ChallengePlan, status: str) -> bool:
        """One submission, if the challenge's window, targeting, limit and cap allow it."""
        program, advocate, rng, now = self.program, self.advocate, self.rng, self.now
        start = max(advocate.joined_at, challenge.starts_at)
        end = min(advocate.until, challenge.ends_at or now, now)
        if status == S.PENDING:
            start = max(start, now - 30 * DAY)
        if start >= end or not self.targeted(challenge):
            return False
        created = program.between(start, end)
        slot = None
        if status in (S.PENDING, S.APPROVED):  # these hold a limit slot and a place under a cap
            if challenge.high_effort and not program.big_asks.fit(advocate, created):
                return False
            slot = free_slot(challenge, self.slots[challenge.id], created)
            if slot is None or (challenge.cap is not None and challenge.taken >= challenge.cap):
                return False
            self.slots[challenge.id].add(slot)
            challenge.taken += 1
            if challenge.high_effort:
                program.big_asks.add(advocate, created)
        submission_id = program.take_id("submissions")
        with_code = status == S.APPROVED and rng.random() < 0.6  # a webinar's attendance code
        evidence = evidence_for(rng, challenge, submission_id, confirmed=with_code)
        automatic = challenge.approval == Approval.AUTO or "attendance_code" in evidence
        reviewer = reviewed = None
        reason = ""
        if status == S.APPROVED and automatic:
            webinar = challenge.type == "webinar"  # confirmed when the code is entered
            reviewed = program.hours_after(created, 1, 480) if webinar else created
        elif status in (S.APPROVED, S.REJECTED):
            reviewer, reviewed = program.manager(), program.hours_after(created, 2, 24 * 7)
            reason = rng.choice(content.REJECTION_REASONS) if status == S.REJECTED else ""
        elif status == S.WITHDRAWN:
            reviewed = program.hours_after(created, 1, 24 * 5)
        self.batch.add(
            "submissions",
            id=submission_id,
            challenge_id=challenge.id,
            advocate_id=advocate.id,
            account_id=advocate.account.id,
            type=challenge.type,
            high_effort=challenge.high_effort,
            status=status.value,
            slot=slot,
            evidence=evidence,
            points_awarded=challenge.points if status == S.APPROVED else None,
            reviewer_id=reviewer.id if reviewer else None,
            reviewed_at=reviewed,
            reason=reason,
            logged_by_id=None,
            description="",
            created_at=created,
        )
        if status == S.APPROVED:
            self.approved(submission_id, challenge.title, challenge.points, reviewer, reviewed)
        elif status == S.REJECTED and program.audited():
            summary = f"Rejected {advocate.name}'s “{challenge.title}”"
            target = ("submission", submission_id)
            audit(
                self.program,
                reviewer,
                "submission.reject",
                target,
                summary,
                reviewed,
                reason=reason,
            )
        return True

    def approved(self, submission_id: int, title: str, points: int, reviewer, when) -> None:
        """What challenges.services._reward writes: the award, the thank-you owed, the audit."""
        if points:
            key = f"submission:{submission_id}"
            self.entry(points, 0, EntrySource.SUBMISSION, submission_id, key, title, reviewer, when)
        # most are thanked within the week; of the last three weeks', many are still open
        thanked_at = thanked_by = method = None
        if self.rng.random() < (0.4 if when > self.now - 21 * DAY else 0.985):
            late = self.rng.random() < 0.15
            hours = (24 * 5, 24 * 20) if late else (2, 24 * 5)
            thanked_at = self.program.hours_after(when, *hours)
            thanked_by = self.program.manager().id
            method = "email" if self.rng.random() < 0.8 else "other"
        self.batch.add(
            "thank_yous",
            submission_id=submission_id,
            created_at=when,
            thanked_at=thanked_at,
            thanked_by_id=thanked_by,
            method=method,
            note=self.rng.choice(content.THANKS_NOTES) if method == "other" else "",
        )
        if reviewer is not None and self.program.audited():
            summary = f"Approved {self.advocate.name}'s “{title}” by {reviewer.name}"
            target = ("submission", submission_id)
            audit(
                self.program, reviewer, "submission.approve", target, summary, when, points=points
            )

    def add_logged_activity(self) -> None:
        """Something the advocate did outside the hub, logged by staff (log_activity)."""
        program, advocate = self.program, self.advocate
        kind = self.rng.choice(["reference_call", "case_study", "webinar"])
        type_ = REGISTRY[kind]
        occurred = program.between(max(advocate.joined_at, self.now - 300 * DAY), self.now - DAY)
        if type_.high_effort:
            if not program.big_asks.fit(advocate, occurred):
                return
            program.big_asks.add(advocate, occurred)
        staff = program.manager()
        points = self.rng.choice([0, 0, 100, 250])
        submission_id = program.take_id("submissions")
        logged = program.hours_after(occurred, 24, 24 * 5)
        self.batch.add(
            "submissions",
            id=submission_id,
            challenge_id=None,
            advocate_id=advocate.id,
            account_id=advocate.account.id,
            type=kind,
            high_effort=type_.high_effort,
            status=S.APPROVED.value,
            slot=None,
            evidence={},
            points_awarded=points,
            reviewer_id=staff.id,
            reviewed_at=logged,
            reason="",
            logged_by_id=staff.id,
            description=f"{type_.label} arranged directly by the account team",
            created_at=occurred,
        )
        self.approved(submission_id, f"{type_.label} (logged by staff)", points, staff, logged)

    # --- redemptions and offers -----------------------------------------------------------

    def add_redemptions(self, catalog: list[RewardPlan], mean: float) -> None:
        if not catalog:
            return
        advocate, threshold = self.advocate, self.program.auto_approve_below
        for index in range(self.about(mean)):
            status = self.redemption_status(index)
            choices = catalog
            if advocate.is_advocate1 and status == R.REQUESTED:  # one an admin must approve
                choices = [reward for reward in catalog if reward.cost >= threshold] or catalog
            start = advocate.joined_at + 14 * DAY
            if status in (R.REQUESTED, R.APPROVED):  # open ones are recent
                start = max(start, self.now - 21 * DAY)
            if start >= advocate.until:
                continue
            for _attempt in range(20 if advocate.is_advocate1 else 4):  # out of stock, limits
                created = self.program.between(start, advocate.until)
                if self.add_redemption(self.rng.choice(choices), status, created):
                    break
        if advocate.status == MEMBER and self.rng.random() < 0.005:
            self.add_offer(catalog)

    def redemption_status(self, index: int) -> str:
        if self.advocate.is_advocate1:  # one delivered, one being prepared, one waiting, one not
            return (R.FULFILLED, R.APPROVED, R.REQUESTED, R.CANCELLED)[index % 4]
        roll = self.rng.random()
        if roll < 0.08:  # open: only members still in the program have open ones
            if self.advocate.status != MEMBER:
                return R.FULFILLED
            return R.REQUESTED if roll < 0.03 else R.APPROVED
        if roll < 0.12:
            return R.REJECTED
        if roll < 0.22:
            return R.CANCELLED
        if roll < 0.25:
            return R.REFUNDED
        return R.FULFILLED

    def add_redemption(self, reward: RewardPlan, status, created, offered=False) -> int | None:
        """A redemption with its history and the ledger entries its status implies, if the
        reward's window, stock and limit allow it. Returns its id."""
        program, advocate, rng = self.program, self.advocate, self.rng
        live = status not in (R.REJECTED, R.CANCELLED)  # holding stock and a limit slot
        out_of_stock = live and reward.stock is not None and reward.stock < 1
        if not reward.available(created) or out_of_stock:
            return None
        slot = None
        if live and reward.limit_count and not offered:
            slot = reward_slot(reward, created, self.reward_slots)
            if slot is None:
                return None
        if live and reward.stock is not None:
            reward.stock -= 1
        redemption_id = program.take_id("redemptions")
        automatic = reward.cost < program.auto_approve_below and (
            advocate.account.policy != GiftPolicy.NEEDS_APPROVAL
        )
        if status == R.REQUESTED and automatic:
            status = R.APPROVED
        moves = self.redemption_moves(reward, status, automatic, created)
        kind = RewardKind(reward.kind)
        address = ""
        if kind == RewardKind.SWAG:
            street = f"{rng.randint(1, 400)} {rng.choice(content.STREETS)}"
            address = f"{advocate.name}\n{street}\n{advocate.account.region}"
        delivered = status in (R.FULFILLED, R.REFUNDED)
        cost = 0 if offered else reward.cost  # a gift a manager offered costs no points
        self.batch.add(
            "redemptions",
            id=redemption_id,
            request_key=f"offer:{redemption_id}" if offered else f"bench:{redemption_id}",
            advocate_id=advocate.id,
            account_id=advocate.account.id,
            reward_id=reward.id,
            cost=cost,
            money_value=reward.money_value,
            currency=reward.currency,
            status=status.value,
            slot=slot,
            shipping_address=address,
            flagged="",
            reference=REFERENCES[kind].format(n=redemption_id) if delivered else "",
            reason=next((note for _f, to, _a, note, _w in moves if to in WITH_REASON), ""),
            created_at=created,
            updated_at=moves[-1][4],
        )
        for from_status, to_status, actor, note, when in moves:
            self.batch.add(
                "redemption_events",
                redemption_id=redemption_id,
                from_status=str(from_status),
                to_status=to_status.value,
                actor_id=actor.id if actor else None,
                note=note,
                created_at=when,
            )
            by_staff = actor is not None and actor is not self.me
            if by_staff and to_status in AUDITED and program.audited():
                verb, summary = AUDITED[to_status]
                details = {"reason": note} if to_status in WITH_REASON else {}
                summary = f"{summary} {advocate.name}'s {reward.name} (#{redemption_id})"
                audit(
                    self.program,
                    actor,
                    f"redemption.{verb}",
                    ("redemption", redemption_id),
                    summary,
                    when,
                    **details,
                )
        if cost:
            self.book_redemption(reward, redemption_id, cost, moves)
        return redemption_id

    def redemption_moves(self, reward, status, automatic, created) -> list[tuple]:
        """(from, to, actor, note, when) of each transition, as points.redemptions records."""
        program, rng = self.program, self.rng
        moves = [("", R.REQUESTED, self.me, "", created)]
        if status == R.REQUESTED:
            return moves
        if status in (R.APPROVED, R.FULFILLED, R.REFUNDED) or automatic or rng.random() < 0.4:
            if automatic:
                moves.append(
                    (R.REQUESTED, R.APPROVED, None, "under the approval threshold", created)
                )
            else:
                approved_at = program.hours_after(created, 1, 72)
                moves.append((R.REQUESTED, R.APPROVED, program.admin(), "", approved_at))
        last, then = moves[-1][1], moves[-1][4]
        if status in (R.FULFILLED, R.REFUNDED):
            note = f"{RewardKind(reward.kind).reference_label} recorded"
            fulfilled = program.hours_after(then, 24, 24 * 14)
            moves.append((R.APPROVED, R.FULFILLED, program.admin(), note, fulfilled))
            if status == R.REFUNDED:
                reason = rng.choice(content.REFUND_REASONS)
                refunded = program.hours_after(fulfilled, 48, 24 * 30)
                moves.append((R.FULFILLED, R.REFUNDED, program.admin(), reason, refunded))
        elif status == R.REJECTED:
            reason = rng.choice(content.REDEMPTION_REJECTIONS)
            moves.append(
                (last, R.REJECTED, program.admin(), reason, program.hours_after(then, 1, 72))
            )
        elif status == R.CANCELLED:
            when = program.hours_after(then, 1, 96)
            if rng.random() < 0.3:
                moves.append((last, R.CANCELLED, program.admin(), "Duplicate request", when))
            else:
                moves.append((last, R.CANCELLED, self.me, "Cancelled by the advocate", when))
        return moves

    def book_redemption(self, reward: RewardPlan, redemption_id: int, cost: int, moves) -> None:
        """points.services.hold, then settle (spend or void) and refund: keys, signs, sources."""
        name, settle = reward.name, f"redemption:{redemption_id}:settle"
        hold = f"redemption:{redemption_id}:hold"
        self.entry(
            0, cost, EntrySource.REDEMPTION_HOLD, redemption_id, hold, name, None, moves[0][4]
        )
        for _from, to_status, actor, note, when in moves[1:]:
            if to_status == R.FULFILLED:
                spend = EntrySource.REDEMPTION_POST
                self.entry(-cost, -cost, spend, redemption_id, settle, name, actor, when)
            elif to_status in (R.REJECTED, R.CANCELLED):
                void = EntrySource.REDEMPTION_VOID
                self.entry(0, -cost, void, redemption_id, settle, name, actor, when)
            elif to_status == R.REFUNDED:
                refund = f"redemption:{redemption_id}:refund"
                self.entry(cost, 0, EntrySource.REFUND, redemption_id, refund, note, actor, when)

    def add_offer(self, catalog: list[RewardPlan]) -> None:
        """A thank-you gift a manager offered: waiting, declined, or accepted (redeemed free)."""
        program, advocate, rng = self.program, self.advocate, self.rng
        gifts = [reward for reward in catalog if reward.kind != RewardKind.CHARITY]
        if not gifts:
            return
        reward, manager = rng.choice(gifts), program.manager()
        offered = program.between(max(advocate.joined_at, self.now - 120 * DAY), self.now - DAY)
        status = rng.choice(
            [OfferStatus.OFFERED] * 3 + [OfferStatus.DECLINED] * 2 + [OfferStatus.ACCEPTED] * 5
        )
        decided = None if status == OfferStatus.OFFERED else program.hours_after(offered, 1, 96)
        redemption_id = None
        if status == OfferStatus.ACCEPTED:
            delivery = R.APPROVED if rng.random() < 0.3 else R.FULFILLED
            redemption_id = self.add_redemption(reward, delivery, decided, offered=True)
            if redemption_id is None:  # out of stock by then
                status = OfferStatus.DECLINED
        self.batch.add(
            "gift_offers",
            id=program.take_id("gift_offers"),
            advocate_id=advocate.id,
            reward_id=reward.id,
            offered_by_id=manager.id,
            message="Thank you for all your help this year!",
            status=status.value,
            redemption_id=redemption_id,
            created_at=offered,
            decided_at=decided,
        )
        summary = f"Offered {advocate.name} {reward.name}"
        audit(self.program, manager, "offer.create", ("user", advocate.id), summary, offered)

    # --- the ledger -----------------------------------------------------------------------

    def book_ledger(self, adjustments: int) -> int:
        """The entries in time order, with `adjustments` of the advocate's own (the first,
        the points carried over, covers the lowest point), and the balance row that sums
        them. Returns the number of entries written."""
        advocate, rng = self.advocate, self.rng
        start, span = advocate.joined_at, advocate.until - advocate.joined_at
        admins = self.program.admins
        for number in range(1, adjustments):
            this_month = advocate.is_advocate1 and number <= ADVOCATE1_THIS_MONTH
            if this_month or rng.random() < 0.9:
                amount = rng.choice((10, 20, 25, 50, 50, 75, 100, 150, 200, 250))
                note = rng.choice(content.ADJUSTMENT_CREDITS)
            else:
                amount = -rng.choice((5, 10, 20, 25, 50))
                note = rng.choice(content.ADJUSTMENT_DEBITS)
            key = f"adjustment:bench-{advocate.id}-{number}"
            when = start + span * rng.random()
            if this_month:
                when = self.program.between(max(start, self.program.month_start), self.now)
            self.entry(amount, 0, EntrySource.ADJUSTMENT, None, key, note, rng.choice(admins), when)
        entries = self.entries
        entries.sort(key=lambda entry: entry[WHEN])
        available = lowest = 0  # balance - held, as the entries are booked one by one
        for entry in entries:
            available += entry[1] - entry[2]
            lowest = min(lowest, available)
        if adjustments or lowest < 0:
            carried = rng.choice((250, 500, 1000, 1500, 2500)) - lowest
            # a healthy balance to spend, not so much that it tops the all-time board
            carried += 2000 if advocate.is_advocate1 else 0
            key, note = f"adjustment:bench-{advocate.id}-0", content.ADJUSTMENT_CARRIED_OVER
            self.entry(
                carried, 0, EntrySource.ADJUSTMENT, None, key, note, rng.choice(admins), start
            )
            entries.insert(0, entries.pop())
        if not entries:
            return 0
        balance = held = earned = 0
        for _advocate, amount, hold_change, source, *_rest in entries:
            balance += amount
            held += hold_change
            if source == EntrySource.SUBMISSION:
                earned += amount
        self.batch.extend("ledger_entries", LEDGER_COLUMNS, entries)
        self.batch.add(
            "points_balances",
            advocate_id=advocate.id,
            balance=balance,
            held=held,
            lifetime_earned=earned,
            updated_at=entries[-1][WHEN],
        )
        return len(entries)


def _matches(advocate: Member, name: str, wanted: str) -> bool:
    if name == "job_level":
        return (advocate.job_level or "") == wanted
    return getattr(advocate.account, name).casefold() == wanted.casefold()


def free_slot(challenge: ChallengePlan, taken: set[str], when: datetime) -> str | None:
    """As challenges.limits.free_slot: the per-advocate limit slot a submission takes."""
    if challenge.limit_kind == LimitKind.PER_PERIOD:
        candidates = [period_key(challenge.limit_period, when)]
    elif challenge.limit_kind == LimitKind.TIMES:
        candidates = [str(n) for n in range(1, challenge.limit_count + 1)]
    else:
        candidates = ["1"]
    return next((slot for slot in candidates if slot not in taken), None)


def reward_slot(reward: RewardPlan, when: datetime, taken: set) -> str | None:
    """As points.redemptions._free_slot: the advocate's limit slot for this reward."""
    period = "ever" if reward.limit_period == "ever" else period_key(reward.limit_period, when)
    for number in range(1, reward.limit_count + 1):
        slot = f"{period}#{number}"
        if (reward.id, slot) not in taken:
            taken.add((reward.id, slot))
            return slot
    return None


def evidence_for(rng: random.Random, challenge: ChallengePlan, number: int, confirmed: bool):
    """Evidence of the kind the challenge's type asks for (bench_data checks it against the
    type once per challenge)."""
    kind = challenge.type
    if kind == "review":
        domain = REGISTRY["review"].site(challenge.config)[1]
        return {"review_url": f"https://www.{domain}/products/vouch/{number}", "disclosed": True}
    if kind == "webinar":
        code = challenge.config.get("attendance_code")
        return {"rsvp": True, "attendance_code": code} if confirmed and code else {"rsvp": True}
    if kind == "reference_call":
        return {"availability": rng.choice(content.AVAILABILITY)}
    if kind in ("case_study", "video"):
        return {
            "notes": "Interviewed with our CTO; approved the final draft.",
            "link": f"https://vouch.example/stories/{number}",
        }
    if kind == "social_share":
        return {"post_url": f"https://www.linkedin.com/posts/vouch-{number}"}
    if kind == "referral":
        first, last = rng.choice(content.FIRST_NAMES), rng.choice(content.LAST_NAMES)
        company = rng.choice(content.COMPANY_WORDS)
        return {
            "name": f"{first} {last}",
            "email": f"{first}.{last}.{number}@{company}.example".lower(),
            "company": f"{company} {rng.choice(content.COMPANY_KINDS)} (prospect)",
            "note": "Evaluating tools like ours this quarter.",
        }
    if kind == "survey":
        choices = REGISTRY["survey"].choices(challenge.config)
        return {"answer": rng.choice(choices)[0] if choices else "Every day, in support."}
    return {"done": True}
