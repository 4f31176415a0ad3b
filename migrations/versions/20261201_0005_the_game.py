"""the game: program style and time zone, levels (the defaults, and who has reached them),
badges (one per rule), period totals for leaderboards backfilled from the ledger on the UTC
calendar (and how many advocates hold each score), the activity feed, expiry reminders, starter challenges and cover images

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:20:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = (
    ("Insider", 0, "Early news of the roadmap and the community newsletter."),
    ("Contributor", 500, "A seat in quarterly product feedback sessions."),
    ("Champion", 2000, "Invitations to the customer advisory board and the annual summit."),
    ("Legend", 10000, "A named spot on the Wall of Legends and a call with our founders."),
)
BADGES = (
    ("First step", "Completed a first challenge.", "first_completion", None),
    ("Reviewer", "Wrote a first review.", "first_review", None),
    (
        "Voice of the customer",
        "Took a first reference call with a prospect.",
        "first_reference_call",
        None,
    ),
    ("Regular", "Completed 10 challenges.", "completions", 10),
    ("Explorer", "Completed challenges of 4 different types.", "types_tried", 4),
    ("One year strong", "A member of the program for a whole year.", "year_in_program", None),
    ("Connector", "Referred a colleague who became a lead.", "referral_lead", None),
    ("Off to a flying start", "Finished the first-visit path.", "starter_path", None),
    (
        "Above and beyond",
        "Recognised by the program team for going above and beyond.",
        "manual",
        None,
    ),
)
SCORED = "('submission', 'adjustment')"


def upgrade() -> None:
    now = datetime.now(UTC)
    op.create_table(
        "game_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("show_leaderboards", sa.Boolean(), nullable=False),
        sa.Column("show_points", sa.Boolean(), nullable=False),
        sa.Column("expiry_months", sa.Integer(), nullable=True),
        sa.Column("earn_cap", sa.Integer(), nullable=True),
        sa.Column("earn_cap_period", sa.String(length=10), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "earn_cap_period IN ('month', 'quarter')",
            name=op.f("ck_game_settings_earn_cap_period_known"),
        ),
        sa.CheckConstraint(
            "earn_cap IS NULL OR earn_cap >= 1", name=op.f("ck_game_settings_earn_cap_positive")
        ),
        sa.CheckConstraint(
            "expiry_months IS NULL OR expiry_months >= 1",
            name=op.f("ck_game_settings_expiry_positive"),
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_game_settings_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_game_settings")),
    )
    levels = op.create_table(
        "levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("perk", sa.String(length=200), nullable=False),
        sa.Column("image_key", sa.String(length=80), nullable=True),
        sa.CheckConstraint("threshold >= 0", name=op.f("ck_levels_threshold_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_levels")),
        sa.UniqueConstraint("name", name=op.f("uq_levels_name")),
        sa.UniqueConstraint("threshold", name=op.f("uq_levels_threshold")),
    )
    op.bulk_insert(levels, [{"name": n, "threshold": t, "perk": p} for n, t, p in LEVELS])
    op.create_table(
        "levels_reached",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("level_id", sa.Integer(), nullable=False),
        sa.Column("reached_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["users.id"], name=op.f("fk_levels_reached_advocate_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["level_id"],
            ["levels.id"],
            name=op.f("fk_levels_reached_level_id_levels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_levels_reached")),
        sa.UniqueConstraint("advocate_id", "level_id", name="uq_levels_reached"),
    )
    op.create_index(
        op.f("ix_levels_reached_level_id"), "levels_reached", ["level_id"], unique=False
    )
    # levels already reached: shown (not emailed) on each advocate's next visit
    op.execute(
        sa.text(
            "INSERT INTO levels_reached (advocate_id, level_id, reached_at) "
            "SELECT points_balances.advocate_id, levels.id, :now FROM points_balances "
            "JOIN levels ON levels.threshold > 0 "
            "AND levels.threshold <= points_balances.lifetime_earned"
        ).bindparams(sa.bindparam("now", now, type_=UTCDateTime()))
    )
    badges = op.create_table(
        "badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("image_key", sa.String(length=80), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "threshold IS NULL OR threshold >= 1", name=op.f("ck_badges_threshold_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges")),
        sa.UniqueConstraint("name", name=op.f("uq_badges_name")),
    )
    op.bulk_insert(
        badges,
        [
            {
                "name": n,
                "description": d,
                "rule": r,
                "threshold": t,
                "enabled": True,
                "created_at": now,
            }
            for n, d, r, t in BADGES
        ],
    )
    op.create_table(
        "badge_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("badge_id", sa.Integer(), nullable=False),
        sa.Column("awarded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("awarded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["users.id"], name=op.f("fk_badge_awards_advocate_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["awarded_by_id"],
            ["users.id"],
            name=op.f("fk_badge_awards_awarded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["badge_id"],
            ["badges.id"],
            name=op.f("fk_badge_awards_badge_id_badges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_awards")),
        sa.UniqueConstraint("advocate_id", "badge_id", name="uq_badge_awards"),
    )
    op.create_index(
        "ix_badge_awards_advocate_awarded",
        "badge_awards",
        ["advocate_id", "awarded_at"],
        unique=False,
    )
    op.create_index(op.f("ix_badge_awards_badge_id"), "badge_awards", ["badge_id"], unique=False)
    op.create_table(
        "expiry_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["users.id"], name=op.f("fk_expiry_notices_advocate_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expiry_notices")),
        sa.UniqueConstraint("advocate_id", "expires_on", name="uq_expiry_notices"),
    )
    op.create_table(
        "feed_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('completion', 'level', 'badge')", name=op.f("ck_feed_events_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["users.id"], name=op.f("fk_feed_events_advocate_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_events")),
    )
    op.create_index(
        op.f("ix_feed_events_advocate_id"), "feed_events", ["advocate_id"], unique=False
    )
    op.create_index("ix_feed_events_created", "feed_events", ["created_at", "id"], unique=False)
    op.create_table(
        "period_totals",
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reached_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advocate_id"], ["users.id"], name=op.f("fk_period_totals_advocate_id_users")
        ),
        sa.PrimaryKeyConstraint("advocate_id", "period", name=op.f("pk_period_totals")),
    )
    _backfill_period_totals()
    op.create_table(
        "score_counts",
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("advocates", sa.Integer(), nullable=False),
        sa.CheckConstraint("advocates >= 0", name=op.f("ck_score_counts_advocates_not_negative")),
        sa.PrimaryKeyConstraint("period", "points", name=op.f("pk_score_counts")),
    )
    op.execute(
        "INSERT INTO score_counts (period, points, advocates) SELECT period, points, count(*) "
        "FROM period_totals WHERE listed AND points > 0 GROUP BY period, points"
    )
    op.create_index(
        "ix_period_totals_rank",
        "period_totals",
        ["period", sa.text("points DESC"), "reached_at", "advocate_id"],
        unique=False,
        postgresql_where=sa.text("listed"),
        sqlite_where=sa.text("listed"),
    )
    # plain ADD COLUMNs with constant defaults (no table rebuild on SQLite; see 0004)
    op.add_column(
        "challenges", sa.Column("starter", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("challenges", sa.Column("cover_image_key", sa.String(length=80), nullable=True))
    op.add_column(
        "users", sa.Column("hide_company", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def _backfill_period_totals() -> None:
    """Scores per month, quarter and all time from the ledger, on the UTC calendar (the new
    program setting's default; changing the time zone rebuilds them)."""
    if op.get_bind().dialect.name == "postgresql":
        month = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM')"
    else:
        month = "strftime('%Y-%m', created_at)"
    quarter = (
        "substr(period, 1, 4) || '-Q' || CAST((CAST(substr(period, 6, 2) AS INTEGER) + 2) / 3 "
        "AS VARCHAR(1))"
    )
    insert = "INSERT INTO period_totals (advocate_id, period, points, reached_at, listed) "
    op.execute(
        f"{insert}SELECT advocate_id, period, sum(amount), max(created_at), true FROM "  # noqa: S608 - constants
        f"(SELECT advocate_id, {month} AS period, amount, created_at FROM ledger_entries "
        f"WHERE source IN {SCORED}) AS entries GROUP BY advocate_id, period"
    )
    for period in (quarter, "'all'"):
        op.execute(
            f"{insert}SELECT advocate_id, period, sum(points), max(reached_at), true FROM "  # noqa: S608
            f"(SELECT advocate_id, {period} AS period, points, reached_at FROM period_totals "
            f"WHERE period LIKE '____-__' AND substr(period, 6, 1) <> 'Q') AS months "
            "GROUP BY advocate_id, period"
        )
    op.execute(
        "UPDATE period_totals SET listed = false WHERE advocate_id IN (SELECT id FROM users "
        "WHERE NOT (role = 'advocate' AND active AND in_program AND NOT hide_from_leaderboard))"
    )


def downgrade() -> None:
    op.drop_column("users", "hide_company")  # SQLite 3.35+ drops a column in place
    op.drop_column("challenges", "cover_image_key")
    op.drop_column("challenges", "starter")
    op.drop_index(
        "ix_period_totals_rank",
        table_name="period_totals",
        postgresql_where=sa.text("listed"),
        sqlite_where=sa.text("listed"),
    )
    op.drop_table("score_counts")
    op.drop_table("period_totals")
    op.drop_index("ix_feed_events_created", table_name="feed_events")
    op.drop_index(op.f("ix_feed_events_advocate_id"), table_name="feed_events")
    op.drop_table("feed_events")
    op.drop_table("expiry_notices")
    op.drop_index(op.f("ix_badge_awards_badge_id"), table_name="badge_awards")
    op.drop_index("ix_badge_awards_advocate_awarded", table_name="badge_awards")
    op.drop_table("badge_awards")
    op.drop_table("badges")
    op.drop_index(op.f("ix_levels_reached_level_id"), table_name="levels_reached")
    op.drop_table("levels_reached")
    op.drop_table("levels")
    op.drop_table("game_settings")
