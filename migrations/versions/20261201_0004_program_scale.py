"""program scale: daily thank-you counts (owed, said within the week), backfilled from the
thank-yous; indexes for the paginated lists and dashboards (near the cap, users by role,
leads, an advocate's submissions and ledger, an account's big asks, name search)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEXES = (
    ("ix_users_email_trgm", "users", "email"),
    ("ix_users_name_trgm", "users", "name"),
    ("ix_accounts_name_trgm", "accounts", "name"),
)


def upgrade() -> None:
    op.create_table(
        "thanks_by_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("owed", sa.Integer(), nullable=False),
        sa.Column("thanked", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "on_time >= 0 AND on_time <= thanked AND thanked <= owed",
            name=op.f("ck_thanks_by_day_said_of_owed"),
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_thanks_by_day")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO thanks_by_day (day, owed, thanked, on_time) "
            "SELECT date(timezone('UTC', created_at)), count(*), count(thanked_at), "
            "count(*) FILTER (WHERE thanked_at <= created_at + interval '168 hours') "
            "FROM thank_yous GROUP BY 1"
        )
    else:
        op.execute(
            "INSERT INTO thanks_by_day (day, owed, thanked, on_time) "
            "SELECT date(created_at), count(*), count(thanked_at), "
            "count(*) FILTER (WHERE julianday(thanked_at) - julianday(created_at) <= 7) "
            "FROM thank_yous GROUP BY 1"
        )
    op.create_index(
        "ix_submissions_big_asks",
        "submissions",
        ["status", "created_at", "advocate_id", "account_id"],
        unique=False,
        postgresql_where=sa.text("high_effort"),
        sqlite_where=sa.text("high_effort"),
    )
    op.create_index("ix_users_role_email", "users", ["role", "email"], unique=False)
    # a plain ADD COLUMN with a constant default: batch mode would rebuild `users` on
    # SQLite, and dropping the old table there cascades to the rows that refer to it
    op.add_column(
        "users", sa.Column("in_program", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.execute(
        "UPDATE users SET in_program = EXISTS (SELECT 1 FROM consent_records "
        "WHERE consent_records.user_id = users.id AND consent_records.opted_out_at IS NULL)"
    )
    op.create_index(
        "ix_users_account_advocates",
        "users",
        ["account_id", "id", "in_program", "password_hash"],
        unique=False,
        postgresql_where=sa.text("role = 'advocate' AND active"),
        sqlite_where=sa.text("role = 'advocate' AND active"),
    )
    op.drop_index("ix_thank_yous_open", table_name="thank_yous")
    op.create_index(
        "ix_thank_yous_open",
        "thank_yous",
        ["created_at", "id"],
        unique=False,
        postgresql_where=sa.text("thanked_at IS NULL"),
        sqlite_where=sa.text("thanked_at IS NULL"),
    )
    op.create_index(
        "ix_thank_yous_thanked",
        "thank_yous",
        ["thanked_at", "id"],
        unique=False,
        postgresql_where=sa.text("thanked_at IS NOT NULL"),
        sqlite_where=sa.text("thanked_at IS NOT NULL"),
    )
    op.create_index(
        "ix_submissions_type_created", "submissions", ["type", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_submissions_advocate_created",
        "submissions",
        ["advocate_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_submissions_account_high_effort",
        "submissions",
        ["account_id", "high_effort", "created_at"],
        unique=False,
    )
    # one advocate's ledger newest first; it also serves every look-up by advocate alone
    op.create_index(
        "ix_ledger_entries_advocate_id_id", "ledger_entries", ["advocate_id", "id"], unique=False
    )
    op.drop_index("ix_ledger_entries_advocate_id", table_name="ledger_entries")
    op.create_index(
        "ix_redemptions_flagged",
        "redemptions",
        ["created_at", "id"],
        unique=False,
        postgresql_where=sa.text("flagged != '' AND status IN ('requested', 'approved')"),
        sqlite_where=sa.text("flagged != '' AND status IN ('requested', 'approved')"),
    )
    op.create_index(
        "ix_redemptions_open",
        "redemptions",
        ["status", "currency", "money_value", "flagged"],
        unique=False,
        postgresql_where=sa.text("status IN ('requested', 'approved')"),
        sqlite_where=sa.text("status IN ('requested', 'approved')"),
    )
    op.create_index(
        "ix_audit_events_target", "audit_events", ["target_type", "target_id", "id"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        # searching people and accounts by any part of a name or email (LIKE '%...%')
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in TRIGRAM_INDEXES:
            op.execute(f"CREATE INDEX {name} ON {table} USING gin (lower({column}) gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _table, _column in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX {name}")
    op.drop_index("ix_audit_events_target", table_name="audit_events")
    op.drop_index(
        "ix_redemptions_flagged",
        table_name="redemptions",
        postgresql_where=sa.text("flagged != '' AND status IN ('requested', 'approved')"),
        sqlite_where=sa.text("flagged != '' AND status IN ('requested', 'approved')"),
    )
    op.drop_index(
        "ix_redemptions_open",
        table_name="redemptions",
        postgresql_where=sa.text("status IN ('requested', 'approved')"),
        sqlite_where=sa.text("status IN ('requested', 'approved')"),
    )
    op.create_index(
        "ix_ledger_entries_advocate_id", "ledger_entries", ["advocate_id"], unique=False
    )
    op.drop_index("ix_ledger_entries_advocate_id_id", table_name="ledger_entries")
    op.drop_index("ix_submissions_account_high_effort", table_name="submissions")
    op.drop_index("ix_submissions_advocate_created", table_name="submissions")
    op.drop_index("ix_submissions_type_created", table_name="submissions")
    op.drop_index("ix_thank_yous_thanked", table_name="thank_yous")
    op.drop_index("ix_thank_yous_open", table_name="thank_yous")
    op.create_index("ix_thank_yous_open", "thank_yous", ["thanked_at", "created_at"], unique=False)
    op.drop_index("ix_users_account_advocates", table_name="users")
    op.drop_column("users", "in_program")  # SQLite 3.35+ drops a column in place
    op.drop_index("ix_users_role_email", table_name="users")
    op.drop_index(
        "ix_submissions_big_asks",
        table_name="submissions",
        postgresql_where=sa.text("high_effort"),
        sqlite_where=sa.text("high_effort"),
    )
    op.drop_table("thanks_by_day")
