"""bench-data's reference program (benchmarks/bench_data.py calls `load_references` after the
activity is written): what the candidate matching reads, at the program's scale.

Every account gets the products it uses; a quarter of the members a latest survey score
(promoters, passives, detractors), each detractor's account flagged as the survey import
flags it, and a few escalations; two sales users file reference requests whose asks are
in every state (proposed, asked, declined with "not now", confirmed calls in the big-ask
window), never two open asks for one advocate; and each advocate's completions are counted
from their approved submissions, as the approval counts them.
"""

from __future__ import annotations

from datetime import timedelta

import click
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from benchmarks.plans import DAY, MEMBER, Program
from portal.accounts.models import Role, User
from references.models import (
    AccountFlag,
    AskStatus,
    ConversationLevel,
    DealStage,
    FlagKind,
    ReferenceAsk,
    ReferenceRequest,
    RequestStatus,
)

PRODUCTS = ["Analytics", "Contact center", "Workforce management", "Knowledge base", "Chat",
            "Voice", "Quality monitoring", "Integrations"]  # fmt: skip
SALES = [("sam.rivera@bench.example", "Sam Rivera"), ("ana.lopez@bench.example", "Ana Lopez")]
SCORED = 0.25  # of the members, with a latest survey score
REQUESTS_PER_1000 = 2  # reference requests per thousand advocates (at least 20)
ESCALATIONS = 0.01  # of the accounts, with an open escalation
DETRACTOR_FLAGS = 0.02  # of the detractors' answers, still flagging their account


def load_references(program: Program, connection: Connection) -> None:
    rng, now, writer = program.rng, program.now, program.writer
    batch = program.batch()
    today = now.date()
    members = [a for a in program.advocates if a.status == MEMBER and not a.is_advocate1]
    with click.progressbar(length=5, label="references ") as bar:
        connection.execute(  # products per account, in SQL: the account rows are written
            text("UPDATE accounts SET products = :products WHERE id = :id"),
            [
                {"id": a.id, "products": ", ".join(rng.sample(PRODUCTS, rng.randint(1, 4)))}
                for a in program.accounts
            ],
        )
        bar.update(1)
        flagged: set[int] = set()
        for advocate in members:
            if rng.random() >= SCORED:
                continue
            score = rng.choices((10, 9, 8, 7, 6, 4, 2), (25, 20, 18, 17, 8, 7, 5))[0]
            responded = today - timedelta(days=rng.randint(1, 300))
            batch.add("latest_scores", user_id=advocate.id, score=score, responded_on=responded)
            # most detractors' flags were cleared since: about one account in ten is flagged
            if score <= 6 and advocate.account.id not in flagged and rng.random() < DETRACTOR_FLAGS:
                flagged.add(advocate.account.id)
                batch.add(
                    "account_flags",
                    account_id=advocate.account.id,
                    kind=FlagKind.DETRACTOR.value,
                    reason=f"NPS {score} from {advocate.email} on {responded.isoformat()}",
                    created_at=now - timedelta(days=(today - responded).days),
                )
        for account in rng.sample(
            program.accounts, max(1, int(len(program.accounts) * ESCALATIONS))
        ):
            batch.add(
                "account_flags",
                account_id=account.id,
                kind=FlagKind.ESCALATION.value,
                reason="Open support escalation",
                created_at=now - rng.randint(1, 30) * DAY,
            )
        bar.update(1)
        found = connection.execute(select(User.email, User.id).where(User.role == Role.SALES))
        sales = dict(found.all())  # with --append, the sales users are there already
        for email, name in SALES:
            if email in sales:
                continue
            sales[email] = user_id = program.take_id("users")
            batch.add("users", id=user_id, email=email, name=name, role=Role.SALES.value,
                      password_hash=program.password_hash, active=True,
                      created_at=now - 200 * DAY)  # fmt: skip
        sales = list(sales.values())
        bar.update(1)
        next_request = writer.next_id(ReferenceRequest.__table__)
        next_ask = writer.next_id(ReferenceAsk.__table__)
        count = max(20, len(program.advocates) * REQUESTS_PER_1000 // 1000)
        asked = set()  # advocates with an open ask (one each, as the database insists)
        stages = [s.value for s in DealStage][2:]
        for number in range(count):
            request_id = next_request + number
            created = now - rng.randint(1, 120) * DAY
            status = RequestStatus.OPEN if number % 3 else RequestStatus.CONFIRMED
            account = rng.choice(program.accounts)
            batch.add(
                "reference_requests",
                id=request_id,
                requester_id=rng.choice(sales),
                opportunity_name=f"Bench opportunity {request_id}",
                prospect_company=f"Prospect {request_id}",
                prospect_industry=account.industry,
                deal_stage=rng.choice(stages),
                deal_size=rng.randrange(20_000, 500_000, 1000),
                needed_by=(created + 21 * DAY).date(),
                conversation_level=rng.choice([c.value for c in ConversationLevel]),
                desired_segment=rng.choice(["", account.segment]),
                desired_region=rng.choice(["", account.region]),
                desired_product_use=rng.choice(["", rng.choice(PRODUCTS)]),
                status=status.value,
                created_at=created,
            )
            for advocate in rng.sample(members, min(len(members), rng.randint(1, 4))):
                state = rng.choice([AskStatus.PROPOSED, AskStatus.ASKED, AskStatus.DECLINED,
                                    AskStatus.CONFIRMED])  # fmt: skip
                if state == AskStatus.ASKED and advocate.id in asked:
                    state = AskStatus.DECLINED
                if state == AskStatus.ASKED:
                    asked.add(advocate.id)
                when = created + rng.randint(1, 48) * timedelta(hours=1)
                batch.add(
                    "reference_asks",
                    id=next_ask,
                    request_id=request_id,
                    advocate_id=advocate.id,
                    account_id=advocate.account.id,
                    owner_id=program.manager().id,
                    proposed_by_id=program.manager().id,
                    status=state.value,
                    created_at=when,
                    asked_at=None if state == AskStatus.PROPOSED else when,
                    not_before=today + timedelta(days=rng.choice((30, 90)))
                    if state == AskStatus.DECLINED and rng.random() < 0.5
                    else None,
                    call_on=(when + 5 * DAY).date() if state == AskStatus.CONFIRMED else None,
                    confirmed_at=min(now, when + 6 * DAY) if state == AskStatus.CONFIRMED else None,
                )
                next_ask += 1
        batch.flush()
        bar.update(1)
        count_completions(connection)
        for table in (ReferenceRequest.__table__, ReferenceAsk.__table__):
            writer.bump_sequence(table)
        bar.update(1)


def count_completions(connection: Connection) -> None:
    """users.completions: approved submissions per advocate, as the approvals count them."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                "UPDATE users SET completions = done.n FROM (SELECT advocate_id, count(*) AS n "
                "FROM submissions WHERE status = 'approved' GROUP BY advocate_id) AS done "
                "WHERE users.id = done.advocate_id"
            )
        )
        return
    connection.execute(
        text(
            "UPDATE users SET completions = (SELECT count(*) FROM submissions "
            "WHERE submissions.advocate_id = users.id AND submissions.status = 'approved') "
            "WHERE role = 'advocate'"
        )
    )


def counts(connection: Connection) -> dict[str, int]:
    """What was loaded, for the bench's report."""
    return {
        table.name: connection.scalar(select(func.count()).select_from(table))
        for table in (ReferenceRequest.__table__, ReferenceAsk.__table__, AccountFlag.__table__)
    }
