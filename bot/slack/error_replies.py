"""Domain errors and surprises, turned into what a Slack user sees, in one place.

A ``GovernanceError`` carries one sentence for people: it becomes an ephemeral refusal or a
modal field error. Anything else is a bug: it is logged with a short reference the user can
quote, and Slack never sees a traceback.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.render.blocks import Reply, error_reply, truncate
from governance.core.errors import GovernanceError

log = logging.getLogger(__name__)

T = TypeVar("T")
VIEW_ERROR_MAX = 500


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """The value of a service call, or the message explaining why there is none."""

    value: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def reply(self) -> Reply:
        return error_reply(self.error or "")


def attempt(what: str, call: Callable[[], T]) -> Outcome[T]:
    """Run ``call``; a domain error or a bug becomes ``Outcome.error`` (a sentence)."""
    try:
        return Outcome(value=call())
    except GovernanceError as exc:
        return Outcome(error=exc.message)
    except Exception:
        return Outcome(error=unexpected(what))


def unexpected(what: str) -> str:
    """Log the exception being handled; return the sentence to show instead of it."""
    reference = uuid.uuid4().hex[:8]
    log.exception("%s failed (ref %s)", what, reference)
    return f"Something went wrong on our side; it was logged with reference {reference}."


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
