"""Waiting for the database at start, instead of giving up.

A worker or web process started before its PostgreSQL (a container that comes up later, a
failover in progress) should wait for it with a capped backoff and say so once per attempt,
not exit 2 and leave the restart to whatever supervises it. Ctrl-C and SIGTERM still stop it:
the wait is an ordinary sleep in the calling thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import NullPool

from governance.core.db import create_db_engine, normalize_database_url
from governance.core.errors import GovernanceError

# Bounded so one attempt against a black-holed address cannot hang the process for minutes
# (libpq's default is to wait for the kernel's TCP timeout).
CONNECT_TIMEOUT_SECONDS = 5
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 30.0


class DatabaseUnreachable(GovernanceError):
    """The database did not answer within the wait allowed (``max_wait``)."""

    code = "database_unreachable"


@dataclass(frozen=True)
class DatabaseWait:
    """How a wait ended: the attempts made (1 = reachable at once) and the seconds slept."""

    attempts: int
    slept_seconds: float


def backoff_delays(
    first: float = FIRST_DELAY_SECONDS, cap: float = MAX_DELAY_SECONDS
) -> Callable[[int], float]:
    """Return ``delay(n)``: the seconds to wait after the n-th failed attempt (1-based).

    Doubles from ``first`` and stays at ``cap``: 1, 2, 4, 8, 16, 30, 30, ... by default.
    """

    def delay(failed_attempts: int) -> float:
        # 2.0 ** 1023 is the largest power of two a float holds; an int power past it made
        # ``first * 2 ** n`` raise OverflowError after about 1,025 attempts (8.5 hours at 30 s).
        doublings = min(max(0, failed_attempts - 1), 1023)
        return min(cap, first * 2.0**doublings)

    return delay


def safe_url(target: Engine | str | URL) -> str:
    """The database URL as it may be printed: the password replaced by ``***``."""
    url = target.url if isinstance(target, Engine) else normalize_database_url(target)
    return url.render_as_string(hide_password=True)


def describe_failure(exc: BaseException, target: Engine | str | URL) -> str:
    """One short line saying why a connection attempt failed, never containing the password."""
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    reason = lines[0] if lines else type(original).__name__
    url = target.url if isinstance(target, Engine) else normalize_database_url(target)
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason[:200]


def wait_for_database(
    target: Engine | str | URL,
    *,
    log: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    max_wait: float | None = None,
    delay: Callable[[int], float] | None = None,
) -> DatabaseWait:
    """Block until the database answers ``SELECT 1``; return how many attempts it took.

    ``target`` is the process's engine or a URL. Each failed attempt logs one line through
    ``log``, e.g. ``database not reachable (postgresql+psycopg://u:***@db:5432/x: connection
    refused); retrying in 4 s``, then sleeps 1 s, 2 s, 4 s ... up to 30 s (``delay`` overrides
    the schedule). Connection failures (OperationalError, InterfaceError: refused, unknown
    host, timeout, "the database system is starting up", authentication not yet set up) are
    retried; anything else (a malformed URL, a missing driver) is a configuration error and
    raises at once. With ``max_wait`` (seconds), raises ``DatabaseUnreachable`` instead of
    starting a sleep that would end past it. KeyboardInterrupt (and whatever a signal handler
    raises) propagates from ``sleep`` unchanged, so Ctrl-C and SIGTERM stop the wait.
    """
    schedule = delay or backoff_delays()
    printable = safe_url(target)
    started = monotonic()
    slept = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            _probe(target)
        except (OperationalError, InterfaceError) as exc:
            reason = describe_failure(exc, target)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            reason = describe_failure(exc, target)
        else:
            if attempt > 1:
                log(f"database reachable ({printable}) after {attempt} attempts")
            return DatabaseWait(attempts=attempt, slept_seconds=slept)
        pause = schedule(attempt)
        if max_wait is not None and monotonic() - started + pause > max_wait:
            log(f"database not reachable ({printable}: {reason}); giving up")
            raise DatabaseUnreachable(
                f"The database at {printable} did not answer within {max_wait:g} s ({reason})."
            )
        log(f"database not reachable ({printable}: {reason}); retrying in {pause:g} s")
        sleep(pause)
        slept += pause


def _probe(target: Engine | str | URL) -> None:
    """One connection attempt with a bounded connect timeout; raises what the driver raised."""
    engine = _probe_engine(target)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        if engine is not target:
            engine.dispose()


def _probe_engine(target: Engine | str | URL) -> Engine:
    """The engine to try: PostgreSQL gets a throw-away one with a connect timeout, no pool."""
    url = target.url if isinstance(target, Engine) else normalize_database_url(target)
    if url.get_backend_name() == "postgresql":
        return create_db_engine(
            url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )
    if isinstance(target, Engine):
        return target
    return create_db_engine(url, poolclass=NullPool)
