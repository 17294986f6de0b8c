"""Security at the HTTP edge and in every message: signatures, timestamps, mrkdwn injection."""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from bot.render.modals import CONDITIONS_MODAL
from bot.render.request_card import ACTION_APPROVE, ACTION_CONDITIONS
from bot.slack.delivery.client import make_client
from bot.slack.delivery.slack_notifier import SlackNotifier
from governance.alerts.delivery import deliver_pending
from governance.alerts.outbox import raise_alert
from governance.core.config import Settings
from governance.core.db import transaction
from governance.registry.models import Approval, ApprovalState, AuditEvent
from tests.support.blocks_walk import texts
from tests.support.slack_driver import merge_state, state_value
from tests.support.slack_harness import (
    ALICE,
    APPROVALS,
    BOB,
    CAROL,
    Harness,
    all_strings,
    harness,
    slack_settings,
    slack_standin,
)

SLACK_DATE = re.compile(r"<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[\d: -]+UTC>")

__all__ = ["harness", "slack_settings", "slack_standin"]

REPO = "org/model"
INJECTION = "<!channel> <!here|here> <@U0EVERYONE> <https://evil.example|click> & more"


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return slack_settings


def counts(h: Harness) -> tuple[int, int]:
    with transaction(h.services.session_factory) as session:
        return (
            session.scalar(select(func.count()).select_from(Approval)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


@pytest.mark.parametrize("breakage", ["forged", "stale", "unsigned"])
def test_bad_signatures_get_401_and_change_nothing(harness: Harness, breakage: str) -> None:
    harness.command(f"request {REPO}", user=CAROL)
    harness.settle()
    before = counts(harness)
    card = harness.slack.messages_in(APPROVALS)[0]
    calls_before = len(harness.slack.calls())
    posts_before = len(harness.slack.response_url_posts())

    command = harness.command(f"request other/model {INJECTION}", user=CAROL, **{breakage: True})
    click = harness.driver.block_action(
        ACTION_APPROVE,
        "1",
        user_id=BOB,
        channel_id=APPROVALS,
        message_ts=card["ts"],
        **{breakage: True},
    )
    submit = harness.driver.view_submission(
        CONDITIONS_MODAL,
        state_value("conditions", "value", "x"),
        user_id=BOB,
        private_metadata='{"id": 1}',
        **{breakage: True},
    )
    home = harness.driver.app_home_opened(ALICE, **{breakage: True})
    harness.settle()

    assert [r.status for r in (command, click, submit, home)] == [401, 401, 401, 401]
    assert counts(harness) == before
    assert len(harness.slack.calls()) == calls_before
    assert len(harness.slack.response_url_posts()) == posts_before
    with transaction(harness.services.session_factory) as session:
        assert session.get(Approval, 1).state is ApprovalState.REQUESTED  # type: ignore[union-attr]


def test_health_and_wrong_methods(harness: Harness) -> None:
    netloc = urlsplit(harness.driver.base_url).netloc

    def get(path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(netloc, timeout=10)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    status, body = get("/healthz")
    assert status == 200
    assert json.loads(body) == {
        "status": "ok",
        "process": "web",
        "down": [],
        "database": {"ok": True, "error": None},
        "slack": {"ok": True, "error": None, "checked_seconds_ago": 0.0},
    }
    assert get("/slack/events")[0] == 405
    assert get("/elsewhere")[0] == 404


def test_user_and_upstream_text_never_pings(harness: Harness) -> None:
    """Every string the app sends to Slack, in every flow, carries `<!channel>` as text."""
    acks = [harness.command(f"request {REPO} --use commercial {INJECTION}", user=CAROL)]
    harness.settle()
    card = harness.slack.messages_in(APPROVALS)[0]
    harness.click(ACTION_CONDITIONS, "1", user=BOB, channel=APPROVALS, ts=card["ts"])
    harness.settle()
    [modal] = harness.slack.opened_views()
    values = merge_state(state_value("conditions", "value", f"only for {INJECTION}"))
    harness.driver.view_submission(
        CONDITIONS_MODAL, values, user_id=BOB, private_metadata=modal["private_metadata"]
    )
    harness.settle()
    acks += [
        harness.command(f"info {REPO}", user=ALICE),
        harness.command("list", user=ALICE),
        harness.command(f"history {REPO}", user=ALICE),
        harness.command(f"info <!channel>/x {INJECTION}", user=ALICE),
        harness.command(f"reject #1 {INJECTION}", user=ALICE),  # refused: echoes nothing raw
        harness.command(INJECTION, user=ALICE),  # unknown subcommand
    ]
    with transaction(harness.services.session_factory) as session:
        model_id = session.get(Approval, 1).model_id  # type: ignore[union-attr]
        raise_alert(
            session,
            kind="license_changed",
            title=f"{REPO}: license changed {INJECTION}",
            body=f"upstream says {INJECTION}",
            payload={
                "repo_id": REPO,
                "kind": "license_changed",
                "before": INJECTION,
                "after": {"name": INJECTION},
                "summary": [INJECTION],
                "diff_excerpt": f"- {INJECTION}\n+ {INJECTION}",
                "approvals_in_review": [{"id": 1, "use": INJECTION, "decided_by": INJECTION}],
                "approvers": [INJECTION, ALICE],
            },
            state_fingerprint="x",
            default_destination=harness.services.settings.alerts_channel,
            clock=harness.services.clock,
            model_id=model_id,
        )
    notifier = SlackNotifier(make_client(harness.services.settings))
    assert (
        deliver_pending(
            harness.services.session_factory, notifier=notifier, clock=harness.services.clock
        ).delivered
        == 1
    )
    harness.driver.app_home_opened(ALICE)
    harness.settle()

    sent = all_strings(harness.slack) + [s for r in acks for s in texts(r.json())]
    assert sent, "nothing was recorded"
    # Slack date tokens (<!date^…>) are the bot's own, from stored times, never from text.
    sent = [SLACK_DATE.sub("", s) for s in sent]
    assert not [s for s in sent if "<!" in s or "<https://evil" in s or "<@U0EVERYONE" in s]
    assert any("&lt;!channel&gt;" in s for s in sent)  # it arrived, as text
    methods = {c.method for c in harness.slack.calls()}
    assert {"chat.postMessage", "chat.update", "views.open", "views.publish"} <= methods
