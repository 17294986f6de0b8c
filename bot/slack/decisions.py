"""The service calls behind buttons and modals, each in its own unit of work.

Listeners stay thin: they parse what Slack sent, call one of these, and render. Authorization
is the services' (a forged button from a non-approver fails here like any other refusal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from bot.slack.context import SlackContext
from governance.alerts import acks
from governance.core.db import transaction
from governance.core.errors import InvalidInput
from governance.flows import decisions as decision_flow
from governance.registry import decisions
from governance.registry.models import Approval, ApprovalState
from governance.registry.requests import request_approval
from governance.registry.validation import parse_expiry, parse_number, parse_use

States = Iterable[ApprovalState] | None


def parse_id(value: object, what: str = "request") -> int:
    """The number a button or modal carries (ASCII digits); anything else is a stale or forged
    payload.

    Raises:
        InvalidInput: not a number written in ASCII digits.
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


def approval_repo(ctx: SlackContext, approval_id: int, only_from: States = None) -> str:
    """The repo of request ``approval_id``, read without waiting for a writer.

    Raises:
        NotFound: no such request. Conflict: it is not in ``only_from`` any more.
    """
    with transaction(ctx.services.read_session_factory) as session:
        approval = decisions.find_approval(session, f"#{approval_id}", states=(), verb="decide")
        decisions.require_rendered_state(approval, only_from)
        return approval.model.repo_id


def request(
    ctx: SlackContext, *, repo: str, use: str | None, reason: str | None, actor: str
) -> int:
    s = ctx.services
    with transaction(s.session_factory) as session:
        approval = request_approval(
            session,
            repo_id=repo.strip(),
            use=parse_use(use or "internal"),
            reason=reason,
            requester=actor,
            clock=s.clock,
        )
        return approval.id


def approve(
    ctx: SlackContext,
    approval_id: int,
    actor: str,
    *,
    conditions: str | None = None,
    expires: str | None = None,
    only_from: States = None,
) -> Approval:
    s = ctx.services
    expires_on: date | None = parse_expiry(expires, today=s.clock.now().date()) if expires else None
    with transaction(s.session_factory) as session:
        return decision_flow.approve(
            session,
            ref=f"#{approval_id}",
            actor=actor,
            approvers=s.approvers,
            clock=s.clock,
            conditions=conditions,
            expires_on=expires_on,
            only_from=only_from,
        )


def reject(
    ctx: SlackContext, approval_id: int, actor: str, reason: str | None, only_from: States = None
) -> Approval:
    return _with_reason(decisions.reject, ctx, approval_id, actor, reason, only_from)


def revoke(
    ctx: SlackContext, approval_id: int, actor: str, reason: str | None, only_from: States = None
) -> Approval:
    return _with_reason(decisions.revoke, ctx, approval_id, actor, reason, only_from)


def _with_reason(
    decide: Callable[..., Approval],
    ctx: SlackContext,
    approval_id: int,
    actor: str,
    reason: str | None,
    only_from: States,
) -> Approval:
    s = ctx.services
    with transaction(s.session_factory) as session:
        return decide(
            session,
            ref=f"#{approval_id}",
            actor=actor,
            approvers=s.approvers,
            reason=reason,
            clock=s.clock,
            only_from=only_from,
        )


def acknowledge(ctx: SlackContext, alert_id: int, actor: str) -> None:
    s = ctx.services
    with transaction(s.session_factory) as session:
        acks.acknowledge(
            session, alert_id=alert_id, actor=actor, clock=s.clock, approvers=s.approvers
        )


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
