"""Starting a process: logging and settings first, then waiting for the database.

A worker or web process started before its PostgreSQL (a container that comes up later, a
failover in progress) should wait for it with a capped backoff and say so once per attempt,
not exit 2 and leave the restart to whatever supervises it. Ctrl-C and SIGTERM still stop it:
the wait is an ordinary sleep in the calling thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import NullPool

from governance.core.config import (
    Settings,
    configured_variable_names,
    load_settings,
    unknown_variable_warnings,
)
from governance.core.db import create_db_engine, normalize_database_url
from governance.core.errors import GovernanceError
from governance.core.logs import configure_logging, quiet_for_terminal, say
from governance.core.redact import redact

# Bounded so one attempt against a black-holed address cannot hang the process for minutes
# (libpq's default is to wait for the kernel's TCP timeout).
CONNECT_TIMEOUT_SECONDS = 5
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 30.0


class DatabaseUnreachable(GovernanceError):
    """The database did not answer within the wait allowed (``max_wait``)."""

    code = "database_unreachable"


class DatabaseRefused(DatabaseUnreachable):
    """The server answered and refused us for good (wrong password, unknown user or
    database): waiting would not help, so the process stops with the cause and the fix."""

    code = "database_refused"


@dataclass(frozen=True)
class _Diagnosis:
    cause: str  # what happened, short ("connection refused")
    fix: str  # what the operator does about it
    permanent: bool = False  # the server answered "no": retrying cannot succeed


# (text the driver says, cause, fix, permanent). psycopg reports connection failures without
# a SQLSTATE, so the server's message is what there is to go on; first match wins.
_KNOWN_FAILURES: tuple[tuple[str, str, str, bool], ...] = (
    (
        "password authentication failed",
        "the server refused the password for user {user}",
        "correct the user and password in DATABASE_URL",
        True,
    ),
    (
        "no password supplied",
        "the server asks for a password and DATABASE_URL has none",
        "add the password to DATABASE_URL (postgresql://user:password@host/db)",
        True,
    ),
    (
        "does not exist",  # role "x" / database "x" does not exist: refined below
        "{detail}",
        "create it or correct DATABASE_URL",
        True,
    ),
    (
        "no pg_hba.conf entry",
        "the server does not accept connections from this host for user {user}",
        "allow it in the server's pg_hba.conf, or check sslmode in DATABASE_URL",
        True,
    ),
    (
        "connection refused",
        "nothing accepts connections at {where}",
        "start PostgreSQL there, or correct the host and port in DATABASE_URL",
        False,
    ),
    (
        "failed to resolve host",
        "the host name {host} is not known",
        "correct the host in DATABASE_URL",
        False,
    ),
    (
        "name or service not known",
        "the host name {host} is not known",
        "correct the host in DATABASE_URL",
        False,
    ),
    (
        "timeout expired",
        "no answer from {where} within the connect timeout",
        "check the host, the port and any firewall between here and the server",
        False,
    ),
    (
        "the database system is starting up",
        "the server is starting up",
        "wait for it to finish",
        False,
    ),
    (
        "unable to open database file",
        "the SQLite file {database} cannot be opened",
        "make sure its folder exists and is writable, or correct DATABASE_URL",
        False,
    ),
)


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
    """The cause of a failed connection attempt, short and whole ("connection refused"),
    never containing the password."""
    return _diagnose(exc, target).cause


def failure_sentence(exc: BaseException, target: Engine | str | URL) -> str:
    """One whole sentence for an operator: where, what happened, and what to do about it.

    E.g. ``Cannot connect to the database at postgresql+psycopg://app:***@db:5432/app:
    nothing accepts connections at db:5432; start PostgreSQL there, or correct the host and
    port in DATABASE_URL.`` The password is masked; nothing is cut short.
    """
    diagnosis = _diagnose(exc, target)
    return (
        f"Cannot connect to the database at {safe_url(target)}: {diagnosis.cause}; {diagnosis.fix}."
    )


def _diagnose(exc: BaseException, target: Engine | str | URL) -> _Diagnosis:
    original = getattr(exc, "orig", None) or exc
    text = " ".join(str(original).split())  # one line: psycopg's messages have tabs, newlines
    url = target.url if isinstance(target, Engine) else normalize_database_url(target)
    if url.password:
        text = text.replace(str(url.password), "***")
    text = redact(text)
    host = url.host or "localhost"
    values = {
        "user": f"'{url.username or ''}'",
        "host": f"'{host}'",
        "where": f"{host}:{url.port or 5432}",
        "database": f"'{url.database}'",
        "detail": _server_detail(text),
    }
    lowered = text.lower()
    for needle, cause, fix, permanent in _KNOWN_FAILURES:
        if needle in lowered:
            return _Diagnosis(cause.format(**values), fix, permanent)
    return _Diagnosis(
        _shorten(text or type(original).__name__),
        "check DATABASE_URL and that the database server is running",
    )


def _server_detail(text: str) -> str:
    """What the server said after ``FATAL:`` (``role "x" does not exist``), else the text."""
    _, found, detail = text.partition("FATAL:")
    return _shorten(detail.strip() if found else text)


def _shorten(text: str, limit: int = 240) -> str:
    """``text`` up to ``limit`` characters, cut at a word boundary (never inside a URL)."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


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
    host, timeout, "the database system is starting up") are retried. A server that answers
    "no" for good (wrong password, unknown user or database, no pg_hba.conf entry) raises
    ``DatabaseRefused`` at once, with the cause and the fix; anything else (a malformed URL,
    a missing driver) is a configuration error and raises at once. With ``max_wait``
    (seconds), raises ``DatabaseUnreachable`` instead of starting a sleep that would end past
    it. KeyboardInterrupt (and whatever a signal handler
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
            diagnosis = _diagnose(exc, target)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            diagnosis = _diagnose(exc, target)
        else:
            if attempt > 1:
                log(f"database reachable ({printable}) after {attempt} attempts")
            return DatabaseWait(attempts=attempt, slept_seconds=slept)
        reason = diagnosis.cause
        if diagnosis.permanent:
            raise DatabaseRefused(
                f"Cannot connect to the database at {printable}: {reason}; {diagnosis.fix}."
            )
        pause = schedule(attempt)
        if max_wait is not None and monotonic() - started + pause > max_wait:
            log(f"database not reachable ({printable}: {reason}); giving up")
            raise DatabaseUnreachable(
                f"The database at {printable} did not answer within {max_wait:g} s ({reason}); "
                f"{diagnosis.fix}."
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


# Processes that run until stopped: INFO lines by default. One-shot commands and the console
# default to WARNING, since what they print is the answer, not a log.
LONG_RUNNING_COMMANDS = frozenset({"serve", "worker"})
_warned: set[str] = set()


def start_process(command: str) -> Settings:
    """The first steps of every modelgov process; returns its validated Settings.

    Installs the logging set-up for ``command`` (``MODELGOV_LOG_LEVEL``/``_FORMAT``), warns
    once, one line each, about ``MODELGOV_`` variables that are no setting (a typo would
    leave the default in force unnoticed), then loads the settings.

    Raises:
        ConfigError: one line naming each invalid setting (already in the log format asked).
    """
    configure_logging(command=command, long_running=command in LONG_RUNNING_COMMANDS)
    for warning in unknown_variable_warnings(configured_variable_names()):
        if warning not in _warned:
            _warned.add(warning)
            say(warning, level=logging.WARNING)
    settings = load_settings()
    if command == "serve" and not settings.slack_configured:
        # `serve` without Slack is the console in this terminal (`make run`): its answers must
        # not drown in the scheduler's and the migrations' INFO lines.
        quiet_for_terminal()
    return settings


def log_wait(line: str) -> None:
    """``wait_for_database``'s ``log`` for a process: a wait is a WARNING, the end INFO."""
    say(line, level=logging.INFO if line.startswith("database reachable") else logging.WARNING)
