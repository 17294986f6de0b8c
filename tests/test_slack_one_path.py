"""One path from Slack: a typed decision, the card's button and the form call the same grammar
handler with the same arguments (issue 11). Recorded at ``bot.grammar.dispatch.run_handler``,
the one place every surface's handler call goes through."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.grammar import dispatch
from bot.grammar.handlers.registry_commands import approve, reject, request
from bot.grammar.spec.invocation import Args, Invocation
from bot.grammar.spec.subcommand import Handler
from bot.render.blocks import Reply
from bot.render.modals import REJECT_MODAL, REQUEST_MODAL
from bot.render.request_card import ACTION_APPROVE, ACTION_REJECT
from governance.core.config import Settings
from governance.registry.models import ApprovalState
from tests.support.slack_driver import merge_state, state_value
from tests.support.slack_harness import (
    APPROVALS,
    BOB,
    CAROL,
    Harness,
    harness,
    slack_settings,
    slack_standin,
)

__all__ = ["harness", "slack_settings", "slack_standin"]

Call = tuple[Handler, Invocation, Args]


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Call]]:
    recorded: list[Call] = []
    real = dispatch.run_handler

    def recording(handler: Handler, invocation: Invocation, args: Args, *, what: str) -> Reply:
        recorded.append((handler, invocation, args))
        return real(handler, invocation, args, what=what)

    monkeypatch.setattr(dispatch, "run_handler", recording)
    yield recorded


def _card_ts(h: Harness, number: int) -> str:
    h.settle()
    cards = [m for m in h.slack.messages_in(APPROVALS) if f"Request #{number}:" in m["text"]]
    return str(cards[0]["ts"])


def test_typed_approve_and_the_button_call_the_same_handler_alike(
    harness: Harness, calls: list[Call]
) -> None:
    harness.answer("request mistralai/Mistral-7B-v0.1 evals", user=CAROL)
    harness.answer("request google/gemma-2-9b evals", user=CAROL)
    ts = _card_ts(harness, 2)
    calls.clear()

    harness.answer("approve #1", user=BOB)
    harness.click(ACTION_APPROVE, "2", user=BOB, channel=APPROVALS, ts=ts)
    harness.settle()

    (typed_handler, typed_inv, typed_args), (click_handler, click_inv, click_args) = calls
    assert typed_handler is click_handler is approve
    assert (typed_args, click_args) == (Args(["#1"]), Args(["#2"]))
    assert typed_inv.user == click_inv.user == BOB
    # The button adds only the states its card showed: a stale card changes nothing.
    assert typed_inv.only_from is None
    assert click_inv.only_from == (ApprovalState.REQUESTED,)


def test_the_forms_call_the_typed_commands_handlers(harness: Harness, calls: list[Call]) -> None:
    harness.answer("request mistralai/Mistral-7B-v0.1 evals", user=CAROL)
    ts = _card_ts(harness, 1)
    harness.click(ACTION_REJECT, "1", user=BOB, channel=APPROVALS, ts=ts)
    harness.settle()
    [modal] = harness.slack.opened_views()
    calls.clear()

    harness.driver.view_submission(
        REJECT_MODAL,
        state_value("reason", "value", "license forbids it"),
        user_id=BOB,
        private_metadata=modal["private_metadata"],
    )
    harness.driver.view_submission(
        REQUEST_MODAL,
        merge_state(
            state_value("repo", "value", "google/gemma-2-9b"), state_value("reason", "value", "x")
        ),
        user_id=CAROL,
        private_metadata='{"channel": null}',
    )
    harness.settle()

    by_handler = {handler: args for handler, _inv, args in calls}
    assert by_handler == {
        reject: Args(["#1", "license forbids it"]),
        request: Args(["google/gemma-2-9b", "x"]),
    }
