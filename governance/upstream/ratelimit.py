"""A shared request budget for the Hub: stay inside N requests per window, pause on 429.

The Hub counts requests per fixed 5-minute window (anonymous: 500). ``RequestBudget`` is a token
bucket whose burst plus refill over one window equals the quota, so *any* window of that length
(fixed or sliding) sees at most ``limit`` requests, and after the first burst requests are spread
evenly instead of exhausting the quota in the first seconds. When the Hub answers 429 anyway
(another process on the same IP, a smaller quota), ``pause(seconds)`` stops every caller until the
window resets. Sleep and the monotonic clock are injectable so tests never sleep for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from governance.core import metrics

DEFAULT_LIMIT = 500
DEFAULT_WINDOW = 300.0
MIN_WAIT = 0.001


class RequestBudget:
    """Thread-safe pacing of Hub requests; one instance shared by every caller of a client."""

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        window: float = DEFAULT_WINDOW,
        *,
        burst: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``limit`` requests per ``window`` seconds; ``burst`` defaults to a tenth of the limit."""
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.burst = max(1, min(burst if burst is not None else limit // 10, limit))
        # burst + rate * window == limit keeps every window within the quota.
        self.rate = max(limit - self.burst, 1) / window
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._updated = monotonic()
        self._paused_until = 0.0
        self._granted = 0
        self._waited = 0.0

    @property
    def granted(self) -> int:
        """How many requests ``acquire`` has let through."""
        with self._lock:
            return self._granted

    @property
    def waited(self) -> float:
        """Total seconds callers spent waiting in ``acquire`` (summed over threads)."""
        with self._lock:
            return self._waited

    @property
    def paused_until(self) -> float:
        """Monotonic time before which no request is let through (0 when not paused)."""
        with self._lock:
            return self._paused_until

    def acquire(self) -> float:
        """Block until one request may be sent; return the seconds this caller waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._monotonic()
                if now < self._paused_until:
                    wait = self._paused_until - now
                else:
                    self._refill(now)
                    if self._tokens >= 1.0:
                        self._tokens -= 1.0
                        self._granted += 1
                        self._waited += waited
                        metrics.HUB_BUDGET_WAIT_SECONDS.observe(waited)
                        return waited
                    # A floor: a wait below the clock's resolution would never let time move.
                    wait = max((1.0 - self._tokens) / self.rate, MIN_WAIT)
            self._sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` from now (a 429's reset time) and empty the bucket.

        A later pause never shortens an earlier, longer one.
        """
        metrics.HUB_RATE_LIMIT_PAUSE_SECONDS.inc(max(0.0, seconds))
        with self._lock:
            now = self._monotonic()
            until = now + max(0.0, seconds)
            if until > self._paused_until:
                self._paused_until = until
            # The quota is spent until the reset; then one request (the retry) may go at once
            # and the rest refill at the steady rate, so resuming is not a stampede.
            self._tokens = 1.0
            self._updated = max(self._updated, self._paused_until)

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
            self._updated = now
