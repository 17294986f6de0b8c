"""Throttled delivery of a growing answer, for frontends that edit one message (Slack).

The model calls ``on_partial`` once per token, on its own worker thread; a frontend must not
make an HTTP call there (it would slow every answer in the queue) and Slack allows about one
``chat.update`` per second per message. ``ThrottledPublisher.offer`` only stores the newest
text; its own thread publishes it at most once per ``min_interval`` and ``close`` publishes the
last value still unsent. No I/O here: ``publish`` is whatever the frontend passes in.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class ThrottledPublisher(Generic[T]):
    """Publish the latest offered value (text, a Reply) at most once per ``min_interval`` s."""

    def __init__(
        self,
        publish: Callable[[T], None],
        *,
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "answer-stream",
    ) -> None:
        self._publish = publish
        self._min_interval = min_interval
        self._clock = clock
        self._cond = threading.Condition()
        self._pending: T | None = None
        self._closed = False
        self._last_sent = float("-inf")
        self.published = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def offer(self, value: T) -> None:
        """Remember ``value`` as the newest text; returns at once (safe from any thread)."""
        with self._cond:
            if not self._closed:
                self._pending = value
                self._cond.notify()

    def close(self, *, flush: bool = True, timeout: float | None = 10.0) -> None:
        """Stop; with ``flush`` the last unsent value is published first. Waits for the thread."""
        with self._cond:
            if not flush:
                self._pending = None
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._pending is None:
                    return
                wait = self._last_sent + self._min_interval - self._clock()
                if wait > 0 and not self._closed:
                    self._cond.wait(wait)
                    continue
                value, self._pending = self._pending, None
            try:
                self._publish(value)
            except Exception:  # a failed update must not stop later ones (or the answer)
                log.exception("publishing a partial answer failed")
            self._last_sent = self._clock()
            self.published += 1
