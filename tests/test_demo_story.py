"""The demo's story agrees with itself: `seed-demo` dates every row along one timeline (set
up some thirteen months ago, a pilot, the launch, today), so no entry comes before what
earned it, no two staff actions share a minute, thank-yous follow their approvals, and the
people the README names for the new features are there: the advocate who reads Spanish,
the address that bounced, the advocate who left their company, the one asked to confirm
their role, the webinar next week with its RSVPs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from challenges.authoring import program_settings
from challenges.models import Challenge, Submission, SubmissionStatus, ThankYou
from points.models import LedgerEntry, Redemption, RedemptionEvent
from points.program import game_settings, zone
from portal.accounts.models import Account, AuditEvent, ConsentRecord, ProfileConfirmation, User
from portal.auth.confirmation import confirmation_due_at
from portal.db import utcnow
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.seed import DEMO_PASSWORD
from tests.factories import login

ANA = "ana.ruiz@northwind.example"
MARTA = "marta.gomez@initech.example"
RAJ = "raj.mehta@northwind.example"


def by_email(session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def month_is_young(session, now: datetime) -> bool:
    """In the first hours of a month this month's board crowds into them (actions may
    then share a minute)."""
    local = now.astimezone(zone(game_settings(session).time_zone))
    return local.day == 1 and local.hour < 2


def test_the_demo_story_agrees_with_itself(app, session):
    before = utcnow()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert "records created" in result.output, result.output
    now = utcnow()
    session.expire_all()

    # nothing is dated in the future, and the story began months ago
    dated = [
        (LedgerEntry, LedgerEntry.created_at),
        (AuditEvent, AuditEvent.created_at),
        (Submission, Submission.created_at),
        (Notification, Notification.created_at),
        (OutboxMessage, OutboxMessage.created_at),
        (ThankYou, ThankYou.thanked_at),
        (ConsentRecord, ConsentRecord.opted_in_at),
        (User, User.last_login_at),
    ]
    for model, column in dated:
        newest, oldest = session.execute(select(func.max(column), func.min(column))).one()
        assert newest <= now, model.__name__
        assert oldest < before - timedelta(days=180), model.__name__
    first_activity = session.scalar(select(func.min(Submission.created_at)))
    assert before - timedelta(days=420) < first_activity < before - timedelta(days=300)
    # the busy months are the last nine: most of the completions are in them
    recent = session.scalar(
        select(func.count())
        .select_from(Submission)
        .where(Submission.created_at >= before - timedelta(days=270))
    )
    assert recent > 0.8 * session.scalar(select(func.count()).select_from(Submission))

    # no one completes a challenge before it was published
    early = select(func.count()).select_from(Submission).join(Submission.challenge)
    early = early.where(Submission.created_at < Challenge.published_at)
    assert session.scalar(early) == 0

    # the ledger: each award after its submission, at its review; each hold at its request
    awards = session.execute(
        select(LedgerEntry.created_at, Submission.created_at, Submission.reviewed_at)
        .join(Submission, Submission.id == LedgerEntry.source_id)
        .where(LedgerEntry.source == "submission")
    ).all()
    assert len(awards) > 300
    for entry_at, submitted_at, reviewed_at in awards:
        assert submitted_at <= entry_at
        assert abs(entry_at - reviewed_at) < timedelta(seconds=1)
    holds = session.execute(
        select(LedgerEntry.created_at, Redemption.created_at)
        .join(Redemption, Redemption.id == LedgerEntry.source_id)
        .where(LedgerEntry.source.like("redemption%"))
    ).all()
    assert holds and all(requested <= entry_at for entry_at, requested in holds)
    # a redemption's history moves forward in time, and ends where the redemption says
    for redemption in session.scalars(select(Redemption)):
        times = [e.created_at for e in session.scalars(
            select(RedemptionEvent)
            .where(RedemptionEvent.redemption_id == redemption.id)
            .order_by(RedemptionEvent.id)
        )]  # fmt: skip
        assert times == sorted(times) and times[0] == redemption.created_at
        assert abs(redemption.updated_at - times[-1]) < timedelta(seconds=1)

    # the audit log reads in order (newest first by id) and no two actions share a minute
    audit = session.execute(select(AuditEvent.created_at).order_by(AuditEvent.id)).scalars().all()
    assert len(audit) > 500
    assert audit == sorted(audit)
    minutes = {moment.strftime("%Y-%m-%d %H:%M") for moment in audit}
    if not month_is_young(session, now):
        assert len(minutes) == len(audit)
    setup = session.scalars(
        select(AuditEvent.created_at).where(AuditEvent.action == "account.create")
    ).all()
    assert max(setup) < first_activity  # the accounts were set up before anyone joined

    # thank-yous: owed from the approval, thanked days later; the older ones all thanked
    items = session.execute(
        select(ThankYou.created_at, ThankYou.thanked_at, Submission.reviewed_at).join(
            ThankYou.submission
        )
    ).all()
    for owed_at, thanked_at, reviewed_at in items:
        assert abs(owed_at - reviewed_at) < timedelta(seconds=1)
        if thanked_at is not None:
            assert timedelta(hours=12) < thanked_at - owed_at < timedelta(days=12)
    open_old = [
        owed for owed, thanked, _ in items if thanked is None and owed < now - timedelta(14)
    ]
    assert not open_old
    thanked_audits = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "thanks.other")
    )
    assert thanked_audits == sum(1 for _, thanked, _ in items if thanked is not None)

    # people joined after their account was set up and before their first completion
    joined = dict(session.execute(select(ConsentRecord.user_id, ConsentRecord.opted_in_at)).all())
    firsts = session.execute(
        select(Submission.advocate_id, func.min(Submission.created_at)).group_by(
            Submission.advocate_id
        )
    ).all()
    for advocate_id, first in firsts:
        assert joined[advocate_id] < first
    accounts_done = session.scalar(select(func.max(Account.created_at)))
    assert accounts_done < min(joined.values())

    # notifications: read up to each person's last visit; Ana has read and unread ones
    ana = by_email(session, ANA)
    for note in session.scalars(select(Notification).where(Notification.read_at.is_not(None))):
        assert note.created_at <= note.read_at
    mine = session.scalars(select(Notification).where(Notification.user_id == ana.id)).all()
    unread = [note for note in mine if note.read_at is None]
    assert len(unread) >= 2 and len(mine) - len(unread) >= 5
    assert all(note.created_at > ana.last_login_at for note in unread)

    # the books still reconcile
    checked = app.test_cli_runner().invoke(args=["points", "reconcile"])
    assert checked.exit_code == 0, checked.output


def test_the_demo_has_the_people_of_the_new_features(app, session):
    assert "records created" in app.test_cli_runner().invoke(args=["seed-demo"]).output
    now = utcnow()
    session.expire_all()

    # Marta reads the hub in Spanish, in Madrid's time
    marta = by_email(session, MARTA)
    assert (marta.locale, marta.time_zone) == ("es", "Europe/Madrid")
    client = app.test_client()
    login(client, MARTA, DEMO_PASSWORD)
    home = client.get("/hub/")
    assert home.status_code == 200 and b'<html lang="es"' in home.data
    zones = set(session.scalars(select(User.time_zone).where(User.time_zone.is_not(None))))
    assert {"America/New_York", "Asia/Singapore", "Europe/Madrid"} <= zones

    # an address that bounced: marked with the server's answer, and mailed no more since
    bounced = session.scalars(select(User).where(User.email_unreachable_at.is_not(None))).one()
    assert bounced.email_unreachable_reason.startswith("550 5.1.1")
    refused = session.scalars(
        select(OutboxMessage).where(OutboxMessage.bounced_at.is_not(None))
    ).one()
    assert refused.to_email == bounced.email and refused.sent_at is None
    later = select(func.count()).where(
        OutboxMessage.to_email == bounced.email,
        OutboxMessage.created_at > bounced.email_unreachable_at,
    )
    assert session.scalar(later) == 0

    # an advocate who left their company last month: out of the program, mailed no more
    left = session.scalars(select(User).where(User.left_company_at.is_not(None))).one()
    assert now - timedelta(days=40) < left.left_company_at < now - timedelta(days=14)
    assert not left.in_program
    answer = session.scalars(
        select(ProfileConfirmation).where(ProfileConfirmation.user_id == left.id)
    ).one()
    assert answer.still_at_company is False
    assert (
        session.scalar(
            select(func.count()).where(
                OutboxMessage.to_email == left.email,
                OutboxMessage.created_at > left.left_company_at,
            )
        )
        == 0
    )
    assert session.scalar(select(func.count()).where(AuditEvent.action == "user.left_company")) == 1

    # Raj last confirmed his role over a year ago: he is asked again; Ana and Ben are not
    raj = by_email(session, RAJ)
    assert raj.profile_confirmed_at < now - timedelta(days=365)
    assert confirmation_due_at(session, raj) < now
    for email in (ANA, "ben.okafor@globex.example", MARTA):
        assert confirmation_due_at(session, by_email(session, email)) > now, email
    client = app.test_client()
    login(client, RAJ, DEMO_PASSWORD)
    asked = client.get("/hub/")
    assert asked.status_code == 302 and "/hub/confirm" in asked.headers["Location"]

    # the webinar next week: its time, length and link, and RSVPs (Ana among them)
    webinar = session.scalars(
        select(Challenge).where(Challenge.event_at > now, Challenge.event_at < now + timedelta(7))
    ).one()
    assert webinar.event_minutes and webinar.join_url.startswith("https://")
    rsvps = session.scalars(
        select(Submission.advocate_id).where(
            Submission.challenge_id == webinar.id, Submission.status == SubmissionStatus.PENDING
        )
    ).all()
    assert len(rsvps) >= 2 and by_email(session, ANA).id in rsvps

    # the weekly digest goes out on Monday mornings
    rules = program_settings(session)
    assert (rules.digest_weekday, rules.digest_hour) == (0, 9)
