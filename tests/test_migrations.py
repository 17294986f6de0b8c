"""Migrations build exactly the ORM schema, and go down and up again, on both databases."""

from __future__ import annotations

from importlib.resources import files

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from governance.core import migrate
from governance.core.db import create_db_engine
from governance.wiring.all_models import metadata


def _diff(url: str) -> list[object]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_matches_the_orm_exactly(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    assert _diff(empty_database_url) == []
    assert _tables(empty_database_url) == set(metadata.tables) | {"alembic_version"}


def test_downgrade_base_then_upgrade_head(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    migrate.downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) <= {"alembic_version"}
    migrate.upgrade(empty_database_url)
    assert _diff(empty_database_url) == []


def test_one_head_and_date_prefixed_files() -> None:
    assert migrate.head_revision() is not None
    folder = files(migrate.MIGRATIONS_PACKAGE) / "versions"
    versions = [p for p in folder.iterdir() if p.name.endswith(".py") and p.name != "__init__.py"]
    assert all(p.name[:4].isdigit() and p.name[4] == "_" for p in versions)
