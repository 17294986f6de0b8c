"""The service calls behind buttons and modals, each in its own unit of work.

Listeners stay thin: they parse what Slack sent, call one of these, and render. Authorization
is the services' (a forged button from a non-approver fails here like any other refusal).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.slack.context import SlackContext
from governance.alerts import acks
from governance.db import transaction
from governance.errors import InvalidInput
from governance.registry import service
from governance.registry.models import Approval
from governance.registry.validation import parse_expiry, parse_use


def parse_id(value: object, what: str = "request") -> int:
    """The number a button or modal carries; anything else is a stale or forged payload."""
    text = str(value or "").strip().removeprefix("#")
    if not text.isdigit() or len(text) > 12:
        raise InvalidInput(
            f"That {what} button is out of date; `/models list` shows the current ones."
        )
    return int(text)


def approval_repo(ctx: SlackContext, approval_id: int) -> str:
    with transaction(ctx.services.session_factory) as session:
        return service.find_approval(
            session, f"#{approval_id}", states=(), verb="decide"
        ).model.repo_id


def request(
    ctx: SlackContext, *, repo: str, use: str | None, reason: str | None, actor: str
) -> int:
    s = ctx.services
    with transaction(s.session_factory) as session:
        approval = service.request_approval(
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
) -> Approval:
    s = ctx.services
    expires_on: date | None = parse_expiry(expires, today=s.clock.now().date()) if expires else None
    with transaction(s.session_factory) as session:
        return service.approve(
            session,
            ref=f"#{approval_id}",
            actor=actor,
            approvers=s.approvers,
            clock=s.clock,
            conditions=conditions,
            expires_on=expires_on,
        )


def reject(ctx: SlackContext, approval_id: int, actor: str, reason: str | None) -> Approval:
    return _with_reason(service.reject, ctx, approval_id, actor, reason)


def revoke(ctx: SlackContext, approval_id: int, actor: str, reason: str | None) -> Approval:
    return _with_reason(service.revoke, ctx, approval_id, actor, reason)


def _with_reason(
    decide: Callable[..., Approval],
    ctx: SlackContext,
    approval_id: int,
    actor: str,
    reason: str | None,
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
        )


def acknowledge(ctx: SlackContext, alert_id: int, actor: str) -> None:
    s = ctx.services
    with transaction(s.session_factory) as session:
        acks.acknowledge(session, alert_id=alert_id, actor=actor, clock=s.clock)
