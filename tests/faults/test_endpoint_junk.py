"""Junk at the real web process (gunicorn ``serve --http``): never a 500, never a traceback.

Unsigned or badly signed bodies of every shape get 401 before anything is parsed; signed but
malformed payloads get 200 or 400 with a sentence. The bodies come from a seeded generator, so
a failure names a case that can be replayed.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.faults.endpoint_support import post_raw, sign, signed_headers, web_process
from tests.support.slack_fixtures import slack_standin
from tests.support.slack_standin import SlackStandIn

__all__ = ["slack_standin"]

FORM = "application/x-www-form-urlencoded"
UNSIGNED_CASES = 300
SIGNED_CASES = 160
SEED = 20261201


def _junk_body(rng: random.Random) -> bytes:
    pick = rng.randrange(9)
    if pick == 0:
        return b"payload=%7Bnot-json"
    if pick == 1:
        return b"{not"
    if pick == 2:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))  # any bytes
    if pick == 3:
        return b"\xff\xfe" + b"command=/models&text=list"  # invalid UTF-8
    if pick == 4:
        return b"payload=" + quote(json.dumps([1, 2, 3])).encode()
    if pick == 5:
        return b"command=/models&text=approve+%231&user_id=U0ALICE"
    if pick == 6:
        return json.dumps({"type": "block_actions", "user": "x", "actions": []}).encode()
    if pick == 7:
        return b""
    return b"payload=" + quote("{" * rng.randrange(1, 50)).encode()


def _junk_headers(rng: random.Random, body: bytes) -> dict[str, str | bytes]:
    content_type = rng.choice([FORM, "application/json", "text/plain", "", "multipart/x"])
    headers: dict[str, str | bytes] = {"Content-Type": content_type} if content_type else {}
    now = str(int(time.time()))
    variant = rng.randrange(7)
    if variant == 0:
        headers["X-Slack-Request-Timestamp"] = "abc"
        headers["X-Slack-Signature"] = sign(body, "abc")
    elif variant == 1:
        headers["X-Slack-Request-Timestamp"] = now
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif variant == 2:
        headers["X-Slack-Request-Timestamp"] = now  # no signature at all
    elif variant == 3:
        headers["X-Slack-Signature"] = sign(body, now)  # no timestamp
    elif variant == 4:
        old = str(int(time.time()) - 600)
        headers["X-Slack-Request-Timestamp"] = old
        headers["X-Slack-Signature"] = sign(body, old)  # signed, but stale
    elif variant == 5:
        headers["X-Slack-Request-Timestamp"] = "١٧٠٠٠٠٠٠٠٠".encode()  # Arabic-Indic digits
        headers["X-Slack-Signature"] = "v0=" + "a" * 64
    else:
        headers["X-Slack-Request-Timestamp"] = now
        headers["X-Slack-Signature"] = sign(body, now, secret="not-the-secret")
    return headers


def _valid_block_actions() -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U0ALICE", "username": "alice", "team_id": "T0MODELGOV"},
        "team": {"id": "T0MODELGOV", "domain": "modelgov"},
        "api_app_id": "A0MODELGOV",
        "container": {"type": "message", "channel_id": "C0APPROVALS", "message_ts": "1.000001"},
        "channel": {"id": "C0APPROVALS", "name": "approvals"},
        "trigger_id": "1.2.3",
        "actions": [
            {
                "type": "button",
                "action_id": "approval_approve",
                "block_id": "decide-1",
                "value": "1",
                "action_ts": "1.0",
            }
        ],
    }


_WRONG_VALUES: list[Any] = ["x", 5, [], [None], None, {"id": 5}, {}, True, 1.5, ["x"]]
_FIELDS = ["user", "actions", "container", "channel", "team", "type", "authorizations", "view"]


def _signed_malformed(rng: random.Random, index: int) -> tuple[bytes, str]:
    fixed: list[dict[str, Any]] = [
        {**_valid_block_actions(), "user": "U0ALICE"},
        {**_valid_block_actions(), "actions": []},
        {**_valid_block_actions(), "actions": [None]},
        {**_valid_block_actions(), "container": "x"},
        {**_valid_block_actions(), "actions": [{"action_id": 5}]},
        {"type": "view_submission", "user": {"id": "U0ALICE"}, "view": "x"},
        {
            "type": "view_submission",
            "user": {"id": "U0ALICE"},
            "view": {"callback_id": "approve_conditions_submit", "private_metadata": 5},
        },
        {"type": "event_callback", "event": "x", "event_id": "Ev1"},
        {"type": "event_callback", "event": {"type": "app_home_opened", "user": 5}},
    ]
    if index < len(fixed):
        return b"payload=" + quote(json.dumps(fixed[index])).encode(), FORM
    pick = rng.randrange(5)
    if pick == 0:
        return b"payload=%7Bnot-json", FORM
    if pick == 1:
        return b"{not", "application/json"
    if pick == 2:
        return json.dumps(["a", "list"]).encode(), "application/json"
    payload = _valid_block_actions()
    for _ in range(rng.randrange(1, 4)):
        payload[rng.choice(_FIELDS)] = rng.choice(_WRONG_VALUES)
    if pick == 3 and isinstance(payload.get("actions"), list) and payload["actions"]:
        first = payload["actions"][0]
        if isinstance(first, dict):
            first[rng.choice(["value", "block_id", "action_id"])] = rng.choice(_WRONG_VALUES)
    return b"payload=" + quote(json.dumps(payload)).encode(), FORM


def test_junk_never_gets_a_500_nor_a_traceback(
    database_url: str, slack_standin: SlackStandIn, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    with web_process(database_url, slack_standin, tmp_path) as web:
        unsigned = Counter()
        for _ in range(UNSIGNED_CASES):
            body = _junk_body(rng)
            status, _ = post_raw(web.base, body, _junk_headers(rng, body))
            unsigned[status] += 1
        oversized = b"payload=" + b"x" * (1024 * 1024 + 1)
        big_status, big_body = post_raw(web.base, oversized, signed_headers(oversized, FORM))

        signed = Counter()
        started = int(time.time())  # case i is signed i seconds before: distinct signatures
        for index in range(SIGNED_CASES):
            body, content_type = _signed_malformed(rng, index)
            headers = signed_headers(body, content_type, at=started - index)
            status, answer = post_raw(web.base, body, headers)
            signed[status] += 1
            assert status < 500, (index, body[:300], answer[:300])
        log = web.log_text()

    assert unsigned == {401: UNSIGNED_CASES}
    assert big_status == 413 and b"larger than" in big_body
    assert set(signed) <= {200, 400, 404}, signed
    assert signed[400] > 0
    assert "Traceback" not in log
    assert " ERROR " not in log and "[ERROR]" not in log, log[-3000:]
