"""Exact answers about decisions: why X was rejected, revoked or put in review; what happened
to X; who requested, approved, rejected or revoked X; what a person requested or decided.

Every sentence is one audit event (see ``exact_events``), cited to its request. Nothing is
inferred: a decision without a recorded reason says so.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy.orm import Session

from governance.assistant.exact import ExactAnswer
from governance.assistant.exact_events import (
    APPROVAL_ACTIONS,
    APPROVALS,
    DECISIONS,
    Trail,
    add_events,
    cite_event,
    event_sentence,
    load_trail,
)
from governance.assistant.exact_time import Window
from governance.registry.models import Approval, AuditEvent, IntendedUse, TrackedModel

# How each asked action is said when nothing of the kind happened.
_NEVER = {
    "requested": "requested",
    "approved": "approved",
    "reapproved": "re-approved",
    "rejected": "rejected",
    "revoked": "revoked",
    "needs_review": "put in review",
    "expired": "expired",
}
_REASONED = ("rejected", "revoked", "needs_review", "expired")


def _state_sentence(approval: Approval, today: date | None) -> str:
    state = "in review" if approval.state.value == "needs_review" else approval.state.value
    if today is not None and approval.state.value == "approved" and approval.past_expiry_on(today):
        state = f"expired (its expiry date {approval.expires_on} has passed)"
    if approval.state.value == "requested":
        return (
            f"Request #{approval.id} ({approval.model.repo_id} for {approval.use.value} use) "
            "still waits for a decision."
        )
    return (
        f"Request #{approval.id} ({approval.model.repo_id} for {approval.use.value} use) "
        f"is now {state}."
    )


def _of_use(
    trail: Trail, events: Sequence[AuditEvent], use: IntendedUse | None
) -> list[AuditEvent]:
    if use is None:
        return list(events)
    return [e for e in events if (a := trail.approval_of(e)) is not None and a.use is use]


def _said(actions: Collection[str]) -> str:
    if {"approved", "rejected", "revoked"} <= set(actions):
        return "decided on"
    words = list(dict.fromkeys(_NEVER[a] for a in actions if a in _NEVER and a != "reapproved"))
    return " or ".join(words) if words else "decided"


def why(
    session: Session,
    model: TrackedModel,
    models: Sequence[TrackedModel],
    *,
    actions: Collection[str],
    use: IntendedUse | None,
    today: date | None = None,
) -> ExactAnswer:
    """Why ``model`` was rejected / revoked / put in review / expired: each such event with its
    actor, date and recorded reason, then what happened to that request afterwards."""
    asked = [a for a in actions if a in _REASONED] or list(_REASONED)
    trail = load_trail(session, models, model_ids=[model.id], actions=APPROVAL_ACTIONS)
    events = _of_use(trail, trail.events, use)
    hits = [e for e in events if e.action in asked]
    out = ExactAnswer()
    if not hits:
        scope = f" for {use.value} use" if use else ""
        shown = [
            a for a in sorted(model.approvals, key=lambda a: a.id) if use is None or a.use is use
        ]
        numbers = [out.cite_approval(a) for a in shown]
        out.add(f"{model.repo_id} has never been {_said(asked)}{scope}.", *numbers)
        for approval, n in zip(shown, numbers, strict=True):
            out.add(_state_sentence(approval, today), n)
        return out
    for hit in hits:
        out.add(event_sentence(hit, trail), cite_event(out, hit, trail))
        later = [e for e in events if e.approval_id == hit.approval_id and e.at > hit.at]
        later = [e for e in later if e.action != "requested" and e not in hits]
        add_events(out, later, trail, prefix="Afterwards, ")
    return out


def history(
    session: Session,
    model: TrackedModel,
    models: Sequence[TrackedModel],
    today: date | None = None,
) -> ExactAnswer:
    """Everything the audit trail records about ``model``, oldest first, one event a sentence."""
    trail = load_trail(session, models, model_ids=[model.id])
    out = ExactAnswer()
    if not trail.events:
        out.add(f"Nothing has been recorded about {model.repo_id}.")
        return out
    add_events(out, trail.events, trail)
    for approval in sorted(model.approvals, key=lambda a: a.id):
        out.add(_state_sentence(approval, today), out.cite_approval(approval))
    return out


def who_did(
    session: Session,
    model: TrackedModel,
    models: Sequence[TrackedModel],
    *,
    actions: Collection[str],
    use: IntendedUse | None,
    today: date | None = None,
) -> ExactAnswer:
    """Who requested / rejected / revoked (or approved) ``model``: each such event."""
    wanted = set(actions)
    if wanted & set(APPROVALS):
        wanted |= set(APPROVALS)
    trail = load_trail(session, models, model_ids=[model.id], actions=sorted(wanted))
    hits = _of_use(trail, trail.events, use)
    out = ExactAnswer()
    if not hits:
        scope = f" for {use.value} use" if use else ""
        numbers = [out.cite_approval(a) for a in sorted(model.approvals, key=lambda a: a.id)]
        said = _said(sorted(wanted))
        done = f"{said} {model.repo_id}{scope}"
        if said == "put in review":
            done = f"put the approval of {model.repo_id}{scope} in review"
        out.add(f"Nobody has {done}.", *numbers)
    add_events(out, hits, trail)
    for approval in sorted(model.approvals, key=lambda a: a.id):
        if use is None or approval.use is use:
            out.add(_state_sentence(approval, today), out.cite_approval(approval))
    return out


def by_person(
    session: Session,
    person: str,
    models: Sequence[TrackedModel],
    *,
    actions: Collection[str],
    model: TrackedModel | None = None,
    use: IntendedUse | None = None,
    window: Window | None = None,
    today: date | None = None,
) -> ExactAnswer:
    """What ``person`` requested or decided (``actions``; all approval actions when empty),
    optionally about one model, for one use, within a window; each request's state now."""
    wanted = sorted(set(actions) | (set(APPROVALS) if set(actions) & set(APPROVALS) else set()))
    trail = load_trail(
        session,
        models,
        actor=person,
        actions=wanted or APPROVAL_ACTIONS,
        model_ids=[model.id] if model is not None else None,
    )
    hits = _of_use(trail, trail.events, use)
    if window is not None:
        hits = [e for e in hits if window.contains(e.at.date())]
    out = ExactAnswer()
    if not hits:
        what = _said(wanted) if wanted else "requested or decided"
        about = f" {model.repo_id}" if model is not None else " anything"
        scope = f" for {use.value} use" if use else ""
        when = f" {window.label}" if window is not None else ""
        out.add(f"{person} has not {what}{about}{scope}{when}, as far as the registry records.")
        return out
    for event in hits:
        n = cite_event(out, event, trail)
        out.add(event_sentence(event, trail), n)
        approval = trail.approval_of(event)
        if event.action == "requested" and approval is not None:
            out.add(_state_sentence(approval, today), n)
    return out


def explain_states(
    session: Session,
    model: TrackedModel,
    models: Sequence[TrackedModel],
    use: IntendedUse | None,
    out: ExactAnswer,
) -> None:
    """Add why ``model``'s approvals (of ``use``) that are in review are there: the event that
    put each one in review, with the upstream change it names."""
    waiting = [
        a
        for a in model.approvals
        if a.state.value == "needs_review" and (use is None or a.use is use)
    ]
    if not waiting:
        return
    trail = load_trail(session, models, model_ids=[model.id], actions=["needs_review"])
    for approval in waiting:
        last = [e for e in trail.events if e.approval_id == approval.id][-1:]
        add_events(out, last, trail, prefix="Why: ")


__all__ = ["DECISIONS", "by_person", "explain_states", "history", "who_did", "why"]
