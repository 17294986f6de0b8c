"""Replays are refused across every process of a deployment, on SQLite and PostgreSQL.

The scenario that was measured: an approver's signed ``/models approve <repo>`` is captured,
the approval is revoked and the model requested again, and the captured request is sent again
within Slack's 5-minute window. It must be refused (409, a sentence) and change nothing, even
when it reaches another web process than the original did.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import func, select

from governance.core.db import transaction
from governance.registry.decisions import revoke
from governance.registry.models import Approval, ApprovalState, AuditEvent, IntendedUse
from governance.registry.requests import request_approval
from governance.wiring.services import build_services
from tests.conftest import make_settings
from tests.faults.endpoint_support import web_process
from tests.support.slack_driver import SlackDriver
from tests.support.slack_fixtures import SIGNING_SECRET, slack_standin
from tests.support.slack_standin import SlackStandIn

__all__ = ["slack_standin"]

REPO = "acme/m-2"
FORM = "application/x-www-form-urlencoded"


def _states(database_url: str) -> tuple[list[tuple[int, ApprovalState]], int]:
    services = build_services(make_settings(database_url))
    try:
        with transaction(services.session_factory) as session:
            rows = session.execute(select(Approval.id, Approval.state).order_by(Approval.id))
            events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
            return [(i, s) for i, s in rows], events
    finally:
        services.close()


def _request(database_url: str) -> None:
    services = build_services(make_settings(database_url, approvers=["U0ALICE", "U0BOB"]))
    try:
        with transaction(services.session_factory) as session:
            request_approval(
                session,
                repo_id=REPO,
                use=IntendedUse.INTERNAL,
                reason="replay test",
                requester="U0CAROL",
                clock=services.clock,
            )
    finally:
        services.close()


def _revoke(database_url: str) -> None:
    services = build_services(make_settings(database_url, approvers=["U0ALICE", "U0BOB"]))
    try:
        with transaction(services.session_factory) as session:
            revoke(
                session,
                ref=REPO,
                actor="U0BOB",
                approvers=services.approvers,
                reason="terms changed",
                clock=services.clock,
            )
    finally:
        services.close()


def test_a_captured_approval_replayed_on_another_process_is_refused(
    database_url: str, slack_standin: SlackStandIn, tmp_path: Path
) -> None:
    _request(database_url)
    with (
        web_process(database_url, slack_standin, tmp_path, name="a") as first,
        web_process(database_url, slack_standin, tmp_path, name="b") as second,
    ):
        url = slack_standin.new_response_url(channel="C1", user_id="U0ALICE", max_uses=50)
        captured = first.driver.prepare(
            first.driver.slash_command_body(
                f"approve {REPO}", user_id="U0ALICE", channel_id="C1", response_url=url
            ),
            FORM,
        )
        assert first.driver.send_prepared(captured).status == 200
        slack_standin.wait_for("response_url", count=1, timeout=30)
        assert "Approved #1" in slack_standin.response_url_posts(url)[0].payload["text"]

        _revoke(database_url)
        _request(database_url)  # request #2, pending
        before = _states(database_url)
        assert [s for _, s in before[0]] == [ApprovalState.REVOKED, ApprovalState.REQUESTED]

        replays = [first.driver.send_prepared(captured), second.driver.send_prepared(captured)]
        assert [r.status for r in replays] == [409, 409]
        assert all(b"already received" in r.body for r in replays)
        # Both processes answered at once; nothing of the replay runs later either.
        assert slack_standin.response_url_uses(url) == 1
        assert _states(database_url) == before

        log = first.log_text() + second.log_text()
    assert "Traceback" not in log


def test_an_events_retry_is_acknowledged_and_handled_once(
    database_url: str, slack_standin: SlackStandIn, tmp_path: Path
) -> None:
    with web_process(database_url, slack_standin, tmp_path) as web:
        event = {"type": "app_home_opened", "user": "U0ALICE", "channel": "D1", "tab": "home"}
        body = json.dumps(web.driver.event_envelope(event, event_id="Ev0RETRY1"))
        first = web.driver.send_prepared(web.driver.prepare(body, "application/json"))
        # Slack redelivers the same event signed anew (a later timestamp), saying it retries.
        later = SlackDriver(web.base, SIGNING_SECRET, clock=lambda: time.time() + 2)
        retry = later.send_prepared(later.prepare(body, "application/json", retry_num=1))
        assert (first.status, retry.status) == (200, 200)
        slack_standin.wait_for("views.publish", count=1, timeout=30)
        # The same signed request again, flagged as a retry: received already, 200, not redone.
        command = web.driver.prepare(
            web.driver.slash_command_body("help", user_id="U0ALICE", channel_id="C1"),
            FORM,
            retry_num=1,
        )
        assert web.driver.send_prepared(command).status == 200
        again = web.driver.send_prepared(command)
        assert (again.status, again.body) == (200, b"")
    assert len(slack_standin.calls("views.publish")) == 1
