"""Decisions on requests: approve (in two steps), reject, revoke, review, expire; four-eyes.

Every function takes its session and clock explicitly and does not commit: the caller's unit of
work (``governance.core.db.transaction``) commits the change and its audit event together, or
neither. Decisions are conditional UPDATEs on the current state, so two approvers racing on one
request cannot both win, on SQLite or PostgreSQL.

Approving checks the team policy between ``prepare_approval`` and ``record_approval``; the
policy lives above the registry, so ``governance.flows.decide_with_policy.approve`` runs the three.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from governance.core.clock import Clock, format_time
from governance.core.db import rows_matched
from governance.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from governance.registry import audit
from governance.registry.approvers import ApproverDirectory, require_approver
from governance.registry.models import Approval, ApprovalState, IntendedUse
from governance.registry.tracking import get_model
from governance.registry.validation import check_expiry, parse_number, validate_text

_DECIDABLE = (ApprovalState.REQUESTED, ApprovalState.NEEDS_REVIEW)


def find_approval(
    session: Session,
    ref: str,
    *,
    states: Iterable[ApprovalState],
    use: IntendedUse | None = None,
    verb: str,
) -> Approval:
    """The approval ``ref`` names: ``#12`` / ``12``, or a repo id with exactly one candidate.

    For a repo id, the candidates are its approvals in ``states`` (and ``use`` if given). When
    there are none, it returns the latest one (whose state explains why it cannot be decided).

    Raises:
        NotFound: no such request number, untracked repo, or a model with no request.
        InvalidInput: several candidates (the message lists them so the user can name one).
    """
    ref = ref.strip()
    number = parse_number(ref)
    if number is not None:
        approval = session.get(Approval, number)
        if approval is None:
            raise NotFound(f"There is no request #{number}; `/models list` shows them.")
        return approval
    model = get_model(session, ref)
    wanted = set(states)
    candidates = [a for a in model.approvals if a.state in wanted and (use is None or a.use is use)]
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        listed = ", ".join(f"#{a.id} ({a.use.value}, {a.state.value})" for a in candidates)
        raise InvalidInput(
            f"{model.repo_id} has {len(candidates)} requests you could {verb}: {listed}; "
            f"name one by number, e.g. `/models {verb} {candidates[0].id}`."
        )
    latest = max(
        (a for a in model.approvals if use is None or a.use is use),
        key=lambda a: a.id,
        default=None,
    )
    if latest is None:
        raise NotFound(f"{model.repo_id} has no request to {verb}.")
    return latest  # the caller's state check explains why it cannot be decided


@dataclass(frozen=True)
class PreparedApproval:
    """An approval ``actor`` may approve now, with the validated conditions and expiry asked for."""

    approval: Approval
    actor: str
    conditions: str | None
    expires_on: date | None


def prepare_approval(
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
) -> PreparedApproval:
    """The registry's checks on approving ``ref`` (pending, or in review); writes nothing.

    ``only_from``: the states a button offering this was rendered for (Re-approve:
    ``needs_review``; a card's Approve: ``requested``); any other current state is refused.

    Returns what ``record_approval`` records.

    Raises:
        PermissionDenied: ``actor`` is not an approver, or requested it themselves.
        InvalidInput: malformed conditions, an expiry already past, an ambiguous ``ref``.
        NotFound: ``ref`` names no request.
        Conflict: it was already decided (the message names who and when).
    """
    require_approver(session, actor, approvers, "approve")
    conditions_text = validate_text(conditions, field="conditions")
    check_expiry(expires_on, today=clock.now().date())
    approval = find_approval(session, ref, states=_DECIDABLE, use=use, verb="approve")
    require_rendered_state(approval, only_from)
    _require_four_eyes(approval, actor)
    if approval.state not in _DECIDABLE:
        raise _already_decided(approval)
    return PreparedApproval(approval, actor, conditions_text, expires_on)


def record_approval(session: Session, prepared: PreparedApproval, *, clock: Clock) -> Approval:
    """Approve (or re-approve) ``prepared.approval``; returns it, approved and audited.

    Raises:
        Conflict: someone decided it since it was prepared (the message names who and when).
    """
    approval = prepared.approval
    reapproving = approval.state is ApprovalState.NEEDS_REVIEW
    expected = ApprovalState.NEEDS_REVIEW if reapproving else ApprovalState.REQUESTED
    return _transition(
        session,
        approval,
        expected=(expected,),
        new_state=ApprovalState.APPROVED,
        actor=prepared.actor,
        clock=clock,
        action="reapproved" if reapproving else "approved",
        changes={
            "decided_by": prepared.actor,
            "decided_at": clock.now(),
            "conditions": prepared.conditions,
            "expires_on": prepared.expires_on,
        },
        detail=prepared.conditions,
    )


@dataclass(frozen=True)
class _ReasonedDecision:
    verb: str
    from_states: tuple[ApprovalState, ...]
    to_state: ApprovalState
    four_eyes: bool


_REJECT = _ReasonedDecision("reject", (ApprovalState.REQUESTED,), ApprovalState.REJECTED, True)
_REVOKE = _ReasonedDecision(
    "revoke", (ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW), ApprovalState.REVOKED, False
)


def reject(
    session: Session,
    *,
    ref: str,
    actor: str,
    approvers: ApproverDirectory,
    reason: str | None,
    clock: Clock,
    use: IntendedUse | None = None,
    only_from: Iterable[ApprovalState] | None = None,
) -> Approval:
    """Reject a pending request; a reason is required. Returns it, rejected and audited.

    Raises like ``prepare_approval`` (InvalidInput also for a missing reason).
    """
    return _decide_with_reason(
        session,
        _REJECT,
        ref=ref,
        actor=actor,
        approvers=approvers,
        reason=reason,
        clock=clock,
        use=use,
        only_from=only_from,
    )


def revoke(
    session: Session,
    *,
    ref: str,
    actor: str,
    approvers: ApproverDirectory,
    reason: str | None,
    clock: Clock,
    use: IntendedUse | None = None,
    only_from: Iterable[ApprovalState] | None = None,
) -> Approval:
    """Withdraw an approval (approved or in review); a reason is required. Returns it, revoked.

    Raises like ``reject`` (no four-eyes rule: a requester who is an approver may revoke).
    """
    return _decide_with_reason(
        session,
        _REVOKE,
        ref=ref,
        actor=actor,
        approvers=approvers,
        reason=reason,
        clock=clock,
        use=use,
        only_from=only_from,
    )


def _decide_with_reason(
    session: Session,
    decision: _ReasonedDecision,
    *,
    ref: str,
    actor: str,
    approvers: ApproverDirectory,
    reason: str | None,
    clock: Clock,
    use: IntendedUse | None,
    only_from: Iterable[ApprovalState] | None = None,
) -> Approval:
    require_approver(session, actor, approvers, decision.verb)
    reason_text = validate_text(reason, field="reason", required=True)
    approval = find_approval(session, ref, states=decision.from_states, use=use, verb=decision.verb)
    require_rendered_state(approval, only_from)
    if decision.four_eyes:
        _require_four_eyes(approval, actor)
    return _transition(
        session,
        approval,
        expected=decision.from_states,
        new_state=decision.to_state,
        actor=actor,
        clock=clock,
        action=decision.to_state.value,
        changes={"decided_by": actor, "decided_at": clock.now(), "decision_reason": reason_text},
        detail=reason_text,
    )


def mark_needs_review(
    session: Session,
    *,
    approval: Approval,
    reason: str,
    clock: Clock,
    actor: str = audit.SYSTEM_ACTOR,
) -> bool:
    """Move an approved approval back to review (upstream terms changed). False if not approved."""
    try:
        _transition(
            session,
            approval,
            expected=(ApprovalState.APPROVED,),
            new_state=ApprovalState.NEEDS_REVIEW,
            actor=actor,
            clock=clock,
            action="needs_review",
            changes={},
            detail=reason,
        )
    except Conflict:
        return False
    return True


def expire(session: Session, *, approval: Approval, clock: Clock) -> bool:
    """Mark an approval whose expiry date has passed as expired. False if it was not approved."""
    try:
        _transition(
            session,
            approval,
            expected=(ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW),
            new_state=ApprovalState.EXPIRED,
            actor=audit.SYSTEM_ACTOR,
            clock=clock,
            action="expired",
            changes={},
            detail=f"expiry date {approval.expires_on} passed",
        )
    except Conflict:
        return False
    return True


def _transition(
    session: Session,
    approval: Approval,
    *,
    expected: tuple[ApprovalState, ...],
    new_state: ApprovalState,
    actor: str,
    clock: Clock,
    action: str,
    changes: dict[str, Any],
    detail: str | None,
) -> Approval:
    """Move ``approval`` to ``new_state`` only if it is still in one of ``expected``."""
    before = approval.audited_fields()
    values = {**changes, "state": new_state, "updated_at": clock.now()}
    result = session.execute(
        update(Approval)
        .where(Approval.id == approval.id, Approval.state.in_(expected))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(approval)
    if rows_matched(result) != 1:
        raise _already_decided(approval)
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action=action,
        approval=approval,
        before=before,
        after=approval.audited_fields(),
        detail=detail,
    )
    return approval


def _already_decided(approval: Approval) -> Conflict:
    who = (
        f" by {approval.decided_by} at {format_time(approval.decided_at)}"
        if approval.decided_by
        else ""
    )
    label = approval.state.value.replace("_", " ")
    if approval.state is ApprovalState.NEEDS_REVIEW:
        return Conflict(
            f"Request #{approval.id} ({approval.model.repo_id}) is in review after an upstream "
            f"change; approve it again or revoke it."
        )
    return Conflict(f"Request #{approval.id} ({approval.model.repo_id}) was already {label}{who}.")


_STATE_WORDS = {
    ApprovalState.REQUESTED: "pending",
    ApprovalState.NEEDS_REVIEW: "in review",
}


def describe_state(state: ApprovalState) -> str:
    """A state as a sentence says it: ``pending``, ``in review``, ``approved``."""
    return _STATE_WORDS.get(state, state.value.replace("_", " "))


def require_rendered_state(approval: Approval, only_from: Iterable[ApprovalState] | None) -> None:
    """Refuse a button click on ``approval`` unless it is in a state the button was shown for.

    Raises:
        Conflict: it is in another state now; the message says which (and who decided).
    """
    if only_from is None:
        return
    wanted = tuple(only_from)
    if approval.state in wanted:
        return
    was_for = " or ".join(describe_state(s) for s in wanted)
    now = describe_state(approval.state)
    if approval.decided_by and approval.state not in _DECIDABLE:
        now = f"was already {now} by {approval.decided_by} at {format_time(approval.decided_at)}"
    else:
        now = f"is {now} now"
    raise Conflict(
        f"Request #{approval.id} ({approval.model.repo_id}) {now}; this button was for a "
        f"request that is {was_for}, so nothing was changed."
    )


def _require_four_eyes(approval: Approval, actor: str) -> None:
    if approval.requested_by == actor:
        raise PermissionDenied(
            f"You requested #{approval.id} yourself; another approver must decide it."
        )
