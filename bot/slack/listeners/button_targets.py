"""What a button or a form points at, read from its payload and checked before anything runs.

A value Slack echoes back (a request number, an alert's block id, the states a card showed)
was written by us, but a stale card or a forged payload can carry anything: each is checked
here and refused in one sentence. Reads use read-only sessions (they run before an ack, and
never wait for a writer); the decisions themselves are the grammar's handlers.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.slack.delivery.context import SlackContext
from governance.alerts import acks
from governance.core.db import transaction
from governance.core.errors import InvalidInput
from governance.registry.decisions import find_approval, require_rendered_state
from governance.registry.models import ApprovalState
from governance.registry.validation import parse_number

PENDING = (ApprovalState.REQUESTED,)
IN_REVIEW = (ApprovalState.NEEDS_REVIEW,)


def parse_id(value: object, what: str = "request") -> int:
    """The number a button or modal carries (ASCII digits).

    Raises:
        InvalidInput: not a number written in ASCII digits (a stale or forged payload).
    """
    try:
        number = parse_number(value, what=what)
    except InvalidInput:
        number = None
    if number is None:
        raise InvalidInput(
            f"That {what} button is out of date; `/models list` shows the current ones."
        )
    return number


def rendered_for(
    meta: dict[str, object], default: tuple[ApprovalState, ...]
) -> tuple[ApprovalState, ...]:
    """The states the button that opened a modal was shown for (``for`` in its metadata), or
    ``default`` when it names none.

    Raises:
        InvalidInput: the metadata names something that is not a state (not ours).
    """
    named = meta.get("for")
    if named is None:
        return default
    if not isinstance(named, list) or not named:
        raise InvalidInput("This form is out of date; open it again from the card.")
    try:
        return tuple(ApprovalState(str(value)) for value in named)
    except ValueError:
        raise InvalidInput("This form is out of date; open it again from the card.") from None


def approval_repo(
    ctx: SlackContext, approval_id: int, only_from: Iterable[ApprovalState] | None = None
) -> str:
    """The repo of request ``approval_id`` (for the title of the form a button opens).

    Raises:
        NotFound: no such request. Conflict: it is not in ``only_from`` any more.
    """
    with transaction(ctx.services.read_session_factory) as session:
        approval = find_approval(session, f"#{approval_id}", states=(), verb="decide")
        require_rendered_state(approval, only_from)
        return approval.model.repo_id


def alert_lists_approval(ctx: SlackContext, alert_id: int, approval_id: int) -> None:
    """Refuse a Re-approve / Revoke click whose approval is not one the alert put in review.

    Raises:
        NotFound: no such alert. InvalidInput: the alert does not list ``approval_id``.
    """
    with transaction(ctx.services.read_session_factory) as session:
        alert = acks.get_alert(session, alert_id)
        listed = (alert.payload or {}).get("approvals_in_review") or []
        ids = {str(item.get("id")) for item in listed if isinstance(item, dict)}
    if str(approval_id) not in ids:
        raise InvalidInput(
            f"That button is out of date: alert #{alert_id} did not put request "
            f"#{approval_id} in review; `/models list review` shows the ones in review."
        )
