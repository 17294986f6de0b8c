"""Pure Block Kit builders and the mrkdwn escape. No I/O, no database.

Every string that came from a user or from upstream goes through ``escape`` before it enters
mrkdwn, so ``<!channel>`` in a reason reaches Slack as text, not as a ping. Builders also keep
within Slack's limits (3,000 characters a section, 150 a header, 50 blocks a message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.core.errors import GovernanceError

Block = dict[str, Any]

SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
FIELDS_MAX = 10
FIELD_TEXT_MAX = 2000
CONTEXT_ELEMENTS_MAX = 10


@dataclass
class Reply:
    """What a command answers: blocks for Slack, a plain fallback text, and data for --json."""

    text: str
    blocks: list[Block] = field(default_factory=list)
    data: Any = None
    ok: bool = True
    in_channel: bool = False
    # A failure's stable error code (a GovernanceError's ``code``): what --json reports.
    error_code: str | None = None


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` (in that order) so text cannot form mrkdwn controls."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header(text: str) -> Block:
    """A header block (plain text, cut to Slack's 150 characters)."""
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(text, HEADER_TEXT_MAX)},
    }


def section(
    mrkdwn: str, *, fields: list[str] | None = None, accessory: Block | None = None
) -> Block:
    """A section; ``mrkdwn`` and ``fields`` must already be escaped where they hold user text."""
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(mrkdwn or " ", SECTION_TEXT_MAX)},
    }
    if fields:
        block["fields"] = [
            {"type": "mrkdwn", "text": truncate(f, FIELD_TEXT_MAX)} for f in fields[:FIELDS_MAX]
        ]
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(*texts: str) -> Block:
    """A context block of the non-empty mrkdwn ``texts`` (at most 10)."""
    elements = [{"type": "mrkdwn", "text": truncate(t, SECTION_TEXT_MAX)} for t in texts if t]
    return {
        "type": "context",
        "elements": elements[:CONTEXT_ELEMENTS_MAX] or [{"type": "mrkdwn", "text": " "}],
    }


def divider() -> Block:
    """A divider block."""
    return {"type": "divider"}


def code(text: str, limit: int = SECTION_TEXT_MAX - 10) -> str:
    """``text`` as a mrkdwn code block (escaped, fenced, cut to fit a section)."""
    return "```" + truncate(escape(text), limit) + "```"


def fit(blocks: list[Block], limit: int = MESSAGE_BLOCKS_MAX) -> list[Block]:
    """``blocks`` cut to ``limit``, the last one saying how many did not fit."""
    if len(blocks) <= limit:
        return blocks
    hidden = len(blocks) - (limit - 1)
    return [*blocks[: limit - 1], context(f"_{hidden} more not shown._")]


def error_reply(message: str, *, code: str = GovernanceError.code) -> Reply:
    """The one shape every refusal takes: a single clear sentence (and its error ``code``)."""
    return Reply(
        text=message,
        blocks=[section(f":warning: {escape(message)}")],
        ok=False,
        error_code=code,
    )


def message_reply(message: str, *, data: Any = None, in_channel: bool = False) -> Reply:
    """A one-line answer; ``message`` is plain text and is escaped here."""
    return Reply(text=message, blocks=[section(escape(message))], data=data, in_channel=in_channel)
