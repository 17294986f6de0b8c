"""Signed requests seen recently, shared by every process of a deployment: replay refusal.

A Slack request is valid for five minutes after its timestamp. Refusing a replay within that
window needs a memory that every web process (several gunicorn workers, several hosts) shares:
a table keyed by the request's signature, where inserting a key that is already there is a
conflict, pruned by age.

Inserting a key happens before the ack, so it must not wait for other writers:

- PostgreSQL: the ``seen_requests`` table of the main database (migration 0005). An insert of
  a fresh unique key takes only its own row lock; it waits for nobody else.
- SQLite: a writer holds the whole file's lock, so the keys live in a small file of their own
  next to the database (``<database>.seen``): only these one-row inserts (microseconds each)
  ever take its lock, and every process on the host shares it. It is a cache, not schema: its
  one table is created when missing (the main file's ``seen_requests`` table, made by the same
  migration, stays empty). An in-memory database gets an in-memory store (one process).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, String, delete
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import StaticPool

from governance.core.db import BUSY_MESSAGE, Base, UTCDateTime, create_db_engine, is_busy_error
from governance.core.errors import DatabaseBusy
from governance.core.single_statements import SingleStatements

# Slack's window is 5 minutes either side of now; a key must outlive any timestamp that can
# still verify, so it is kept for twice the window and a margin.
KEEP_SECONDS = 11 * 60
PRUNE_EVERY_SECONDS = 60.0
# The side file's lock is only ever held for one insert; waiting longer means trouble.
SIDE_BUSY_TIMEOUT_SECONDS = 5.0
KEY_MAX = 120
_INSERT = (
    "INSERT INTO seen_requests (key, seen_at) VALUES ({mark}, {mark}) "
    "ON CONFLICT (key) DO NOTHING RETURNING key"
)
_SQLITE_INSERT = _INSERT.format(mark="?")
_PG_INSERT = _INSERT.format(mark="%s")  # psycopg's paramstyle


class SeenRequest(Base):
    """One signed request (or event) already received."""

    __tablename__ = "seen_requests"

    key: Mapped[str] = mapped_column(String(KEY_MAX), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SeenRequests:
    """``first_time(key)``: True once per key within ``KEEP_SECONDS``, across processes."""

    def __init__(
        self,
        engine: Engine,
        *,
        keep_seconds: float = KEEP_SECONDS,
        prune_every: float = PRUNE_EVERY_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        owns_engine: bool = False,
    ) -> None:
        self.engine = engine
        self._keep = timedelta(seconds=keep_seconds)
        self._prune_every = prune_every
        self._monotonic = monotonic
        self._owns_engine = owns_engine
        self._lock = threading.Lock()
        self._last_prune = float("-inf")
        self._bind_time: Callable[[object], object] | None = None
        self._statements = SingleStatements(engine)
        sqlite = engine.dialect.name == "sqlite"
        self._insert = _SQLITE_INSERT if sqlite else _PG_INSERT
        # SQLite: one write at a time per process. Threads that collide on SQLite's write lock
        # do not queue: the loser's busy handler sleeps 1, 2, 5, 10 ... ms before it tries
        # again, so acks that raced for a 50 µs insert waited milliseconds (up to 370 ms, and
        # the p99 of bench/ack_latency.py 1.4 to 1.8 times bare Bolt's against 1.1 to 1.35
        # with this lock). Other processes still meet on the file's lock. PostgreSQL inserts
        # of fresh keys wait for nobody.
        self._writer: AbstractContextManager[object] = threading.Lock() if sqlite else nullcontext()

    @classmethod
    def for_database(cls, main: Engine) -> SeenRequests:
        """The store for the database ``main`` is on (see the module docstring)."""
        if main.dialect.name != "sqlite":
            return cls(main)
        database = main.url.database
        if not database or database == ":memory:":
            side = create_db_engine(
                "sqlite://", poolclass=StaticPool, busy_timeout=SIDE_BUSY_TIMEOUT_SECONDS
            )
        else:
            path = Path(database)
            side = create_db_engine(
                f"sqlite:///{path.with_name(path.name + '.seen')}",
                busy_timeout=SIDE_BUSY_TIMEOUT_SECONDS,
            )
        # Looked up by name: the declarative __table__ is typed as any FromClause.
        SeenRequest.metadata.tables[SeenRequest.__tablename__].create(side, checkfirst=True)
        return cls(side, owns_engine=True)

    def first_time(self, key: str, *, now: datetime) -> bool:
        """Record ``key``; return False if it was already recorded (a replay).

        Raises:
            governance.core.errors.DatabaseBusy: the store could not be written in time.
            ValueError: ``key`` is empty or longer than KEY_MAX characters.
        """
        if not key or len(key) > KEY_MAX:
            raise ValueError(f"a key must be 1 to {KEY_MAX} characters")
        inserted = self._insert_autocommitted(key, now)
        self._maybe_prune(now)
        return inserted

    def _insert_autocommitted(self, key: str, now: datetime) -> bool:
        """The insert as one autocommitted statement (``SingleStatements``), not BEGIN,
        INSERT and COMMIT: it runs before every ack. SQLite: on this thread's connection,
        one insert at a time per process; PostgreSQL: one round trip on a pooled connection
        (a fresh key waits for no other writer). A row comes back only if this insert made
        it. Returns whether the row was inserted.

        Raises DatabaseBusy when the store stays locked past the busy timeout.
        """
        seen_at = self._stored_time(now)
        try:
            with self._writer:
                row = self._statements.fetch_one(self._insert, (key, seen_at))
        except DBAPIError as exc:
            if is_busy_error(exc.orig):
                raise DatabaseBusy(BUSY_MESSAGE) from exc
            raise
        return row is not None

    def _stored_time(self, now: datetime) -> object:
        """``now`` as the seen_at column stores it on this engine (what pruning compares)."""
        if self._bind_time is None:
            column_type = SeenRequest.metadata.tables[SeenRequest.__tablename__].c.seen_at.type
            self._bind_time = column_type.bind_processor(self.engine.dialect)
        return self._bind_time(now) if self._bind_time is not None else now

    def _maybe_prune(self, now: datetime) -> None:
        with self._lock:
            if self._monotonic() - self._last_prune < self._prune_every:
                return
            self._last_prune = self._monotonic()
        prune = delete(SeenRequest).where(SeenRequest.seen_at < now - self._keep)
        with self._writer, self.engine.begin() as connection:  # inserts wait on the mutex
            connection.execute(prune)

    def close(self) -> None:
        self._statements.close()
        if self._owns_engine:
            self.engine.dispose()
