"""Lineage of each snapshot: base models and their relation (issue 14).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("upstream_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_model_relation", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("lineage_source", sa.String(length=300), nullable=True))
    op.create_table(
        "snapshot_bases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("base_repo_id", sa.String(length=96), nullable=False),
        sa.Column("base_key", sa.String(length=96), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["upstream_snapshots.id"],
            name=op.f("fk_snapshot_bases_snapshot_id_upstream_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot_bases")),
    )
    with op.batch_alter_table("snapshot_bases", schema=None) as batch_op:
        batch_op.create_index("ix_snapshot_bases_base_key", ["base_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_snapshot_bases_snapshot_id"), ["snapshot_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("snapshot_bases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshot_bases_snapshot_id"))
        batch_op.drop_index("ix_snapshot_bases_base_key")
    op.drop_table("snapshot_bases")
    with op.batch_alter_table("upstream_snapshots", schema=None) as batch_op:
        batch_op.drop_column("lineage_source")
        batch_op.drop_column("base_model_relation")
