"""Pytest fixtures and a threaded WSGI server for testing a Bolt app over real HTTP.

Import what you need into a test module (this is not a conftest):

    from tests.support.slack_fixtures import serve_wsgi, slack_standin  # noqa: F401
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from tests.support.slack_standin import SlackStandIn
from tests.support.slack_standin_workspace import SlackUser

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

SIGNING_SECRET = "modelgov-test-signing-secret"

DEFAULT_USERS = (
    SlackUser("U0ALICE", "alice", "Alice Approver", tz="Europe/Berlin", tz_offset=3600),
    SlackUser("U0BOB", "bob", "Bob Builder", tz="America/New_York", tz_offset=-18000),
    SlackUser("U0CAROL", "carol", "Carol Checker"),
)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    # Slack sends requests concurrently; a single-threaded server would hide ack latency.
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve_wsgi(app: WSGIApplication) -> Iterator[str]:
    """Serve a WSGI app (e.g. `slack_bolt.adapter.wsgi.SlackRequestHandler(app)`) on
    127.0.0.1 with a free port, in a thread; yields its base URL."""
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def slack_standin() -> Iterator[SlackStandIn]:
    """A running stand-in with three known users (alice, bob, carol)."""
    standin = SlackStandIn(users=DEFAULT_USERS)
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()


def make_standin_factory(
    users: Iterable[SlackUser] = DEFAULT_USERS,
) -> Callable[..., SlackStandIn]:
    """For tests that need several stand-ins or custom options; the caller stops them."""

    def factory(**kwargs: Any) -> SlackStandIn:
        kwargs.setdefault("users", users)
        return SlackStandIn(**kwargs).start()

    return factory
