"""What the Slack stand-in was asked and what it answered: every call and every response_url post.

Tests read this record instead of trusting the app's own account of what it sent; ``wait_for``
blocks until work an app does after its ack has reached Slack.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from tests.support.slack_standin_wire import JSONDict, truthy


@dataclass(frozen=True)
class RecordedCall:
    """One request the stand-in received, and what it answered."""

    method: str
    payload: JSONDict
    token: str | None
    content_type: str
    status: int
    response: JSONDict | None

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response and self.response.get("ok"))


@dataclass(frozen=True)
class ResponseUrlPost:
    """One post to a response_url, and the status Slack would have given it."""

    url: str
    payload: JSONDict
    status: int
    body: str

    @property
    def replace_original(self) -> bool:
        return truthy(self.payload.get("replace_original"))

    @property
    def delete_original(self) -> bool:
        return truthy(self.payload.get("delete_original"))

    @property
    def response_type(self) -> str:
        return str(self.payload.get("response_type") or "ephemeral")


class CallLog:
    """The calls and response_url posts, oldest first, safe to read while the server runs."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._calls: list[RecordedCall] = []
        self._posts: list[ResponseUrlPost] = []

    def record(self, call: RecordedCall) -> None:
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()

    def record_post(self, post: ResponseUrlPost) -> None:
        with self._changed:
            self._posts.append(post)

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        """The calls of `method` (every call when None), oldest first."""
        with self._changed:
            calls = list(self._calls)
        return [c for c in calls if method is None or c.method == method]

    def posts(self, url: str | None = None) -> list[ResponseUrlPost]:
        """The posts to `url` (to every response_url when None), oldest first."""
        with self._changed:
            posts = list(self._posts)
        return [p for p in posts if url is None or p.url == url]

    def wait_for(self, method: str, count: int, timeout: float) -> list[RecordedCall]:
        """The calls of `method` once there are `count`. Raises TimeoutError with what was
        seen when `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                calls = [c for c in self._calls if c.method == method]
                if len(calls) >= count:
                    return calls
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [c.method for c in self._calls]
                    raise TimeoutError(f"waited for {count} x {method}; saw {seen}")
                self._changed.wait(remaining)

    def clear(self) -> None:
        with self._changed:
            self._calls = []
            self._posts = []
