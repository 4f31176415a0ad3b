"""reach every advocate: notifications and per-kind email switches, the weekly digest,
unreachable addresses, yearly profile confirmation, language and time zone per person,
HTML parts, headers and an attachment on outbox messages, event time and join link

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOPICS = "'results', 'rewards', 'thanks', 'game', 'events', 'digests'"
JOB_LEVELS = "'c_level', 'vp', 'director', 'manager', 'individual'"
CHECKS = (
    (
        "program_settings",
        "ck_program_settings_digest_time_known",
        "digest_weekday BETWEEN 0 AND 6 AND digest_hour BETWEEN 0 AND 23",
    ),
    ("challenges", "ck_challenges_event_length", "event_minutes IS NULL OR event_minutes >= 1"),
)


def _add_columns(table: str, *columns: sa.Column) -> None:
    # plain ADD COLUMN: batch mode would rebuild these tables on SQLite, which the foreign
    # keys that point at them forbid
    for column in columns:
        op.add_column(table, column)


def upgrade() -> None:
    _add_columns(
        "users",
        *(
            sa.Column(f"email_{kind}", sa.Boolean(), nullable=False, server_default=sa.true())
            for kind in ("results", "rewards", "thanks", "game", "events")
        ),
        sa.Column("email_unreachable_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("email_unreachable_reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("locale", sa.String(10), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("profile_confirmed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("left_company_at", UTCDateTime(timezone=True), nullable=True),
    )
    _add_columns(
        "outbox_messages",
        sa.Column("body_html", sa.Text(), nullable=False, server_default=""),
        sa.Column("headers", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("attachment_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("attachment_type", sa.String(100), nullable=False, server_default=""),
        sa.Column("attachment_body", sa.Text(), nullable=False, server_default=""),
        sa.Column("bounced_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("withheld_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("topic", sa.String(20), nullable=True),
    )
    _add_columns(
        "program_settings",
        sa.Column("digest_weekday", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("digest_hour", sa.Integer(), nullable=False, server_default="9"),
    )
    _add_columns(
        "challenges",
        sa.Column("event_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("event_minutes", sa.Integer(), nullable=True),
        sa.Column("join_url", sa.String(500), nullable=False, server_default=""),
    )
    # SQLite cannot add a CHECK to an existing table without rebuilding it (see above);
    # a fresh SQLite database gets them from the models, PostgreSQL here
    if op.get_bind().dialect.name == "postgresql":
        for table, name, condition in CHECKS:
            op.create_check_constraint(name, table, condition)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(20), nullable=False),
        sa.Column("message", sa.String(300), nullable=False),
        sa.Column("link", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"topic IN ({TOPICS})", name=op.f("ck_notifications_topic_known")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_user", "notifications", ["user_id", "id"])
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["user_id"],
        sqlite_where=sa.text("read_at IS NULL"),
        postgresql_where=sa.text("read_at IS NULL"),
    )

    op.create_table(
        "profile_confirmations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("still_at_company", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("job_level", sa.String(20), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            f"job_level IS NULL OR job_level IN ({JOB_LEVELS})",
            name=op.f("ck_profile_confirmations_job_level_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_profile_confirmations_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_profile_confirmations_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_confirmations")),
    )
    op.create_index("ix_profile_confirmations_user_id", "profile_confirmations", ["user_id"])

    op.create_table(
        "event_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_event_reminders_challenge_id_challenges"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_event_reminders_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_reminders")),
        sa.UniqueConstraint(
            "challenge_id", "user_id", name=op.f("uq_event_reminders_challenge_id")
        ),
    )

    op.create_table(
        "digests_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_digests_sent_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests_sent")),
        sa.UniqueConstraint("user_id", "week", name=op.f("uq_digests_sent_user_id")),
    )


def downgrade() -> None:
    op.drop_table("digests_sent")
    op.drop_table("event_reminders")
    op.drop_index("ix_profile_confirmations_user_id", table_name="profile_confirmations")
    op.drop_table("profile_confirmations")
    op.drop_index("ix_notifications_unread", table_name="notifications")
    op.drop_index("ix_notifications_user", table_name="notifications")
    op.drop_table("notifications")
    if op.get_bind().dialect.name == "postgresql":
        for table, name, _condition in CHECKS:
            op.drop_constraint(name, table, type_="check")
    for table, columns in (
        ("challenges", ("join_url", "event_minutes", "event_at")),
        ("program_settings", ("digest_hour", "digest_weekday")),
        (
            "outbox_messages",
            (
                "topic",
                "withheld_at",
                "bounced_at",
                "attachment_body",
                "attachment_type",
                "attachment_name",
                "headers",
                "body_html",
            ),
        ),
        (
            "users",
            (
                "left_company_at",
                "profile_confirmed_at",
                "time_zone",
                "locale",
                "email_unreachable_reason",
                "email_unreachable_at",
                *(f"email_{kind}" for kind in ("events", "game", "thanks", "rewards", "results")),
            ),
        ),
    ):
        for column in columns:
            op.drop_column(table, column)
