"""challenges and points: challenges, groups, submissions, thank-yous, ledger, balances

The ledger is append-only: a trigger refuses UPDATE and DELETE on both databases.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 20:08:36.227475
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advocate_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("segment", sa.String(length=50), nullable=False),
        sa.Column("industry", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=50), nullable=False),
        sa.Column("job_level", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advocate_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_advocate_groups_name")),
    )
    op.create_table(
        "program_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("high_effort_per_advocate", sa.Integer(), nullable=False),
        sa.Column("high_effort_per_account", sa.Integer(), nullable=False),
        sa.Column("high_effort_window_days", sa.Integer(), nullable=False),
        sa.Column("thank_you_template", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "high_effort_per_account >= 1", name=op.f("ck_program_settings_account_cap_positive")
        ),
        sa.CheckConstraint(
            "high_effort_per_advocate >= 1", name=op.f("ck_program_settings_advocate_cap_positive")
        ),
        sa.CheckConstraint(
            "high_effort_window_days >= 1", name=op.f("ck_program_settings_window_positive")
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_program_settings_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_settings")),
    )
    op.create_table(
        "challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("limit_kind", sa.String(length=20), nullable=False),
        sa.Column("limit_count", sa.Integer(), nullable=False),
        sa.Column("limit_period", sa.String(length=20), nullable=False),
        sa.Column("cap", sa.Integer(), nullable=True),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.Column("approval", sa.String(length=20), nullable=False),
        sa.Column("evidence_required", sa.Boolean(), nullable=False),
        sa.Column("points_visible", sa.Boolean(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "approval IN ('auto', 'manual')", name=op.f("ck_challenges_approval_known")
        ),
        sa.CheckConstraint(
            "limit_kind IN ('once', 'times', 'per_period')",
            name=op.f("ck_challenges_limit_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'archived')", name=op.f("ck_challenges_status_known")
        ),
        sa.CheckConstraint("cap IS NULL OR cap >= 1", name=op.f("ck_challenges_cap_positive")),
        sa.CheckConstraint(
            "ends_at IS NULL OR ends_at > starts_at", name=op.f("ck_challenges_window_ordered")
        ),
        sa.CheckConstraint("limit_count >= 1", name=op.f("ck_challenges_limit_count_positive")),
        sa.CheckConstraint("points >= 0", name=op.f("ck_challenges_points_not_negative")),
        sa.CheckConstraint(
            "taken >= 0 AND (cap IS NULL OR taken <= cap)",
            name=op.f("ck_challenges_taken_within_cap"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_challenges_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenges")),
    )
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_challenges_status"), ["status"], unique=False)

    op.create_table(
        "group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["advocate_groups.id"],
            name=op.f("fk_group_members_group_id_advocate_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_group_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_group_members")),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_ledger_entries_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["users.id"], name=op.f("fk_ledger_entries_advocate_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_entries_idempotency_key")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_advocate_id"), ["advocate_id"], unique=False
        )

    op.create_table(
        "points_balances",
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("lifetime_earned", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance >= held", name=op.f("ck_points_balances_balance_covers_held")),
        sa.CheckConstraint("held >= 0", name=op.f("ck_points_balances_held_not_negative")),
        sa.CheckConstraint(
            "lifetime_earned >= 0", name=op.f("ck_points_balances_lifetime_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["users.id"], name=op.f("fk_points_balances_advocate_id_users")
        ),
        sa.PrimaryKeyConstraint("advocate_id", name=op.f("pk_points_balances")),
    )
    op.create_table(
        "challenge_groups",
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_challenge_groups_challenge_id_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["advocate_groups.id"],
            name=op.f("fk_challenge_groups_group_id_advocate_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenge_id", "group_id", name=op.f("pk_challenge_groups")),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=True),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("high_effort", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("slot", sa.String(length=20), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("file_key", sa.String(length=80), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("file_type", sa.String(length=60), nullable=True),
        sa.Column("points_awarded", sa.Integer(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("logged_by_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "slot IS NULL OR status IN ('pending', 'approved')",
            name=op.f("ck_submissions_slot_active"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'withdrawn')",
            name=op.f("ck_submissions_status_known"),
        ),
        sa.CheckConstraint(
            "challenge_id IS NOT NULL OR logged_by_id IS NOT NULL",
            name=op.f("ck_submissions_challenge_or_logged"),
        ),
        sa.CheckConstraint(
            "points_awarded IS NULL OR points_awarded >= 0",
            name=op.f("ck_submissions_points_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_submissions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["users.id"], name=op.f("fk_submissions_advocate_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["challenge_id"], ["challenges.id"], name=op.f("fk_submissions_challenge_id_challenges")
        ),
        sa.ForeignKeyConstraint(
            ["logged_by_id"],
            ["users.id"],
            name=op.f("fk_submissions_logged_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["users.id"],
            name=op.f("fk_submissions_reviewer_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("challenge_id", "advocate_id", "slot", name="uq_submissions_slot"),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submissions_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_submissions_challenge_id"), ["challenge_id"], unique=False
        )
        batch_op.create_index(
            "ix_submissions_high_effort", ["advocate_id", "high_effort", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_submissions_status_created", ["status", "created_at"], unique=False
        )

    op.create_table(
        "thank_yous",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("thanked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("thanked_by_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "method IS NULL OR method IN ('email', 'other')",
            name=op.f("ck_thank_yous_method_known"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_thank_yous_submission_id_submissions"),
        ),
        sa.ForeignKeyConstraint(
            ["thanked_by_id"],
            ["users.id"],
            name=op.f("fk_thank_yous_thanked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thank_yous")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_thank_yous_submission_id")),
    )
    with op.batch_alter_table("thank_yous", schema=None) as batch_op:
        batch_op.create_index("ix_thank_yous_open", ["thanked_at", "created_at"], unique=False)

    _ledger_append_only()


def _ledger_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ledger_entries_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ledger entries are append-only: % refused', TG_OP;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE "
            "ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ledger_entries_no_{operation.lower()} BEFORE {operation} "
                "ON ledger_entries BEGIN "
                f"SELECT RAISE(ABORT, 'ledger entries are append-only: {operation} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_entries_append_only ON ledger_entries")
        op.execute("DROP FUNCTION ledger_entries_append_only()")
    else:
        op.execute("DROP TRIGGER ledger_entries_no_update")
        op.execute("DROP TRIGGER ledger_entries_no_delete")
    with op.batch_alter_table("thank_yous", schema=None) as batch_op:
        batch_op.drop_index("ix_thank_yous_open")

    op.drop_table("thank_yous")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_status_created")
        batch_op.drop_index("ix_submissions_high_effort")
        batch_op.drop_index(batch_op.f("ix_submissions_challenge_id"))
        batch_op.drop_index(batch_op.f("ix_submissions_account_id"))

    op.drop_table("submissions")
    op.drop_table("challenge_groups")
    op.drop_table("points_balances")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_advocate_id"))

    op.drop_table("ledger_entries")
    op.drop_table("group_members")
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_challenges_status"))

    op.drop_table("challenges")
    op.drop_table("program_settings")
    op.drop_table("advocate_groups")
