"""``GET /healthz``: is this web process able to serve, and what is down.

Always 200 while the process answers (a load balancer should not kill a process because Slack
or the database is away: it serves again the moment they are back), with a JSON body:

    {"status": "ok" | "degraded",
     "database": {"ok": true, "error": null},
     "slack": {"ok": false, "error": "URLError: ...", "checked_seconds_ago": 12.0}}

``database`` is a ``SELECT 1`` on a read-only connection (it never waits for a writer).
``slack`` is ``auth.test`` with a short timeout, cached for ``SLACK_CHECK_SECONDS`` so health
checks do not spend the Web API's rate limit; it is checked on demand, never at boot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine, text

from bot.slack.delivery.client import make_client
from governance.core.db import read_only_engine
from governance.wiring.services import Services

SLACK_CHECK_SECONDS = 30.0
SLACK_TIMEOUT_SECONDS = 3


class HealthProbe:
    """Answers /healthz; holds the last Slack check (per process)."""

    def __init__(
        self,
        engine: Engine,
        slack: WebClient | None,
        *,
        slack_every: float = SLACK_CHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = read_only_engine(engine)
        self._slack = slack
        self._every = slack_every
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._last: tuple[float, str | None] | None = None

    @classmethod
    def for_services(cls, services: Services) -> HealthProbe:
        """A probe for ``services``' database and Web API (its token and base URL)."""
        settings = services.settings
        slack = None
        if settings.slack_bot_token:
            slack = make_client(settings, timeout=SLACK_TIMEOUT_SECONDS)
            slack.retry_handlers = []  # one quick try: a health check must not linger
        return cls(services.engine, slack)

    def report(self) -> tuple[str, dict[str, Any]]:
        """(HTTP status, JSON body) of a health check."""
        database = self._database_error()
        slack_error, age = self._slack_error()
        ok = database is None and slack_error is None
        return "200 OK", {
            "status": "ok" if ok else "degraded",
            "database": {"ok": database is None, "error": database},
            "slack": {"ok": slack_error is None, "error": slack_error, "checked_seconds_ago": age},
        }

    def _database_error(self) -> str | None:
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            return _describe(exc)
        return None

    def _slack_error(self) -> tuple[str | None, float | None]:
        if self._slack is None:
            return "no SLACK_BOT_TOKEN", None
        with self._lock:  # one check at a time; the others read its result
            now = self._monotonic()
            if self._last is None or now - self._last[0] >= self._every:
                self._last = (now, self._check_slack())
            checked, error = self._last
        return error, round(now - checked, 1)

    def _check_slack(self) -> str | None:
        assert self._slack is not None
        try:
            response = self._slack.auth_test()
        except Exception as exc:  # unreachable, refused, invalid_auth: all mean "down"
            return _describe(exc)
        return None if response.get("ok") else f"auth.test: {response.get('error')}"


def _describe(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    first = (str(original).strip().splitlines() or [""])[0]
    return f"{type(original).__name__}: {first}"[:200]
