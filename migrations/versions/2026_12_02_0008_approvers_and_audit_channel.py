"""Approvers managed in Slack, and the channel and OS user of every audit event (issue 13).

The ``approvers`` table (0001) already holds the approvers added besides MODELGOV_APPROVERS;
``/models approvers add`` now writes it, so each row also says where it was added. Every audit
event records the surface it came through and, for the console and CLI, the operating-system
account behind the acting name. All three columns are nullable: rows written before this
revision did not record them, and the trail must not pretend they did.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHANNELS = ("slack", "console", "cli", "watcher", "scheduler")


def _channel() -> sa.Enum:
    return sa.Enum(
        *_CHANNELS, name="audit_channel", native_enum=False, create_constraint=True, length=20
    )


def upgrade() -> None:
    with op.batch_alter_table("approvers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("added_via", _channel(), nullable=True))
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", _channel(), nullable=True))
        batch_op.add_column(sa.Column("os_user", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_audit_events_audit_channel"), type_="check")
        batch_op.drop_column("os_user")
        batch_op.drop_column("channel")
    with op.batch_alter_table("approvers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_approvers_audit_channel"), type_="check")
        batch_op.drop_column("added_via")
