"""What a Slack payload must look like before Bolt and the listeners read it.

Slack's payloads have a fixed shape; a signed body that breaks it (``user`` as a string, no
actions, ``container: "x"``) was not sent by Slack as it is documented, and reading it would
fail somewhere deep in Bolt or a listener. ``payload_problem`` finds such bodies first and says
what is wrong in one sentence. Only the fields that Bolt or modelgov read are checked.
"""

from __future__ import annotations

from typing import Any

# Bolt reads these as "a string or an object with an id": anything else breaks it.
_ID_OR_OBJECT = ("user", "team", "channel", "enterprise")
# Objects when present.
_OBJECTS = (
    "view",
    "event",
    "container",
    "message",
    "previous_message",
    "item",
    "assistant_thread",
    "function_data",
    "state",
)
# Objects Bolt looks into for the same fields again.
_NESTED = ("event", "message", "previous_message", "item", "assistant_thread")
_MAX_DEPTH = 4
_INTERACTIVE_WITH_USER = (
    "block_actions",
    "view_submission",
    "view_closed",
    "block_suggestion",
    "shortcut",
    "message_action",
    "interactive_message",
)


def payload_problem(body: dict[str, Any]) -> str | None:
    """None if ``body`` has the shape Slack gives its kind of payload, else one sentence."""
    problem = _common(body, "the payload", 0)
    if problem:
        return problem
    kind = body.get("type")
    if kind is not None and not isinstance(kind, str):
        return "Its `type` is not a string."
    if kind in _INTERACTIVE_WITH_USER:
        user = body.get("user")
        if not isinstance(user, dict) or not _text(user.get("id")):
            return "Its `user` is not an object with an `id`."
    if kind == "block_actions":
        return _actions_problem(body.get("actions"))
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict) or not _text(view.get("callback_id")):
            return "Its `view` is not an object with a `callback_id`."
        metadata = view.get("private_metadata")
        if metadata is not None and not isinstance(metadata, str):
            return "Its `view.private_metadata` is not a string."
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not _text(event.get("type")):
            return "Its `event` is not an object with a `type`."
    if kind == "url_verification" and not isinstance(body.get("challenge"), str):
        return "Its `challenge` is not a string."
    return None


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _common(obj: dict[str, Any], where: str, depth: int) -> str | None:
    for key in _ID_OR_OBJECT:
        value = obj.get(key)
        if value is not None and not isinstance(value, str | dict):
            return f"The `{key}` of {where} is neither a string nor an object."
    for key in _OBJECTS:
        value = obj.get(key)
        if value is not None and not isinstance(value, dict):
            return f"The `{key}` of {where} is not an object."
    authorizations = obj.get("authorizations")
    if authorizations is not None:
        if not isinstance(authorizations, list) or not all(
            isinstance(a, dict) for a in authorizations
        ):
            return f"The `authorizations` of {where} is not a list of objects."
        if authorizations and depth < _MAX_DEPTH:
            problem = _common(authorizations[0], "an authorization", depth + 1)
            if problem:
                return problem
    if depth >= _MAX_DEPTH:
        return None
    for key in _NESTED:
        value = obj.get(key)
        if isinstance(value, dict):
            problem = _common(value, f"its `{key}`", depth + 1)
            if problem:
                return problem
    return None


def _actions_problem(actions: object) -> str | None:
    if not isinstance(actions, list) or not actions:
        return "Its `actions` is not a non-empty list."
    for action in actions:
        if not isinstance(action, dict) or not _text(action.get("action_id")):
            return "An action is not an object with an `action_id`."
        for key in ("value", "block_id"):
            if action.get(key) is not None and not isinstance(action.get(key), str):
                return f"An action's `{key}` is not a string."
    return None
