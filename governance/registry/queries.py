"""Reading the registry: approvals by state and use, one model's overview, its audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from governance.registry import audit
from governance.registry.models import (
    Approval,
    ApprovalState,
    AuditEvent,
    IntendedUse,
    TrackedModel,
)
from governance.registry.tracking import get_model


def list_approvals(
    session: Session, *, state: ApprovalState | None = None, use: IntendedUse | None = None
) -> list[Approval]:
    """Approvals, newest first, optionally filtered by state and use."""
    return list(session.scalars(_approvals_query(state, use)).all())


def page_of_approvals(
    session: Session,
    *,
    offset: int,
    limit: int,
    state: ApprovalState | None = None,
    use: IntendedUse | None = None,
) -> tuple[list[Approval], int]:
    """(approvals ``offset`` to ``offset + limit`` of ``list_approvals``'s order, how many
    match in all): one page read in the database, not the whole list in memory."""
    matching = _approvals_query(state, use)
    total = session.scalar(select(func.count()).select_from(matching.order_by(None).subquery()))
    page = list(session.scalars(matching.offset(offset).limit(limit)).all())
    return page, int(total or 0)


def _approvals_query(state: ApprovalState | None, use: IntendedUse | None) -> Select[Approval]:
    query = select(Approval).options(selectinload(Approval.model)).order_by(Approval.id.desc())
    if state is not None:
        query = query.where(Approval.state == state)
    if use is not None:
        query = query.where(Approval.use == use)
    return query


@dataclass(frozen=True)
class ModelOverview:
    """One model as ``info`` shows it: its approvals and latest audit events, newest first;
    ``reviews``: for each approval in review, the event that moved it there."""

    model: TrackedModel
    approvals: list[Approval]
    recent_events: list[AuditEvent]
    reviews: dict[int, AuditEvent] = field(default_factory=dict)


def model_overview(session: Session, *, repo: str) -> ModelOverview:
    """One model: its approvals (newest first) and its latest audit events.

    Raises:
        InvalidInput / NotFound: like ``get_model``.
    """
    model = get_model(session, repo)
    approvals = sorted(model.approvals, key=lambda a: a.id, reverse=True)
    return ModelOverview(
        model,
        approvals,
        audit.events_for_model(session, model, limit=10),
        review_events(session, approvals),
    )


def history(session: Session, *, repo: str) -> tuple[TrackedModel, list[AuditEvent]]:
    """The model and its whole audit trail, oldest first.

    Raises:
        InvalidInput / NotFound: like ``get_model``.
    """
    model = get_model(session, repo)
    return model, audit.events_for_model(session, model, limit=1000)


def review_events(session: Session, approvals: list[Approval]) -> dict[int, AuditEvent]:
    """For each of ``approvals`` in review, the event that moved it there (who, when, why):
    one query for them all."""
    ids = [a.id for a in approvals if a.state is ApprovalState.NEEDS_REVIEW]
    return audit.latest_events(session, ids, action="needs_review")
