"""Exactly-once delivery under faults, with real worker processes against the Slack stand-in:
kill -9 at random points, two and three workers on one backlog, answers after the client
timeout, 429 storms. Every alert must be posted once (counted by the posts the stand-in
accepted per dedupe key), none lost, and each recorded with the ts Slack gave it."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator

import pytest

from governance.wiring.services import Services
from tests.faults.delivery_support import (
    LATE_ANSWER_SECONDS,
    Workers,
    make_backlog,
    tally,
    wait_for_posts,
    wait_until_delivered,
    worker_env,
)
from tests.support.slack_standin import SlackStandIn, running_standin

SEED = int(os.environ.get("FAULT_SEED", "20261201"))
KILL_ROUNDS = 5


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with running_standin() as standin:
        yield standin


@pytest.fixture
def workers(services: Services, slack: SlackStandIn) -> Iterator[Workers]:
    pool = Workers(worker_env(services, slack))
    try:
        yield pool
    finally:
        pool.stop_all()


def test_kill_9_at_random_points_of_delivery_loses_and_repeats_nothing(
    services: Services, slack: SlackStandIn, workers: Workers
) -> None:
    rng = random.Random(SEED)
    keys = make_backlog(services, 40)
    # Some posts land but are answered late, so kills also fall between "sent" and "recorded";
    # a rate limit keeps the backlog long enough for every round to kill mid-delivery.
    slack.answer_late("chat.postMessage", 3, delay=LATE_ANSWER_SECONDS)
    slack.limit_rate("chat.postMessage", per_second=10)
    seen = 0
    for _ in range(KILL_ROUNDS):
        worker = workers.start()
        assert wait_for_posts(services, slack, seen + rng.randint(1, 4))
        time.sleep(rng.uniform(0, 0.3))
        workers.kill(worker)
        seen = len(slack.calls("chat.postMessage"))
    workers.start()
    wait_until_delivered(services)
    result = tally(services, slack, keys)
    assert workers.kills == KILL_ROUNDS
    assert (result.lost, result.duplicated, result.unrecorded) == (0, 0, 0), result
    assert result.posts == len(keys)
    # The kills left attempts open: they were reconciled from history, not posted again.
    assert slack.successful("conversations.history") or slack.successful("conversations.replies")


@pytest.mark.parametrize("count", [2, 3])
def test_several_workers_on_one_backlog_with_429_storms_and_late_answers(
    services: Services, slack: SlackStandIn, workers: Workers, count: int
) -> None:
    keys = make_backlog(services, 30)
    slack.limit_rate("chat.postMessage", per_second=20)
    slack.answer_late("chat.postMessage", 4, delay=LATE_ANSWER_SECONDS)
    for _ in range(count):
        workers.start()
    wait_until_delivered(services)
    result = tally(services, slack, keys)
    assert (result.lost, result.duplicated, result.unrecorded) == (0, 0, 0), result
    statuses = [c.status for c in slack.calls("chat.postMessage")]
    assert 429 in statuses  # the storm happened
    assert slack.successful("conversations.history") or slack.successful("conversations.replies")
