"""foundation: accounts, users, consent, gift policy, invitations, audit, outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-22 19:42:47.650826
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("industry", sa.String(length=100), nullable=False),
        sa.Column("segment", sa.String(length=50), nullable=False),
        sa.Column("region", sa.String(length=50), nullable=False),
        sa.Column(
            "arr", sa.Integer(), nullable=True, comment="annual recurring revenue, whole dollars"
        ),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("gift_policy", sa.String(length=20), nullable=False),
        sa.Column("gift_policy_reason", sa.Text(), nullable=False),
        sa.Column("gift_policy_set_by_id", sa.Integer(), nullable=True),
        sa.Column("gift_policy_set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "gift_policy IN ('allowed', 'charity_only', 'no_gifts', 'needs_approval')",
            name=op.f("ck_accounts_gift_policy_known"),
        ),
        sa.CheckConstraint("arr IS NULL OR arr >= 0", name=op.f("ck_accounts_arr_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("name", name=op.f("uq_accounts_name")),
    )
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_email", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_messages_due",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text("sent_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL"),
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("job_level", sa.String(length=20), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.Column("declines_gifts", sa.Boolean(), nullable=False),
        sa.Column("hide_from_leaderboard", sa.Boolean(), nullable=False),
        sa.Column("email_digests", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "job_level IS NULL OR job_level IN ('c_level', 'vp', 'director', 'manager', 'individual')",
            name=op.f("ck_users_job_level_known"),
        ),
        sa.CheckConstraint(
            "role != 'advocate' OR account_id IS NOT NULL", name=op.f("ck_users_advocate_account")
        ),
        sa.CheckConstraint(
            "role IN ('advocate', 'manager', 'admin')", name=op.f("ck_users_role_known")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_users_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("session_token", name=op.f("uq_users_session_token")),
    )
    # accounts and users refer to each other: accounts' foreign keys come once users exists.
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_accounts_owner_id_users"),
            "users",
            ["owner_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_accounts_gift_policy_set_by_id_users"),
            "users",
            ["gift_policy_set_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_account_id"), ["account_id"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_audit_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("terms_version", sa.String(length=20), nullable=False),
        sa.Column("opted_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_consent_records_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_records_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_consent_records_open",
            ["user_id"],
            unique=True,
            sqlite_where=sa.text("opted_out_at IS NULL"),
            postgresql_where=sa.text("opted_out_at IS NULL"),
        )

    op.create_table(
        "gift_policy_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("from_policy", sa.String(length=20), nullable=False),
        sa.Column("to_policy", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_gift_policy_changes_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_gift_policy_changes_changed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift_policy_changes")),
    )
    with op.batch_alter_table("gift_policy_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gift_policy_changes_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "gift_policy_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_gift_policy_requests_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
            name=op.f("fk_gift_policy_requests_resolved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_gift_policy_requests_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift_policy_requests")),
    )
    with op.batch_alter_table("gift_policy_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gift_policy_requests_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "uq_gift_policy_requests_open",
            ["user_id"],
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        )

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_invitations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_user_id"))

    op.drop_table("invitations")
    with op.batch_alter_table("gift_policy_requests", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_gift_policy_requests_open",
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_gift_policy_requests_account_id"))

    op.drop_table("gift_policy_requests")
    with op.batch_alter_table("gift_policy_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gift_policy_changes_account_id"))

    op.drop_table("gift_policy_changes")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_consent_records_open",
            sqlite_where=sa.text("opted_out_at IS NULL"),
            postgresql_where=sa.text("opted_out_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_consent_records_user_id"))

    op.drop_table("consent_records")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_created_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_accounts_gift_policy_set_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_accounts_owner_id_users"), type_="foreignkey")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_account_id"))

    op.drop_table("users")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_messages_due",
            sqlite_where=sa.text("sent_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL"),
        )

    op.drop_table("outbox_messages")
    op.drop_table("accounts")
