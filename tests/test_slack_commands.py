"""The /models slash command over HTTP: answers in the ack, slow subcommands after it (via
response_url, or the bot token when that is spent), a bounded pool, and alert subscriptions."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.grammar.dispatch import build_table
from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import CommandTable, Subcommand
from bot.render.blocks import Reply, message_reply
from bot.slack.delivery.workers import WorkerPool
from governance.core.config import Settings
from governance.wiring.services import Services
from tests.support.slack_harness import (
    ALICE,
    CAROL,
    GENERAL,
    Harness,
    build_harness,
    harness,
    slack_settings,
    slack_standin,
)
from tests.support.slack_standin import SlackStandIn
from tests.support.slack_standin_response_urls import RESPONSE_URL_TTL_SECONDS

__all__ = ["harness", "slack_settings", "slack_standin"]


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings


class Gate:
    """A slow subcommand that finishes only when the test says so."""

    def __init__(self, *, in_channel: bool = False) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.in_channel = in_channel

    def handler(self, inv: Invocation, args: Args) -> Reply:
        self.started.set()
        assert self.release.wait(30)
        return message_reply(f"checked {args.rest(0)} for {inv.user}", in_channel=self.in_channel)

    def table(self) -> CommandTable:
        slow = Subcommand(
            "slowpoke", "slowpoke <x>", "A slow test command.", self.handler, slow=True
        )
        return CommandTable([*build_table(), slow])


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def slow_harness(services: Services, slack_standin: SlackStandIn, gate: Gate) -> Iterator[Harness]:
    for h in build_harness(
        services, slack_standin, table=gate.table(), pool=WorkerPool(slow_slots=1)
    ):
        try:
            yield h
        finally:
            gate.release.set()  # before the harness waits for its pool to drain


def test_list_answers_in_the_ack_ephemerally(harness: Harness) -> None:
    harness.answer("request org/model-a --use research", user=CAROL)
    resp = harness.command("list pending", user=ALICE)
    body = resp.json()
    assert resp.status == 200
    assert body["response_type"] == "ephemeral"
    assert "#1 org/model-a research requested" in body["text"]
    assert any("org/model-a" in str(b) for b in body["blocks"])


def test_unknown_subcommand_and_bad_quotes_explain_themselves(harness: Harness) -> None:
    unknown = harness.answer("frobnicate", user=ALICE)
    assert unknown["text"].startswith("Unknown subcommand 'frobnicate'")
    quotes = harness.answer('request org/x "unclosed', user=ALICE)
    assert quotes["text"] == "A quote is not closed; put matching quotes around text."


def test_slow_command_acks_first_then_answers_via_response_url(
    slow_harness: Harness, gate: Gate
) -> None:
    url = slow_harness.slack.new_response_url(channel=GENERAL, user_id=CAROL)
    resp = slow_harness.command("slowpoke thing", user=CAROL, response_url=url)
    assert resp.status == 200
    assert resp.json()["text"].startswith("Working on /models slowpoke thing")
    assert gate.started.wait(10)
    assert slow_harness.slack.response_url_posts(url) == []  # nothing before the work is done
    gate.release.set()
    slow_harness.slack.wait_for("response_url")
    slow_harness.settle()
    [post] = slow_harness.slack.response_url_posts(url)
    assert post.status == 200
    assert post.payload["text"] == "checked thing for U0CAROL"
    assert post.response_type == "ephemeral"


def test_slow_answer_falls_back_to_the_bot_token_when_response_url_expired(
    slow_harness: Harness, gate: Gate
) -> None:
    url = slow_harness.slack.new_response_url(channel=GENERAL, user_id=CAROL)
    slow_harness.command("slowpoke big", user=CAROL, response_url=url)
    assert gate.started.wait(10)
    slow_harness.slack.advance_clock(RESPONSE_URL_TTL_SECONDS + 60)  # a very long check
    gate.release.set()
    slow_harness.settle()
    [refused] = slow_harness.slack.response_url_posts(url)
    assert refused.status == 404
    [ephemeral] = slow_harness.slack.ephemerals(user=CAROL)
    assert ephemeral["channel"] == GENERAL
    assert ephemeral["text"] == "checked big for U0CAROL"


def test_in_channel_answer_falls_back_to_a_channel_post(
    services: Services, slack_standin: SlackStandIn
) -> None:
    gate = Gate(in_channel=True)
    gate.release.set()
    for h in build_harness(services, slack_standin, table=gate.table()):
        url = slack_standin.new_response_url(channel=GENERAL, max_uses=0)
        h.command("slowpoke all", user=CAROL, response_url=url)
        h.settle()
        [message] = slack_standin.messages_in(GENERAL)
        assert message["text"] == "checked all for U0CAROL"


def test_a_full_pool_says_busy_instead_of_queueing(slow_harness: Harness, gate: Gate) -> None:
    slow_harness.command("slowpoke one", user=CAROL)
    assert gate.started.wait(10)
    busy = slow_harness.command("slowpoke two", user=ALICE).json()
    assert busy["text"] == "modelgov is busy with other long commands; try again in a minute."
    # Quick commands are not affected by a busy pool.
    assert slow_harness.command("list", user=ALICE).json()["text"].startswith("Requests")


def test_subscriptions_are_for_approvers(harness: Harness) -> None:
    refused = harness.answer("subscribe <#C0SEC|security> license_changed", user=CAROL)
    assert refused["text"].startswith("Only approvers can change subscriptions")
    ok = harness.answer("subscribe <#C0SEC|security> license_changed gating_changed", user=ALICE)
    assert ok["text"] == "License changed, Gating changed alerts now go to C0SEC."
    assert "<#C0SEC>" in str(ok["blocks"])
    listed = harness.answer("subscriptions", user=CAROL)
    assert "C0SEC: License changed, Gating changed alerts" in listed["text"]
    assert "go to C0ALERTS" in listed["text"]
    bad_kind = harness.answer("subscribe #x everything", user=ALICE)
    assert bad_kind["text"].startswith("Unknown alert kind 'everything'")
    gone = harness.answer("unsubscribe <#C0SEC|security>", user=ALICE)
    assert gone["text"] == "C0SEC no longer receives alerts."
    assert "No subscriptions" in harness.answer("subscriptions", user=ALICE)["text"]


def test_the_word_payload_in_a_command_is_just_a_word(harness: Harness) -> None:
    # Bolt's own body parser takes any form containing "payload" for an interaction payload
    # and reads this command as empty; modelgov parses the body once, by its fields.
    answer = harness.answer("info payload-model", user=ALICE)
    assert "payload-model" in answer["text"]
    assert not answer["text"].startswith("Unknown subcommand")
