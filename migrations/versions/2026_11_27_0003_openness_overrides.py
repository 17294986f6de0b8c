"""Reviewer overrides of openness components (one per model and component, with evidence).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from governance.core.db import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "openness_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("evidence_url", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["tracked_models.id"],
            name=op.f("fk_openness_overrides_model_id_tracked_models"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_openness_overrides")),
        sa.UniqueConstraint(
            "model_id", "component", name=op.f("uq_openness_overrides_model_id_component")
        ),
    )
    with op.batch_alter_table("openness_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_openness_overrides_model_id"), ["model_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("openness_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_openness_overrides_model_id"))

    op.drop_table("openness_overrides")
