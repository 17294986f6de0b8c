"""``/healthz`` of the web process, the worker and Socket Mode: 200 when what each needs is up,
503 naming what is down. Every wait is bounded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from bot.slack.app import build_app
from bot.slack.health import SCHEDULER_STALE_SECONDS, HealthProbe, scheduler
from bot.slack.observability import serve_metrics
from bot.slack.runner import serve_socket_mode
from bot.slack.wsgi import wsgi_app
from governance.core import metrics
from governance.core.clock import FrozenClock
from governance.wiring.services import Services, build_services
from tests.conftest import make_settings
from tests.faults.endpoint_support import MODELGOV, free_port, get
from tests.support.slack_driver import SlackDriver
from tests.support.slack_fixtures import SIGNING_SECRET, serve_wsgi, slack_standin
from tests.support.slack_socket_standin import SlackSocketStandin
from tests.support.slack_standin import SlackStandIn
from tests.test_metrics import scrape, value

__all__ = ["slack_standin"]

# Nothing listens on port 1: the connection is refused at once (the database is "down").
UNREACHABLE_DB = "postgresql://postgres@127.0.0.1:1/modelgov"
WAIT = 40.0


def wait_for(predicate: object, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def health(base: str) -> tuple[int, dict[str, object]]:
    status, body = get(f"{base}/healthz")
    return status, json.loads(body)


def test_web_health_is_503_naming_the_database_when_it_is_down(
    slack_standin: SlackStandIn, clock: FrozenClock
) -> None:
    settings = make_settings(
        UNREACHABLE_DB,
        slack_bot_token=slack_standin.token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_base_url=slack_standin.base_url,
    )
    services = build_services(settings, clock=clock)
    try:
        with serve_wsgi(wsgi_app(build_app(settings, services), services)) as base:
            status, report = health(base)
            metrics_status, _ = get(f"{base}/metrics")
            scraped = scrape(base)
    finally:
        services.close()
    assert status == 503
    assert report["status"] == "down" and report["process"] == "web"
    assert report["down"] == ["database"]
    database = report["database"]
    assert isinstance(database, dict) and database["ok"] is False
    assert "OperationalError" in str(database["error"])
    assert report["slack"] == {"ok": True, "error": None, "checked_seconds_ago": 0.0}
    # The scrape itself still succeeds, saying the database is down.
    assert metrics_status == 200
    assert value(scraped, "modelgov_database_up") == 0
    assert ("modelgov_outbox_pending_messages", (("outbox", "alerts"),)) not in scraped


def test_web_health_is_200_degraded_when_only_slack_is_away(
    database_url: str, clock: FrozenClock
) -> None:
    gone = SlackStandIn().start()
    base_url, token = gone.base_url, gone.token
    gone.stop()  # Slack's Web API refuses connections: the web process still acks
    settings = make_settings(
        database_url,
        slack_bot_token=token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_base_url=base_url,
    )
    services = build_services(settings, clock=clock)
    try:
        with serve_wsgi(wsgi_app(build_app(settings, services), services)) as base:
            status, report = health(base)
    finally:
        services.close()
    assert status == 200
    assert report["status"] == "degraded" and report["down"] == []
    assert report["database"] == {"ok": True, "error": None}
    slack = report["slack"]
    assert isinstance(slack, dict) and slack["ok"] is False and slack["error"]


def test_the_scheduler_check_wants_a_recent_job() -> None:
    now = [100.0]
    beat = metrics.Heartbeat(metrics.SCHEDULER_HEARTBEAT, monotonic=lambda: now[0])
    assert scheduler(beat).error == "the scheduler has not run a job yet"
    beat.beat()
    now[0] += 5
    fresh = scheduler(beat)
    assert fresh.error is None and fresh.extra == {"last_job_seconds_ago": 5.0}
    now[0] += SCHEDULER_STALE_SECONDS
    stale = scheduler(beat)
    assert stale.error == f"the scheduler has run no job for {SCHEDULER_STALE_SECONDS + 5:.0f} s"


def test_worker_health_is_503_naming_the_database_when_it_is_down(clock: FrozenClock) -> None:
    port = free_port()
    settings = make_settings(UNREACHABLE_DB, metrics_port=port, metrics_host="127.0.0.1")
    services = build_services(settings, clock=clock)
    server = serve_metrics(services, HealthProbe.for_worker(services))
    try:
        status, report = health(f"http://127.0.0.1:{port}")
    finally:
        server.close()
        services.close()
    assert status == 503 and report["process"] == "worker"
    assert "database" in report["down"]  # type: ignore[operator]


@pytest.fixture
def worker(database_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``modelgov worker`` with its metrics port, once it answers; SIGTERM afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    env.update(
        DATABASE_URL=database_url,
        MODELGOV_METRICS_PORT=str(port),
        MODELGOV_METRICS_HOST="127.0.0.1",
        # No Hub and no Slack here: the recheck fails fast, deliveries wait for Slack.
        MODELGOV_HUB_ENDPOINT=f"http://127.0.0.1:{free_port()}",
    )
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [str(MODELGOV), "worker"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            try:
                return get(f"{base}/healthz")[0] == 200
            except OSError:
                return False

        assert wait_for(answers, 90), "the worker's /healthz never answered 200"
        yield proc, base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def test_worker_serves_health_and_metrics_on_its_port(
    worker: tuple[subprocess.Popen[bytes], str],
) -> None:
    proc, base = worker
    status, report = health(base)
    assert status == 200 and report["status"] == "ok" and report["process"] == "worker"
    assert report["database"] == {"ok": True, "error": None}
    job = report["scheduler"]
    assert isinstance(job, dict) and job["ok"] is True
    assert float(job["last_job_seconds_ago"]) < SCHEDULER_STALE_SECONDS
    samples = scrape(base)
    assert value(samples, "modelgov_database_up") == 1
    assert ("modelgov_outbox_pending_messages", (("outbox", "alerts"),)) in samples
    assert value(samples, "modelgov_scheduler_heartbeat_timestamp_seconds") > time.time() - 60
    assert get(f"{base}/elsewhere")[0] == 404
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


@pytest.fixture
def socket_services(database_url: str, clock: FrozenClock) -> Iterator[tuple[Services, int, int]]:
    slack_port, metrics_port = free_port(), free_port()
    settings = make_settings(
        database_url,
        slack_bot_token="xoxb-standin",
        slack_app_token="xapp-1-standin",
        slack_api_base_url=f"http://127.0.0.1:{slack_port}/api/",
        metrics_port=metrics_port,
        metrics_host="127.0.0.1",
    )
    services = build_services(settings, clock=clock)
    yield services, slack_port, metrics_port
    services.close()


def test_socket_mode_health_follows_the_connection_and_acks_are_timed(
    socket_services: tuple[Services, int, int],
) -> None:
    services, slack_port, metrics_port = socket_services
    standin = SlackSocketStandin(slack_port)  # not started: Slack is unreachable at first
    base = f"http://127.0.0.1:{metrics_port}"
    stop = threading.Event()
    runner = threading.Thread(
        target=serve_socket_mode,
        args=(services.settings, services),
        kwargs={"stop": stop},
        daemon=True,
    )
    runner.start()
    try:

        def reported() -> bool:
            try:
                return get(f"{base}/healthz")[0] in {200, 503}
            except OSError:
                return False

        assert wait_for(reported), "Socket Mode's /healthz never answered"
        status, report = health(base)
        assert status == 503 and report["process"] == "socket"
        assert "slack" in report["down"]  # type: ignore[operator]
        assert report["slack"] == {
            "ok": False,
            "error": "the Socket Mode connection to Slack is not open",
        }

        standin.start()
        assert standin.wait_for(lambda s: s.hellos_sent >= 1, WAIT)
        # This test runs no scheduler: its sign of life is given by hand, as a job would.
        metrics.SCHEDULER.beat()
        assert wait_for(lambda: health(base)[0] == 200), health(base)
        status, report = health(base)
        assert report["status"] == "ok" and report["down"] == []
        assert report["slack"] == {"ok": True, "error": None}

        before = scrape(base)
        body = SlackDriver("http://unused", "unused").slash_command_body(
            "help", user_id="U0CAROL", channel_id="C1"
        )
        envelope = standin.send_envelope("slash_commands", dict(parse_qsl(body)))
        assert standin.wait_for(lambda s: envelope in s.acks, WAIT), "command not acked"
        after = scrape(base)
        acks = "modelgov_slack_ack_seconds_count"
        labels = (("kind", "command"), ("mode", "socket"))
        assert after.get((acks, labels), 0) - before.get((acks, labels), 0) == 1
        commands = ("modelgov_commands_total", (("outcome", "ok"), ("subcommand", "help")))
        assert after.get(commands, 0) - before.get(commands, 0) == 1
    finally:
        stop.set()
        runner.join(timeout=30)
        standin.stop()
    assert not runner.is_alive()
    with pytest.raises(OSError):
        get(f"{base}/healthz")  # the port is released when Socket Mode stops
