"""Subscriptions filtered by repository or author pattern (issue 13).

``alert_subscriptions.repos``: glob patterns on repo ids (``meta-llama/*``, ``*/Llama-3*``);
NULL means every model, as every subscription before this revision did.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repos", sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column by copying the table (batch mode); PostgreSQL drops it in place.
    with op.batch_alter_table("alert_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("repos")
