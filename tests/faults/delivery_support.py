"""Shared pieces of the delivery fault suite and bench/delivery.py: a backlog of alerts, real
worker subprocesses pointed at a Slack stand-in, and the exactly-once tally."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from governance.alerts.claims import PENDING
from governance.alerts.models import Alert
from governance.alerts.outbox import raise_alert
from governance.core.db import transaction
from governance.core.fingerprints import fingerprint
from governance.registry.tracking import track_model
from governance.wiring.services import Services
from tests.support.slack_standin import SlackStandIn

ROOT = Path(__file__).resolve().parents[2]
DESTINATION = "#model-alerts"
CLIENT_TIMEOUT_SECONDS = 1
LATE_ANSWER_SECONDS = 2.5  # past the worker's client timeout
HANG_GUARD_SECONDS = 90  # a stuck run fails instead of hanging the suite


def make_backlog(
    services: Services, count: int, *, models: int = 3, channels: tuple[str, ...] = (DESTINATION,)
) -> list[str]:
    """``count`` pending alerts (some threading under others), spread over ``channels``;
    returns their dedupe keys."""
    with transaction(services.session_factory) as session:
        model_ids = [
            track_model(session, repo_id=f"acme/m-{i}", actor="alice", clock=services.clock).id
            for i in range(models)
        ]
        keys: list[str] = []
        for i in range(count):
            model_id = model_ids[i % models] if i % 4 else None
            created = raise_alert(
                session,
                kind="license_changed",
                title=f"alert {i}",
                body=f"license of model {i % models} changed (state {i})",
                payload={"kind": "license_changed", "summary": [f"change {i}"]},
                state_fingerprint=fingerprint(["fault", i]),
                default_destination=channels[i % len(channels)],
                clock=services.clock,
                model_id=model_id,
            )
            keys.extend(a.dedupe_key for a in created)
    return keys


def worker_env(services: Services, slack: SlackStandIn) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    env.update(
        DATABASE_URL=services.settings.database_url,
        SLACK_BOT_TOKEN=slack.token,
        SLACK_API_BASE_URL=slack.base_url,
        MODELGOV_ALERTS_CHANNEL=DESTINATION,
        PYTHONPATH=str(ROOT),
    )
    return env


@dataclass
class Workers:
    """Real ``delivery_worker`` processes; ``kill`` is kill -9, ``stop_all`` ends the rest."""

    env: dict[str, str]
    processes: list[subprocess.Popen[str]] = field(default_factory=list)
    kills: int = 0

    def start(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.faults.delivery_worker",
                "--timeout",
                str(CLIENT_TIMEOUT_SECONDS),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[str]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        self.kills += 1

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)


def pending(services: Services) -> int:
    with transaction(services.session_factory) as session:
        return session.scalar(select(func.count()).where(Alert.state == PENDING)) or 0


def wait_until_delivered(services: Services) -> None:
    """Block until no alert is pending; raises TimeoutError past the hang guard."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while pending(services):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{pending(services)} alerts still pending")
        time.sleep(0.2)


def wait_for_posts(services: Services, slack: SlackStandIn, count: int) -> bool:
    """Block until the stand-in saw ``count`` posts; False if the backlog emptied first."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while len(slack.calls("chat.postMessage")) < count:
        if not pending(services):
            return False
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited for {count} posts")
        time.sleep(0.02)
    return True


@dataclass(frozen=True)
class Tally:
    """Posts Slack accepted per alert: ``lost`` never posted, ``duplicated`` posted twice+."""

    alerts: int
    posts: int
    lost: int
    duplicated: int
    unrecorded: int  # delivered rows whose message_ref is not the accepted post


def tally(
    services: Services,
    slack: SlackStandIn,
    keys: list[str],
    channels: tuple[str, ...] = (DESTINATION,),
) -> Tally:
    posted = slack.posts_by_key("modelgov_alert")
    where = {
        (m.get("metadata") or {}).get("event_payload", {}).get("dedupe_key"): m["ts"]
        for channel in channels
        for m in slack.messages_in(slack.channel_id(channel))
    }
    with transaction(services.session_factory) as session:
        refs = dict(session.execute(select(Alert.dedupe_key, Alert.message_ref)).all())
    return Tally(
        alerts=len(keys),
        posts=sum(posted.values()),
        lost=sum(1 for k in keys if posted.get(k, 0) == 0),
        duplicated=sum(1 for k in keys if posted.get(k, 0) > 1),
        unrecorded=sum(1 for k in keys if refs.get(k) != where.get(k)),
    )
