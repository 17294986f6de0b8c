"""Reading Slack's wire formats: Web API bodies (form-encoded or JSON), tokens, booleans.

slack_sdk sends most methods form-encoded, with structured arguments (``blocks``, ``view``,
...) as JSON strings, and some as JSON bodies; the token comes as a bearer header or, in a
form body only, as a ``token`` field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from tests.support.slack_standin_errors import SlackApiRefusal

JSONDict = dict[str, Any]

# One Web API method: the parsed arguments in, the success body out (or SlackApiRefusal).
WebApiMethod = Callable[[JSONDict], JSONDict]

# Methods whose structured arguments arrive as JSON strings when the body is form-encoded.
_JSON_STRING_FIELDS = ("blocks", "attachments", "view", "metadata")


def truthy(value: object) -> bool:
    """Whether a Slack argument is true: JSON ``true`` or the form values "true" and "1"."""
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def parse_body(raw: bytes, content_type: str) -> tuple[JSONDict, bool]:
    """Parse a Web API body. Returns (payload, was_json). Raises ValueError on bad JSON
    (UnicodeDecodeError on bytes that are not UTF-8)."""
    if not raw:
        return {}, False
    if content_type.startswith("application/json"):
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        return data, True
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)), False


def parse_response_url_body(raw: bytes, content_type: str) -> JSONDict:
    """Parse a post to a response_url (JSON as WebhookClient sends, or a form). Raises
    ValueError, UnicodeDecodeError or SlackApiRefusal on a body Slack would not accept."""
    payload = (
        json.loads(raw.decode("utf-8"))
        if content_type.startswith("application/json")
        else dict(parse_qsl(raw.decode("utf-8")))
    )
    if not isinstance(payload, dict):
        raise ValueError("not an object")
    decode_json_fields(payload)
    return payload


def decode_json_fields(payload: JSONDict) -> None:
    """Decode, in place, the structured arguments a form body carries as JSON strings.
    Raises SlackApiRefusal (`invalid_blocks_format`, `invalid_arguments`) on broken JSON."""
    for key in _JSON_STRING_FIELDS:
        value = payload.get(key)
        if isinstance(value, str) and value:
            try:
                payload[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                error = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                raise SlackApiRefusal(error) from exc


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, or None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
