"""Real ``modelgov worker`` processes and a watched-model database for the webhook tests and
``bench.webhook_latency``: the Hub stand-in delivers, ``serve --http`` queues, workers check."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from sqlalchemy import func, select

from governance.alerts.models import Alert
from governance.core.config import Settings
from governance.core.db import transaction
from governance.flows.recheck import run_cycle
from governance.registry.tracking import find_model
from governance.upstream.check_requests import CheckRequest
from governance.upstream.models import RecheckCycle
from governance.upstream.service import watch
from governance.wiring.contexts import watch_context
from governance.wiring.services import build_services
from tests.faults.endpoint_support import MODELGOV

SECRET = "hub-webhook-secret-for-tests-0123456789"
# No scheduled recheck while a test or the bench runs (only the webhook's checks): the cron
# fires once a year, on 1 January.
NO_POLLING = {"MODELGOV_RECHECK_CRON": "0 0 1 1 *", "MODELGOV_RECHECK_JITTER_SECONDS": "0"}


def hub_env(hub_endpoint: str, *, secret: str | None = SECRET) -> dict[str, str]:
    """The settings a web or worker process needs to talk to the stand-in Hub."""
    env = {"MODELGOV_HUB_ENDPOINT": hub_endpoint, **NO_POLLING}
    if secret is not None:
        env["MODELGOV_HUB_WEBHOOK_SECRET"] = secret
    return env


def watch_and_snapshot(settings: Settings, repo_ids: list[str]) -> None:
    """Watch ``repo_ids`` and take their first snapshots (one manual cycle)."""
    services = build_services(settings)
    try:
        with transaction(services.session_factory) as session:
            for repo_id in repo_ids:
                watch(session, repo_id=repo_id, actor="U0ALICE", clock=services.clock)
        report = run_cycle(watch_context(services), trigger="manual")
        assert report.first == len(repo_ids) and report.failed == 0, report.failures
    finally:
        services.close()


def counts(settings: Settings, repo_id: str, kind: str) -> tuple[int, int, int]:
    """(alerts of ``kind`` for ``repo_id``, queued check rows, webhook-triggered cycles)."""
    services = build_services(settings)
    try:
        with transaction(services.session_factory) as session:
            model = find_model(session, repo_id)
            assert model is not None
            alerts = session.scalar(
                select(func.count())
                .select_from(Alert)
                .where(Alert.model_id == model.id, Alert.kind == kind)
            )
            rows = session.scalar(select(func.count()).select_from(CheckRequest))
            cycles = session.scalar(
                select(func.count())
                .select_from(RecheckCycle)
                .where(RecheckCycle.trigger == "webhook")
            )
            return alerts or 0, rows or 0, cycles or 0
    finally:
        services.close()


@contextlib.contextmanager
def worker_process(
    database_url: str, folder: Path, *, name: str = "worker", extra_env: Mapping[str, str]
) -> Iterator[Path]:
    """``modelgov worker`` until the block ends (then SIGTERM); yields its log's path once it
    logs that its jobs are scheduled."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    env.update(DATABASE_URL=database_url, MODELGOV_APPROVERS="U0ALICE,U0BOB", **extra_env)
    log = folder / f"{name}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(MODELGOV), "worker"], env=env, cwd=folder, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while "modelgov worker running" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "modelgov worker did not start"
            time.sleep(0.1)
        yield log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
