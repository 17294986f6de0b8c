"""Helpers for tests that drive the Hub stand-in: a shared fake clock and ready-made clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from governance.upstream.hub import HubClient
from governance.upstream.ratelimit import RequestBudget
from tests.support.hub_standin import HubStandin


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it; records every sleep.

    Give ``monotonic`` to both the stand-in (its rate-limit window) and the client's budget, and
    ``sleep`` to the budget: a 429's wait then moves the stand-in's window too, with no real wait.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


def make_client(
    hub: HubStandin,
    *,
    token: str | None = None,
    timeout: float = 5.0,
    time: FakeTime | None = None,
    limit: int = 100_000,
    max_rate_limit_retries: int = 2,
) -> HubClient:
    """A client for ``hub`` whose budget sleeps on ``time`` (a fresh FakeTime by default)."""
    time = time or FakeTime()
    budget = RequestBudget(limit, sleep=time.sleep, monotonic=time.monotonic)
    return HubClient(
        hub.endpoint,
        token,
        timeout=timeout,
        budget=budget,
        max_rate_limit_retries=max_rate_limit_retries,
    )


def standin(**kwargs: object) -> Iterator[HubStandin]:
    """Body for a pytest fixture: ``yield from standin()``; stops the server afterwards."""
    with HubStandin(**kwargs) as hub:  # type: ignore[arg-type]
        yield hub
