"""Making sure the database schema is current before a process serves anyone."""

from __future__ import annotations

from sqlalchemy import Engine

from governance.core import migrate
from governance.core.errors import GovernanceError


class SchemaOutOfDate(GovernanceError):
    code = "schema_out_of_date"


def ensure_schema(engine: Engine, url: str) -> None:
    """Migrate the embedded SQLite database to head; refuse to run on a stale PostgreSQL.

    SQLite is a single-user file we own, so upgrading it in place is what a new user expects.
    A shared PostgreSQL is migrated by the release step (Procfile), never behind its back.
    """
    head = migrate.head_revision()
    with engine.connect() as connection:
        current = migrate.current_revision(connection)
    if current == head:
        return
    if engine.dialect.name == "sqlite":
        migrate.upgrade(url)
        return
    raise SchemaOutOfDate(
        f"The database is at revision {current or 'none'} but this modelgov needs {head}; "
        "run `modelgov db upgrade` (the Procfile's release step)."
    )
