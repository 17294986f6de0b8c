"""Reads never wait for a writer; writers queue on a bounded wait (governance.core.db).

SQLite: WAL journaling on every connection, read-only sessions begin a deferred transaction
with ``query_only`` on, writes begin IMMEDIATE. PostgreSQL: MVCC reads, ``lock_timeout`` for
writers. The engines here have a short busy timeout, so a read that did wait for the writer
fails with DatabaseBusy instead of passing late: every assertion is about what was read or
raised, never about time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from governance.core.db import (
    create_db_engine,
    make_session_factory,
    read_only_engine,
    transaction,
)
from governance.core.errors import DatabaseBusy
from tests.support.databases import backend_of

SHORT_WAIT_SECONDS = 0.5


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = create_db_engine(database_url, busy_timeout=SHORT_WAIT_SECONDS)
    with made.begin() as connection:
        connection.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, value TEXT)"))
        connection.execute(text("INSERT INTO probe (id, value) VALUES (1, 'committed')"))
    yield made
    made.dispose()


def _value(session: Session) -> str:
    return str(session.execute(text("SELECT value FROM probe WHERE id = 1")).scalar_one())


def _hold_write(factory: sessionmaker[Session]) -> Session:
    """A write transaction left open: row 1 updated, not committed."""
    writer = factory()
    writer.execute(text("UPDATE probe SET value = 'uncommitted' WHERE id = 1"))
    return writer


def test_a_read_completes_while_a_writer_holds_its_transaction(engine: Engine) -> None:
    writer = _hold_write(make_session_factory(engine))
    try:
        with transaction(make_session_factory(engine, read_only=True)) as reader:
            assert _value(reader) == "committed"
    finally:
        writer.rollback()
        writer.close()


def test_a_second_writer_waits_then_gets_the_busy_error_and_writes_nothing(
    engine: Engine,
) -> None:
    factory = make_session_factory(engine)
    writer = _hold_write(factory)
    try:
        with pytest.raises(DatabaseBusy), transaction(factory) as second:
            second.execute(text("UPDATE probe SET value = 'second' WHERE id = 1"))
    finally:
        writer.rollback()
        writer.close()
    with transaction(make_session_factory(engine, read_only=True)) as reader:
        assert _value(reader) == "committed"


def test_a_writer_commits_while_a_read_is_open_and_the_read_keeps_its_snapshot(
    engine: Engine,
) -> None:
    reads = make_session_factory(engine, read_only=True)
    reader = reads()
    try:
        assert _value(reader) == "committed"
        with transaction(make_session_factory(engine)) as writer:
            writer.execute(text("UPDATE probe SET value = 'new' WHERE id = 1"))
        if backend_of(str(engine.url)) == "sqlite":
            assert _value(reader) == "committed"  # WAL: one snapshot per read transaction
    finally:
        reader.close()
    with transaction(reads) as later:
        assert _value(later) == "new"


def test_sqlite_connections_are_in_wal_mode(engine: Engine) -> None:
    if backend_of(str(engine.url)) != "sqlite":
        pytest.skip("journal modes are SQLite's")
    reads = read_only_engine(engine)
    with reads.connect() as first, reads.connect() as second:
        for connection in (first, second):
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_sqlite_read_only_session_cannot_write(engine: Engine) -> None:
    if backend_of(str(engine.url)) != "sqlite":
        pytest.skip("query_only is SQLite's; PostgreSQL's read sessions are plain ones")
    with (
        pytest.raises(OperationalError, match="readonly"),
        transaction(make_session_factory(engine, read_only=True)) as reader,
    ):
        reader.execute(text("UPDATE probe SET value = 'sneaked' WHERE id = 1"))


def test_sqlite_one_pooled_connection_switches_between_reading_and_writing(
    database_url: str,
) -> None:
    if backend_of(database_url) != "sqlite":
        pytest.skip("query_only is SQLite's")
    single = create_db_engine(
        database_url, busy_timeout=SHORT_WAIT_SECONDS, pool_size=1, max_overflow=0
    )
    try:
        writes, reads = make_session_factory(single), make_session_factory(single, read_only=True)
        with transaction(writes) as session:
            session.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, value TEXT)"))
        for value in ("first", "second"):
            with transaction(reads) as session:
                session.execute(text("SELECT count(*) FROM probe")).scalar_one()
            with transaction(writes) as session:  # the same connection, query_only off again
                session.execute(text("INSERT INTO probe (value) VALUES (:v)"), {"v": value})
            with pytest.raises(OperationalError, match="readonly"), transaction(reads) as session:
                session.execute(text("INSERT INTO probe (value) VALUES ('read-only')"))
        with transaction(reads) as session:
            values = session.execute(text("SELECT value FROM probe ORDER BY id")).scalars()
            assert list(values) == ["first", "second"]
    finally:
        single.dispose()
