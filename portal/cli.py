"""Operator commands: flask --app wsgi users|seed-demo|outbox|db|points|badges ..."""

from __future__ import annotations

import smtplib
import sys
import time
from email import policy
from email.utils import parseaddr

import click
from alembic import command
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_mail import Message
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal import db
from portal.accounts.models import Role
from portal.accounts.services import create_user, find_account_by_name
from portal.errors import DomainError
from portal.extensions import mail
from portal.mail.bounces import permanent_refusal
from portal.mail.models import OutboxMessage
from portal.mail.services import deliver_due, message_id, print_to_console
from portal.migrate import alembic_config
from portal.notifications.services import still_wanted

users_cli = AppGroup("users", help="Manage logins.")
outbox_cli = AppGroup("outbox", help="Deliver queued email.")
db_cli = AppGroup("db", help="Database migrations (Alembic).")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADVOCATE.value)
@click.option("--account", "account_name", help="The account an advocate belongs to.")
@click.option("--name", default="")
def users_create(email: str, password: str, role: str, account_name: str | None, name: str):
    """Create a login with a password (advocates also need --account)."""
    with db.new_session() as session:
        account = None
        if account_name:
            account = find_account_by_name(session, account_name)
            if account is None:
                fail(f"No account is named {account_name!r}. Create it first in the admin screens.")
        try:
            user = create_user(session, email, Role(role), password, account, name)
        except DomainError as error:
            fail(error.message)
        session.commit()
        click.echo(f"Created {user.role} {user.email} (id {user.id}).")
        if user.role == Role.ADVOCATE:
            click.echo("They join the program (consent) themselves when they first log in.")


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@outbox_cli.command("send")
@click.option("--watch", is_flag=True, help="Keep running, checking every --interval seconds.")
@click.option("--interval", default=5.0, show_default=True)
def outbox_send(watch: bool, interval: float):
    """Deliver due email. Failures stay queued with their error and are retried with backoff."""
    sender = print_to_console if current_app.config["MAIL_CONSOLE"] else _send_with_flask_mail
    sessions = current_app.extensions["vouch.sessionmaker"]
    digest_week = None
    while True:
        try:
            if watch:
                digest_week = _digests_once_a_week(sessions, digest_week)
                _remind_events(sessions)
            report = deliver_due(sessions, sender, still_wanted=still_wanted)
        except DBAPIError as error:
            if not watch:
                raise
            # a database restart must not end the sender: what is queued stays queued
            click.echo(
                f"outbox: the database is unavailable ({type(error.orig).__name__})", err=True
            )
            time.sleep(interval)
            continue
        if report.sent or report.failed or report.withheld or not watch:
            click.echo(
                f"outbox: {report.sent} sent, {report.failed} failed, "
                f"{report.withheld} withheld (no longer wanted)",
                err=True,
            )
        if not watch:
            sys.exit(1 if report.failed else 0)
        time.sleep(interval)


class _UnfoldedMessage(Message):
    """Headers written as given: the default SMTP policy refolds a long header with no
    spaces (a List-Unsubscribe URL) into encoded words, which mail clients cannot read."""

    def _message(self):
        built = super()._message()
        built.policy = policy.SMTP.clone(refold_source="none")
        return built


SMTP_TIMEOUT_SECONDS = 30  # a server that stops answering fails the attempt, not the sender


def _send_with_flask_mail(message: OutboxMessage) -> None:
    """Hand one message to the SMTP server, under the outbox row's own Message-ID.

    Once the server has accepted the message (its reply to DATA), a failure to say goodbye
    (QUIT) is not a failed send: counting it as one would send the message again.
    """
    state = current_app.extensions["mail"]
    headers = dict(message.headers or {})  # List-Unsubscribe and its one-click POST
    # an ask from a relationship owner: "<Owner> via Vouch" at our address, replies to them
    sender, reply_to = headers.pop("From", None), headers.pop("Reply-To", None)
    email = _UnfoldedMessage(
        subject=message.subject,
        recipients=[message.to_email],
        body=message.body_text,
        html=message.body_html or None,  # with it, multipart/alternative: text, then HTML
        sender=sender,
        reply_to=reply_to,
        extra_headers=headers,
    )
    if message.attachment_name:
        email.attach(message.attachment_name, message.attachment_type, message.attachment_body)
    email.msgId = message_id(message, parseaddr(state.default_sender)[1].rpartition("@")[2])
    connection = mail.connect()
    connection.host = None if state.suppress else _open_smtp(state)
    try:
        connection.send(email)
    except smtplib.SMTPException as error:
        refusal = permanent_refusal(error)  # a 5xx for the recipient: marked, never retried
        if refusal is None:
            raise
        raise refusal from error
    finally:
        _hang_up(connection.host)


def _open_smtp(state) -> smtplib.SMTP:
    """Flask-Mail's connection, with a timeout (its own waits for ever on a silent server)."""
    opener = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
    host = opener(state.server, state.port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
    except BaseException:
        host.close()
        raise
    return host


def _hang_up(host: smtplib.SMTP | None) -> None:
    if host is None:
        return
    try:
        host.quit()
    except (smtplib.SMTPException, OSError):  # the server went away after the message
        host.close()


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str):
    """Apply migrations up to REVISION (default: head)."""
    command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str):
    """Revert migrations down to REVISION."""
    command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)


@db_cli.command("current")
def db_current():
    """Show the database's revision."""
    command.current(alembic_config(current_app.config["DATABASE_URL"]))


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def seed_demo(if_empty: bool):
    """Load the demo accounts and logins (idempotent: running it twice changes nothing)."""
    from portal.config import settings
    from portal.seed import seed

    with db.new_session() as session:
        created = seed(session, settings(), only_if_empty=if_empty)
        session.commit()
    click.echo(f"seed-demo: {created} records created." if created else "seed-demo: up to date.")


points_cli = AppGroup("points", help="Check the points ledger, expire unspent points.")
badges_cli = AppGroup("badges", help="Award badges by their rules.")


@points_cli.command("reconcile")
def points_reconcile():
    """Check every balance against the sum of its ledger entries, the leaderboards' period
    totals against the ledger's sums per period, and the counters kept beside their rows
    (thank-yous by day, who is in the program); exit 1 on any difference."""
    from challenges.thanks import thanks_by_day_differences
    from points.leaderboard import score_count_differences, totals_differences
    from points.services import reconcile
    from portal.accounts.queries import in_program_differences

    with db.new_session() as session:
        differences = reconcile(session)
        totals = totals_differences(session)
        advocates = session.scalar(text("SELECT count(*) FROM points_balances"))
        periods = session.scalar(text("SELECT count(*) FROM period_totals"))
        counters = (
            thanks_by_day_differences(session)
            + in_program_differences(session)
            + score_count_differences(session)
        )
    for difference in counters:
        click.echo(difference, err=True)
    for d in differences:
        click.echo(
            f"advocate {d.advocate_id}: {d.field} is {d.recorded}, the ledger says {d.from_ledger}",
            err=True,
        )
    for t in totals:
        click.echo(
            f"advocate {t.advocate_id}: the {t.period} total is {t.recorded}, "
            f"the ledger says {t.from_ledger}",
            err=True,
        )
    if differences or totals or counters:
        click.echo(
            f"points reconcile: {len(differences)} balance, {len(totals)} period total and "
            f"{len(counters)} counter difference(s).",
            err=True,
        )
        if totals:
            click.echo(
                "After repairing the ledger, `flask --app wsgi points retotal` rebuilds "
                "the period totals from it.",
                err=True,
            )
        sys.exit(1)
    click.echo(
        f"points reconcile: {advocates} balances match the ledger, and so do {periods} "
        "period totals; the thank-you and membership counters match their rows."
    )


@points_cli.command("retotal")
def points_retotal():
    """Rebuild the leaderboards' period totals from the ledger (after a manual repair)."""
    from points.leaderboard import rebuild_totals

    with db.new_session() as session:
        written = rebuild_totals(session)
        session.commit()
    click.echo(f"points retotal: {written:,} period totals rebuilt from the ledger.")


@points_cli.command("expire")
@click.option("--dry-run", is_flag=True, help="Say what would expire and who would be reminded.")
def points_expire(dry_run: bool):
    """Expire unspent points past the program's expiry, and remind advocates 30 days before.

    Safe to run twice (daily, say): what expired has nothing left to expire, and each
    reminder is sent once."""
    from points.expiry import REMINDER_DAYS, run_expiry
    from points.program import game_settings
    from portal.config import settings

    with db.new_session() as session:
        months = game_settings(session).expiry_months
        if months is None:
            click.echo("points expire: points never expire in this program (expiry is off).")
            return
        report = run_expiry(session, dry_run=dry_run, settings=settings())
    would = "would expire" if dry_run else "expired"
    click.echo(
        f"points expire{' (dry run, nothing written)' if dry_run else ''}: "
        f"{report.expired_points:,} unspent points {would} for {report.expired_advocates:,} "
        f"advocate(s) with no activity for {months} months; "
        f"{report.reminded:,} advocate(s) {'would be ' if dry_run else ''}reminded that "
        f"theirs expire within {REMINDER_DAYS} days."
    )
    if report.skipped:
        click.echo(
            f"{report.skipped:,} balance(s) changed while the run read them and were left "
            "for the next run.",
            err=True,
        )


@badges_cli.command("recompute")
def badges_recompute():
    """Give every switched-on badge to each advocate who qualifies and lacks it (idempotent)."""
    from challenges.badges import recompute

    with db.new_session() as session:
        report = recompute(session)
        session.commit()
    for name, added in report.added.items():
        click.echo(f"  {name}: {added:,} added")
    if report.total:
        click.echo(f"badges recompute: {report.total:,} badge(s) awarded.")
    else:
        click.echo("badges recompute: nothing to add; every badge is up to date.")


digests_cli = AppGroup("digests", help="The weekly digest of what is new for each advocate.")


@digests_cli.command("send")
@click.option(
    "--now",
    "now_text",
    help="Act as if it were this moment (ISO 8601, e.g. 2026-12-07T10:00+01:00), for demos.",
)
def digests_send(now_text: str | None):
    """Queue this week's digest for each advocate with something new (once the program's
    digest day and hour have passed). Safe to run twice, or from cron beside `outbox send`:
    one digest per advocate per week."""
    from challenges.digests import send_digests
    from portal.config import settings

    now = _moment(now_text) if now_text else None
    report = send_digests(current_app.extensions["vouch.sessionmaker"], settings(), now)
    if report.week is None:
        click.echo("digests send: not yet; this week's digest time has not come.")
        return
    click.echo(
        f"digests send ({report.week}): {report.sent:,} queued, {report.nothing_new:,} with "
        f"nothing new, {report.already_sent:,} already sent, {report.failed:,} failed."
    )
    if report.failed:
        sys.exit(1)  # each one failed is logged above; the next run tries them again


def _moment(text: str):
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--now {text!r} is not an ISO 8601 moment, e.g. 2026-12-07T10:00+01:00.")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _digests_once_a_week(sessions, done_week: str | None) -> str | None:
    """In `outbox send --watch`: this week's digests, once their time has come (one full
    pass a week per sender; `digests send` run by hand or cron looks again)."""
    from challenges.digests import due_week, send_digests
    from portal.config import settings
    from portal.db import utcnow

    with sessions() as session:
        week = due_week(session, utcnow())
    if week is None or week == done_week:
        return done_week
    try:
        report = send_digests(sessions, settings())
    except DBAPIError:
        raise  # the loop waits for the database
    except Exception as error:  # noqa: BLE001 - a digest problem must not stop the mail
        click.echo(f"digests: not sent ({type(error).__name__}: {error})", err=True)
        return done_week
    click.echo(f"digests: {report.sent} queued for {week}", err=True)
    return week


events_cli = AppGroup("events", help="Event challenges (webinars): day-before reminders.")


@events_cli.command("remind")
@click.option("--now", "now_text", help="Act as if it were this moment (ISO 8601), for demos.")
def events_remind(now_text: str | None):
    """Queue a reminder to everyone who RSVP'd to an event starting in the next 24 hours.
    Safe to run twice, or at once from two places: each is reminded once per event."""
    from challenges.events import remind
    from portal.config import settings

    now = _moment(now_text) if now_text else None
    with db.new_session() as session:
        report = remind(session, settings(), now)
        session.commit()
    click.echo(f"events remind: {report.queued:,} reminder(s) for {report.events:,} event(s).")


def _remind_events(sessions) -> None:
    """In `outbox send --watch`: each cycle, the reminders that have come due."""
    from challenges.events import remind
    from portal.config import settings

    try:
        with sessions() as session:
            report = remind(session, settings())
            session.commit()
    except DBAPIError:
        raise  # the loop waits for the database
    except Exception as error:  # noqa: BLE001 - a reminder problem must not stop the mail
        click.echo(f"events: reminders not sent ({type(error).__name__}: {error})", err=True)
        return
    if report.queued:
        click.echo(f"events: {report.queued} reminder(s) queued", err=True)


references_cli = AppGroup("references", help="Reference requests: weekly reminders.")


@references_cli.command("remind")
@click.option("--now", "now_text", help="Act as if it were this moment (ISO 8601), for demos.")
def references_remind(now_text: str | None):
    """Email each open reference request's requester this week's "did the call happen?"
    reminder. Safe to run twice, or at once from two places: one per request per week."""
    from portal.config import settings
    from references.follow_up import send_reminders

    now = _moment(now_text) if now_text else None
    with db.new_session() as session:
        sent = send_reminders(session, settings(), now)
        session.commit()
    click.echo(f"references remind: {sent:,} reminder(s) queued.")


@click.command("bench-data")
@with_appcontext
@click.option("--advocates", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option(
    "--entries",
    type=click.IntRange(min=0),
    help="Ledger entries in all [default: 100 per advocate].",
)
@click.option("--accounts", type=click.IntRange(min=1), help="[default: one per 100 advocates]")
@click.option(
    "--challenges",
    type=click.IntRange(min=0),
    help="Published challenges to add, besides a few drafts and archived ones "
    "[default: 200, or none when appending to a program that has some].",
)
@click.option("--submissions", type=click.IntRange(min=0), help="[default: 20 per advocate]")
@click.option("--redemptions", type=click.IntRange(min=0), help="[default: 3 per advocate]")
@click.option("--append", is_flag=True, help="Add a batch to a database that holds data.")
@click.option("--seed", type=int, default=2026, show_default=True, help="The random seed.")
def bench_data(advocates, entries, accounts, challenges, submissions, redemptions, append, seed):
    """Fill a migrated, empty database with a realistic program at scale, for benchmarks.

    Logins (password bench-password): bench-admin@bench.example, bench-manager@bench.example
    and advocate1@bench.example; the other advocates are advocate<N>@bench.example."""
    from benchmarks.bench_data import Sizes, load  # benchmarks only when asked for

    sizes = Sizes.scaled(advocates, entries, accounts, challenges, submissions, redemptions)
    started = time.perf_counter()
    counts = load(db.engine(), sizes, append=append, seed=seed)
    minutes, seconds = divmod(round(time.perf_counter() - started), 60)
    for table, count in sorted(counts.items()):
        click.echo(f"  {table:<22} {count:>12,}")
    if counts.get("ledger_entries", 0) > sizes.entries:
        click.echo(
            f"The submissions and redemptions needed {counts['ledger_entries']:,} ledger "
            f"entries, more than --entries {sizes.entries:,} (few adjustments were added)."
        )
    click.echo(f"bench-data: {sum(counts.values()):,} rows in {minutes} min {seconds} s.")


def register_cli(app: Flask) -> None:
    for group in (users_cli, outbox_cli, db_cli, seed_demo, points_cli, badges_cli, bench_data):
        app.cli.add_command(group)
    app.cli.add_command(digests_cli)
    app.cli.add_command(events_cli)
    app.cli.add_command(references_cli)
