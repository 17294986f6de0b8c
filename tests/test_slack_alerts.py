"""Alert delivery to Slack through the outbox: contents, 429s and 5xx (each alert posted once),
threads, subscription routing, and the Acknowledge / Re-approve / Revoke buttons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.render.alerts import ACTION_ACK, ACTION_REAPPROVE, ACTION_REVOKE
from bot.render.modals import REVOKE_MODAL
from bot.slack.delivery.client import make_client
from bot.slack.delivery.slack_notifier import SlackNotifier
from governance.alerts.delivery import deliver_pending
from governance.alerts.models import Alert
from governance.alerts.outbox import raise_alert
from governance.core.clock import FrozenClock
from governance.core.config import Settings
from governance.core.db import transaction
from governance.flows.decide_with_policy import approve
from governance.registry.decisions import mark_needs_review
from governance.registry.models import Approval, ApprovalState, IntendedUse
from governance.registry.requests import request_approval
from governance.wiring.services import Services
from tests.support.slack_driver import state_value
from tests.support.slack_harness import (
    ALERTS,
    ALICE,
    BOB,
    CAROL,
    DAVE,
    Harness,
    harness,
    slack_settings,
    slack_standin,
)
from tests.support.slack_standin import SlackStandIn

__all__ = ["harness", "slack_settings", "slack_standin"]

REPO = "meta-llama/Llama-3.1-8B-Instruct"
SECURITY = "C0SEC"


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings


@pytest.fixture
def notifier(services: Services) -> SlackNotifier:
    return SlackNotifier(make_client(services.settings))


def approved_in_review(services: Services) -> int:
    """Carol's request, approved by Bob, then fallen back to review."""
    with transaction(services.session_factory) as session:
        approval = request_approval(
            session,
            repo_id=REPO,
            use=IntendedUse.COMMERCIAL,
            reason="support bot",
            requester=CAROL,
            clock=services.clock,
        )
        approve(
            session,
            ref=str(approval.id),
            actor=BOB,
            approvers=services.approvers,
            clock=services.clock,
        )
        mark_needs_review(
            session, approval=approval, reason="license changed", clock=services.clock
        )
        return approval.id


def raise_(
    services: Services, kind: str = "license_changed", fp: str = "fp-1", **extra: Any
) -> list[int]:
    with transaction(services.session_factory) as session:
        first = session.get(Approval, 1)
        model_id = first.model_id if first is not None else None
        payload = {
            "repo_id": REPO,
            "kind": kind,
            "before": "llama3",
            "after": "llama3.1",
            "summary": ["The license id changed."],
            **extra,
        }
        alerts = raise_alert(
            session,
            kind=kind,
            title=f"{REPO}: {kind.replace('_', ' ')}",
            body="Approvals given under the old terms are back in review.",
            payload=payload,
            state_fingerprint=fp,
            default_destination=services.settings.alerts_channel,
            clock=services.clock,
            model_id=model_id,
        )
        return [a.id for a in alerts]


def alert_row(services: Services, alert_id: int) -> Alert:
    with transaction(services.session_factory) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert


def deliver(services: Services, notifier: SlackNotifier) -> Any:
    return deliver_pending(services.session_factory, notifier=notifier, clock=services.clock)


def test_alert_says_what_changed_who_must_act_and_offers_buttons(
    services: Services, notifier: SlackNotifier, slack_standin: SlackStandIn
) -> None:
    approval_id = approved_in_review(services)
    diff = "\n".join(f"- old clause {i}\n+ new clause {i}" for i in range(800))
    [alert_id] = raise_(
        services,
        diff_excerpt=diff,
        approvals_in_review=[{"id": approval_id, "use": "commercial", "decided_by": BOB}],
        approvers=[ALICE, BOB],
    )
    report = deliver(services, notifier)
    assert (report.delivered, report.failed) == (1, 0)
    [message] = slack_standin.messages_in(ALERTS)
    blocks = str(message["blocks"])
    # The change in words first, from the knowledge base's names and terms.
    headline = "License changed: Meta Llama 3 Community License → Llama 3.1 Community License"
    assert message["blocks"][0]["text"]["text"] == f":rotating_light: *{headline}*"
    assert message["text"] == f"{REPO}: {headline}"
    assert "*1 approval moved to review*" in blocks
    # Its owners are mentioned: who asked for it and who approved it; then the approvers.
    assert "#1 commercial use — requested by <@U0CAROL>, approved by <@U0BOB>" in blocks
    assert "<@U0ALICE>, <@U0BOB>: re-approve or revoke below." in blocks
    assert "`/models diff meta-llama/Llama-3.1-8B-Instruct`" in blocks
    assert "old clause 6" not in blocks  # the diff is collapsed to its first lines
    assert "First 12 lines of the diff" in blocks
    buttons = [
        e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == [ACTION_ACK, f"{ACTION_REAPPROVE}-1", f"{ACTION_REVOKE}-1"]
    assert alert_row(services, alert_id).message_ref == message["ts"]


def test_a_429_mid_delivery_posts_each_alert_exactly_once(
    services: Services, notifier: SlackNotifier, slack_standin: SlackStandIn
) -> None:
    approved_in_review(services)
    first = raise_(services, fp="a")
    assert deliver(services, notifier).delivered == 1
    raise_(services, fp="b")
    raise_(services, kind="gating_changed", fp="c")
    slack_standin.fail_next("chat.postMessage", 1, status=429, retry_after=0)
    # The 429 ends the run (the rest would be refused too) and hands both back to the outbox.
    report = deliver(services, notifier)
    assert (report.delivered, report.failed) == (0, 1)
    report = deliver(services, notifier)
    assert (report.delivered, report.failed) == (2, 0)
    messages = slack_standin.messages_in(ALERTS)
    assert len(messages) == 3
    statuses = [c.status for c in slack_standin.calls("chat.postMessage")]
    assert statuses == [200, 429, 200, 200]
    # Follow-ups about the same model thread under the first alert.
    root = alert_row(services, first[0]).message_ref
    assert [m.get("thread_ts") for m in messages] == [None, root, root]


def test_a_429_storm_leaves_the_alert_pending_and_it_is_posted_once_later(
    services: Services, notifier: SlackNotifier, slack_standin: SlackStandIn, clock: FrozenClock
) -> None:
    [alert_id] = raise_(services)
    slack_standin.fail_next("chat.postMessage", 4, status=429, retry_after=30)
    for _ in range(4):  # each 429 hands it back, due after its Retry-After, never slept away
        report = deliver(services, notifier)
        assert (report.delivered, report.failed) == (0, 1)
        assert "429" in report.errors[0]
        assert slack_standin.messages_in(ALERTS) == []
        assert alert_row(services, alert_id).state == "pending"
        assert deliver(services, notifier).delivered == 0  # not due yet: Retry-After
        clock.advance(seconds=30)
    assert deliver(services, notifier).delivered == 1
    assert len(slack_standin.messages_in(ALERTS)) == 1
    assert deliver(services, notifier).delivered == 0
    assert len(slack_standin.messages_in(ALERTS)) == 1


def test_a_long_retry_after_is_handed_back_to_the_outbox(
    services: Services, notifier: SlackNotifier, slack_standin: SlackStandIn, clock: FrozenClock
) -> None:
    [alert_id] = raise_(services)
    slack_standin.fail_next("chat.postMessage", 1, status=429, retry_after=600)
    assert deliver(services, notifier).failed == 1
    assert len(slack_standin.calls("chat.postMessage")) == 1  # not slept away in the client
    row = alert_row(services, alert_id)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=600)


def test_server_errors_are_retried(
    services: Services, notifier: SlackNotifier, slack_standin: SlackStandIn, clock: FrozenClock
) -> None:
    raise_(services)
    slack_standin.fail_next("chat.postMessage", 1, status=503)
    # A 5xx says nothing of what was done: look in the channel first, then post once.
    assert deliver(services, notifier).failed == 1
    clock.advance(seconds=10)
    assert deliver(services, notifier).delivered == 1
    assert len(slack_standin.messages_in(ALERTS)) == 1
    assert len(slack_standin.successful("conversations.history")) == 1


def test_subscriptions_route_alert_kinds(
    harness: Harness, notifier: SlackNotifier, slack_standin: SlackStandIn
) -> None:
    answer = harness.answer(f"subscribe <#{SECURITY}|security> license_changed", user=ALICE)
    assert "now go to" in answer["text"]
    raise_(harness.services, kind="license_changed", fp="x")
    raise_(harness.services, kind="gating_changed", fp="y")
    assert deliver(harness.services, notifier).delivered == 2
    assert ["License" in m["text"] for m in slack_standin.messages_in(SECURITY)] == [True]
    assert ["Gating" in m["text"] for m in slack_standin.messages_in(ALERTS)] == [True]


def delivered_alert(h: Harness, notifier: SlackNotifier) -> tuple[int, str]:
    approval_id = approved_in_review(h.services)
    [alert_id] = raise_(
        h.services,
        approvals_in_review=[{"id": approval_id, "use": "commercial", "decided_by": BOB}],
        approvers=[ALICE, BOB],
    )
    deliver(h.services, notifier)
    return alert_id, str(h.slack.messages_in(ALERTS)[0]["ts"])


def test_acknowledge_once(harness: Harness, notifier: SlackNotifier) -> None:
    alert_id, ts = delivered_alert(harness, notifier)
    # Acknowledging is for approvers (Carol is not one): refused, only to her.
    harness.click(ACTION_ACK, str(alert_id), user=CAROL, channel=ALERTS, ts=ts)
    harness.settle()
    [refused] = harness.slack.ephemerals(user=CAROL)
    assert refused["text"].startswith("Only approvers can acknowledge alerts")
    assert alert_row(harness.services, alert_id).acknowledged_by is None
    harness.click(ACTION_ACK, str(alert_id), user=ALICE, channel=ALERTS, ts=ts)
    harness.settle()
    assert alert_row(harness.services, alert_id).acknowledged_by == ALICE
    message = harness.slack.message(ALERTS, ts)
    assert "Acknowledged by <@U0ALICE>" in str(message["blocks"])
    assert ACTION_ACK not in str(message["blocks"])
    harness.driver.block_action(
        ACTION_ACK, str(alert_id), user_id=BOB, channel_id=ALERTS, message_ts=ts
    )
    harness.settle()
    [late] = harness.slack.ephemerals(user=BOB)
    assert "already acknowledged by U0ALICE" in late["text"]


def test_reapprove_is_for_approvers_and_notes_it_in_the_thread(
    harness: Harness, notifier: SlackNotifier
) -> None:
    _alert_id, ts = delivered_alert(harness, notifier)
    action = f"{ACTION_REAPPROVE}-1"
    harness.click(action, "1", user=DAVE, channel=ALERTS, ts=ts)
    harness.settle()
    assert "Only approvers can approve" in harness.slack.ephemerals(user=DAVE)[0]["text"]
    with transaction(harness.services.session_factory) as session:
        assert session.get(Approval, 1).state is ApprovalState.NEEDS_REVIEW  # type: ignore[union-attr]
    harness.click(action, "1", user=ALICE, channel=ALERTS, ts=ts)
    harness.settle()
    with transaction(harness.services.session_factory) as session:
        assert session.get(Approval, 1).state is ApprovalState.APPROVED  # type: ignore[union-attr]
    [note] = harness.slack.thread_replies(ALERTS, ts)
    assert "Re-approved #1 by <@U0ALICE>" in str(note["blocks"])


def test_revoke_from_an_alert_asks_for_a_reason(harness: Harness, notifier: SlackNotifier) -> None:
    _alert_id, ts = delivered_alert(harness, notifier)
    harness.click(f"{ACTION_REVOKE}-1", "1", user=BOB, channel=ALERTS, ts=ts)
    harness.settle()
    [modal] = harness.slack.opened_views()
    resp = harness.driver.view_submission(
        REVOKE_MODAL,
        state_value("reason", "value", "new terms forbid commercial use"),
        user_id=BOB,
        private_metadata=modal["private_metadata"],
    )
    assert resp.status == 200 and resp.body == b""
    harness.settle()
    with transaction(harness.services.session_factory) as session:
        revoked = session.get(Approval, 1)
        assert revoked is not None and revoked.state is ApprovalState.REVOKED
        assert revoked.decision_reason == "new terms forbid commercial use"
    [note] = harness.slack.thread_replies(ALERTS, ts)
    assert "Revoked #1 by <@U0BOB>" in str(note["blocks"])


# ------------------------------------------------------------------ unknown outcomes

LATE = 2.2  # seconds: past the 1 s client timeout of ``quick_notifier``


@pytest.fixture
def quick_notifier(services: Services) -> SlackNotifier:
    """The real notifier with a 1 s client timeout, so late answers cost seconds."""
    return SlackNotifier(
        make_client(services.settings, timeout=1), session_factory=services.session_factory
    )


def test_posts_carry_metadata_naming_the_alert(
    services: Services, notifier: SlackNotifier, slack_standin: SlackStandIn
) -> None:
    [alert_id] = raise_(services)
    deliver(services, notifier)
    [message] = slack_standin.messages_in(ALERTS)
    assert message["metadata"] == {
        "event_type": "modelgov_alert",
        "event_payload": {"dedupe_key": alert_row(services, alert_id).dedupe_key, "alert_id": 1},
    }


def test_an_answer_after_the_client_timeout_is_found_not_posted_twice(
    services: Services,
    quick_notifier: SlackNotifier,
    slack_standin: SlackStandIn,
    clock: FrozenClock,
) -> None:
    [alert_id] = raise_(services)
    slack_standin.answer_late("chat.postMessage", 1, delay=LATE)
    report = deliver(services, quick_notifier)
    assert report.failed == 1 and "timed out" in report.errors[0]
    assert alert_row(services, alert_id).attempt_started_at is not None
    clock.advance(seconds=10)
    report = deliver(services, quick_notifier)
    assert (report.reconciled, report.delivered) == (1, 0)
    [message] = slack_standin.messages_in(ALERTS)
    assert alert_row(services, alert_id).message_ref == message["ts"]
    assert len(slack_standin.calls("chat.postMessage")) == 1
    history = slack_standin.last("conversations.history")
    assert history.payload["include_all_metadata"] in (True, "true", "1")


def test_a_post_that_never_landed_is_posted_after_the_history_says_so(
    services: Services,
    quick_notifier: SlackNotifier,
    slack_standin: SlackStandIn,
    clock: FrozenClock,
) -> None:
    [alert_id] = raise_(services)
    slack_standin.slow_next("chat.postMessage", 1, delay=LATE)  # times out before it is done
    assert deliver(services, quick_notifier).failed == 1
    clock.advance(seconds=10)
    # The slow call still lands meanwhile in Slack, so wait for it before looking.
    slack_standin.wait_for("chat.postMessage", 1, timeout=5)
    report = deliver(services, quick_notifier)
    assert report.reconciled + report.delivered == 1
    assert len(slack_standin.messages_in(ALERTS)) == 1
    assert alert_row(services, alert_id).state == "delivered"


def test_history_of_a_channel_the_bot_is_not_in_is_read_after_joining(
    services: Services,
    quick_notifier: SlackNotifier,
    slack_standin: SlackStandIn,
    clock: FrozenClock,
) -> None:
    slack_standin.bot_member_of = set()  # posted with chat:write.public, never joined
    raise_(services)
    slack_standin.answer_late("chat.postMessage", 1, delay=LATE)
    deliver(services, quick_notifier)
    clock.advance(seconds=10)
    assert deliver(services, quick_notifier).reconciled == 1
    assert [c.response.get("error") for c in slack_standin.calls("conversations.history")] == [
        "not_in_channel",
        None,
    ]
    assert slack_standin.successful("conversations.join")
    assert len(slack_standin.messages_in(ALERTS)) == 1


def test_without_the_history_scope_an_unknown_outcome_is_never_posted_again(
    services: Services, quick_notifier: SlackNotifier, clock: FrozenClock
) -> None:
    from tests.support.slack_standin import running_standin
    from tests.support.slack_standin_auth import manifest_scopes

    scopes = manifest_scopes() - {"channels:history"}
    with running_standin(scopes=scopes) as slack:
        notifier = SlackNotifier(
            make_client(
                services.settings.model_copy(update={"slack_api_base_url": slack.base_url}),
                token=slack.token,
                timeout=1,
            ),
        )
        [alert_id] = raise_(services)
        slack.answer_late("chat.postMessage", 1, delay=LATE)
        deliver(services, notifier)
        clock.advance(seconds=10)
        report = deliver(services, notifier)
        assert report.failed == 1 and "missing_scope" in report.errors[0]
        assert len(slack.calls("chat.postMessage")) == 1
        assert alert_row(services, alert_id).state == "pending"


def test_a_channel_given_by_name_is_resolved_to_its_id_to_read_history(
    services: Services,
    quick_notifier: SlackNotifier,
    slack_standin: SlackStandIn,
    clock: FrozenClock,
) -> None:
    with transaction(services.session_factory) as session:
        [alert] = raise_alert(
            session,
            kind="digest",
            title="digest",
            body="b",
            payload={"kind": "digest", "summary": ["x"]},
            state_fingerprint="d",
            default_destination="#model-alerts",
            clock=services.clock,
        )
        alert_id = alert.id
    slack_standin.answer_late("chat.postMessage", 1, delay=LATE)
    deliver(services, quick_notifier)
    clock.advance(seconds=10)
    assert deliver(services, quick_notifier).reconciled == 1
    assert slack_standin.successful("conversations.list")
    channel = slack_standin.channel_id("#model-alerts")
    assert alert_row(services, alert_id).channel_id == channel
    assert len(slack_standin.messages_in(channel)) == 1


def test_a_request_card_and_a_dm_go_through_the_outbox_once(
    services: Services,
    quick_notifier: SlackNotifier,
    slack_standin: SlackStandIn,
    clock: FrozenClock,
) -> None:
    from governance.alerts.delivery import deliver_messages
    from governance.alerts.outbox import queue_direct_message, queue_request_card
    from governance.registry.card_refs import find_card

    approval_id = approved_in_review(services)
    with transaction(services.session_factory) as session:
        queue_request_card(
            session, approval_id=approval_id, destination="C0APPROVALS", clock=services.clock
        )
        queue_request_card(  # asked twice (a retried listener): still one card
            session, approval_id=approval_id, destination="C0APPROVALS", clock=services.clock
        )
        queue_direct_message(
            session, user=CAROL, message={"text": "decided"}, key="d-1", clock=services.clock
        )
    slack_standin.answer_late("chat.postMessage", 2, delay=LATE)
    assert (
        deliver_messages(services.session_factory, notifier=quick_notifier, clock=clock).failed == 2
    )
    clock.advance(seconds=10)
    report = deliver_messages(services.session_factory, notifier=quick_notifier, clock=clock)
    assert report.reconciled == 2
    [card] = slack_standin.messages_in("C0APPROVALS")
    with transaction(services.session_factory) as session:
        stored = find_card(session, approval_id)
        assert stored is not None and stored.message_ref == card["ts"]
    dm = slack_standin.successful("conversations.open")[0].response["channel"]["id"]
    assert [m["text"] for m in slack_standin.messages_in(dm)] == ["decided"]
    assert len(slack_standin.calls("chat.postMessage")) == 2
