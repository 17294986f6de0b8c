"""Checks queued by Hub webhooks (one row per model, claimed by a worker).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from governance.core.db import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "check_requests",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("claim_expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["tracked_models.id"],
            name=op.f("fk_check_requests_model_id_tracked_models"),
        ),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_check_requests")),
    )
    with op.batch_alter_table("check_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_requests_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("check_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_requests_due_at"))
    op.drop_table("check_requests")
