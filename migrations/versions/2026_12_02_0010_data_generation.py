"""The data generation: a counter every committed change bumps, kept by triggers (issue 12).

Answers kept by the Slack ack path (``bot.grammar.read_cache``) are valid while it is unchanged.
Every table existing at this revision, except those in ``UNTRACKED_TABLES``, gets the bump
triggers; a later migration creating a table adds them with ``bump_triggers_ddl``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from governance.core.generation import (
    GENERATION_TABLE,
    bump_triggers_ddl,
    create_generation_ddl,
    drop_bump_triggers_ddl,
    drop_generation_ddl,
    tracked_tables,
)

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tables() -> list[str]:
    return tracked_tables(sa.inspect(op.get_bind()).get_table_names())


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    tables = _tables()
    op.create_table(
        GENERATION_TABLE,
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{GENERATION_TABLE}")),
    )
    for statement in create_generation_ddl(dialect):
        op.execute(statement)
    for table in tables:
        for statement in bump_triggers_ddl(dialect, table):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in _tables():
        for statement in drop_bump_triggers_ddl(dialect, table):
            op.execute(statement)
    op.drop_table(GENERATION_TABLE)
    for statement in drop_generation_ddl(dialect):
        op.execute(statement)
