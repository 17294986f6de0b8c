"""Requests to use a model: recorded once per model and use, duplicates refused.

Like every registry writer, these take the caller's session and do not commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from governance.core.clock import Clock
from governance.core.errors import Conflict
from governance.registry import audit
from governance.registry.models import (
    OPEN_STATES,
    Approval,
    ApprovalState,
    IntendedUse,
    TrackedModel,
)
from governance.registry.tracking import track_model
from governance.registry.validation import validate_repo_id, validate_text, validate_user_id

# The use a request is for when the requester names none (command, modal, button).
DEFAULT_USE = IntendedUse.INTERNAL


def request_approval(
    session: Session,
    *,
    repo_id: str,
    use: IntendedUse,
    reason: str | None,
    requester: str,
    clock: Clock,
) -> Approval:
    """Record a request to use ``repo_id`` for ``use``; returns the new (requested) approval.

    Raises:
        InvalidInput: malformed repo id, user or reason.
        Conflict: the model already has a pending or standing approval for this use.
    """
    validate_user_id(requester)
    validate_repo_id(repo_id)
    reason_text = validate_text(reason, field="reason") or ""
    model = track_model(session, repo_id=repo_id, actor=requester, clock=clock)
    existing = _open_approval_for(session, model, use)
    if existing is not None:
        raise _duplicate(existing)
    now = clock.now()
    approval = Approval(
        model_id=model.id,
        use=use,
        state=ApprovalState.REQUESTED,
        reason=reason_text,
        requested_by=requester,
        requested_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(approval)
            session.flush()
    except IntegrityError:
        # Another request for the same model and use won the race (partial unique index).
        raced = _open_approval_for(session, model, use)
        error = _duplicate(raced) if raced else Conflict("The request could not be saved; retry.")
        raise error from None
    audit.record(
        session,
        clock=clock,
        actor=requester,
        action="requested",
        approval=approval,
        after=approval.audited_fields(),
        detail=reason_text or None,
    )
    return approval


def _open_approval_for(session: Session, model: TrackedModel, use: IntendedUse) -> Approval | None:
    return session.scalar(
        select(Approval).where(
            Approval.model_id == model.id, Approval.use == use, Approval.state.in_(OPEN_STATES)
        )
    )


def _duplicate(existing: Approval) -> Conflict:
    what = {
        ApprovalState.REQUESTED: f"already requested by {existing.requested_by} and pending",
        ApprovalState.APPROVED: f"already approved by {existing.decided_by}",
        ApprovalState.NEEDS_REVIEW: "already approved and now in review",
    }[existing.state]
    return Conflict(
        f"{existing.model.repo_id} for {existing.use.value} use is {what} "
        f"(request #{existing.id}); see `/models info {existing.model.repo_id}`."
    )
