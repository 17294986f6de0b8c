"""Writing and reading audit events. Writers call ``record`` inside the changing transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.core.clock import Clock
from governance.registry.models import Approval, AuditEvent, TrackedModel

# The actor the audit trail names for changes nobody made by hand (expiry, upstream review).
SYSTEM_ACTOR = "modelgov"


def record(
    session: Session,
    *,
    clock: Clock,
    actor: str,
    action: str,
    model: TrackedModel | None = None,
    approval: Approval | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Add one audit event to ``session`` (committed with the change it describes)."""
    if model is None and approval is not None:
        model = approval.model
    event = AuditEvent(
        at=clock.now(),
        actor=actor,
        action=action,
        model_id=model.id if model is not None else None,
        approval_id=approval.id if approval is not None else None,
        before=before,
        after=after,
        detail=detail,
    )
    session.add(event)
    return event


def events_for_model(
    session: Session, model: TrackedModel, *, limit: int = 200
) -> list[AuditEvent]:
    """The model's audit trail, oldest first (the newest ``limit`` events)."""
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.model_id == model.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))
