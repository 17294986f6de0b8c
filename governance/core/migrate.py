"""Running Alembic from code (CLI ``db upgrade``, ``make run``, tests), without ``alembic.ini``.

The scripts are the top-level ``migrations`` package, found with ``importlib.resources`` so a
wheel installed anywhere migrates exactly as the checkout does. ``alembic.ini`` stays for
developers who run ``alembic`` by hand from the checkout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import as_file, files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_PACKAGE = "migrations"


@contextmanager
def _alembic_config(url: str) -> Iterator[Config]:
    """Yield an Alembic config for ``url`` over the ``migrations`` package's scripts.

    The scripts' folder is valid only inside the ``with`` block. No logging set-up: with no
    config file, ``migrations/env.py`` leaves logging to the process.
    """
    with as_file(files(MIGRATIONS_PACKAGE)) as folder:
        config = Config()
        config.set_main_option("script_location", str(folder))
        config.attributes["url"] = url
        yield config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``; returns nothing.

    Raises whatever Alembic or the database driver raises (the CLI turns it into one line).
    """
    with _alembic_config(url) as config:
        command.upgrade(config, revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at ``url`` down to ``revision``; returns nothing.

    Raises whatever Alembic or the database driver raises.
    """
    with _alembic_config(url) as config:
        command.downgrade(config, revision)


def head_revision() -> str | None:
    """Return the newest revision among the shipped scripts (None if there are none)."""
    with _alembic_config("sqlite://") as config:
        return ScriptDirectory.from_config(config).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """Return the revision the connected database is at (None for an empty database)."""
    return MigrationContext.configure(connection).get_current_revision()
