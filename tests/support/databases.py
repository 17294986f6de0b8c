"""Test databases: SQLite files and PostgreSQL databases, each test in its own, migrated.

Migrations run once per session into a template; each test gets a copy (a file copy for
SQLite, ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL) and drops it afterwards.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from governance.core import migrate
from governance.core.db import normalize_database_url

PG_ENV = "MODELGOV_TEST_DATABASE_URL"


def check_postgres(url: str) -> str | None:
    """None when the server at ``url`` answers; otherwise why not."""
    engine = create_engine(normalize_database_url(url), connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        engine.dispose()
    return None


class PostgresDatabases:
    """Creates and drops throwaway databases on the server at ``admin_url``."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = normalize_database_url(admin_url)
        self._admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.prefix = f"modelgov_t{uuid.uuid4().hex[:8]}"

    def url_for(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def create(self, *, template: str | None = None) -> str:
        name = f"{self.prefix}_{uuid.uuid4().hex[:10]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return name

    def drop(self, name: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    @contextmanager
    def database(self, *, template: str | None = None) -> Iterator[str]:
        name = self.create(template=template)
        try:
            yield self.url_for(name)
        finally:
            self.drop(name)

    def close(self) -> None:
        self._admin.dispose()


def migrated_sqlite_template(folder: Path) -> Path:
    path = folder / "template.sqlite"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def sqlite_copy(template: Path, folder: Path) -> str:
    path = folder / f"db-{uuid.uuid4().hex[:8]}.sqlite"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def backend_of(url: str) -> str:
    return make_url(url).get_backend_name()
