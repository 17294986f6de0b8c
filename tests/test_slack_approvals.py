"""Approval requests in Slack, end to end: signed requests over HTTP to the real app, the Web
API stand-in recording what the app posts, the registry on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from bot.render.modals import CONDITIONS_MODAL, REJECT_MODAL, REQUEST_MODAL
from bot.render.request_card import ACTION_APPROVE, ACTION_CONDITIONS, ACTION_REJECT
from governance.core.config import Settings
from governance.core.db import transaction
from governance.registry.models import Approval, ApprovalState, AuditEvent, RequestCard
from governance.wiring.services import Services
from tests.support.slack_driver import merge_state, state_value
from tests.support.slack_harness import (
    ALICE,
    APPROVALS,
    BOB,
    CAROL,
    DAVE,
    GENERAL,
    Harness,
    build_harness,
    harness,
    slack_settings,
    slack_standin,
)
from tests.support.slack_standin import SlackStandIn

__all__ = ["harness", "slack_settings", "slack_standin"]

REPO = "mistralai/Mistral-7B-v0.1"


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings


def approval(services: Services, approval_id: int = 1) -> Approval:
    with transaction(services.session_factory) as session:
        found = session.get(Approval, approval_id)
        assert found is not None
        return found


def request_card(h: Harness, text: str = f"request {REPO} --use commercial support bot") -> str:
    """Request as Carol; return the ts of the card in the approvals channel."""
    answer = h.answer(text, user=CAROL)
    assert "Request #1 recorded" in answer["text"]
    h.slack.wait_for("chat.postMessage")
    h.settle()
    [card] = h.slack.messages_in(APPROVALS)
    return str(card["ts"])


def button_ids(message: dict[str, Any]) -> list[str]:
    return [
        e["action_id"]
        for b in message.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_request_then_approve_updates_card_and_dms_requester(harness: Harness) -> None:
    ts = request_card(harness)
    card = harness.slack.message(APPROVALS, ts)
    assert button_ids(card) == [ACTION_APPROVE, ACTION_CONDITIONS, ACTION_REJECT]
    assert "<@U0CAROL>" in str(card["blocks"]) and "support bot" in str(card["blocks"])
    with transaction(harness.services.session_factory) as session:
        stored = session.get(RequestCard, 1)
        assert stored is not None and (stored.destination, stored.message_ref) == (APPROVALS, ts)

    resp = harness.click(ACTION_APPROVE, "1", user=BOB, channel=APPROVALS, ts=ts)
    assert resp.status == 200
    harness.settle()

    assert approval(harness.services).state is ApprovalState.APPROVED
    assert approval(harness.services).decided_by == BOB
    updated = harness.slack.message(APPROVALS, ts)
    assert button_ids(updated) == []
    assert "approved* by <@U0BOB> at 2026-11-27 09:00 UTC" in str(updated["blocks"])
    opened = harness.slack.successful("conversations.open")
    assert [c.payload["users"] for c in opened] == [CAROL]
    dm = opened[0].response["channel"]["id"]  # type: ignore[index]
    [notice] = harness.slack.messages_in(dm)
    assert "Your request #1" in notice["text"] and "approved by U0BOB" in notice["text"]
    # The only ephemeral is the answer to the request command (through its response_url).
    assert [e["text"][:19] for e in harness.slack.ephemerals()] == ["Request #1 recorded"]


def test_self_approval_is_refused_ephemerally(harness: Harness) -> None:
    resp = harness.command(f"request {REPO}", user=ALICE)
    assert resp.status == 200
    harness.settle()
    [card] = harness.slack.messages_in(APPROVALS)
    harness.click(ACTION_APPROVE, "1", user=ALICE, channel=APPROVALS, ts=card["ts"])
    harness.settle()
    recorded, refusal = harness.slack.ephemerals(user=ALICE)
    assert "Request #1 recorded" in recorded["text"]
    assert "You requested #1 yourself" in refusal["text"]
    assert refusal["channel"] == APPROVALS
    assert approval(harness.services).state is ApprovalState.REQUESTED
    assert harness.slack.calls("chat.update") == []


def test_non_approver_button_payload_changes_nothing(harness: Harness) -> None:
    ts = request_card(harness)
    # Dave is in the workspace but not an approver: a well-signed click is still refused.
    harness.click(ACTION_APPROVE, "1", user=DAVE, channel=APPROVALS, ts=ts)
    # ... and so is a hand-made payload naming a request id without any card.
    harness.driver.block_action(
        ACTION_APPROVE, "1", user_id=DAVE, channel_id=GENERAL, message_ts="1.000001"
    )
    harness.settle()
    assert approval(harness.services).state is ApprovalState.REQUESTED
    refusals = harness.slack.ephemerals(user=DAVE)
    assert len(refusals) == 2
    assert all("Only approvers can approve" in r["text"] for r in refusals)
    assert harness.slack.calls("chat.update") == []
    with transaction(harness.services.session_factory) as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "approved" not in actions


def test_garbage_button_value_is_a_stale_button(harness: Harness) -> None:
    ts = request_card(harness)
    harness.click(ACTION_APPROVE, "1; DROP TABLE approvals", user=BOB, channel=APPROVALS, ts=ts)
    harness.settle()
    [refusal] = harness.slack.ephemerals(user=BOB)
    assert "out of date" in refusal["text"]
    assert approval(harness.services).state is ApprovalState.REQUESTED


def test_double_click_decides_once_and_late_click_says_who(harness: Harness) -> None:
    ts = request_card(harness)
    start = threading.Barrier(2)
    statuses: list[int] = []

    def click(user: str) -> None:
        start.wait()
        statuses.append(
            harness.click(ACTION_APPROVE, "1", user=user, channel=APPROVALS, ts=ts).status
        )

    threads = [threading.Thread(target=click, args=(u,)) for u in (ALICE, BOB)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    harness.settle()
    assert statuses == [200, 200]
    winner = approval(harness.services).decided_by
    loser = ALICE if winner == BOB else BOB
    [late] = harness.slack.ephemerals(user=loser)
    assert f"already approved by {winner} at 2026-11-27 09:00 UTC" in late["text"]
    with transaction(harness.services.session_factory) as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("approved") == 1
    assert len(harness.slack.successful("conversations.open")) == 1  # one DM


def test_approve_with_conditions_modal(harness: Harness) -> None:
    ts = request_card(harness)
    harness.click(ACTION_CONDITIONS, "1", user=BOB, channel=APPROVALS, ts=ts)
    harness.settle()
    [modal] = harness.slack.opened_views()
    assert modal["callback_id"] == CONDITIONS_MODAL
    values = merge_state(
        state_value("conditions", "value", "no customer data"),
        {"expires": {"value": {"type": "datepicker", "selected_date": "2026-11-01"}}},
    )
    refused = harness.driver.view_submission(
        CONDITIONS_MODAL, values, user_id=BOB, private_metadata=modal["private_metadata"]
    )
    assert refused.json()["response_action"] == "errors"
    assert "expiry date 2026-11-01 is not in the future" in refused.json()["errors"]["expires"]
    assert approval(harness.services).state is ApprovalState.REQUESTED

    values["expires"]["value"]["selected_date"] = "2027-06-30"
    ok = harness.driver.view_submission(
        CONDITIONS_MODAL, values, user_id=BOB, private_metadata=modal["private_metadata"]
    )
    assert (ok.status, ok.body) == (200, b"")
    harness.settle()
    decided = approval(harness.services)
    assert (decided.conditions, str(decided.expires_on)) == ("no customer data", "2027-06-30")
    blocks = str(harness.slack.message(APPROVALS, ts)["blocks"])
    assert "no customer data" in blocks and "2027-06-30" in blocks


def test_reject_modal_needs_a_reason(harness: Harness) -> None:
    ts = request_card(harness)
    harness.click(ACTION_REJECT, "1", user=ALICE, channel=APPROVALS, ts=ts)
    harness.settle()
    [modal] = harness.slack.opened_views()
    meta = modal["private_metadata"]
    empty = harness.driver.view_submission(
        REJECT_MODAL, state_value("reason", "value", "  "), user_id=ALICE, private_metadata=meta
    )
    assert empty.json() == {
        "response_action": "errors",
        "errors": {"reason": "A reason is required; say briefly why."},
    }
    ok = harness.driver.view_submission(
        REJECT_MODAL,
        state_value("reason", "value", "license forbids it"),
        user_id=ALICE,
        private_metadata=meta,
    )
    assert ok.status == 200 and ok.body == b""
    harness.settle()
    assert approval(harness.services).state is ApprovalState.REJECTED
    assert "license forbids it" in str(harness.slack.message(APPROVALS, ts)["blocks"])


def test_request_alone_opens_the_form_and_the_form_posts_a_card(harness: Harness) -> None:
    resp = harness.command("request", user=CAROL, trigger_id=harness.slack.new_trigger_id())
    assert resp.status == 200
    harness.settle()
    [modal] = harness.slack.opened_views()
    assert modal["callback_id"] == REQUEST_MODAL
    bad = harness.driver.view_submission(
        REQUEST_MODAL,
        merge_state(
            state_value("repo", "value", "not a repo"), state_value("reason", "value", "x")
        ),
        user_id=CAROL,
        private_metadata=modal["private_metadata"],
    )
    assert "not of the form namespace/name" in bad.json()["errors"]["repo"]
    values = merge_state(
        state_value("repo", "value", REPO),
        {"use": {"value": {"type": "static_select", "selected_option": {"value": "research"}}}},
        state_value("reason", "value", "evals"),
    )
    ok = harness.driver.view_submission(
        REQUEST_MODAL, values, user_id=CAROL, private_metadata=modal["private_metadata"]
    )
    assert ok.status == 200
    harness.settle()
    created = approval(harness.services)
    assert (created.requested_by, created.use.value, created.reason) == (CAROL, "research", "evals")
    [card] = harness.slack.messages_in(APPROVALS)
    assert "Request #1" in card["text"]
    [told] = harness.slack.ephemerals(user=CAROL)
    assert told["channel"] == GENERAL and "Request #1 recorded" in told["text"]


def test_typed_decision_updates_the_card_too(harness: Harness) -> None:
    ts = request_card(harness)
    answer = harness.answer("reject #1 not for production", user=BOB)
    assert "Rejected #1" in answer["text"]
    harness.settle()
    assert "not for production" in str(harness.slack.message(APPROVALS, ts)["blocks"])
    assert len(harness.slack.successful("conversations.open")) == 1


def test_approver_user_group_members_may_decide(
    services: Services, slack_standin: SlackStandIn
) -> None:
    slack_standin.set_usergroup("S0APPROVERS", [DAVE])
    grouped = services.settings.model_copy(update={"approver_group": "S0APPROVERS"})
    from bot.slack.delivery.client import make_client
    from bot.slack.usergroups import UsergroupMembers
    from governance.wiring.services import build_services

    members = UsergroupMembers(make_client(grouped))
    with_group = build_services(
        grouped, clock=services.clock, engine=services.engine, group_members=members
    )
    for h in build_harness(with_group, slack_standin):
        ts = request_card(h)
        h.click(ACTION_APPROVE, "1", user=DAVE, channel=APPROVALS, ts=ts)
        h.settle()
        assert approval(h.services).decided_by == DAVE
        calls = slack_standin.successful("usergroups.users.list")
        assert [c.payload["usergroup"] for c in calls] == ["S0APPROVERS"]


def test_cards_posted_by_channel_name_are_updated_by_id(
    services: Services, slack_standin: SlackStandIn
) -> None:
    named = services.settings.model_copy(update={"approvals_channel": "#model-approvals"})
    from governance.wiring.services import build_services

    with_name = build_services(named, clock=services.clock, engine=services.engine)
    for h in build_harness(with_name, slack_standin):
        h.command(f"request {REPO}", user=CAROL)
        h.settle()
        [card] = slack_standin.messages_in("#model-approvals")
        channel = slack_standin.channel_id("#model-approvals")
        h.click(ACTION_APPROVE, "1", user=BOB, channel=channel, ts=card["ts"])
        h.settle()
        assert slack_standin.successful("chat.update")[0].payload["channel"] == channel
        assert "approved* by <@U0BOB>" in str(slack_standin.messages_in(channel)[0]["blocks"])


def test_non_approver_modal_submission_is_refused_to_them(harness: Harness) -> None:
    """The form closes at once (its ack never waits for the database); the refusal of the
    write that follows is shown to the submitter only, in the card's channel."""
    request_card(harness)
    resp = harness.driver.view_submission(
        CONDITIONS_MODAL,
        state_value("conditions", "value", "whatever"),
        user_id=DAVE,
        private_metadata='{"id": 1, "channel": "C0APPROVALS"}',
    )
    assert resp.status == 200 and resp.json() is None
    harness.settle()
    [refusal] = harness.slack.ephemerals(user=DAVE)
    assert refusal["channel"] == APPROVALS
    assert refusal["text"].startswith("Only approvers can approve")
    assert approval(harness.services).state is ApprovalState.REQUESTED
    assert harness.slack.calls("chat.update") == []


def test_an_alert_that_puts_an_approval_in_review_updates_its_card(harness: Harness) -> None:
    from bot.slack.delivery.client import make_client
    from bot.slack.delivery.slack_notifier import SlackNotifier
    from governance.alerts.delivery import deliver_pending
    from governance.alerts.outbox import raise_alert
    from governance.core.fingerprints import fingerprint
    from governance.registry.decisions import mark_needs_review

    ts = request_card(harness)
    harness.click(ACTION_APPROVE, "1", user=BOB, channel=APPROVALS, ts=ts)
    harness.settle()
    services = harness.services
    with transaction(services.session_factory) as session:  # what the watcher does on a change
        target = session.get(Approval, 1)
        assert target is not None
        assert mark_needs_review(
            session, approval=target, reason="license changed", clock=services.clock
        )
        raise_alert(
            session,
            kind="license_changed",
            title=f"{REPO}: license changed",
            body="apache-2.0 → mrl",
            payload={
                "repo_id": REPO,
                "kind": "license_changed",
                "summary": ["x"],
                "approvals_in_review": [{"id": 1, "use": "commercial"}],
            },
            state_fingerprint=fingerprint("mrl"),
            default_destination="C0ALERTS",
            clock=services.clock,
            model_id=target.model_id,
        )
    notifier = SlackNotifier(
        make_client(services.settings), session_factory=services.session_factory
    )
    report = deliver_pending(services.session_factory, notifier=notifier, clock=services.clock)
    assert report.delivered == 1
    card = harness.slack.message(APPROVALS, ts)
    assert "needs review" in str(card["blocks"])
    assert len(harness.slack.messages_in("C0ALERTS")) == 1
