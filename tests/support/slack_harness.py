"""The modelgov Slack app over real HTTP, against the Slack stand-in, for end-to-end tests.

    from tests.support.slack_harness import Harness, harness, slack_settings, slack_standin

A test module overrides conftest's ``settings`` with ``slack_settings`` (Slack ids as approvers,
the stand-in as the Web API) so the ``services`` fixture, and with it both databases, is used.
``harness.settle()`` waits until every listener and background job has finished: the barrier
for asserting that something did *not* happen.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from bot.slack.app import build_app
from bot.slack.delivery.client import make_client
from bot.slack.delivery.workers import WorkerPool
from bot.slack.wsgi import wsgi_app
from governance.core.config import Settings
from governance.wiring.services import Services
from tests.conftest import make_settings
from tests.support.slack_driver import DriverResponse, SlackDriver
from tests.support.slack_fixtures import SIGNING_SECRET, serve_wsgi, slack_standin
from tests.support.slack_standin import SlackStandIn

__all__ = ["Harness", "harness", "slack_settings", "slack_standin"]

APPROVALS = "C0APPROVALS"
ALERTS = "C0ALERTS"
GENERAL = "C0GENERAL"
ALICE, BOB, CAROL, DAVE = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"


class TrackingExecutor(ThreadPoolExecutor):
    """A listener executor that can say when every listener has returned."""

    def __init__(self, max_workers: int = 24) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="test-listener")
        self._idle = threading.Condition()
        self._running = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._idle:
            self._running += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any]) -> None:
        with self._idle:
            self._running -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout)


@pytest.fixture
def slack_settings(database_url: str, slack_standin: SlackStandIn) -> Settings:
    slack_standin.add_user(DAVE, "dave", real_name="Dave Delegate")
    return make_settings(
        database_url,
        approvers=[ALICE, BOB],
        slack_bot_token=slack_standin.token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_base_url=slack_standin.base_url,
        approvals_channel=APPROVALS,
        alerts_channel=ALERTS,
    )


@dataclass
class Harness:
    slack: SlackStandIn
    driver: SlackDriver
    services: Services
    pool: WorkerPool
    listeners: TrackingExecutor

    def command(
        self, text: str, *, user: str, channel: str = GENERAL, **kwargs: Any
    ) -> DriverResponse:
        """A signed ``/models`` command with a working response_url (the stand-in's)."""
        kwargs.setdefault(
            "response_url", self.slack.new_response_url(channel=channel, user_id=user)
        )
        return self.driver.slash_command(text, user_id=user, channel_id=channel, **kwargs)

    def answer(
        self, text: str, *, user: str, channel: str = GENERAL, **kwargs: Any
    ) -> dict[str, Any]:
        """The answer a person sees to a ``/models`` command, once everything settled: the
        ack's message, or, for a command that writes (acked empty, answered afterwards), the
        last message posted to its response_url."""
        url = kwargs.pop("response_url", None) or self.slack.new_response_url(
            channel=channel, user_id=user
        )
        resp = self.command(text, user=user, channel=channel, response_url=url, **kwargs)
        assert resp.status == 200, resp.text
        self.settle()
        if resp.body.strip():
            return dict(resp.json())
        posts = [p for p in self.slack.response_url_posts(url) if p.status == 200]
        assert posts, f"no answer to /models {text}"
        return dict(posts[-1].payload)

    def click(self, action_id: str, value: str, *, user: str, channel: str, ts: str, **kw: Any):
        message = self.slack.message(channel, ts)
        return self.driver.block_action(
            action_id,
            value,
            user_id=user,
            channel_id=channel,
            message_ts=ts,
            message=message,
            trigger_id=self.slack.new_trigger_id(),
            **kw,
        )

    def settle(self) -> None:
        """Wait for listeners (which may hand work to the pool), then for the pool."""
        for _ in range(3):
            assert self.listeners.wait_idle(15), "a listener did not finish"
            assert self.pool.wait_idle(30), "a background job did not finish"


def build_harness(services: Services, slack: SlackStandIn, **app_options: Any) -> Iterator[Harness]:
    pool = app_options.pop("pool", None) or WorkerPool()
    listeners = TrackingExecutor()
    app = build_app(
        services.settings,
        services,
        client=make_client(services.settings),
        pool=pool,
        listener_executor=listeners,
        **app_options,
    )
    with serve_wsgi(wsgi_app(app, services)) as base_url:
        names = {u.id: u.name for u in slack.users.values()}
        yield Harness(
            slack,
            SlackDriver(base_url, SIGNING_SECRET, user_names=names),
            services,
            pool,
            listeners,
        )
        listeners.wait_idle(15)
        pool.wait_idle(30)
    pool.shutdown(wait=True)
    listeners.shutdown(wait=True)


@pytest.fixture
def harness(services: Services, slack_standin: SlackStandIn) -> Iterator[Harness]:
    yield from build_harness(services, slack_standin)


def all_strings(slack: SlackStandIn) -> list[str]:
    """Every string the app sent to Slack: Web API payloads and response_url posts."""
    from tests.support.blocks_walk import texts

    found: list[str] = []
    for call in slack.calls():
        found += list(texts(call.payload))
    for post in slack.response_url_posts():
        found += list(texts(post.payload))
    return found
