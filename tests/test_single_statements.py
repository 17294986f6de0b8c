"""governance.core.single_statements: one statement at a time, each committed on its own; on
SQLite on a connection each thread keeps outside the pool, everywhere seeing every commit."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from governance.core.db import create_db_engine
from governance.core.single_statements import SingleStatements


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = create_db_engine(database_url)
    with made.begin() as connection:
        connection.execute(text("CREATE TABLE probe (k VARCHAR(20) PRIMARY KEY, v INTEGER)"))
        connection.execute(text("INSERT INTO probe VALUES ('a', 1)"))
    yield made
    with made.begin() as connection:
        connection.execute(text("DROP TABLE probe"))
    made.dispose()


def _param(engine: Engine) -> str:
    return "?" if engine.dialect.name == "sqlite" else "%s"


def test_each_statement_sees_what_others_committed_and_commits_its_own(engine: Engine) -> None:
    statements = SingleStatements(engine)
    mark = _param(engine)
    try:
        assert statements.fetch_one("SELECT v FROM probe WHERE k = 'a'") == (1,)
        with engine.begin() as connection:  # another connection's commit
            connection.execute(text("UPDATE probe SET v = 2 WHERE k = 'a'"))
        assert statements.fetch_one("SELECT v FROM probe WHERE k = 'a'") == (2,)
        inserted = statements.fetch_one(f"INSERT INTO probe VALUES ({mark}, 3) RETURNING k", ("b",))
        assert inserted == ("b",)
        with engine.connect() as connection:  # committed: visible elsewhere at once
            assert connection.scalar(text("SELECT v FROM probe WHERE k = 'b'")) == 3
        assert statements.fetch_one("SELECT v FROM probe WHERE k = 'zzz'") is None
    finally:
        statements.close()


def test_a_failed_statement_is_the_drivers_error_wrapped_and_the_next_one_works(
    engine: Engine,
) -> None:
    statements = SingleStatements(engine)
    try:
        with pytest.raises(DBAPIError) as failed:
            statements.fetch_one("SELECT v FROM no_such_table")
        assert failed.value.orig is not None
        assert "no_such_table" in str(failed.value.orig)
        assert statements.fetch_one("SELECT v FROM probe WHERE k = 'a'") == (1,)
    finally:
        statements.close()


def test_sqlite_threads_keep_their_own_connection_outside_the_pool(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite keeps a connection per thread")
    statements = SingleStatements(engine)
    try:
        statements.fetch_one("SELECT 1")
        statements.fetch_one("SELECT 1")
        assert engine.pool.checkedout() == 0  # detached: counts against no pool limit
        errors: list[BaseException] = []

        def other_thread() -> None:
            try:
                assert statements.fetch_one("SELECT v FROM probe WHERE k = 'a'") == (1,)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=other_thread) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(statements._kept) == 4  # this thread's and one per other thread
    finally:
        statements.close()
    assert statements._kept == []
    assert statements.fetch_one("SELECT 1") == (1,)  # after close, a new one is made
    statements.close()


def test_a_pooled_connection_goes_back_transactional(engine: Engine) -> None:
    # PostgreSQL runs the statement in autocommit mode; the pool's next user must still get
    # a transaction it can roll back (SQLite keeps its connections out of the pool).
    statements = SingleStatements(engine)
    try:
        assert statements.fetch_one("SELECT v FROM probe WHERE k = 'a'") == (1,)
        with engine.connect() as connection:
            connection.execute(text("INSERT INTO probe VALUES ('rolled', 9)"))
            connection.rollback()
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM probe WHERE k = 'rolled'")) == 0
    finally:
        statements.close()


def test_a_connection_that_breaks_mid_statement_is_one_error_then_replaced(
    engine: Engine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a server that ends the connection: PostgreSQL's")
    statements = SingleStatements(engine)
    try:
        with pytest.raises(DBAPIError):  # the server ends this very connection
            statements.fetch_one("SELECT pg_terminate_backend(pg_backend_pid())")
        assert statements.fetch_one("SELECT v FROM probe WHERE k = 'a'") == (1,)
    finally:
        statements.close()
