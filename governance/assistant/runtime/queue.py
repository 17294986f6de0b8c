"""One worker thread owns the model; everyone else queues.

A ``Llama`` must never run two generations at once, and the Slack listeners must never wait on
the model, so every generation goes through ``QueuedRuntime.submit`` which returns a future at
once. Waiting callers are told how many requests are ahead of theirs, again each time the queue
moves, and 0 when theirs starts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from governance.assistant.runtime.base import (
    ChatMessage,
    Generation,
    JsonSchema,
    ModelRuntime,
    RuntimeClosed,
    TokenCallback,
)
from governance.core import metrics

log = logging.getLogger(__name__)

PositionCallback = Callable[[int], None]


@dataclass(eq=False)
class _Job:
    messages: list[ChatMessage]
    max_tokens: int
    deadline: float | None
    on_token: TokenCallback | None
    on_position: PositionCallback | None
    json_schema: JsonSchema | None = None
    future: Future[Generation] = field(default_factory=Future)
    submitted: float = field(default_factory=time.monotonic)  # answer time counts from here
    # Position updates are computed under the queue lock but delivered outside it, from two
    # threads; the sequence number lets a late, stale update be dropped instead of overwriting.
    _notify_lock: threading.Lock = field(default_factory=threading.Lock)
    _last_seq: int = -1
    _last_ahead: int | None = None

    def notify(self, ahead: int, seq: int) -> None:
        if self.on_position is None:
            return
        with self._notify_lock:
            if seq <= self._last_seq or ahead == self._last_ahead:
                return
            self._last_seq, self._last_ahead = seq, ahead
            try:
                self.on_position(ahead)
            except Exception:  # a broken progress callback must not break the queue
                log.exception("queue position callback failed")


class QueuedRuntime:
    """A ``ModelRuntime`` that serialises all generations on one worker thread."""

    def __init__(self, runtime: ModelRuntime, *, thread_name: str = "model-runtime") -> None:
        self._runtime = runtime
        self._cond = threading.Condition()
        self._waiting: deque[_Job] = deque()
        self._running: _Job | None = None
        self._closing = False
        self._seq = 0
        self._worker = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._worker.start()

    @property
    def runtime(self) -> ModelRuntime:
        return self._runtime

    @property
    def name(self) -> str:
        return self._runtime.name

    @property
    def context_window(self) -> int | None:
        return self._runtime.context_window

    def count_tokens(self, text: str) -> int | None:
        # Safe off the worker thread: LlamaCppRuntime tokenizes with its own vocab-only copy.
        return self._runtime.count_tokens(text)

    def queue_length(self) -> int:
        """Requests waiting for the model (not counting the one being generated)."""
        with self._cond:
            return sum(1 for job in self._waiting if not job.future.cancelled())

    def is_busy(self) -> bool:
        with self._cond:
            return self._running is not None

    def submit(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        deadline: float | None = None,
        on_token: TokenCallback | None = None,
        on_position: PositionCallback | None = None,
        json_schema: JsonSchema | None = None,
    ) -> Future[Generation]:
        """Queue a generation; returns at once.

        ``on_position(ahead)`` is called with the number of requests ahead of this one (the
        running one included) when queued behind others, on every move, and with 0 when it
        starts. ``on_token`` and ``on_position`` run on the worker thread (except the first
        position), so they must be quick and must not wait on this runtime. ``json_schema``
        is passed on to the runtime (see ``ModelRuntime.generate``).
        """
        job = _Job(messages, max_tokens, deadline, on_token, on_position, json_schema)
        with self._cond:
            if self._closing:
                raise RuntimeClosed("The assistant is shutting down; ask again in a moment.")
            self._waiting.append(job)
            metrics.ASSISTANT_QUEUE.set(self._live_waiting())
            ahead = self._ahead_of_last()
            seq = self._next_seq()
            self._cond.notify()
        if ahead > 0:
            job.notify(ahead, seq)
        return job.future

    def generate(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        deadline: float | None = None,
        on_token: TokenCallback | None = None,
        json_schema: JsonSchema | None = None,
    ) -> Generation:
        """Blocking convenience over ``submit``; never call it from the worker's own callbacks."""
        future = self.submit(
            messages,
            max_tokens=max_tokens,
            deadline=deadline,
            on_token=on_token,
            json_schema=json_schema,
        )
        return future.result()

    def close(self, *, cancel_pending: bool = False, timeout: float | None = None) -> None:
        """Stop accepting work, finish (or cancel) what is queued, then close the runtime."""
        with self._cond:
            if self._closing and not self._worker.is_alive():
                return
            self._closing = True
            if cancel_pending:
                for job in self._waiting:
                    job.future.cancel()
            self._cond.notify_all()
        if threading.current_thread() is not self._worker:
            self._worker.join(timeout)
        if not self._worker.is_alive():
            self._runtime.close()

    # --- worker side -------------------------------------------------------------------------

    @staticmethod
    def _observe(job: _Job, outcome: str) -> None:
        elapsed = time.monotonic() - job.submitted
        metrics.ASSISTANT_ANSWER_SECONDS.labels(outcome=outcome).observe(elapsed)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _live_waiting(self) -> int:
        return sum(1 for job in self._waiting if not job.future.cancelled())

    def _ahead_of_last(self) -> int:
        return self._live_waiting() - 1 + (1 if self._running is not None else 0)

    def _take_next(self) -> tuple[_Job | None, list[tuple[_Job, int, int]]]:
        """Pop the next live job and compute everyone's new position (under the lock)."""
        with self._cond:
            while True:
                while not self._waiting and not self._closing:
                    self._cond.wait()
                if not self._waiting:
                    return None, []
                job = self._waiting.popleft()
                if job.future.set_running_or_notify_cancel():
                    break
            self._running = job
            metrics.ASSISTANT_QUEUE.set(self._live_waiting())
            updates = [(job, 0, self._next_seq())]
            live = [j for j in self._waiting if not j.future.cancelled()]
            updates += [(j, i + 1, self._next_seq()) for i, j in enumerate(live)]
            return job, updates

    def _run(self) -> None:
        while True:
            job, updates = self._take_next()
            if job is None:
                return
            for waiting_job, ahead, seq in updates:
                waiting_job.notify(ahead, seq)
            try:
                result = self._runtime.generate(
                    job.messages,
                    max_tokens=job.max_tokens,
                    deadline=job.deadline,
                    on_token=job.on_token,
                    json_schema=job.json_schema,
                )
            except BaseException as exc:  # the caller gets the error; the worker keeps serving
                job.future.set_exception(exc)
                self._observe(job, "error")
            else:
                job.future.set_result(result)
                self._observe(job, "ok")
            finally:
                with self._cond:
                    self._running = None
