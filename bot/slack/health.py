"""``GET /healthz`` of every long-running process: what it needs, and what is down.

Each process kind checks what it cannot work without:

- ``web`` (``serve --http``): the database; Slack's Web API (``auth.test``) is reported too but
  does not fail the check: the process still acks every request while Slack's API is away,
  and restarting it would not bring Slack back;
- ``worker``: the database and its job scheduler (alive: it ran or submitted a job within
  ``SCHEDULER_STALE_SECONDS``; the webhook job runs every second);
- ``socket`` (``serve`` in Socket Mode, which runs the scheduler too): the database, the
  scheduler and the Socket Mode connection to Slack.

200 with ``status`` ``ok`` (or ``degraded``: only a non-critical check failed), else 503 with
``status`` ``down`` and ``down`` naming the failed checks; each check has its own entry:

    {"status": "down", "process": "worker", "down": ["database"],
     "database": {"ok": false, "error": "OperationalError: connection refused"},
     "scheduler": {"ok": true, "error": null, "last_job_seconds_ago": 0.4}}

Every check is bounded: ``SELECT 1`` on a read-only connection (never waits for a writer; the
engine's connect timeout bounds an unreachable server), ``auth.test`` with a short timeout and
no retry, cached for ``SLACK_CHECK_SECONDS`` so health checks do not spend the Web API's rate
limit (checked on demand, never at boot), and in-memory state for the scheduler and the socket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from sqlalchemy import Engine, text

from bot.slack.delivery.client import make_client
from governance.core import metrics
from governance.core.db import read_only_engine
from governance.wiring.services import Services

SLACK_CHECK_SECONDS = 30.0
SLACK_TIMEOUT_SECONDS = 3
# The requested-checks job runs every second: a minute without any job means a dead scheduler.
SCHEDULER_STALE_SECONDS = 60.0
OK = "200 OK"
UNAVAILABLE = "503 Service Unavailable"


@dataclass(frozen=True)
class Finding:
    """One check's result: ``error`` None when healthy, else one line; ``extra`` fields."""

    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


Probe = Callable[[], Finding]


@dataclass(frozen=True)
class Check:
    """A named probe; a failing ``critical`` one makes the process ``down`` (503)."""

    name: str
    probe: Probe
    critical: bool = True


class HealthProbe:
    """Answers /healthz for one process from its checks."""

    def __init__(self, process: str, checks: Sequence[Check]) -> None:
        self.process = process
        self._checks = tuple(checks)

    @classmethod
    def for_services(cls, services: Services) -> HealthProbe:
        """The web process's probe: the database, and Slack's Web API (not critical)."""
        return cls.for_web(services)

    @classmethod
    def for_web(cls, services: Services) -> HealthProbe:
        """The web process's probe: the database, and Slack's Web API (not critical)."""
        settings = services.settings
        slack = None
        if settings.slack_bot_token:
            slack = make_client(settings, timeout=SLACK_TIMEOUT_SECONDS)
            slack.retry_handlers = []  # one quick try: a health check must not linger
        return cls(
            "web",
            [
                Check("database", database_probe(services.engine)),
                Check("slack", SlackWebApiProbe(slack), critical=False),
            ],
        )

    @classmethod
    def for_worker(cls, services: Services) -> HealthProbe:
        """The worker's probe: the database and the scheduler."""
        return cls(
            "worker",
            [Check("database", database_probe(services.engine)), Check("scheduler", scheduler)],
        )

    @classmethod
    def for_socket_mode(cls, services: Services, client: BaseSocketModeClient) -> HealthProbe:
        """Socket Mode's probe: the database, the scheduler and the connection to Slack."""
        return cls(
            "socket",
            [
                Check("database", database_probe(services.engine)),
                Check("scheduler", scheduler),
                Check("slack", socket_probe(client)),
            ],
        )

    def report(self) -> tuple[str, dict[str, Any]]:
        """(HTTP status, JSON body) of a health check: 200 unless a critical check failed."""
        body: dict[str, Any] = {}
        down: list[str] = []
        degraded = False
        for check in self._checks:
            try:
                finding = check.probe()
            except Exception as exc:  # a broken probe is a failed check, not a failed request
                finding = Finding(describe(exc))
            body[check.name] = {"ok": finding.error is None, "error": finding.error}
            body[check.name].update(finding.extra)
            if finding.error is not None:
                if check.critical:
                    down.append(check.name)
                else:
                    degraded = True
        status = "down" if down else "degraded" if degraded else "ok"
        head = {"status": status, "process": self.process, "down": down}
        return (UNAVAILABLE if down else OK), {**head, **body}


def database_probe(engine: Engine) -> Probe:
    """``SELECT 1`` on a read-only connection of ``engine``."""
    reader = read_only_engine(engine)

    def probe() -> Finding:
        try:
            with reader.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            return Finding(describe(exc))
        return Finding()

    return probe


def scheduler(heartbeat: metrics.Heartbeat = metrics.SCHEDULER) -> Finding:
    """Whether this process's scheduler ran or submitted a job lately (``heartbeat``)."""
    age = heartbeat.age()
    if age is None:
        return Finding("the scheduler has not run a job yet")
    extra = {"last_job_seconds_ago": round(age, 1)}
    if age > SCHEDULER_STALE_SECONDS:
        return Finding(f"the scheduler has run no job for {age:.0f} s", extra)
    return Finding(None, extra)


def socket_probe(client: BaseSocketModeClient) -> Probe:
    """Whether the Socket Mode ``client`` holds an open connection to Slack."""

    def probe() -> Finding:
        if client.is_connected():
            return Finding()
        return Finding("the Socket Mode connection to Slack is not open")

    return probe


class SlackWebApiProbe:
    """``auth.test`` with ``slack`` (None: no token), its answer cached for ``every`` seconds."""

    def __init__(
        self,
        slack: WebClient | None,
        *,
        every: float = SLACK_CHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slack = slack
        self._every = every
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._last: tuple[float, str | None] | None = None

    def __call__(self) -> Finding:
        if self._slack is None:
            return Finding("no SLACK_BOT_TOKEN", {"checked_seconds_ago": None})
        with self._lock:  # one check at a time; the others read its result
            now = self._monotonic()
            if self._last is None or now - self._last[0] >= self._every:
                self._last = (now, self._check(self._slack))
            checked, error = self._last
        return Finding(error, {"checked_seconds_ago": round(now - checked, 1)})

    @staticmethod
    def _check(slack: WebClient) -> str | None:
        try:
            response = slack.auth_test()
        except Exception as exc:  # unreachable, refused, invalid_auth: all mean "down"
            return describe(exc)
        return None if response.get("ok") else f"auth.test: {response.get('error')}"


def describe(exc: BaseException) -> str:
    """One line for ``exc`` (a DBAPI error's own, not SQLAlchemy's wrapper), at most 200."""
    original = getattr(exc, "orig", None) or exc
    first = (str(original).strip().splitlines() or [""])[0]
    return f"{type(original).__name__}: {first}"[:200]
