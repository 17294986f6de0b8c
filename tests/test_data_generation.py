"""The data generation (governance.core.generation): every committed change to a shown table
bumps it, on both databases; rolled-back changes and bookkeeping tables do not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, text

from governance.core.db import create_db_engine, read_only_engine
from governance.core.generation import (
    GENERATION_TABLE,
    UNTRACKED_TABLES,
    current_generation,
    trigger_names,
)
from governance.core.single_statements import SingleStatements
from tests.support.databases import backend_of

_INSERT_MODEL = (
    "INSERT INTO tracked_models (repo_id, repo_key, display_name, added_by, added_at, watched) "
)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = create_db_engine(database_url)
    yield made
    made.dispose()


def _triggers(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(
                text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal OR tgconstraint <> 0")
            )
        else:
            rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))
        return {str(row[0]) for row in rows}


def _add_model(engine: Engine, repo: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(_INSERT_MODEL + "VALUES (:repo, :repo, :repo, 'alice', CURRENT_TIMESTAMP, true)"),
            {"repo": repo},
        )


def test_every_shown_table_has_the_bump_trigger(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    triggers = _triggers(engine)
    for table in tables - UNTRACKED_TABLES:
        if engine.dialect.name == "postgresql":
            assert f"{GENERATION_TABLE}_{table}" in triggers, table
        else:
            assert set(trigger_names(table)) <= triggers, table
    for table in UNTRACKED_TABLES & tables:
        assert not any(name.startswith(f"{GENERATION_TABLE}_{table}") for name in triggers)


def test_a_committed_write_from_any_connection_bumps_it(engine: Engine) -> None:
    reader = SingleStatements(read_only_engine(engine))
    before = current_generation(reader)
    _add_model(engine, "acme/one")  # plain SQL: no application code involved
    after_insert = current_generation(reader)
    assert after_insert > before
    with engine.begin() as connection:
        connection.execute(text("UPDATE tracked_models SET watched = false"))
    after_update = current_generation(reader)
    assert after_update > after_insert
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM tracked_models WHERE repo_id = 'acme/one'"))
    assert current_generation(reader) > after_update


def test_a_rolled_back_write_and_bookkeeping_tables_leave_it(engine: Engine) -> None:
    reader = SingleStatements(read_only_engine(engine))
    before = current_generation(reader)
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(
            text(
                _INSERT_MODEL
                + "VALUES ('acme/gone', 'acme/gone', 'gone', 'alice', CURRENT_TIMESTAMP, true)"
            )
        )
        transaction.rollback()
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO seen_requests (key, seen_at) VALUES ('sig:x', CURRENT_TIMESTAMP)")
        )
    assert current_generation(reader) == before


def test_postgresql_bumps_once_per_transaction_at_commit(engine: Engine) -> None:
    if backend_of(engine.url.render_as_string()) != "postgresql":
        pytest.skip("the deferred once-per-transaction trigger is PostgreSQL's")
    reader = SingleStatements(read_only_engine(engine))
    before = current_generation(reader)
    with engine.begin() as connection:
        for i in range(5):
            connection.execute(
                text(
                    _INSERT_MODEL + "VALUES (:repo, :repo, :repo, 'alice', CURRENT_TIMESTAMP, true)"
                ),
                {"repo": f"acme/m{i}"},
            )
        # Not yet committed: other connections still see the old generation.
        assert current_generation(reader) == before
    assert current_generation(reader) == before + 1
