"""The App Home dashboard: most urgent first, within Slack's 100 blocks, the rest counted."""

from __future__ import annotations

from datetime import date

import pytest

from governance.core.config import Settings
from governance.core.db import transaction
from governance.flows import decide_with_policy
from governance.registry.decisions import find_approval, mark_needs_review
from governance.registry.models import IntendedUse
from governance.registry.requests import request_approval
from governance.upstream.models import Change
from governance.wiring.services import Services
from tests.support.slack_harness import (
    ALICE,
    BOB,
    CAROL,
    Harness,
    harness,
    slack_settings,
    slack_standin,
)

__all__ = ["harness", "slack_settings", "slack_standin"]


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings


def request(services: Services, repo: str, use: IntendedUse = IntendedUse.INTERNAL) -> int:
    with transaction(services.session_factory) as session:
        return request_approval(
            session, repo_id=repo, use=use, reason="", requester=CAROL, clock=services.clock
        ).id


def approve(services: Services, approval_id: int, **kwargs: object) -> None:
    with transaction(services.session_factory) as session:
        decide_with_policy.approve(
            session,
            ref=str(approval_id),
            actor=BOB,
            approvers=services.approvers,
            clock=services.clock,
            **kwargs,  # type: ignore[arg-type]
        )


def texts_of(view: dict) -> list[str]:  # type: ignore[type-arg]
    found = []
    for block in view["blocks"]:
        if "text" in block and isinstance(block["text"], dict):
            found.append(block["text"]["text"])
        found += [e.get("text", "") for e in block.get("elements", []) if isinstance(e, dict)]
    return found


def test_home_shows_review_pending_approved_and_changes_in_that_order(harness: Harness) -> None:
    s = harness.services
    review = request(s, "org/in-review", IntendedUse.COMMERCIAL)
    approve(s, review)
    with transaction(s.session_factory) as session:
        approval = find_approval(session, str(review), states=(), verb="x")
        mark_needs_review(session, approval=approval, reason="license", clock=s.clock)
        session.add(
            Change(
                model_id=approval.model_id,
                detected_at=s.clock.now(),
                kind="license_changed",
                summary="license: llama3 → llama3.1 <!channel>",
                before="llama3",
                after="llama3.1",
                fingerprint="f" * 64,
            )
        )
    request(s, "org/pending")
    later = request(s, "org/expires-later")
    approve(s, later, expires_on=date(2027, 12, 31))
    sooner = request(s, "org/expires-soon")
    approve(s, sooner, conditions="evals only", expires_on=date(2027, 1, 31))

    resp = harness.driver.app_home_opened(ALICE)
    assert resp.status == 200
    harness.settle()
    view = harness.slack.home_view(ALICE)
    assert view is not None
    text = "\n".join(texts_of(view))
    order = [
        "Needs review* (1)",
        "org/in-review",
        "Pending requests* (1)",
        "org/pending",
        "Approved* (2)",
        "org/expires-soon",
        "evals only",
        "org/expires-later",
        "Recent upstream changes* (1)",
        "llama3 → llama3.1 &lt;!channel&gt;",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)


def test_home_fits_100_blocks_and_counts_what_did_not_fit(harness: Harness) -> None:
    for i in range(130):
        request(harness.services, f"org/model-{i:03d}")
    harness.driver.app_home_opened(BOB)
    harness.settle()
    [call] = harness.slack.successful("views.publish")
    blocks = call.payload["view"]["blocks"]
    assert len(blocks) == 100
    note = blocks[-1]["elements"][0]["text"]
    assert "Not shown:" in note and "more under Pending requests" in note
    shown = sum(1 for b in blocks if "org/model-" in str(b))
    assert f"{130 - shown} more under Pending requests" in note


def test_messages_tab_publishes_nothing(harness: Harness) -> None:
    harness.driver.app_home_opened(ALICE, tab="messages")
    harness.settle()
    assert harness.slack.calls("views.publish") == []
