"""Engine, sessions, the declarative Base and the column types every table shares."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import URL, CursorResult, Dialect, ExceptionContext, Result, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from governance.core.errors import DatabaseBusy

# How long a write waits for another writer (SQLite's write lock, a PostgreSQL row or table
# lock) before giving up with DatabaseBusy. Slack acks never wait for it: writes run after the
# ack. Long enough for any ordinary writer to finish, short enough to answer while the person
# still waits.
BUSY_TIMEOUT_SECONDS = 10.0
PG_CONNECT_TIMEOUT_SECONDS = 10
SQLITE_POOL_SIZE = 20
SQLITE_POOL_OVERFLOW = 20
# An execution option: this connection only reads (SQLite: deferred BEGIN, query_only on).
READ_ONLY = "modelgov_read_only"
# Key in a pooled SQLite connection's ``info``: whether its PRAGMA query_only is on.
_QUERY_ONLY = "modelgov_query_only"
BUSY_MESSAGE = (
    "The database is busy with another change right now; nothing was changed, try again in "
    "a minute."
)
# SQLite's SQLITE_BUSY / SQLITE_LOCKED texts; PostgreSQL's lock_not_available SQLSTATE.
_SQLITE_BUSY_TEXTS = ("database is locked", "database table is locked", "database is busy")
_PG_LOCK_NOT_AVAILABLE = "55P03"

# Stable constraint names, so migrations on SQLite (batch mode) and PostgreSQL agree.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite has no time zones and hands back naive values; storing UTC and re-attaching the
    zone on the way out keeps both databases returning the same thing.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass a timezone-aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalize_database_url(url: str | URL) -> URL:
    """Return ``url`` with the driver we ship (psycopg 3 for PostgreSQL)."""
    parsed = make_url(url)
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_db_engine(
    url: str | URL, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS, **kwargs: Any
) -> Engine:
    """Create an engine for SQLite or PostgreSQL with the settings modelgov relies on.

    SQLite: the parent folder is created, foreign keys are on, WAL journaling (readers never
    wait for a writer). A write transaction starts with ``BEGIN IMMEDIATE`` so two writers
    queue on the busy timeout instead of failing when a read tries to upgrade; a connection
    with the ``READ_ONLY`` execution option (``make_session_factory(read_only=True)``) starts
    a deferred ``BEGIN`` with ``PRAGMA query_only`` on, so it takes no lock and cannot write.
    PostgreSQL: waiting for a lock is bounded by ``lock_timeout``.

    Either way, a writer that waits longer than ``busy_timeout`` seconds raises
    ``governance.core.errors.DatabaseBusy`` (one sentence) and its transaction is rolled back.
    """
    parsed = normalize_database_url(url)
    if parsed.get_backend_name() != "sqlite":
        connect_args = dict(kwargs.pop("connect_args", {}))
        # An unreachable server must not hang a request (or /healthz) for the TCP timeout.
        connect_args.setdefault("connect_timeout", PG_CONNECT_TIMEOUT_SECONDS)
        options = connect_args.get("options", "")
        connect_args["options"] = f"{options} -c lock_timeout={int(busy_timeout * 1000)}".strip()
        engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args, **kwargs)
        event.listen(engine, "handle_error", _raise_busy)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"timeout": busy_timeout, "check_same_thread": False}
    connect_args.update(kwargs.pop("connect_args", {}))
    if "poolclass" not in kwargs and parsed.database not in (None, "", ":memory:"):
        # Threads waiting for the write lock hold their pooled connection; a reader must still
        # get one at once (a SQLite connection is only a file handle, so be generous).
        kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
        kwargs.setdefault("max_overflow", SQLITE_POOL_OVERFLOW)
    engine = create_engine(parsed, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL cannot corrupt the file; it may lose the last commit on power loss.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = bool(connection.get_execution_options().get(READ_ONLY))
        # query_only is a connection setting and connections are pooled: the pooled
        # connection's info remembers what it is, and it is set only when it must change
        # (one statement fewer per transaction on the ack path).
        pooled = connection.connection.info
        if pooled.get(_QUERY_ONLY) is not read_only:
            connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
            pooled[_QUERY_ONLY] = read_only
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    event.listen(engine, "handle_error", _raise_busy)
    return engine


def is_busy_error(error: BaseException | None) -> bool:
    """Whether a DBAPI error means "another transaction holds the lock" (waited, gave up)."""
    if error is None:
        return False
    if getattr(error, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE:
        return True
    if type(error).__module__.startswith("sqlite3"):
        return any(text in str(error).lower() for text in _SQLITE_BUSY_TEXTS)
    return False


def _raise_busy(context: ExceptionContext) -> None:
    """Turn a lock wait that timed out into DatabaseBusy, wherever the statement ran."""
    if is_busy_error(context.original_exception):
        raise DatabaseBusy(BUSY_MESSAGE) from context.sqlalchemy_exception


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (replies are built after it).

    ``read_only``: sessions that only read; on SQLite they take no lock, so they never wait
    for a writer (and an attempt to write in one fails instead of queueing).
    """
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


def read_only_engine(engine: Engine) -> Engine:
    """``engine`` for connections that only read (see ``create_db_engine``)."""
    return engine.execution_options(**{READ_ONLY: True})


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rows_matched(result: Result[*tuple[Any, ...]]) -> int:
    """The number of rows an UPDATE or DELETE matched.

    ``Session.execute`` is typed to return a plain ``Result``; for a DML statement it is a
    ``CursorResult``, the only kind with a row count. Raises TypeError for any other result.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of an UPDATE or DELETE: {type(result).__name__}")
    return result.rowcount
