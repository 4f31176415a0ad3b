"""rewards and redemptions: catalog, redemptions and their events, gift offers, settings;
ledger entries record what they change of the held points (hold_change)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 20:36:51.140900
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reward_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("auto_approve_below", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "auto_approve_below >= 0", name=op.f("ck_reward_settings_threshold_not_negative")
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_reward_settings_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_settings")),
    )
    op.create_table(
        "rewards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("money_value", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("limit_count", sa.Integer(), nullable=True),
        sa.Column("limit_period", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("regions", sa.String(length=200), nullable=False),
        sa.Column("charity_name", sa.String(length=200), nullable=False),
        sa.Column("image_key", sa.String(length=80), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind != 'charity' OR charity_name != ''", name=op.f("ck_rewards_charity_named")
        ),
        sa.CheckConstraint(
            "kind IN ('gift_card', 'swag', 'charity', 'experience', 'recognition')",
            name=op.f("ck_rewards_kind_known"),
        ),
        sa.CheckConstraint("cost >= 1", name=op.f("ck_rewards_cost_positive")),
        sa.CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at",
            name=op.f("ck_rewards_window_ordered"),
        ),
        sa.CheckConstraint(
            "limit_count IS NULL OR limit_count >= 1", name=op.f("ck_rewards_limit_positive")
        ),
        sa.CheckConstraint("money_value >= 0", name=op.f("ck_rewards_money_not_negative")),
        sa.CheckConstraint(
            "stock IS NULL OR stock >= 0", name=op.f("ck_rewards_stock_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("money_value", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("slot", sa.String(length=30), nullable=True),
        sa.Column("shipping_address", sa.Text(), nullable=False),
        sa.Column("flagged", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "slot IS NULL OR status NOT IN ('rejected', 'cancelled')",
            name=op.f("ck_redemptions_slot_active"),
        ),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'fulfilled', 'rejected', 'cancelled', 'refunded')",
            name=op.f("ck_redemptions_status_known"),
        ),
        sa.CheckConstraint("cost >= 0", name=op.f("ck_redemptions_cost_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_redemptions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["users.id"], name=op.f("fk_redemptions_advocate_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_redemptions_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sa.UniqueConstraint("request_key", name=op.f("uq_redemptions_request_key")),
        sa.UniqueConstraint("reward_id", "advocate_id", "slot", name="uq_redemptions_slot"),
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_redemptions_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_redemptions_advocate_id"), ["advocate_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_redemptions_reward_id"), ["reward_id"], unique=False)
        batch_op.create_index(
            "ix_redemptions_status_created", ["status", "created_at"], unique=False
        )

    op.create_table(
        "gift_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("offered_by_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("redemption_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('offered', 'accepted', 'declined')",
            name=op.f("ck_gift_offers_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["users.id"], name=op.f("fk_gift_offers_advocate_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["offered_by_id"],
            ["users.id"],
            name=op.f("fk_gift_offers_offered_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["redemption_id"],
            ["redemptions.id"],
            name=op.f("fk_gift_offers_redemption_id_redemptions"),
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_gift_offers_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift_offers")),
    )
    with op.batch_alter_table("gift_offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gift_offers_advocate_id"), ["advocate_id"], unique=False
        )
        batch_op.create_index(
            "uq_gift_offers_open",
            ["advocate_id", "reward_id"],
            unique=True,
            postgresql_where=sa.text("status = 'offered'"),
            sqlite_where=sa.text("status = 'offered'"),
        )

    op.create_table(
        "redemption_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("redemption_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_redemption_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["redemption_id"],
            ["redemptions.id"],
            name=op.f("fk_redemption_events_redemption_id_redemptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemption_events")),
    )
    with op.batch_alter_table("redemption_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_redemption_events_redemption_id"), ["redemption_id"], unique=False
        )

    # plain ALTER TABLE on both databases: a batch copy would drop SQLite's append-only triggers
    op.add_column(
        "ledger_entries",
        sa.Column("hold_change", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("ledger_entries", "hold_change")

    with op.batch_alter_table("redemption_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_redemption_events_redemption_id"))

    op.drop_table("redemption_events")
    with op.batch_alter_table("gift_offers", schema=None) as batch_op:
        batch_op.drop_index("uq_gift_offers_open")
        batch_op.drop_index(batch_op.f("ix_gift_offers_advocate_id"))

    op.drop_table("gift_offers")
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_redemptions_status_created")
        batch_op.drop_index(batch_op.f("ix_redemptions_reward_id"))
        batch_op.drop_index(batch_op.f("ix_redemptions_advocate_id"))
        batch_op.drop_index(batch_op.f("ix_redemptions_account_id"))

    op.drop_table("redemptions")
    op.drop_table("rewards")
    op.drop_table("reward_settings")
