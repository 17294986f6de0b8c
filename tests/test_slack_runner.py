"""`modelgov serve --http` for real: gunicorn, the Bolt WSGI adapter, health, signatures."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.runner import freeze_startup_objects
from tests.faults.endpoint_support import free_port, get
from tests.support.slack_driver import SlackDriver
from tests.support.slack_fixtures import SIGNING_SECRET, slack_standin
from tests.support.slack_standin import SlackStandIn

__all__ = ["slack_standin"]

MODELGOV = Path(sys.executable).parent / "modelgov"


@pytest.fixture
def web(database_url: str, slack_standin: SlackStandIn, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    env.update(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=slack_standin.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_BASE_URL=slack_standin.base_url,
        MODELGOV_APPROVERS="U0ALICE,U0BOB",
    )
    proc = subprocess.Popen(
        [str(MODELGOV), "serve", "--http", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "modelgov serve --http did not come up"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_http_mode_serves_commands_and_refuses_forgeries(
    web: str, slack_standin: SlackStandIn
) -> None:
    status, health = get(f"{web}/healthz")
    assert status == 200 and json.loads(health)["status"] == "ok"
    driver = SlackDriver(web, SIGNING_SECRET)
    ok = driver.slash_command(
        "request org/model --use research", user_id="U0CAROL", channel_id="C1"
    )
    assert ok.status == 200 and ok.body == b""  # a write: acked first, answered after
    slack_standin.wait_for("chat.postMessage")  # the card, posted after the ack
    slack_standin.wait_for("chat.postEphemeral")  # the answer (no response_url was given)
    assert "Request #1 recorded" in slack_standin.ephemerals(user="U0CAROL")[0]["text"]
    for breakage in ("forged", "stale"):
        refused = driver.slash_command(
            "list", user_id="U0CAROL", channel_id="C1", **{breakage: True}
        )
        assert refused.status == 401
    listed = driver.slash_command("list", user_id="U0CAROL", channel_id="C1")
    assert "#1 org/model research requested" in listed.json()["text"]


def test_http_mode_needs_the_signing_secret(database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELGOV_", "SLACK_"))}
    env.update(DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-x")
    done = subprocess.run(
        [str(MODELGOV), "serve", "--http", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "modelgov: HTTP mode needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET."
    )


def test_manifest_declares_what_the_app_uses() -> None:
    import yaml

    manifest = yaml.safe_load((Path(__file__).parent.parent / "bot/manifest.yml").read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/models" and command["should_escape"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "usergroups:read"} <= scopes


def test_processes_deliver_alerts_to_slack_when_a_bot_token_is_set(
    database_url: str, slack_standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli.main import _services
    from bot.slack.delivery.slack_notifier import SlackNotifier
    from governance.alerts.outbox import raise_alert
    from governance.core.db import transaction
    from governance.wiring.scheduler import delivery_job

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack_standin.token)
    monkeypatch.setenv("SLACK_API_BASE_URL", slack_standin.base_url)
    monkeypatch.setenv("MODELGOV_ALERTS_CHANNEL", "C0ALERTS")
    services = _services()
    try:
        assert isinstance(services.notifier, SlackNotifier)
        with transaction(services.session_factory) as session:
            raise_alert(
                session,
                kind="digest",
                title="Daily digest",
                body="nothing changed",
                payload={},
                state_fingerprint="d1",
                default_destination=services.settings.alerts_channel,
                clock=services.clock,
            )
        assert delivery_job(services).delivered == 1
        assert [m["text"] for m in slack_standin.messages_in("C0ALERTS")] == ["Daily digest"]
    finally:
        services.close()


def test_start_up_objects_are_left_out_of_full_collections() -> None:
    assert gc.get_freeze_count() == 0
    survivor = {"kept": [1, 2, 3]}
    freeze_startup_objects()
    assert gc.get_freeze_count() > 0
    assert not any(survivor is obj for obj in gc.get_objects())  # frozen: not tracked by gc
