"""The modals of the Slack app. Pure builders; titles and labels within Slack's limits.

Reading what a submitted modal carries is the listeners' (``bot.slack.listeners.view_state``).
"""

from __future__ import annotations

import json
from typing import Any

from bot.render.blocks import Block, escape, section
from governance.registry.models import IntendedUse
from governance.registry.requests import DEFAULT_USE
from governance.registry.validation import TEXT_MAX

REQUEST_MODAL = "request_submit"
CONDITIONS_MODAL = "approve_conditions_submit"
REJECT_MODAL = "reject_submit"
REVOKE_MODAL = "revoke_submit"
INPUT_ACTION = "value"  # the action_id of every input; blocks are told apart by block_id


def _input(
    block_id: str, label: str, element: Block, *, optional: bool = False, hint: str | None = None
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": {**element, "action_id": INPUT_ACTION},
        "optional": optional,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def _text_input(placeholder: str, *, multiline: bool = False, max_length: int = TEXT_MAX) -> Block:
    return {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": max_length,
        "placeholder": {"type": "plain_text", "text": placeholder},
    }


def _modal(callback_id: str, title: str, submit: str, blocks: list[Block], meta: Any) -> Block:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(meta),
        "blocks": blocks,
    }


def request_modal(channel: str | None) -> Block:
    """``/models request`` alone: repo, intended use, reason."""
    options = [
        {"text": {"type": "plain_text", "text": use.value}, "value": use.value}
        for use in IntendedUse
    ]
    use_select = {
        "type": "static_select",
        "options": options,
        "initial_option": options[list(IntendedUse).index(DEFAULT_USE)],
    }
    blocks = [
        _input(
            "repo",
            "Model (Hugging Face id)",
            _text_input("meta-llama/Llama-3.1-8B-Instruct", max_length=96),
        ),
        _input("use", "Intended use", use_select),
        _input(
            "reason",
            "Why the team needs it",
            _text_input("What you will build with it", multiline=True),
            optional=True,
        ),
    ]
    return _modal(REQUEST_MODAL, "Request a model", "Request", blocks, {"channel": channel})


def conditions_modal(*, approval_id: int, repo: str, meta: dict[str, Any]) -> Block:
    """Approve with conditions: the conditions and an optional expiry date."""
    blocks = [
        section(f"Approve request *#{approval_id}*: *{escape(repo)}*"),
        _input(
            "conditions",
            "Conditions",
            _text_input("e.g. internal evaluation only; no customer data", multiline=True),
        ),
        _input(
            "expires",
            "Expires on",
            {"type": "datepicker"},
            optional=True,
            hint="After this date the approval lapses and must be renewed.",
        ),
    ]
    return _modal(
        CONDITIONS_MODAL, "Approve with conditions", "Approve", blocks, {**meta, "id": approval_id}
    )


def reason_modal(
    *, callback_id: str, title: str, submit: str, approval_id: int, repo: str, meta: dict[str, Any]
) -> Block:
    """Reject or revoke: a required reason."""
    verb = "Reject request" if callback_id == REJECT_MODAL else "Revoke approval"
    blocks = [
        section(f"{verb} *#{approval_id}*: *{escape(repo)}*"),
        _input("reason", "Reason", _text_input("Say briefly why", multiline=True)),
    ]
    return _modal(callback_id, title, submit, blocks, {**meta, "id": approval_id})
