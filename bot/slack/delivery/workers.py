"""The bounded worker pool that runs everything after an ack, away from Bolt's listener threads.

Slack wants an answer within 3 seconds. A listener thread that waits on the Hub, the language
model or a rate-limited Web API call cannot ack the next request, so such work is handed to
this pool. Slow commands are admitted only while a slot is free (a full pool answers "busy"
instead of queueing without bound), and they can never occupy every worker: the rest stay free
for the short follow-ups (card updates, DMs, Home tab) that must not wait behind a Hub check.

Commands that write (``request``, ``approve`` ...) run on their own threads after the ack: a
write may wait for the database (another writer holds the lock), and that wait must hold up
neither the acks nor the follow-ups. They are admitted while fewer than ``command_queue`` are
queued or running; beyond that the ack says "busy".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class WorkerPool:
    """A ThreadPoolExecutor with admission control for slow jobs."""

    def __init__(
        self,
        *,
        slow_slots: int = 4,
        follow_up_workers: int = 4,
        command_workers: int = 4,
        command_queue: int = 32,
    ) -> None:
        if min(slow_slots, follow_up_workers, command_workers, command_queue) < 1:
            raise ValueError("every worker and slot count must be at least 1")
        self.slow_slots = slow_slots
        self._slots = threading.BoundedSemaphore(slow_slots)
        self._executor = ThreadPoolExecutor(
            max_workers=slow_slots + follow_up_workers, thread_name_prefix="modelgov-worker"
        )
        self._command_slots = threading.BoundedSemaphore(command_queue)
        self._commands = ThreadPoolExecutor(
            max_workers=command_workers, thread_name_prefix="modelgov-command"
        )
        self._idle = threading.Condition()
        self._in_flight = 0

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Run a short follow-up (a Web API call or two) after the ack."""
        return self._track(self._executor.submit(_logged, fn, *args, **kwargs))

    def try_reserve_slow(self) -> bool:
        """Take a slow slot (then ack, then ``submit_slow``); False when every slot is taken.

        Reserving before the ack lets the ack say "busy" truthfully, and submitting after it
        keeps the final answer from overtaking the "working on it" reply.
        """
        return self._slots.acquire(blocking=False)

    def submit_slow(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run a slow job in a slot taken with ``try_reserve_slow``; the slot is freed after."""

        def run() -> Any:
            try:
                return _logged(fn, *args)
            finally:
                self._slots.release()

        try:
            return self._track(self._executor.submit(run))
        except RuntimeError:  # shut down
            self._slots.release()
            raise

    def try_submit_command(self, fn: Callable[..., Any], *args: Any) -> Future[Any] | None:
        """Run a command that writes, after its ack; None when ``command_queue`` are already
        queued or running (the ack then says busy)."""
        if not self._command_slots.acquire(blocking=False):
            return None

        def run() -> Any:
            try:
                return _logged(fn, *args)
            finally:
                self._command_slots.release()

        try:
            return self._track(self._commands.submit(run))
        except RuntimeError:  # shut down
            self._command_slots.release()
            return None

    def _track(self, future: Future[Any]) -> Future[Any]:
        with self._idle:
            self._in_flight += 1
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any]) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no job is queued or running (jobs may submit follow-ups); for tests
        and orderly shutdown. False if ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop both executors (``wait``: let queued jobs finish first)."""
        self._commands.shutdown(wait=wait, cancel_futures=not wait)
        self._executor.shutdown(wait=wait, cancel_futures=not wait)


def _logged(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    # A failure after the ack has nobody to answer to but the log.
    try:
        return fn(*args, **kwargs)
    except Exception:
        log.exception("background job %s failed", getattr(fn, "__name__", fn))
        return None
