"""Exact lists by state, use and date: what was revoked or rejected, what is in review, what
expired or expires (before July), what was approved or requested (this year, last month).

One sentence per approval or event, cited to its request. Expiry follows
``Approval.past_expiry_on``: an approval is in force through its expiry date and expired from
the day after, even before the expiry job marked it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.assistant.exact import ExactAnswer
from governance.assistant.exact_events import (
    APPROVAL_ACTIONS,
    APPROVALS,
    DECISIONS,
    Trail,
    add_events,
    load_trail,
)
from governance.assistant.exact_time import Window
from governance.registry.models import (
    Approval,
    ApprovalState,
    AuditEvent,
    IntendedUse,
    TrackedModel,
)

_EVENT_OF_STATE = {
    "revoked": ("revoked",),
    "rejected": ("rejected",),
    "needs_review": ("needs_review",),
    "approved": APPROVALS,
    "requested": ("requested",),
    "decided": DECISIONS,
    "all": APPROVAL_ACTIONS,
}
_NOTHING = {
    "revoked": "was revoked",
    "rejected": "was rejected",
    "needs_review": "is in review",
    "approved": "was approved",
    "requested": "was requested",
    "expired": "has expired",
    "expiring": "expires",
    "decided": "was decided",
    "all": "happened",
}


def _scope(use: IntendedUse | None, window: Window | None) -> str:
    return (f" for {use.value} use" if use else "") + (f" {window.label}" if window else "")


def _state_now(approval: Approval, today: date) -> str | None:
    """A sentence on where an approval stands now, when that differs from "approved"."""
    if approval.in_force_on(today):
        return None
    if approval.state is ApprovalState.REQUESTED:
        return f"Request #{approval.id} ({approval.model.repo_id}) still waits for a decision."
    if approval.state is ApprovalState.APPROVED:
        state = f"past its expiry date ({approval.expires_on})"
    else:
        state = "in review" if approval.state.value == "needs_review" else approval.state.value
    return f"Request #{approval.id} ({approval.model.repo_id}) is now {state}."


def _events(
    trail: Trail,
    state: str,
    use: IntendedUse | None,
    window: Window | None,
    among: Sequence[TrackedModel],
) -> list[AuditEvent]:
    ids = {m.id for m in among}
    hits: list[AuditEvent] = []
    for event in trail.events:
        approval = trail.approval_of(event)
        if approval is None or (use is not None and approval.use is not use):
            continue
        if ids and approval.model_id not in ids:
            continue
        if window is not None and not window.contains(event.at.date()):
            continue
        if state == "needs_review" and approval.state is not ApprovalState.NEEDS_REVIEW:
            continue  # put in review once, decided since
        hits.append(event)
    if state == "needs_review":  # the latest review event of each approval in review
        latest = {e.approval_id: e for e in hits}
        hits = [e for e in hits if latest[e.approval_id] is e]
    return hits


def by_state(
    session: Session,
    models: Sequence[TrackedModel],
    *,
    state: str,
    use: IntendedUse | None,
    window: Window | None,
    among: Sequence[TrackedModel],
    today: date,
) -> ExactAnswer:
    """Approvals by ``state`` (revoked, rejected, needs_review, approved, requested: from the
    audit events, dated by the event; expired, expiring: by the expiry date)."""
    out = ExactAnswer()
    if state in ("expired", "expiring"):
        rows = list(session.scalars(select(Approval).where(Approval.expires_on.is_not(None))))
        _by_expiry(out, rows, state=state, use=use, window=window, among=among, today=today)
    else:
        trail = load_trail(session, models, actions=_EVENT_OF_STATE[state])
        hits = _events(trail, state, use, window, among)
        for event in hits:
            add_events(out, [event], trail)
            approval = trail.approval_of(event)
            now = _state_now(approval, today) if approval is not None else None
            if approval is not None and now and state in ("approved", "requested"):
                out.add(now, out.cite_approval(approval))
    if not out.lines:
        out.add(f"Nothing {_NOTHING[state]}{_scope(use, window)}.")
    return out


def _by_expiry(
    out: ExactAnswer,
    approvals: Sequence[Approval],
    *,
    state: str,
    use: IntendedUse | None,
    window: Window | None,
    among: Sequence[TrackedModel],
    today: date,
) -> None:
    ids = {m.id for m in among}
    standing = (ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW)
    rows = [
        a for a in approvals if (not ids or a.model_id in ids) and (use is None or a.use is use)
    ]
    if state == "expired":
        lapsed = [a for a in rows if a.state in standing and a.past_expiry_on(today)]
        marked = [a for a in rows if a.state is ApprovalState.EXPIRED and a.expires_on]
        chosen = marked + lapsed
    else:
        chosen = [
            a
            for a in rows
            if a.state in standing and a.expires_on is not None and not a.past_expiry_on(today)
        ]
    if window is not None:
        chosen = [a for a in chosen if a.expires_on is not None and window.contains(a.expires_on)]
    for approval in sorted(chosen, key=lambda a: (a.expires_on, a.id)):
        n = out.cite_approval(approval)
        subject = f"The approval of {approval.model.repo_id} for {approval.use.value} use"
        verb = "expired on" if state == "expired" else "expires on"
        out.add(f"{subject} (request #{approval.id}) {verb} {approval.expires_on}.", n)
        if approval.state is ApprovalState.NEEDS_REVIEW:
            out.add(f"Request #{approval.id} ({approval.model.repo_id}) is now in review.", n)
