"""reference requests: the sales role, requests and their boundaries, asks (one open per
advocate), reminders, survey imports and scores, flagged relationships, account milestones,
sales users' internal points; what each account uses, and each advocate's completions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ROLES_BEFORE = "role IN ('advocate', 'manager', 'admin')"
ROLES_AFTER = "role IN ('advocate', 'manager', 'admin', 'sales')"


def _allow_roles(before: str, after: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_users_role_known"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role_known"), "users", after)
        return
    # SQLite cannot alter a CHECK, and rebuilding `users` is forbidden by the foreign keys that
    # point at it. Loosening a CHECK is one of the edits SQLite documents as safe to make in
    # the stored schema (https://sqlite.org/lang_altertable.html#otheralter)
    run = op.get_bind().exec_driver_sql
    version = run("PRAGMA schema_version").scalar()
    run("PRAGMA writable_schema = ON")
    run(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'users'",
        (before, after),
    )
    run(f"PRAGMA schema_version = {version + 1}")
    run("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _allow_roles(ROLES_BEFORE, ROLES_AFTER)
    op.create_table(
        "reference_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("earliest_stage", sa.String(length=20), nullable=False),
        sa.Column(
            "min_deal_size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("call_points", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "earliest_stage IN ('discovery', 'qualified', 'demo', 'proposal', 'negotiation', 'verbal')",
            name=op.f("ck_reference_settings_stage_known"),
        ),
        sa.CheckConstraint(
            "call_points >= 0", name=op.f("ck_reference_settings_call_points_not_negative")
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_reference_settings_single_row")),
        sa.CheckConstraint(
            "min_deal_size >= 0", name=op.f("ck_reference_settings_min_deal_size_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_settings")),
    )
    op.create_table(
        "latest_scores",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=False),
        sa.CheckConstraint("score BETWEEN 0 AND 10", name=op.f("ck_latest_scores_score_range")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_latest_scores_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_latest_scores")),
    )
    op.create_table(
        "reference_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_name", sa.String(length=200), nullable=False),
        sa.Column("crm_id", sa.String(length=60), nullable=False),
        sa.Column("prospect_company", sa.String(length=200), nullable=False),
        sa.Column("prospect_industry", sa.String(length=100), nullable=False),
        sa.Column("deal_stage", sa.String(length=20), nullable=False),
        sa.Column(
            "deal_size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("needed_by", sa.Date(), nullable=False),
        sa.Column("references_needed", sa.Integer(), nullable=False),
        sa.Column("conversation_level", sa.String(length=20), nullable=False),
        sa.Column("prospect_contact", sa.String(length=200), nullable=False),
        sa.Column("talking_points", sa.Text(), nullable=False),
        sa.Column("desired_industry", sa.String(length=100), nullable=False),
        sa.Column("desired_segment", sa.String(length=50), nullable=False),
        sa.Column("desired_region", sa.String(length=50), nullable=False),
        sa.Column("desired_job_level", sa.String(length=20), nullable=True),
        sa.Column("desired_product_use", sa.String(length=200), nullable=False),
        sa.Column("customers_in_mind", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=False),
        sa.Column("overridden_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_accepted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_call_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column(
            "outcome_amount", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("outcome_closed_on", sa.Date(), nullable=True),
        sa.Column("outcome_recorded_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "conversation_level IN ('c_level', 'vp', 'director', 'admin')",
            name=op.f("ck_reference_requests_level_known"),
        ),
        sa.CheckConstraint(
            "deal_stage IN ('discovery', 'qualified', 'demo', 'proposal', 'negotiation', 'verbal')",
            name=op.f("ck_reference_requests_stage_known"),
        ),
        sa.CheckConstraint(
            "desired_job_level IS NULL OR desired_job_level IN ('c_level', 'vp', 'director', 'manager', 'individual')",
            name=op.f("ck_reference_requests_job_level_known"),
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('won', 'lost')",
            name=op.f("ck_reference_requests_outcome_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'confirmed', 'cancelled')",
            name=op.f("ck_reference_requests_status_known"),
        ),
        sa.CheckConstraint(
            "deal_size >= 0", name=op.f("ck_reference_requests_deal_size_not_negative")
        ),
        sa.CheckConstraint(
            "outcome_amount IS NULL OR outcome_amount >= 0",
            name=op.f("ck_reference_requests_outcome_amount_not_negative"),
        ),
        sa.CheckConstraint(
            "references_needed BETWEEN 1 AND 10",
            name=op.f("ck_reference_requests_references_needed_range"),
        ),
        sa.ForeignKeyConstraint(
            ["overridden_by_id"],
            ["users.id"],
            name=op.f("fk_reference_requests_overridden_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_reference_requests_requester_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_requests")),
    )
    with op.batch_alter_table("reference_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reference_requests_requester", ["requester_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_reference_requests_status", ["status", "needed_by", "id"], unique=False
        )

    op.create_table(
        "survey_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("file_key", sa.String(length=80), nullable=False),
        sa.Column("encoding", sa.String(length=20), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("done_rows", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("promoters", sa.Integer(), nullable=False),
        sa.Column("detractors", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('nps', 'csat')", name=op.f("ck_survey_imports_kind_known")),
        sa.CheckConstraint(
            "status IN ('mapping', 'running', 'done')", name=op.f("ck_survey_imports_status_known")
        ),
        sa.CheckConstraint(
            "done_rows >= 0 AND done_rows <= total_rows",
            name=op.f("ck_survey_imports_progress_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_survey_imports_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_imports")),
    )
    op.create_table(
        "reference_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["reference_requests.id"],
            name=op.f("fk_reference_reminders_request_id_reference_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_reminders")),
        sa.UniqueConstraint("request_id", "week", name=op.f("uq_reference_reminders_request_id")),
    )
    op.create_table(
        "sales_credits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('complete_request', 'prompt_confirmation', 'outcome')",
            name=op.f("ck_sales_credits_action_known"),
        ),
        sa.CheckConstraint("points > 0", name=op.f("ck_sales_credits_points_positive")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["reference_requests.id"],
            name=op.f("fk_sales_credits_request_id_reference_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sales_credits_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_credits")),
        sa.UniqueConstraint("key", name=op.f("uq_sales_credits_key")),
    )
    with op.batch_alter_table("sales_credits", schema=None) as batch_op:
        batch_op.create_index("ix_sales_credits_user", ["user_id", "created_at"], unique=False)

    op.create_table(
        "survey_import_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["survey_imports.id"],
            name=op.f("fk_survey_import_errors_import_id_survey_imports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_import_errors")),
    )
    with op.batch_alter_table("survey_import_errors", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_import_errors_import", ["import_id", "row_number"], unique=False
        )

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("promoter", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('nps', 'csat')", name=op.f("ck_survey_responses_kind_known")),
        sa.CheckConstraint("score BETWEEN 0 AND 10", name=op.f("ck_survey_responses_score_range")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_survey_responses_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["survey_imports.id"],
            name=op.f("fk_survey_responses_import_id_survey_imports"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_survey_responses_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("kind", "email", "responded_on", name="uq_survey_responses_answer"),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index("ix_survey_responses_email", ["email"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_survey_responses_import_id"), ["import_id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_responses_promoters",
            ["responded_on", "id"],
            unique=False,
            postgresql_where=sa.text("promoter AND user_id IS NULL"),
            sqlite_where=sa.text("promoter AND user_id IS NULL"),
        )

    op.create_table(
        "account_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("cleared_by_id", sa.Integer(), nullable=True),
        sa.Column("clear_reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('detractor', 'escalation')", name=op.f("ck_account_flags_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_flags_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["cleared_by_id"],
            ["users.id"],
            name=op.f("fk_account_flags_cleared_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_account_flags_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_account_flags_response_id_survey_responses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_flags")),
    )
    with op.batch_alter_table("account_flags", schema=None) as batch_op:
        batch_op.create_index("ix_account_flags_account", ["account_id", "id"], unique=False)
        batch_op.create_index(
            "uq_account_flags_open",
            ["account_id", "kind"],
            unique=True,
            postgresql_where=sa.text("cleared_at IS NULL"),
            sqlite_where=sa.text("cleared_at IS NULL"),
        )

    op.create_table(
        "reference_asks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("asked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("asked_by_id", sa.Integer(), nullable=True),
        sa.Column("responded_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("not_before", sa.Date(), nullable=True),
        sa.Column("challenge_id", sa.Integer(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("introduced_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("call_on", sa.Date(), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'asked', 'accepted', 'declined', 'withdrawn', 'confirmed')",
            name=op.f("ck_reference_asks_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_reference_asks_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["users.id"], name=op.f("fk_reference_asks_advocate_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["asked_by_id"],
            ["users.id"],
            name=op.f("fk_reference_asks_asked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_reference_asks_challenge_id_challenges"),
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["users.id"],
            name=op.f("fk_reference_asks_confirmed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_reference_asks_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["users.id"],
            name=op.f("fk_reference_asks_proposed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["reference_requests.id"],
            name=op.f("fk_reference_asks_request_id_reference_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_reference_asks_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_asks")),
        sa.UniqueConstraint("request_id", "advocate_id", name="uq_reference_asks_candidate"),
    )
    with op.batch_alter_table("reference_asks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reference_asks_account", ["account_id", "confirmed_at"], unique=False
        )
        batch_op.create_index("ix_reference_asks_advocate", ["advocate_id", "id"], unique=False)
        batch_op.create_index(
            "ix_reference_asks_not_now",
            ["not_before", "advocate_id"],
            unique=False,
            postgresql_where=sa.text("not_before IS NOT NULL"),
            sqlite_where=sa.text("not_before IS NOT NULL"),
        )
        batch_op.create_index("ix_reference_asks_owner", ["owner_id", "status"], unique=False)
        batch_op.create_index(
            "uq_reference_asks_open",
            ["advocate_id"],
            unique=True,
            postgresql_where=sa.text("status IN ('asked', 'accepted')"),
            sqlite_where=sa.text("status IN ('asked', 'accepted')"),
        )

    op.create_table(
        "account_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("ask_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_milestones_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["users.id"], name=op.f("fk_account_milestones_advocate_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ask_id"],
            ["reference_asks.id"],
            name=op.f("fk_account_milestones_ask_id_reference_asks"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["reference_requests.id"],
            name=op.f("fk_account_milestones_request_id_reference_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_milestones")),
        sa.UniqueConstraint("ask_id", name=op.f("uq_account_milestones_ask_id")),
    )
    with op.batch_alter_table("account_milestones", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_milestones_account", ["account_id", "happened_on", "id"], unique=False
        )

    # plain ADD COLUMN (batch mode would rebuild these tables, see 0007)
    op.add_column(
        "accounts", sa.Column("products", sa.String(length=300), server_default="", nullable=False)
    )
    op.add_column(
        "users", sa.Column("completions", sa.Integer(), server_default="0", nullable=False)
    )
    op.execute(
        "UPDATE users SET completions = (SELECT count(*) FROM submissions "
        "WHERE submissions.advocate_id = users.id AND submissions.status = 'approved') "
        "WHERE role = 'advocate'"
    )


def downgrade() -> None:
    op.execute("UPDATE users SET role = 'manager', active = false WHERE role = 'sales'")
    _allow_roles(ROLES_AFTER, ROLES_BEFORE)
    op.drop_column("users", "completions")
    op.drop_column("accounts", "products")

    with op.batch_alter_table("account_milestones", schema=None) as batch_op:
        batch_op.drop_index("ix_account_milestones_account")

    op.drop_table("account_milestones")
    with op.batch_alter_table("reference_asks", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_reference_asks_open",
            postgresql_where=sa.text("status IN ('asked', 'accepted')"),
            sqlite_where=sa.text("status IN ('asked', 'accepted')"),
        )
        batch_op.drop_index("ix_reference_asks_owner")
        batch_op.drop_index(
            "ix_reference_asks_not_now",
            postgresql_where=sa.text("not_before IS NOT NULL"),
            sqlite_where=sa.text("not_before IS NOT NULL"),
        )
        batch_op.drop_index("ix_reference_asks_advocate")
        batch_op.drop_index("ix_reference_asks_account")

    op.drop_table("reference_asks")
    with op.batch_alter_table("account_flags", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_account_flags_open",
            postgresql_where=sa.text("cleared_at IS NULL"),
            sqlite_where=sa.text("cleared_at IS NULL"),
        )
        batch_op.drop_index("ix_account_flags_account")

    op.drop_table("account_flags")
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_survey_responses_promoters",
            postgresql_where=sa.text("promoter AND user_id IS NULL"),
            sqlite_where=sa.text("promoter AND user_id IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_survey_responses_import_id"))
        batch_op.drop_index("ix_survey_responses_email")

    op.drop_table("survey_responses")
    with op.batch_alter_table("survey_import_errors", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_import_errors_import")

    op.drop_table("survey_import_errors")
    with op.batch_alter_table("sales_credits", schema=None) as batch_op:
        batch_op.drop_index("ix_sales_credits_user")

    op.drop_table("sales_credits")
    op.drop_table("reference_reminders")
    op.drop_table("survey_imports")
    with op.batch_alter_table("reference_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_reference_requests_status")
        batch_op.drop_index("ix_reference_requests_requester")

    op.drop_table("reference_requests")
    op.drop_table("latest_scores")
    op.drop_table("reference_settings")
