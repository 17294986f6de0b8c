"""The Hub stand-in's answers as the Hub shapes them: JSON bodies, and errors that carry
``X-Error-Code`` and ``X-Error-Message`` beside a JSON ``{"error": ...}`` body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple


class HubReply(NamedTuple):
    """One HTTP answer: status, headers (Content-Length is added when sent), body."""

    status: int
    headers: dict[str, str]
    body: bytes


NOT_FOUND_PAGE = "Sorry, we can't find the page you are looking for."


def json_reply(status: int, data: Any) -> HubReply:
    return HubReply(
        status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(data).encode()
    )


def error_reply(
    status: int, body: Mapping[str, Any], code: str | None = None, message: str | None = None
) -> HubReply:
    """A JSON error; `code` and `message` go into the X-Error-* headers huggingface_hub reads."""
    reply = json_reply(status, body)
    if code:
        reply.headers["X-Error-Code"] = code
    if message:
        reply.headers["X-Error-Message"] = message
    return reply
