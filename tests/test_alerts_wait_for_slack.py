"""Alerts bound for Slack wait for a worker that has Slack: a worker without a bot token
delivers nothing (it used to mark them delivered to its log, and a worker started later with a
token never posted them); `/models alerts` shows what waits without consuming it; a worker with
Slack then posts each alert exactly once (counted by the posts the Slack stand-in accepted)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.cli.process_services import process_services
from bot.grammar.dispatch import run_text
from bot.grammar.spec.invocation import Invocation
from governance.alerts.claims import DELIVERED, PENDING
from governance.alerts.models import Alert, OutboxMessage
from governance.alerts.outbox import queue_direct_message
from governance.core.config import Settings
from governance.core.db import transaction
from governance.wiring.scheduler import delivery_job
from governance.wiring.services import Services
from tests.conftest import make_settings
from tests.faults.delivery_support import DESTINATION, ROOT, make_backlog, pending, tally
from tests.support.slack_fixtures import slack_standin
from tests.support.slack_standin import SlackStandIn

__all__ = ["slack_standin"]

WORKER_WAIT_SECONDS = 60


def _rows(services: Services) -> list[tuple[str, int, str | None, str | None]]:
    with transaction(services.session_factory) as session:
        return [
            (a.state, a.attempts, a.claimed_by, a.message_ref)
            for a in session.scalars(select(Alert).order_by(Alert.id))
        ]


@pytest.fixture
def without_slack(database_url: str) -> Iterator[Services]:
    built = process_services(make_settings(database_url, alerts_channel=DESTINATION))
    yield built
    built.close()


def _with_slack(database_url: str, slack: SlackStandIn) -> Settings:
    return make_settings(
        database_url,
        alerts_channel=DESTINATION,
        slack_bot_token=slack.token,
        slack_api_base_url=slack.base_url,
    )


def test_a_worker_without_slack_leaves_alerts_pending_and_one_with_slack_posts_each_once(
    without_slack: Services, database_url: str, slack_standin: SlackStandIn
) -> None:
    keys = make_backlog(without_slack, 6)
    with transaction(without_slack.session_factory) as session:
        queue_direct_message(
            session, user="U0CAROL", message={"text": "hi"}, key="k", clock=without_slack.clock
        )
    before = _rows(without_slack)
    for _ in range(3):  # several runs of the delivery job, as a worker without a token does
        report = delivery_job(without_slack)
        assert (report.delivered, report.messages, report.failed) == (0, 0, 0)
        assert report.waiting == 7  # 6 alerts and the DM
    assert _rows(without_slack) == before  # not claimed, not attempted, not delivered
    assert all(state == PENDING for state, *_ in before)

    with_slack = process_services(_with_slack(database_url, slack_standin))
    try:
        report = delivery_job(with_slack)
        assert (report.delivered, report.messages, report.waiting) == (6, 1, 0)
        assert delivery_job(with_slack).delivered == 0  # nothing is posted twice
        result = tally(with_slack, slack_standin, keys)
        assert (result.posts, result.lost, result.duplicated, result.unrecorded) == (6, 0, 0, 0)
        with transaction(with_slack.session_factory) as session:
            assert session.scalar(select(OutboxMessage.state)) == DELIVERED
    finally:
        with_slack.close()


def test_alerts_lists_what_waits_without_consuming_it(without_slack: Services) -> None:
    make_backlog(without_slack, 3)
    before = _rows(without_slack)
    invocation = Invocation(services=without_slack, user="carol")
    reply = run_text("/models alerts", invocation)
    assert reply.ok, reply.text
    assert reply.data["state"] == "pending" and reply.data["total"] == 3
    assert [a["id"] for a in reply.data["alerts"]] == [3, 2, 1]  # newest first
    assert "SLACK_BOT_TOKEN" in str(reply.blocks)  # says why they wait
    one = run_text("/models alerts #2", invocation)
    assert one.ok and one.data["id"] == 2 and one.data["state"] == "pending"
    assert not [b for b in one.blocks if b["type"] == "actions"]  # buttons act in Slack only
    assert _rows(without_slack) == before  # looking consumed nothing
    assert run_text("/models alerts delivered", invocation).data["total"] == 0
    assert run_text("/models alerts all --limit 1", invocation).data["total"] == 3
    assert len(run_text("/models alerts all --limit 1", invocation).data["alerts"]) == 1


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            "alerts later",
            "'later' is not an alert state; expected one of: pending, delivered, all.",
        ),
        ("alerts --limit 0", "--limit takes a whole number from 1 to 100, not '0'."),
        ("alerts --limit many", "--limit takes a whole number from 1 to 100, not 'many'."),
        ("alerts #99", "There is no alert #99."),
    ],
)
def test_alerts_refuses_bad_input_in_one_sentence(
    without_slack: Services, command: str, message: str
) -> None:
    reply = run_text(command, Invocation(services=without_slack, user="carol"))
    assert not reply.ok and reply.text == message


# ---------------------------------------------------------------- real worker processes


def _worker_env(database_url: str, slack: SlackStandIn | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    env.update(
        DATABASE_URL=database_url,
        MODELGOV_ALERTS_CHANNEL=DESTINATION,
        MODELGOV_HUB_ENDPOINT="http://127.0.0.1:9",  # nothing is watched; never reached
        MODELGOV_LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
    )
    if slack is not None:
        env.update(SLACK_BOT_TOKEN=slack.token, SLACK_API_BASE_URL=slack.base_url)
    return env


def _start_worker(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(worker: subprocess.Popen[str]) -> str:
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=30)
    return err


def test_modelgov_worker_without_then_with_slack_posts_every_alert_exactly_once(
    services: Services, database_url: str, slack_standin: SlackStandIn
) -> None:
    keys = make_backlog(services, 5)
    worker = _start_worker(_worker_env(database_url, None))
    try:
        deadline = time.monotonic() + WORKER_WAIT_SECONDS
        assert worker.stderr is not None
        line = ""
        while "wait for Slack" not in line:  # its delivery job ran (at start) and held them
            line = worker.stderr.readline()
            assert line or worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker never ran its delivery job"
    finally:
        _stop(worker)
    assert pending(services) == 5 and not slack_standin.calls("chat.postMessage")

    worker = _start_worker(_worker_env(database_url, slack_standin))
    try:
        deadline = time.monotonic() + WORKER_WAIT_SECONDS
        while pending(services):
            assert worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, f"{pending(services)} alerts still pending"
            time.sleep(0.2)
    finally:
        _stop(worker)
    result = tally(services, slack_standin, keys)
    assert (result.posts, result.lost, result.duplicated, result.unrecorded) == (5, 0, 0, 0)


def test_what_waits_is_logged_once_per_change_not_every_run(
    without_slack: Services, caplog: pytest.LogCaptureFixture
) -> None:
    make_backlog(without_slack, 2)
    with caplog.at_level(logging.INFO, logger="governance.alerts.notifier"):
        for _ in range(3):  # the job runs every 30 s; a console shares the terminal
            delivery_job(without_slack)
        make_backlog(without_slack, 1, models=1, channels=("#other",))
        delivery_job(without_slack)
        delivery_job(without_slack)
    told = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert [m.split(" outbox rows wait for Slack")[0] for m in told] == ["2", "3"]
    assert "`/models alerts` lists the alerts" in told[0]
