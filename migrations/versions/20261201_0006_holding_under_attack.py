"""holding under attack: ARR in a column that holds any company's revenue, age limits for
redemptions waiting on staff, and indexes for the audit log's actor filter and the oldest
redemptions in each open status

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite's INTEGER already holds 64 bits; rebuilding its accounts table is not needed
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("accounts", "arr", type_=sa.BigInteger(), existing_nullable=True)
    with op.batch_alter_table("game_settings") as batch_op:
        batch_op.add_column(
            sa.Column("approve_within_days", sa.Integer(), nullable=False, server_default="3")
        )
        batch_op.add_column(
            sa.Column("fulfil_within_days", sa.Integer(), nullable=False, server_default="10")
        )
        batch_op.create_check_constraint(
            "ck_game_settings_age_limits_positive",
            "approve_within_days >= 1 AND fulfil_within_days >= 1",
        )
    op.create_index("ix_audit_events_actor", "audit_events", ["actor_id", "id"])
    op.create_index("ix_redemptions_status_age", "redemptions", ["status", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_redemptions_status_age", table_name="redemptions")
    op.drop_index("ix_audit_events_actor", table_name="audit_events")
    with op.batch_alter_table("game_settings") as batch_op:
        batch_op.drop_constraint("ck_game_settings_age_limits_positive", type_="check")
        batch_op.drop_column("fulfil_within_days")
        batch_op.drop_column("approve_within_days")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("accounts", "arr", type_=sa.Integer(), existing_nullable=True)
