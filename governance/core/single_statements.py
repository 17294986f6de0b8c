"""Single statements on the ack path, each its own implicit transaction, without the pool.

Two statements run before every Slack ack: the replay store's insert
(``governance.core.seen_requests``) and the data generation's read
(``governance.core.generation``). Through the engine's pool, checking a connection out and
back in costs four times what SQLite takes to run the statement (about 30 µs against 8 µs,
``bench/ack_cpu.py`` and py-spy). On SQLite a connection is only a file handle, so each
thread keeps one of its own: made by the pool (with the engine's connect-time pragmas, in
autocommit mode), then detached from it so it counts against no pool limit. On any other
database a statement borrows a pooled connection as before (a server connection per thread
would be a server resource per thread), in autocommit mode for that statement.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection


class SingleStatements:
    """``fetch_one(sql, params)`` on ``engine``: one statement, committed on its own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._kept_per_thread = engine.dialect.name == "sqlite"
        self._local = threading.local()
        self._lock = threading.Lock()
        self._kept: list[PoolProxiedConnection] = []
        self._driver_error = engine.dialect.loaded_dbapi.Error

    def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """Run ``sql`` with ``params`` (the driver's paramstyle) and return its first row.

        Raises sqlalchemy.exc.DBAPIError (the driver's error wrapped the way SQLAlchemy wraps
        it, with ``orig`` the driver's own) when the statement fails.
        """
        if not self._kept_per_thread:
            return self._on_pooled(sql, params)
        connection = self._thread_connection()
        try:
            return self._run(_driver_connection(connection, sql, params), sql, params)
        except DBAPIError:
            # The statement failed, not necessarily the connection; a new one costs little
            # and cannot carry whatever state the failure left behind.
            self._discard(connection)
            raise

    def _on_pooled(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """PostgreSQL: on a pooled connection switched to autocommit for the statement, so
        the server commits it as it runs (no BEGIN and COMMIT round trips), then switched
        back before it returns to the pool (whose next user expects a transaction)."""
        pooled = self.engine.raw_connection()
        try:
            dbapi = _driver_connection(pooled, sql, params)
            dbapi.autocommit = True
            try:
                return self._run(dbapi, sql, params)
            finally:
                try:
                    dbapi.autocommit = False
                except self._driver_error:
                    pooled.invalidate()  # the connection broke meanwhile: the pool drops it
        finally:
            pooled.close()  # back to the pool

    def _run(
        self, connection: DBAPIConnection, sql: str, params: Sequence[Any]
    ) -> tuple[Any, ...] | None:
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except self._driver_error as exc:
            raise DBAPIError.instance(sql, params, exc, self._driver_error) from exc
        return None if row is None else tuple(row)

    def _thread_connection(self) -> PoolProxiedConnection:
        connection: PoolProxiedConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.engine.raw_connection()
            connection.detach()  # this thread's from now on; the pool forgets it
            dbapi = connection.dbapi_connection
            if dbapi is not None:
                # Each statement is its own transaction (modelgov's engines already do this
                # on connect; an engine made elsewhere might not).
                dbapi.isolation_level = None
            self._local.connection = connection
            with self._lock:
                self._kept.append(connection)
        return connection

    def _discard(self, connection: PoolProxiedConnection) -> None:
        self._local.connection = None
        with self._lock:
            if connection in self._kept:
                self._kept.remove(connection)
        connection.close()  # detached: really closed

    def close(self) -> None:
        """Close every connection a thread kept (a thread using this later makes a new one)."""
        with self._lock:
            kept, self._kept = self._kept, []
        for connection in kept:
            connection.close()
        self._local = threading.local()


def _driver_connection(
    connection: PoolProxiedConnection, sql: str, params: Sequence[Any]
) -> DBAPIConnection:
    """The driver's connection under ``connection``.

    Raises sqlalchemy.exc.DBAPIError when it is already closed (nothing to run ``sql`` on).
    """
    dbapi = connection.dbapi_connection
    if dbapi is None:
        raise DBAPIError(sql, params, RuntimeError("the connection is closed"))
    return dbapi
