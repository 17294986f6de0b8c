"""Deciding requests with the team policy: the registry's rules, then the policy, then the write.

The registry (below the license domain) knows nothing of the policy, so the steps that cross
the two live here: a request is recorded and judged, an approval is checked, capped and
recorded. Every surface (slash commands, buttons, modals, CLI) calls these; like the registry,
they take the caller's session and do not commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.orm import Session

from governance.core.clock import Clock
from governance.flows.policy_enforcement import check_approval, policy_verdict
from governance.licenses.policy_eval import PolicyReport
from governance.registry.approvers import ApproverDirectory
from governance.registry.decisions import prepare_approval, record_approval
from governance.registry.models import Approval, ApprovalState, IntendedUse
from governance.registry.requests import request_approval


@dataclass(frozen=True)
class RecordedRequest:
    """A request just recorded, and the team policy's verdict on it (shown to the requester)."""

    approval: Approval
    verdict: PolicyReport


def request(
    session: Session,
    *,
    repo_id: str,
    use: IntendedUse,
    reason: str | None,
    requester: str,
    clock: Clock,
) -> RecordedRequest:
    """Record a request to use ``repo_id`` for ``use``; returns it with the policy's verdict.

    The request is recorded whatever the policy says (a failing rule blocks the approval).

    Raises:
        InvalidInput: malformed repo id, user or reason.
        Conflict: the model already has a pending or standing approval for this use.
    """
    approval = request_approval(
        session, repo_id=repo_id, use=use, reason=reason, requester=requester, clock=clock
    )
    verdict = policy_verdict(session, repo_id=approval.model.repo_id, use=use, clock=clock)
    return RecordedRequest(approval, verdict)


def approve(
    session: Session,
    *,
    ref: str,
    actor: str,
    approvers: ApproverDirectory,
    clock: Clock,
    conditions: str | None = None,
    expires_on: date | None = None,
    use: IntendedUse | None = None,
    only_from: Iterable[ApprovalState] | None = None,
) -> Approval:
    """Approve a pending request, or re-approve one in review; returns it, approved and audited.

    The expiry recorded is ``expires_on``, or the policy's max-approval-days cap when none is
    given. ``only_from``: the states the button offering this was rendered for.

    Raises:
        PermissionDenied: ``actor`` is not an approver, or requested it themselves.
        InvalidInput: malformed conditions, an expiry already past, an ambiguous ``ref``.
        NotFound: ``ref`` names no request.
        Conflict: it was already decided (the message names who and when).
        PolicyBlocked (a Conflict): a team policy rule fails (not in dry-run mode).
    """
    prepared = prepare_approval(
        session,
        ref=ref,
        actor=actor,
        approvers=approvers,
        clock=clock,
        conditions=conditions,
        expires_on=expires_on,
        use=use,
        only_from=only_from,
    )
    capped = check_approval(
        session, approval=prepared.approval, expires_on=prepared.expires_on, clock=clock
    )
    return record_approval(session, replace(prepared, expires_on=capped), clock=clock)
