"""Upstream watch (snapshots, texts, checks, changes, cycles), alerts outbox, subscriptions,
request cards.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from governance.core.db import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=100), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_subscriptions")),
        sa.UniqueConstraint("destination", name=op.f("uq_alert_subscriptions_destination")),
    )
    op.create_table(
        "author_repos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=96), nullable=False),
        sa.Column("repo_key", sa.String(length=96), nullable=False),
        sa.Column("repo_id", sa.String(length=96), nullable=False),
        sa.Column("upstream_created_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_author_repos")),
        sa.UniqueConstraint("repo_key", name=op.f("uq_author_repos_repo_key")),
    )
    with op.batch_alter_table("author_repos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_author_repos_author"), ["author"], unique=False)

    op.create_table(
        "license_texts",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("content_hash", name=op.f("pk_license_texts")),
    )
    op.create_table(
        "recheck_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recheck_cycles")),
    )
    op.create_table(
        "upstream_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("availability", sa.String(length=20), nullable=False),
        sa.Column("repo_id", sa.String(length=96), nullable=False),
        sa.Column("sha", sa.String(length=64), nullable=True),
        sa.Column("last_modified", UTCDateTime(timezone=True), nullable=True),
        sa.Column("upstream_created_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("gated", sa.String(length=10), nullable=True),
        sa.Column("private", sa.Boolean(), nullable=True),
        sa.Column("license", sa.String(length=200), nullable=True),
        sa.Column("license_name", sa.String(length=200), nullable=True),
        sa.Column("license_link", sa.Text(), nullable=True),
        sa.Column("license_tags", sa.JSON(), nullable=False),
        sa.Column("base_model", sa.JSON(), nullable=False),
        sa.Column("new_version", sa.String(length=200), nullable=True),
        sa.Column("gating_prompt", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=True),
        sa.Column("license_files", sa.JSON(), nullable=True),
        sa.Column("license_fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["tracked_models.id"],
            name=op.f("fk_upstream_snapshots_model_id_tracked_models"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_snapshots")),
    )
    with op.batch_alter_table("upstream_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_upstream_snapshots_model_id_id", ["model_id", "id"], unique=False)

    op.create_table(
        "request_cards",
        sa.Column("approval_id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=100), nullable=False),
        sa.Column("message_ref", sa.String(length=64), nullable=False),
        sa.Column("posted_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approval_id"], ["approvals.id"], name=op.f("fk_request_cards_approval_id_approvals")
        ),
        sa.PrimaryKeyConstraint("approval_id", name=op.f("pk_request_cards")),
    )
    op.create_table(
        "upstream_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("detected_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("from_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("to_snapshot_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_snapshot_id"],
            ["upstream_snapshots.id"],
            name=op.f("fk_upstream_changes_from_snapshot_id_upstream_snapshots"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["tracked_models.id"],
            name=op.f("fk_upstream_changes_model_id_tracked_models"),
        ),
        sa.ForeignKeyConstraint(
            ["to_snapshot_id"],
            ["upstream_snapshots.id"],
            name=op.f("fk_upstream_changes_to_snapshot_id_upstream_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_changes")),
    )
    with op.batch_alter_table("upstream_changes", schema=None) as batch_op:
        batch_op.create_index("ix_upstream_changes_model_id_id", ["model_id", "id"], unique=False)

    op.create_table(
        "upstream_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["recheck_cycles.id"],
            name=op.f("fk_upstream_checks_cycle_id_recheck_cycles"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["tracked_models.id"],
            name=op.f("fk_upstream_checks_model_id_tracked_models"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["upstream_snapshots.id"],
            name=op.f("fk_upstream_checks_snapshot_id_upstream_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_checks")),
    )
    with op.batch_alter_table("upstream_checks", schema=None) as batch_op:
        batch_op.create_index("ix_upstream_checks_model_id_id", ["model_id", "id"], unique=False)

    op.create_table(
        "watch_states",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("latest_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("last_checked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("unreachable_alerted", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["latest_snapshot_id"],
            ["upstream_snapshots.id"],
            name=op.f("fk_watch_states_latest_snapshot_id_upstream_snapshots"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["tracked_models.id"],
            name=op.f("fk_watch_states_model_id_tracked_models"),
        ),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_watch_states")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("change_id", sa.Integer(), nullable=True),
        sa.Column("destination", sa.String(length=100), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("message_ref", sa.String(length=64), nullable=True),
        sa.Column("thread_ref", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["upstream_changes.id"],
            name=op.f("fk_alerts_change_id_upstream_changes"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["tracked_models.id"], name=op.f("fk_alerts_model_id_tracked_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_alerts_dedupe_key")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_model_id"), ["model_id"], unique=False)
        batch_op.create_index(
            "ix_alerts_state_next_attempt_at", ["state", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_state_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_alerts_model_id"))

    op.drop_table("alerts")
    op.drop_table("watch_states")
    with op.batch_alter_table("upstream_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_upstream_checks_model_id_id")

    op.drop_table("upstream_checks")
    with op.batch_alter_table("upstream_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_upstream_changes_model_id_id")

    op.drop_table("upstream_changes")
    op.drop_table("request_cards")
    with op.batch_alter_table("upstream_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_upstream_snapshots_model_id_id")

    op.drop_table("upstream_snapshots")
    op.drop_table("recheck_cycles")
    op.drop_table("license_texts")
    with op.batch_alter_table("author_repos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_author_repos_author"))

    op.drop_table("author_repos")
    op.drop_table("alert_subscriptions")
