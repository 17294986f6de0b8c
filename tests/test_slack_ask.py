"""/models ask in Slack: an immediate ack, then the answer streamed into one DM message."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from governance.assistant.runtime import Generation, LlamaCppRuntime
from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.wiring.services import Services, build_services
from tests.eval.seed import seed
from tests.support.llm_fixtures import bundled_runtime
from tests.support.slack_harness import (
    CAROL,
    GENERAL,
    Harness,
    harness,
    slack_settings,
    slack_standin,
)
from tests.support.slack_standin import SlackStandIn

__all__ = ["bundled_runtime", "harness", "slack_settings", "slack_standin"]


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings


class Borrowed:
    """The session's bundled model, counted; closing the assistant must not close it."""

    def __init__(self, inner: LlamaCppRuntime) -> None:
        self.inner = inner
        self.name = inner.name
        self.context_window = inner.context_window
        self.generations: list[Generation] = []

    def count_tokens(self, text: str) -> int | None:
        return self.inner.count_tokens(text)

    def generate(self, messages: list[dict[str, str]], **kwargs: Any) -> Generation:
        result = self.inner.generate(messages, **kwargs)
        self.generations.append(result)
        return result

    def close(self) -> None:
        return None


@pytest.fixture
def model(bundled_runtime: LlamaCppRuntime) -> Borrowed:
    return Borrowed(bundled_runtime)


@pytest.fixture
def services(settings: Settings, clock: FrozenClock, model: Borrowed) -> Iterator[Services]:
    """Seeded services whose assistant answers with the borrowed bundled model."""
    built = build_services(
        settings.model_copy(update={"model_max_tokens": 48, "answer_timeout_seconds": 300}),
        clock=clock,
        runtime_factory=lambda _settings: model,  # type: ignore[arg-type,return-value]
    )
    seed(built.session_factory)
    yield built
    built.close()


def _dm_updates(slack: SlackStandIn) -> list[dict[str, Any]]:
    return [c.payload for c in slack.successful("chat.update")]


def test_ask_acks_at_once_then_streams_into_one_dm_message(
    model: Borrowed, harness: Harness
) -> None:
    question = "What happens above 700 million monthly active users?"
    url = harness.slack.new_response_url(channel=GENERAL, user_id=CAROL)
    ack = harness.command(f"ask {question}", user=CAROL, response_url=url)
    assert ack.status == 200 and ack.json()["text"].startswith("Working on /models ask")
    harness.settle()
    assert len(harness.slack.successful("conversations.open")) == 1
    [posted] = harness.slack.successful("chat.postMessage")
    dm, ts = posted.response["channel"], posted.response["ts"]
    updates = _dm_updates(harness.slack)
    assert updates and all(u["channel"] == dm and u["ts"] == ts for u in updates)
    final = harness.slack.message(dm, ts)
    text = " ".join(str(b) for b in final["blocks"])
    assert model.generations, text
    assert "SmolLM2" in text  # labelled as written by the local model
    assert "[1]" in text or "Sources" in text or "source" in text.lower()
    tokens = sum(g.completion_tokens for g in model.generations)
    assert len(updates) < max(tokens, 2)  # throttled: not one edit per token
    [pointer] = harness.slack.response_url_posts(url)
    assert "DM" in pointer.payload["text"]


def test_exact_questions_stream_nothing_but_the_answer(model: Borrowed, harness: Harness) -> None:
    harness.command("ask what is pending?", user=CAROL)
    harness.settle()
    assert model.generations == []
    [posted] = harness.slack.successful("chat.postMessage")
    final = harness.slack.message(posted.response["channel"], posted.response["ts"])
    assert "pending" in str(final["blocks"]).lower()
