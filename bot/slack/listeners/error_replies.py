"""Failures, shaped for the Slack surface that shows them: an ephemeral refusal or a modal field
error. The sentence itself always comes from ``bot.grammar.failures``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.grammar.failures import failure_message
from bot.render.blocks import truncate

T = TypeVar("T")
VIEW_ERROR_MAX = 500


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """The value of a call, or the sentence explaining why there is none."""

    value: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.error is None


def attempt(what: str, call: Callable[[], T]) -> Outcome[T]:
    """Run ``call``; return its value, or (for a domain error or a bug) the sentence saying why
    it failed. Never raises."""
    try:
        return Outcome(value=call())
    except Exception as exc:  # a refusal or a bug: one sentence either way
        return Outcome(error=failure_message(exc, what))


def view_errors(message: str, fields: Sequence[str]) -> dict[str, str]:
    """``response_action: errors`` for a modal: the message under the field it is about.

    Service messages name what they refuse (``The expiry date ...``, ``A reason is required``);
    the first field whose name appears in the message gets it, else the first field.
    """
    lowered = message.lower()
    hints = {"expires": "expiry", "repo": "model id", "use": "intended use"}
    target = next(
        (f for f in fields if hints.get(f, f) in lowered),
        fields[0],
    )
    return {target: truncate(message, VIEW_ERROR_MAX)}
