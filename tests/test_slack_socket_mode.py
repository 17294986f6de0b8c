"""Socket Mode: Slack authenticates the connection, so the app runs without a signing secret
and takes the same payloads, as dicts, through the same listeners."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from slack_bolt.request import BoltRequest

from bot.slack.app import build_app
from bot.slack.delivery.workers import WorkerPool
from governance.core.config import ConfigError, Settings
from governance.wiring.services import Services
from tests.support.slack_driver import SlackDriver
from tests.support.slack_harness import APPROVALS, CAROL, slack_settings, slack_standin
from tests.support.slack_standin import SlackStandIn

__all__ = ["slack_settings", "slack_standin"]


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings.model_copy(
        update={"slack_signing_secret": None, "slack_app_token": "xapp-1-test"}
    )


def test_socket_mode_needs_no_signing_secret_and_serves_commands(
    services: Services, slack_standin: SlackStandIn
) -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is required"):
        build_app(services.settings, services)
    pool = WorkerPool()
    app = build_app(services.settings, services, pool=pool, socket_mode=True)
    driver = SlackDriver("http://unused", "unused")
    body = dict(
        parse_qsl(
            driver.slash_command_body(
                "request org/model --use research", user_id=CAROL, channel_id="C1"
            )
        )
    )
    response = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    assert response.status == 200
    assert response.body == ""  # a write is acked first; its answer follows
    slack_standin.wait_for("chat.postMessage")
    assert pool.wait_idle(10)
    assert "Request #1 recorded" in slack_standin.ephemerals(user=CAROL)[0]["text"]
    assert len(slack_standin.messages_in(APPROVALS)) == 1
    pool.shutdown()
