"""How the Slack stand-in answers when a call goes wrong: refusals, injected failures, rate limits.

A refusal is what Slack does for a bad call: HTTP 200 with ``{"ok": false, "error": ...}``
(``invalid_blocks`` and ``invalid_arguments`` carry Slack's ``[ERROR] ...`` messages). An
injected failure is what a busy or broken Slack does: HTTP 429 with ``Retry-After``, an HTML
outage page for a 5xx, a slow answer, or an answer sent only after the client gave up.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

# Slack's outage page is HTML, not JSON: a client that json-decodes a 5xx blindly must notice.
SERVER_ERROR_PAGE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
    "<title>Server Error | Slack</title></head>\n<body><h1>Server Error</h1>"
    "<p>It seems like there's a problem connecting to our servers.</p></body>\n</html>"
)


class SlackApiRefusal(Exception):
    """Raised inside a method handler: becomes `{"ok": false, "error": ...}` at HTTP 200."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def invalid_blocks(errors: list[str]) -> SlackApiRefusal:
    """The refusal of a message whose blocks break Block Kit's rules, with Slack's messages."""
    return SlackApiRefusal(
        "invalid_blocks",
        errors=errors,
        response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
    )


def invalid_arguments(errors: list[str]) -> SlackApiRefusal:
    """The refusal of a call with bad arguments (a broken view), with Slack's messages."""
    return SlackApiRefusal(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
    )


# The kinds of injected failure, by their `status`: above 0 the HTTP status answered.
SLOW = 0  # answered normally, after `delay`
LATE = -1  # carried out at once, answered after `delay`


@dataclass(frozen=True)
class Failure:
    """What one call does instead of answering at once: a status above 0 fails it (with
    `error` and, for 429, `Retry-After: retry_after`); SLOW and LATE answer it after `delay`."""

    status: int
    retry_after: int | None
    error: str | None
    delay: float

    @property
    def late(self) -> bool:
        return self.status == LATE


class FaultPlan:
    """The failures queued per method, the rate limits per method, and every call's latency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: dict[str, list[Failure]] = {}
        self._rates: dict[str, tuple[float, dict[str, float]]] = {}
        # Seconds every Web API call takes before it is carried out (a far-away Slack).
        self.latency = 0.0

    def queue(self, method: str, failure: Failure, n: int) -> None:
        """Make the next `n` calls of `method` (or "response_url") do `failure`."""
        with self._lock:
            self._queued.setdefault(method, []).extend([failure] * n)

    def take(self, method: str) -> Failure | None:
        """The failure the next call of `method` does, or None when none is queued."""
        with self._lock:
            queue = self._queued.get(method)
            return queue.pop(0) if queue else None

    def clear_queued(self) -> None:
        """Forget the failures not yet taken (rate limits stay)."""
        with self._lock:
            self._queued = {}

    def limit_rate(self, method: str, per_second: float) -> None:
        """Allow `per_second` calls of `method` per channel; 0 lifts the limit."""
        with self._lock:
            if per_second <= 0:
                self._rates.pop(method, None)
            else:
                self._rates[method] = (1.0 / per_second, {})

    def has_rate_limit(self, method: str) -> bool:
        with self._lock:
            return method in self._rates

    def rate_limited(self, method: str, channel: str) -> int | None:
        """Seconds to wait when this call in `channel` is over its rate, else None (and the
        call is counted)."""
        with self._lock:
            rate = self._rates.get(method)
            if rate is None:
                return None
            interval, last = rate
            now = time.monotonic()
            previous = last.get(channel)
            if previous is not None and now - previous < interval:
                return max(1, int(interval - (now - previous) + 0.999))
            last[channel] = now
            return None
