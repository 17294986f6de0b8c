"""Alembic environment: one code path for SQLite and PostgreSQL.

The URL comes from ``config.attributes["url"]`` (set by governance.core.migrate) or, when
``alembic`` is run by hand with alembic.ini, DATABASE_URL.
SQLite needs batch mode for ALTERs, so it is always on there.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from governance.core.config import load_settings
from governance.core.db import create_db_engine, normalize_database_url
from governance.wiring.all_models import metadata

config = context.config
# Only `alembic` run by hand reads alembic.ini; governance.core.migrate builds its config in code.
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    return str(config.attributes.get("url") or load_settings().database_url)


def run_migrations_offline() -> None:
    url = normalize_database_url(_url())
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_db_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
