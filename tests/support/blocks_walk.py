"""Helpers to look inside Block Kit payloads in tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def texts(value: Any) -> Iterator[str]:
    """Every string value anywhere in a block payload."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)


def mrkdwn_texts(value: Any) -> Iterator[str]:
    """The ``text`` of every mrkdwn object in a payload (where escaping matters)."""
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            yield value["text"]
        for item in value.values():
            yield from mrkdwn_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from mrkdwn_texts(item)
