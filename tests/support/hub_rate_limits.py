"""The Hub's rate limits: a fixed 300 s window per resource (``api`` for /api, ``resolvers``
for files). Every answer carries ``RateLimit``/``RateLimit-Policy``; over quota the Hub answers
429 with ``r=0`` and ``Retry-After``."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.support.hub_replies import HubReply, json_reply

WINDOW_SECONDS = 300


def resource_of(path: str) -> str:
    """The rate-limited resource a request path counts against."""
    return "api" if path.startswith("/api/") else "resolvers"


class RateWindows:
    """The requests used in each resource's current window, on an injectable monotonic clock."""

    def __init__(self, *, api_quota: int, resolve_quota: int, clock: Callable[[], float]) -> None:
        self.api_quota = api_quota
        self.resolve_quota = resolve_quota
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # resource -> (window start, used)

    def quota(self, resource: str) -> int:
        return self.api_quota if resource == "api" else self.resolve_quota

    def count(self, resource: str, *, consume: bool) -> tuple[bool, dict[str, str]]:
        """Count one request against ``resource``; return (allowed, RateLimit headers)."""
        quota = self.quota(resource)
        with self._lock:
            now = self._clock()
            start, used = self._windows.get(resource, (now, 0))
            if now - start >= WINDOW_SECONDS:
                start, used = now, 0
            allowed = used < quota
            if consume and allowed:
                used += 1
            self._windows[resource] = (start, used)
            reset = max(1, int(start + WINDOW_SECONDS - now + 0.999))
        headers = {
            "RateLimit": f'"{resource}";r={max(0, quota - used)};t={reset}',
            "RateLimit-Policy": f'"fixed window";"{resource}";q={quota};w={WINDOW_SECONDS}',
        }
        return allowed, headers

    def reset(self) -> None:
        """Start every resource's window afresh."""
        with self._lock:
            self._windows.clear()

    def too_many(self, resource: str, reset: int) -> HubReply:
        """The Hub's 429 for `resource`, to retry in `reset` seconds."""
        quota = self.quota(resource)
        reply = json_reply(
            429,
            {
                "error": f"You have exceeded our rate limit for '{resource}' requests. "
                f"Retry in {reset} seconds."
            },
        )
        reply.headers["RateLimit"] = f'"{resource}";r=0;t={reset}'
        policy = f'"fixed window";"{resource}";q={quota};w={WINDOW_SECONDS}'
        reply.headers["RateLimit-Policy"] = policy
        reply.headers["Retry-After"] = str(reset)
        return reply
