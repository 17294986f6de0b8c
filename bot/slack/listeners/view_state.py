"""What a submitted modal carries: its inputs and the metadata we put in it when it opened.

Slack sends the state back as nested objects whose shape a forged submission may break: every
reader here returns None (or {}) rather than fail on one.
"""

from __future__ import annotations

import json
from typing import Any

from bot.render.modals import INPUT_ACTION


def read_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The private_metadata we put in a modal (a dict), or {} if it is not ours."""
    raw = view.get("private_metadata") if isinstance(view, dict) else None
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        meta = json.loads(raw)
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def read_input(view: dict[str, Any], block_id: str) -> str | None:
    """The value of one input as Slack sends it (text, date or selected option)."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    entry = values.get(block_id) if isinstance(values, dict) else None
    if not isinstance(entry, dict):
        return None
    element = entry.get(INPUT_ACTION) or next(iter(entry.values()), None)
    if not isinstance(element, dict):
        return None
    for key in ("value", "selected_date"):
        value = element.get(key)
        if isinstance(value, str):
            return value
    option = element.get("selected_option")
    chosen = option.get("value") if isinstance(option, dict) else None
    return chosen if isinstance(chosen, str) else None
