"""bot.slack.bolt_request: the BoltRequest built from a screened body is the one Bolt's own
WSGI adapter builds from the raw body (same raw body, parsed body, headers, query, context and
mode), for each shape Slack posts."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltRequest
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest

from bot.slack.bolt_request import bolt_request

_COMMAND = urlencode(
    {
        "command": "/models",
        "text": "info org/model-a",
        "team_id": "T0TEAM",
        "user_id": "U0ALICE",
        "channel_id": "C0GENERAL",
        "response_url": "https://hooks.slack.com/commands/T0TEAM/1/abc",
        "trigger_id": "1.2.3",
    }
)
_ACTION = urlencode(
    {
        "payload": json.dumps(
            {
                "type": "block_actions",
                "team": {"id": "T0TEAM"},
                "user": {"id": "U0BOB"},
                "actions": [{"action_id": "approve", "value": "7"}],
            }
        )
    }
)
_EVENT = json.dumps(
    {
        "type": "event_callback",
        "team_id": "T0TEAM",
        "event_id": "Ev01",
        "event": {"type": "app_home_opened", "user": "U0ALICE"},
    }
)
_FORM = "application/x-www-form-urlencoded"


def _environ(raw: str, content_type: str) -> dict[str, Any]:
    data = raw.encode()
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "QUERY_STRING": "x=1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(data)),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": "1700000000",
        "HTTP_X_SLACK_SIGNATURE": "v0=" + "0" * 64,
        "HTTP_X_SLACK_RETRY_NUM": "1",
        "wsgi.input": io.BytesIO(data),
    }


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [(_COMMAND, _FORM), (_ACTION, _FORM), (_EVENT, "application/json")],
    ids=["slash-command", "block-action", "event"],
)
def test_the_request_is_what_bolt_would_build(raw: str, content_type: str) -> None:
    environ = _environ(raw, content_type)
    theirs = BoltRequest(body=raw, query="x=1", headers=WsgiHttpRequest(environ).get_headers())
    ours = bolt_request(environ, raw, dict(theirs.body))
    assert ours.mode == theirs.mode == "http"
    assert ours.raw_body == theirs.raw_body == raw
    assert ours.body == theirs.body
    assert ours.headers == theirs.headers
    assert ours.query == theirs.query == {"x": ["1"]}
    assert ours.content_type == theirs.content_type
    assert dict(ours.context) == dict(theirs.context)
    assert ours.context.team_id == "T0TEAM"
    copy = ours.to_copyable()  # what a lazy listener gets
    assert copy.raw_body == raw and copy.body == theirs.body


def test_headers_are_read_like_bolts_adapter() -> None:
    environ = _environ(_COMMAND, _FORM)
    headers = bolt_request(environ, _COMMAND, {}).headers  # Bolt keeps each as a list
    assert headers["content-type"] == [_FORM]
    assert headers["content-length"] == [str(len(_COMMAND))]
    assert headers["x-slack-retry-num"] == ["1"]
    assert "query-string" not in headers and "path-info" not in headers
