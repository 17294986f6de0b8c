"""The registry's audit trail as citable sentences: one event per sentence.

Each sentence names one actor, one model, one decision (or request), its use, its date and its
text (reason or conditions), so a reader or a checker can verify it against one record. Events
are read with one query per question.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.assistant.exact import ExactAnswer
from governance.registry.audit import SYSTEM_ACTOR
from governance.registry.models import Approval, AuditEvent, TrackedModel

DECISIONS = ("approved", "reapproved", "rejected", "revoked")
APPROVALS = ("approved", "reapproved")
APPROVAL_ACTIONS = ("requested", *DECISIONS, "needs_review", "expired")


@dataclass(frozen=True)
class Trail:
    """Audit events with the models and approvals they are about (all loaded up front)."""

    events: list[AuditEvent]
    models: dict[int, TrackedModel]
    approvals: dict[int, Approval]

    def approval_of(self, event: AuditEvent) -> Approval | None:
        return self.approvals.get(event.approval_id) if event.approval_id else None

    def repo_of(self, event: AuditEvent) -> str:
        approval = self.approval_of(event)
        if approval is not None:
            return approval.model.repo_id
        model = self.models.get(event.model_id) if event.model_id else None
        return model.repo_id if model is not None else "an unknown model"


def load_trail(
    session: Session,
    models: Collection[TrackedModel],
    *,
    model_ids: Collection[int] | None = None,
    actor: str | None = None,
    actions: Collection[str] | None = None,
) -> Trail:
    """Audit events (oldest first) filtered by model, actor and action, in one query."""
    query = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)
    if model_ids is not None:
        query = query.where(AuditEvent.model_id.in_(list(model_ids)))
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if actions is not None:
        query = query.where(AuditEvent.action.in_(list(actions)))
    events = list(session.scalars(query))
    ids = sorted({e.approval_id for e in events if e.approval_id is not None})
    rows: Iterable[Approval] = (
        session.scalars(select(Approval).where(Approval.id.in_(ids))) if ids else []
    )
    return Trail(events, {m.id: m for m in models}, {a.id: a for a in rows})


def _text(value: str | None) -> str:
    return (value or "").strip().rstrip(".")


def _day(event: AuditEvent) -> str:
    return event.at.date().isoformat()


def event_sentence(event: AuditEvent, trail: Trail) -> str:
    """One audit event as one sentence (ending with a period, without its citation)."""
    repo, approval = trail.repo_of(event), trail.approval_of(event)
    use = f" for {approval.use.value} use" if approval is not None else ""
    who, action, day = event.actor, event.action, _day(event)
    detail = _text(event.detail)
    if action == "requested":
        line = f"{who} requested {repo}{use} on {day}"
        return line + (f" with the reason: {detail}." if detail else ".")
    if action in APPROVALS:
        verb = "approved" if action == "approved" else "re-approved"
        line = f"{who} {verb} {repo}{use} on {day}"
        if detail:
            line += f" with the conditions: {detail}"
        expires = (event.after or {}).get("expires_on")
        # Only the expiry that still holds: a later re-approval may have changed or dropped it.
        current = approval.expires_on.isoformat() if approval and approval.expires_on else None
        line += f", to expire on {expires}" if expires and expires == current else ""
        return line + "."
    if action in ("rejected", "revoked"):
        line = f"{who} {action} {repo}{use} on {day}"
        return line + (f" with the reason: {detail}." if detail else " (no reason recorded).")
    if action == "needs_review":
        line = f"{who} put the approval of {repo}{use} in review on {day}"
        if detail.lower().startswith("upstream change"):
            return line + f" because of {detail}."
        return line + (f" after an upstream change: {detail}." if detail else ".")
    if action == "expired":
        expires = (event.before or {}).get("expires_on")
        line = f"{who} marked the approval of {repo}{use} expired on {day}"
        return line + (f" (its expiry date was {expires})." if expires else ".")
    if action == "model_tracked":
        return f"{who} started tracking {repo} on {day}."
    words = action.replace("_", " ")
    return f"{who} recorded {words} for {repo} on {day}" + (f": {detail}." if detail else ".")


def cite_event(out: ExactAnswer, event: AuditEvent, trail: Trail) -> int:
    """Cite the request an event is about, or the audit event itself."""
    approval = trail.approval_of(event)
    if approval is not None:
        return out.cite_approval(approval)
    repo = trail.repo_of(event)
    return out.cite(
        f"Audit event #{event.id} ({repo}, {event.action.replace('_', ' ')})",
        f"/models history {repo}",
        f"audit:{event.id}",
    )


def add_events(out: ExactAnswer, events: list[AuditEvent], trail: Trail, prefix: str = "") -> None:
    """One cited sentence per event."""
    for event in events:
        out.add(prefix + event_sentence(event, trail), cite_event(out, event, trail))


def is_person(actor: str) -> bool:
    """False for the system actor (rechecks and expiry jobs)."""
    return actor != SYSTEM_ACTOR
