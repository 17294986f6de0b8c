"""Benchmark (d): from the Hub's webhook POST to the change's alert row in the outbox.

Real processes: ``modelgov serve --http`` (gunicorn) takes the POST and queues a check,
``modelgov worker`` (``--workers`` of them) claims it and runs the check against the Hub
stand-in (``--latency`` added to every Hub request), which raises the alert. For each trial a
watched model's license changes on the stand-in, the stand-in delivers the webhook as the Hub
does (version-3 payload, ``X-Webhook-Secret``), and the time until the ``license_changed``
alert row is committed is measured by polling the database every 10 ms.

Baseline, measured in the same run on the same models and Hub: the same change found by a
direct check in this process (``run_cycle`` on that one model, as ``modelgov check REPO``
does), timed from the start of the check to the same alert row. The ratio says what the
webhook path (POST, queue, the worker's pickup within a second) adds to the check itself.
Target: the alert within 5 s of the POST.

    .venv/bin/python -m bench.webhook_latency [--trials 10] [--workers 1] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from governance.alerts.models import Alert
from governance.core import migrate
from governance.core.db import transaction
from governance.flows.recheck import run_cycle
from governance.registry.tracking import find_model
from governance.upstream.hub_webhooks import HubWebhooks
from governance.wiring.contexts import watch_context
from governance.wiring.services import Services, build_services
from tests.conftest import make_settings
from tests.faults.endpoint_support import web_process
from tests.faults.webhook_support import SECRET, hub_env, watch_and_snapshot, worker_process
from tests.support.hub_standin import HubStandin
from tests.support.slack_fixtures import DEFAULT_USERS
from tests.support.slack_standin import SlackStandIn

LICENSE = "Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS\n"
TARGET_SECONDS = 5.0
KIND = "license_changed"


def _alerted(services: Services, repo_id: str) -> bool:
    with transaction(services.read_session_factory) as session:
        model = find_model(session, repo_id)
        assert model is not None
        count = session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.model_id == model.id, Alert.kind == KIND)
        )
        return bool(count)


def _wait_for_alert(services: Services, repo_id: str, started: float, limit: float) -> float:
    """Seconds from ``started`` until ``repo_id``'s alert row is committed."""
    while not _alerted(services, repo_id):
        if time.monotonic() - started > limit:
            raise SystemExit(f"no {KIND} alert for {repo_id} within {limit:.0f} s")
        time.sleep(0.01)
    return time.monotonic() - started


def _summary(name: str, values: list[float]) -> str:
    return (
        f"{name}: p50 {statistics.median(values):.3f} s, "
        f"mean {statistics.fmean(values):.3f} s, max {max(values):.3f} s (n={len(values)})"
    )


def run(trials: int, workers: int, latency: float) -> None:
    folder = Path(tempfile.mkdtemp(prefix="modelgov-webhook-bench-"))
    database_url = f"sqlite:///{folder / 'bench.sqlite'}"
    migrate.upgrade(database_url)
    repos = [f"acme/model-{i:02d}" for i in range(2 * trials)]
    webhook: list[float] = []
    answered: list[float] = []
    direct: list[float] = []
    with contextlib.ExitStack() as stack:
        hub = stack.enter_context(HubStandin(api_quota=10**9, resolve_quota=10**9))
        slack = SlackStandIn(users=DEFAULT_USERS).start()
        stack.callback(slack.stop)
        for repo in repos:
            hub.add_model(repo, files={"LICENSE": LICENSE, "model.safetensors": b"\0" * 32})
        hub.webhooks.add_token("hf_bench", "acme-ops")
        settings = make_settings(database_url, hub_endpoint=hub.endpoint)
        watch_and_snapshot(settings, repos)
        hub.latency = latency
        services = build_services(settings)
        stack.callback(services.close)
        env = hub_env(hub.endpoint)
        web = stack.enter_context(web_process(database_url, slack, folder, extra_env=env))
        for i in range(workers):
            stack.enter_context(
                worker_process(database_url, folder, name=f"worker{i}", extra_env=env)
            )
        webhook_repos, direct_repos = repos[:trials], repos[trials:]
        HubWebhooks(hub.endpoint, "hf_bench", secret=SECRET).register(
            f"{web.base}/hub/webhook", webhook_repos
        )
        time.sleep(2)  # let the workers' first runs of every job settle
        for repo_webhook, repo_direct in zip(webhook_repos, direct_repos, strict=True):
            sha = hub.set_license(repo_webhook, "llama3.1")
            started = time.monotonic()
            ((status, _body),) = hub.webhooks.deliver(repo_webhook, head_sha=sha)
            answered.append(time.monotonic() - started)
            assert status == 200, status
            webhook.append(_wait_for_alert(services, repo_webhook, started, 60))

            hub.set_license(repo_direct, "llama3.1")
            started = time.monotonic()
            run_cycle(watch_context(services), repo_ids=[repo_direct], trigger="manual")
            direct.append(_wait_for_alert(services, repo_direct, started, 60))
    p50_webhook, p50_direct = statistics.median(webhook), statistics.median(direct)
    print(
        f"webhook latency bench: {trials} changes, {workers} worker(s), Hub latency "
        f"{latency * 1000:.0f} ms/request, SQLite, real serve --http and worker processes"
    )
    print(_summary("POST answered (queued)", answered))
    print(_summary("POST -> alert row (webhook path)", webhook))
    print(_summary("direct check -> alert row (baseline, same run)", direct))
    print(
        f"ratio webhook/direct p50: {p50_webhook / p50_direct:.2f} x; "
        f"added by POST + queue + pickup: {p50_webhook - p50_direct:.3f} s (p50)"
    )
    met = max(webhook) <= TARGET_SECONDS
    print(
        f"target: alert within {TARGET_SECONDS:.0f} s of the POST: "
        f"{'met' if met else 'NOT met'} (max {max(webhook):.3f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per Hub request")
    args = parser.parse_args()
    run(args.trials, args.workers, args.latency)


if __name__ == "__main__":
    main()
