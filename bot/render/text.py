"""Rendering a Reply's blocks as readable terminal text (console and CLI)."""

from __future__ import annotations

import re
from typing import Any

from bot.render.blocks import Block, Reply

_EMOJI = {
    ":white_check_mark:": "[ok]",
    ":warning:": "[!]",
    ":hourglass_flowing_sand:": "[..]",
    ":no_entry:": "[no]",
    ":x:": "[x]",
    ":calendar:": "[exp]",
    ":bell:": "[alert]",
    ":information_source:": "[i]",
    ":robot_face:": "[model]",
    ":grey_question:": "[?]",
    ":large_green_circle:": "[pass]",
    ":large_yellow_circle:": "[warn]",
    ":red_circle:": "[fail]",
    ":white_circle:": "[-]",
    ":lock:": "[gated]",
    ":label:": "[renamed]",
    ":new:": "[new]",
    ":arrow_up:": "[newer]",
    ":newspaper:": "[digest]",
    ":eyes:": "[ack]",
    ":rotating_light:": "[ALERT]",
    ":page_facing_up:": "[diff]",
    ":pushpin:": "[pinned]",
}
# Slack's date token ``<!date^UNIX^{format}|fallback>``: a terminal shows the fallback text.
_SLACK_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")


_BOLD = re.compile(r"(?<![\w*])\*(\S(?:[^*\n]*?\S)?)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(\S(?:[^_\n]*?\S)?)_(?![\w_])")


def unescape(text: str) -> str:
    """Undo ``bot.render.blocks.escape`` (in reverse order) for display outside Slack."""
    return text.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")


def _mrkdwn(text: str) -> str:
    for code, plain in _EMOJI.items():
        text = text.replace(code, plain)
    text = _SLACK_DATE.sub(r"\1", text)
    text = _ITALIC.sub(r"\1", _BOLD.sub(r"\1", text.replace("```", "")))
    return unescape(text)


def _text_of(element: dict[str, Any]) -> str:
    return _mrkdwn(str(element.get("text", "")))


def render_block(block: Block) -> list[str]:
    """One block as terminal lines (unknown block types render as nothing)."""
    kind = block.get("type")
    if kind == "header":
        title = _text_of(block["text"])
        return [title, "=" * min(len(title), 72)]
    if kind == "section":
        lines = [_text_of(block["text"])] if "text" in block else []
        lines += [_text_of(f) for f in block.get("fields", [])]
        return lines
    if kind == "context":
        return ["  " + _text_of(e) for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    if kind == "divider":
        return ["-" * 40]
    if kind == "actions":
        labels = [str(e.get("text", {}).get("text", "")) for e in block.get("elements", [])]
        return ["  " + "  ".join(f"[{label}]" for label in labels)]
    return []


def render_reply(reply: Reply) -> str:
    """The reply as plain text: its blocks when it has any, else its fallback text."""
    if not reply.blocks:
        return reply.text
    lines: list[str] = []
    for block in reply.blocks:
        lines.extend(render_block(block))
    return "\n".join(lines)
