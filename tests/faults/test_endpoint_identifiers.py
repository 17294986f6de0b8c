"""Strict identifiers and authority, through the Slack endpoint (both databases).

Request numbers are ASCII digits wherever they are parsed (typed commands, button values,
modal metadata); a button acts only on the request and the state it was rendered for; only
approvers acknowledge alerts.
"""

from __future__ import annotations

import pytest

from bot.render.alerts import ACTION_ACK, ACTION_REAPPROVE
from bot.render.modals import CONDITIONS_MODAL
from bot.render.request_card import ACTION_APPROVE, ACTION_REJECT
from bot.slack.delivery.slack_notifier import SlackNotifier
from governance.core.config import Settings
from governance.core.db import transaction
from governance.core.errors import InvalidInput
from governance.registry.models import Approval, ApprovalState
from governance.registry.validation import parse_number
from tests.support.slack_driver import state_value
from tests.support.slack_harness import (
    ALERTS,
    ALICE,
    APPROVALS,
    CAROL,
    DAVE,
    Harness,
    harness,
    slack_settings,
    slack_standin,
)
from tests.test_slack_alerts import alert_row, delivered_alert, notifier

__all__ = ["harness", "notifier", "slack_settings", "slack_standin"]

LOOKALIKES = ["#١", "١", "#１", "１", "#²", "²", "#1١", "#٣"]


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings


def state(h: Harness, approval_id: int) -> ApprovalState:
    with transaction(h.services.session_factory) as session:
        approval = session.get(Approval, approval_id)
        assert approval is not None
        return approval.state


@pytest.mark.parametrize("text", LOOKALIKES)
def test_parse_number_takes_ascii_digits_only(text: str) -> None:
    with pytest.raises(InvalidInput, match="write it with the digits 0-9"):
        parse_number(text)


def test_parse_number_reads_ascii_numbers_and_leaves_repo_ids() -> None:
    assert parse_number("#12") == 12 and parse_number(" 7 ") == 7
    assert parse_number("org/model") is None
    with pytest.raises(InvalidInput, match="at most 12 digits"):
        parse_number("#" + "9" * 13)


def test_unicode_digits_are_refused_everywhere(harness: Harness) -> None:
    assert "Request #1 recorded" in harness.answer("request org/model", user=CAROL)["text"]
    for text in LOOKALIKES:
        for command in (f"approve '{text}'", f"reject '{text}' no", f"revoke '{text}' no"):
            answer = harness.answer(command, user=ALICE)
            assert "write it with the digits 0-9" in answer["text"], (command, answer)
    [card] = harness.slack.messages_in(APPROVALS)
    for value in ("١", "１", "²"):
        harness.click(ACTION_APPROVE, value, user=ALICE, channel=APPROVALS, ts=card["ts"])
    submitted = harness.driver.view_submission(
        CONDITIONS_MODAL,
        state_value("conditions", "value", "x"),
        user_id=ALICE,
        private_metadata='{"id": "١", "channel": "C0APPROVALS"}',
    )
    harness.settle()
    assert "out of date" in submitted.json()["errors"]["conditions"]
    refusals = [e["text"] for e in harness.slack.ephemerals(user=ALICE)]
    assert len([r for r in refusals if "out of date" in r]) == 3
    assert state(harness, 1) is ApprovalState.REQUESTED


def test_reapprove_acts_only_on_the_request_its_alert_put_in_review(
    harness: Harness, notifier: SlackNotifier
) -> None:
    _alert_id, ts = delivered_alert(harness, notifier)  # #1 in review
    harness.answer("request org/other-model", user=CAROL)  # #2, pending, in no alert
    forged = [
        (f"{ACTION_REAPPROVE}-1", "2"),  # the action names #1, the value #2
        (f"{ACTION_REAPPROVE}-2", "2"),  # a request the alert did not list
        (f"{ACTION_REAPPROVE}-١", "١"),
    ]
    for action_id, value in forged:
        harness.driver.block_action(
            action_id,
            value,
            user_id=ALICE,
            channel_id=ALERTS,
            message_ts=ts,
            message=harness.slack.message(ALERTS, ts),
        )
    harness.settle()
    refusals = [e["text"] for e in harness.slack.ephemerals(user=ALICE)]
    assert len(refusals) == 3 and all("out of date" in r for r in refusals), refusals
    assert (state(harness, 1), state(harness, 2)) == (
        ApprovalState.NEEDS_REVIEW,
        ApprovalState.REQUESTED,
    )
    # The real button works once; clicked again it says what state the request is in now.
    for _ in range(2):
        harness.click(f"{ACTION_REAPPROVE}-1", "1", user=ALICE, channel=ALERTS, ts=ts)
        harness.settle()
    assert state(harness, 1) is ApprovalState.APPROVED
    late = harness.slack.ephemerals(user=ALICE)[-1]["text"]
    assert late.startswith("Request #1 (meta-llama/Llama-3.1-8B-Instruct) was already approved")
    assert "this button was for a request that is in review" in late


def test_a_card_button_acts_only_on_a_pending_request(
    harness: Harness, notifier: SlackNotifier
) -> None:
    _alert_id, _ts = delivered_alert(harness, notifier)  # #1: approved, now in review
    # A card rendered while #1 was pending, clicked now: Approve and Reject refuse.
    for action in (ACTION_APPROVE, ACTION_REJECT):
        harness.driver.block_action(
            action, "1", user_id=ALICE, channel_id=APPROVALS, message_ts="1.000001"
        )
    harness.settle()
    refusals = [e["text"] for e in harness.slack.ephemerals(user=ALICE)]
    assert len(refusals) == 2
    assert all(
        "is in review now; this button was for a request that is pending" in r for r in refusals
    )
    assert state(harness, 1) is ApprovalState.NEEDS_REVIEW
    assert harness.slack.opened_views() == []


def test_only_approvers_acknowledge(harness: Harness, notifier: SlackNotifier) -> None:
    alert_id, ts = delivered_alert(harness, notifier)
    harness.click(ACTION_ACK, str(alert_id), user=DAVE, channel=ALERTS, ts=ts)
    harness.settle()
    [refused] = harness.slack.ephemerals(user=DAVE)
    assert refused["text"].startswith("Only approvers can acknowledge alerts; the approvers are")
    assert alert_row(harness.services, alert_id).acknowledged_by is None
    assert ACTION_ACK in str(harness.slack.message(ALERTS, ts)["blocks"])
