"""Prometheus metrics scraped over HTTP while real work happens against the stand-ins.

Each test scrapes ``/metrics`` before and after a check or a delivery and asserts what moved,
by how much: counters are process-wide (other tests in this process count too), so only the
difference is compared, and it is compared with what the stand-ins themselves recorded.
"""

from __future__ import annotations

import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.slack.delivery.client import make_client
from bot.slack.delivery.slack_notifier import SlackNotifier
from bot.slack.health import HealthProbe
from bot.slack.observability import serve_metrics
from governance.alerts.delivery import deliver_pending
from governance.alerts.outbox import raise_alert
from governance.core.clock import FrozenClock
from governance.core.config import ConfigError, Settings
from governance.core.db import transaction
from governance.wiring.services import Services
from tests.conftest import make_settings
from tests.faults.endpoint_support import free_port, web_process
from tests.support.slack_fixtures import DEFAULT_USERS
from tests.support.slack_harness import (
    ALERTS,
    CAROL,
    Harness,
    harness,
    slack_settings,
    slack_standin,
)
from tests.support.slack_standin import SlackStandIn
from tests.support.watch_fixtures import Watched, watched_services

__all__ = ["harness", "slack_settings", "slack_standin"]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
LICENSE = "Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS\n1. Definitions.\n"
GOOD, BAD = "orga/good-model", "orgb/flaky-model"


def scrape(base: str, token: str | None = None) -> Samples:
    """Every sample of ``base``/metrics, keyed by (sample name, sorted labels)."""
    request = urllib.request.Request(f"{base}/metrics")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when absent: a labelled counter not incremented yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def total(samples: Samples, name: str, **match: str) -> float:
    """The sum of ``name``'s samples whose labels include ``match``."""
    return sum(
        v
        for (sample, labels), v in samples.items()
        if sample == name and set(match.items()) <= set(labels)
    )


@pytest.fixture
def metrics_settings(database_url: str) -> Settings:
    return make_settings(database_url, metrics_port=free_port(), metrics_host="127.0.0.1")


@pytest.fixture
def metered(metrics_settings: Settings, clock: FrozenClock) -> Iterator[tuple[Watched, str]]:
    """Services on a Hub stand-in, with their metrics port serving."""
    for watched in watched_services(metrics_settings, clock):
        server = serve_metrics(watched.services, HealthProbe.for_worker(watched.services))
        try:
            yield watched, f"http://127.0.0.1:{server.port}"
        finally:
            server.close()


def test_a_check_moves_checks_cycles_and_hub_requests_by_what_happened(
    metered: tuple[Watched, str],
) -> None:
    watched, base = metered
    for repo in (GOOD, BAD):
        watched.hub.add_model(repo, files={"LICENSE": LICENSE, "config.json": "{}"})
        watched.watch(repo)
    # The flaky model's status answers 503 once: its check fails, the good one's is a first.
    watched.hub.inject("status", path=f"/api/models/{BAD}", status=503)
    # The good model's file list is rate limited once (t=4): paused, retried, answered.
    watched.hub.inject("rate_limit", path=f"/api/models/{GOOD}/revision/", seconds=4)
    watched.hub.reset_counts()
    before = scrape(base)
    report = watched.cycle()
    after = scrape(base)
    assert (report.first, report.failed) == (1, 1)
    assert moved(before, after, "modelgov_checks_total", outcome="first") == 1
    assert moved(before, after, "modelgov_checks_total", outcome="failed") == 1
    assert moved(before, after, "modelgov_checks_total", outcome="changed") == 0
    cycles = "modelgov_recheck_cycle_duration_seconds_count"
    assert moved(before, after, cycles, trigger="schedule") == 1
    # Every request the stand-in saw is counted once, under its endpoint and status.
    hub = "modelgov_hub_requests_total"
    assert total(after, hub) - total(before, hub) == len(watched.hub.requests)
    assert moved(before, after, hub, endpoint="model_info", status="503") == 1
    assert moved(before, after, hub, endpoint="model_info", status="200") == 1
    assert moved(before, after, hub, endpoint="files", status="429") == 1
    assert moved(before, after, hub, endpoint="files", status="200") == 1
    downloads = sum(1 for r in watched.hub.requests if "/resolve/" in r.path)
    assert downloads == 1
    assert moved(before, after, hub, endpoint="download", status="200") == downloads
    listings = sum(1 for r in watched.hub.requests if r.path == "/api/models")
    assert moved(before, after, hub, endpoint="listing", status="200") == listings
    # The 429 said t=4: the client pauses 4 s + 1 (t= is rounded down), all of it waited.
    assert moved(before, after, "modelgov_hub_rate_limit_pause_seconds_total") == 5
    waits = "modelgov_hub_budget_wait_seconds"
    assert moved(before, after, f"{waits}_count") == len(watched.hub.requests)
    assert moved(before, after, f"{waits}_sum") >= 5
    # What the database knows: the scheduled cycle that just finished.
    finished = value(after, "modelgov_recheck_last_finished_timestamp_seconds")
    assert finished == pytest.approx(watched.services.clock.now().timestamp())
    assert value(after, "modelgov_database_up") == 1


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings


def _raise(services: Services, fingerprint: str) -> None:
    with transaction(services.session_factory) as session:
        raise_alert(
            session,
            kind="license_changed",
            title=f"{GOOD}: license changed",
            body="Approvals given under the old terms are back in review.",
            payload={"repo_id": GOOD, "kind": "license_changed", "summary": ["changed"]},
            state_fingerprint=fingerprint,
            default_destination=ALERTS,
            clock=services.clock,
        )


def test_a_delivery_moves_deliveries_failures_and_the_outbox_gauges(
    harness: Harness, slack_standin: SlackStandIn, clock: FrozenClock
) -> None:
    services = harness.services
    base = harness.driver.base_url  # the web process's own /metrics
    notifier = SlackNotifier(
        make_client(services.settings), session_factory=services.session_factory
    )
    _raise(services, "a")
    clock.advance(seconds=90)
    _raise(services, "b")
    queued = scrape(base)
    assert value(queued, "modelgov_outbox_pending_messages", outbox="alerts") == 2
    assert value(queued, "modelgov_outbox_oldest_pending_age_seconds", outbox="alerts") == 90
    assert value(queued, "modelgov_outbox_pending_messages", outbox="outbox_messages") == 0

    slack_standin.fail_next("chat.postMessage", 1, status=429, retry_after=0)
    first = deliver_pending(services.session_factory, notifier=notifier, clock=clock)
    slack_standin.fail_next("chat.postMessage", 1, status=200, error="not_in_channel")
    second = deliver_pending(services.session_factory, notifier=notifier, clock=clock)
    clock.advance(hours=2)  # past the backoff of the refused one
    third = deliver_pending(services.session_factory, notifier=notifier, clock=clock)
    after = scrape(base)

    delivered = first.delivered + second.delivered + third.delivered
    assert delivered == 2 == len(slack_standin.messages_in(ALERTS))
    deliveries = "modelgov_deliveries_total"
    assert moved(queued, after, deliveries, outbox="alerts", outcome="delivered") == delivered
    assert moved(queued, after, deliveries, outbox="alerts", outcome="failed") == 2
    failures = "modelgov_delivery_failures_total"
    assert moved(queued, after, failures, outbox="alerts", reason="rate_limited") == 1
    assert moved(queued, after, failures, outbox="alerts", reason="not_in_channel") == 1
    assert value(after, "modelgov_outbox_pending_messages", outbox="alerts") == 0
    assert value(after, "modelgov_outbox_oldest_pending_age_seconds", outbox="alerts") == 0


def test_commands_and_acks_are_counted_by_subcommand_outcome_and_kind(harness: Harness) -> None:
    base = harness.driver.base_url
    before = scrape(base)
    assert harness.command("list", user=CAROL).status == 200
    assert harness.command("list", user=CAROL).status == 200  # the kept answer: counted too
    assert harness.command("info no/such-model", user=CAROL).status == 200
    assert harness.command("frobnicate", user=CAROL).status == 200
    harness.settle()
    after = scrape(base)
    commands = "modelgov_commands_total"
    assert moved(before, after, commands, subcommand="list", outcome="ok") == 2
    assert moved(before, after, commands, subcommand="info", outcome="refused") == 1
    assert moved(before, after, commands, subcommand="unknown", outcome="refused") == 1
    acks = "modelgov_slack_ack_seconds"
    assert moved(before, after, f"{acks}_count", mode="http", kind="command") == 4
    assert moved(before, after, f"{acks}_bucket", mode="http", kind="command", le="+Inf") == 4


def test_metrics_want_the_token_when_one_is_set(
    database_url: str, clock: FrozenClock, slack_standin: SlackStandIn
) -> None:
    settings = make_settings(
        database_url, metrics_port=free_port(), metrics_host="127.0.0.1", metrics_token="s3cret"
    )
    for watched in watched_services(settings, clock):
        server = serve_metrics(watched.services, HealthProbe.for_worker(watched.services))
        base = f"http://127.0.0.1:{server.port}"
        try:
            with pytest.raises(urllib.error.HTTPError) as refused:
                scrape(base)
            assert refused.value.code == 401
            with pytest.raises(urllib.error.HTTPError) as wrong:
                scrape(base, token="guess")
            assert wrong.value.code == 401
            assert value(scrape(base, token="s3cret"), "modelgov_database_up") == 1
        finally:
            server.close()


def test_the_metrics_port_in_use_is_one_sentence(database_url: str, clock: FrozenClock) -> None:
    port = free_port()
    settings = make_settings(database_url, metrics_port=port, metrics_host="127.0.0.1")
    for watched in watched_services(settings, clock):
        first = serve_metrics(watched.services, HealthProbe.for_worker(watched.services))
        try:
            with pytest.raises(
                ConfigError, match=f"MODELGOV_METRICS_PORT: cannot listen on .*{port}"
            ):
                serve_metrics(watched.services, HealthProbe.for_worker(watched.services))
        finally:
            first.close()


def test_several_web_workers_answer_one_metrics_and_leave_no_files(
    database_url: str, tmp_path: Path
) -> None:
    """WEB_CONCURRENCY=2: whichever worker answers a scrape, it counts both workers' commands;
    the directory made for the multiprocess files is gone when the server stops."""
    with (
        SlackStandIn(users=DEFAULT_USERS) as slack,
        web_process(database_url, slack, tmp_path, processes=2) as web,
    ):
        base = scrape(web.base)
        for _ in range(6):
            assert web.driver.slash_command("help", user_id=CAROL, channel_id="C1").status == 200
        counts = [
            moved(
                base, scrape(web.base), "modelgov_commands_total", subcommand="help", outcome="ok"
            )
            for _ in range(8)
        ]
        log = web.log_text()
    assert counts == [6.0] * 8, log[-3000:]
    found = re.findall(r"metrics of 2 web workers are added up in (\S+)", log)
    assert len(found) == 1, log[-3000:]
    directory = found[0]
    assert directory.startswith(tempfile.gettempdir())
    assert not Path(directory).exists()
