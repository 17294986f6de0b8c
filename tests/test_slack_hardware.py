"""``/models fit`` and ``/models variants`` from Slack: acked at once (they ask the Hub), then
answered through response_url, within Block Kit's limits (the Slack stand-in checks them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.wiring.services import Services, build_services
from tests.support.blocks_walk import texts
from tests.support.hub_fixtures import make_client, standin
from tests.support.hub_hardware import BASE, GGUF, add_family
from tests.support.hub_standin import HubStandin
from tests.support.slack_harness import (
    CAROL,
    GENERAL,
    Harness,
    build_harness,
    slack_settings,
    slack_standin,
)
from tests.support.slack_standin import SlackStandIn

__all__ = ["slack_settings", "slack_standin"]


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings.model_copy(
        update={"hardware_profiles": "laptop=16GB RAM, gpu-box=24GB VRAM"}
    )


@pytest.fixture
def hub() -> Iterator[HubStandin]:
    yield from standin()


@pytest.fixture
def hub_harness(
    settings: Settings, clock: FrozenClock, hub: HubStandin, slack_standin: SlackStandIn
) -> Iterator[Harness]:
    add_family(hub)
    services: Services = build_services(settings, clock=clock, hub=make_client(hub))
    try:
        yield from build_harness(services, slack_standin)
    finally:
        services.close()


def _answer(h: Harness, command: str) -> list[str]:
    url = h.slack.new_response_url(channel=GENERAL, user_id=CAROL)
    ack = h.command(command, user=CAROL, response_url=url)
    assert ack.status == 200
    assert ack.json()["text"].startswith(f"Working on /models {command}")
    h.slack.wait_for("response_url")
    h.settle()
    [post] = h.slack.response_url_posts(url)
    assert post.status == 200, post.payload
    return list(texts(post.payload))


def test_fit_answers_after_the_ack_for_each_team_machine(hub_harness: Harness) -> None:
    found = " ".join(_answer(hub_harness, f"fit {BASE}"))
    assert f"Hardware fit of {BASE}" in found
    assert "laptop (16 GiB RAM): up to Q8_0 fits, 8.95 GiB needed in RAM." in found
    assert "gpu-box (24 GiB VRAM): up to F16/BF16 fits, 15.96 GiB needed in VRAM." in found


def test_variants_answer_after_the_ack(hub_harness: Harness) -> None:
    found = " ".join(_answer(hub_harness, f"variants {BASE}"))
    assert f"*{GGUF}*" in found
    assert "which binds it" in found
