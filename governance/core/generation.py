"""The data generation: one counter that every committed change to what modelgov shows bumps.

Readers that keep a rendered answer (``bot.grammar.read_cache``) compare the generation they
computed it at with the current one, one indexed read. The counter is kept by database
triggers, not by the code that writes, so no write path (the watcher, a migration, an operator's
SQL) can forget it:

- SQLite: a row trigger on each table; SQLite has a single writer, so the bump is part of the
  writing transaction and becomes visible with it.
- PostgreSQL: a deferred constraint trigger, bumping once per transaction at commit time.
  Taking the counter's row lock last, at commit, keeps writers from deadlocking on it and holds
  it only for the commit itself.

Tables whose rows no answer shows (request replay memory, leases, queued webhook checks) bump
nothing: they change on every Slack request or worker heartbeat, and bumping for them would
make every kept answer stale at once. Every other table bumps, including tables added later:
a migration that creates one calls ``bump_triggers_ddl`` (a test checks every table has them).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column

from governance.core.db import Base
from governance.core.single_statements import SingleStatements

GENERATION_TABLE = "data_generation"
# Written on every request or heartbeat, and never shown by a cached answer.
UNTRACKED_TABLES = frozenset(
    {"alembic_version", GENERATION_TABLE, "seen_requests", "leases", "check_requests"}
)
_OPERATIONS = ("insert", "update", "delete")
_PG_FUNCTION = "modelgov_bump_data_generation"
_PG_FLAG = "modelgov.generation_bumped"
_SELECT = f"SELECT generation FROM {GENERATION_TABLE} WHERE id = 1"


class DataGeneration(Base):
    """The one row (``id`` 1) holding the generation; written only by the triggers."""

    __tablename__ = GENERATION_TABLE

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger)


def create_generation_ddl(dialect: str) -> list[str]:
    """Statements run once the table exists: its one row (at 0) and, on PostgreSQL, the
    trigger function."""
    statements = [f"INSERT INTO {GENERATION_TABLE} (id, generation) VALUES (1, 0)"]
    if dialect == "postgresql":
        statements.append(
            f"CREATE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            # Once per transaction: the flag is transaction-local (set_config's third argument).
            f"  IF current_setting('{_PG_FLAG}', true) IS DISTINCT FROM 'yes' THEN\n"
            f"    UPDATE {GENERATION_TABLE} SET generation = generation + 1 WHERE id = 1;\n"
            f"    PERFORM set_config('{_PG_FLAG}', 'yes', true);\n"
            "  END IF;\n"
            "  RETURN NULL;\n"
            "END $$"
        )
    return statements


def drop_generation_ddl(dialect: str) -> list[str]:
    """Statements undoing ``create_generation_ddl`` (drop each table's triggers first, the
    table after)."""
    return [f"DROP FUNCTION {_PG_FUNCTION}()"] if dialect == "postgresql" else []


def trigger_names(table: str) -> list[str]:
    """The names of ``table``'s bump triggers (SQLite: one per operation)."""
    return [f"{GENERATION_TABLE}_{table}_{operation}" for operation in _OPERATIONS]


def bump_triggers_ddl(dialect: str, table: str) -> list[str]:
    """Statements making every committed change to ``table`` bump the generation."""
    if dialect == "postgresql":
        return [
            f"CREATE CONSTRAINT TRIGGER {GENERATION_TABLE}_{table} "
            f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW EXECUTE FUNCTION {_PG_FUNCTION}()"
        ]
    return [
        f"CREATE TRIGGER {name} AFTER {operation.upper()} ON {table} BEGIN "
        f"UPDATE {GENERATION_TABLE} SET generation = generation + 1 WHERE id = 1; END"
        for name, operation in zip(trigger_names(table), _OPERATIONS, strict=True)
    ]


def drop_bump_triggers_ddl(dialect: str, table: str) -> list[str]:
    """Statements undoing ``bump_triggers_ddl`` for ``table``."""
    if dialect == "postgresql":
        return [f"DROP TRIGGER {GENERATION_TABLE}_{table} ON {table}"]
    return [f"DROP TRIGGER {name}" for name in trigger_names(table)]


def tracked_tables(tables: list[str]) -> list[str]:
    """The tables of ``tables`` whose changes bump the generation."""
    return sorted(t for t in tables if t not in UNTRACKED_TABLES)


def current_generation(statements: SingleStatements) -> int:
    """The current generation, in one statement (``SingleStatements``: it runs before every
    cached ack, so it skips the pool on SQLite and SQLAlchemy's Connection everywhere). On
    SQLite the statement is its own implicit read transaction; on PostgreSQL it is committed
    at once.

    Raises sqlalchemy.exc.DBAPIError when the table is missing (a database not migrated to
    revision 0010) or the database cannot be reached.
    """
    row = statements.fetch_one(_SELECT)
    if row is None:
        raise DBAPIError(_SELECT, None, LookupError(f"{GENERATION_TABLE} has no row 1"))
    return int(row[0])
