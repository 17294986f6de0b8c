"""Exact answers that list: what is approved for a use, what is pending or in review, what is
tracked, and the ask-back when a loose model name fits several models. Read-only, no model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from governance.assistant import sources as src
from governance.assistant.exact import ExactAnswer
from governance.licenses.knowledge import load_knowledge_base
from governance.registry.models import (
    OPEN_STATES,
    Approval,
    ApprovalState,
    IntendedUse,
    TrackedModel,
)


def approved_for_use(
    session: Session, use: IntendedUse | None, among: Sequence[TrackedModel], today: date
) -> ExactAnswer:
    """Models approved (for ``use``), optionally only ``among`` some models; reviews noted."""
    out = ExactAnswer()
    query = select(Approval).options(selectinload(Approval.model)).order_by(Approval.id)
    query = query.where(Approval.state.in_((ApprovalState.APPROVED, ApprovalState.NEEDS_REVIEW)))
    if use is not None:
        query = query.where(Approval.use == use)
    if among:
        query = query.where(Approval.model_id.in_([m.id for m in among]))
    rows = list(session.scalars(query))
    approved = [a for a in rows if a.in_force_on(today)]
    review = [a for a in rows if a not in approved]
    scope = f" for {use.value} use" if use else ""
    if not approved:
        out.add(f"No model is approved{scope}.")
    else:
        out.add(f"Approved{scope} ({len(approved)}):")
        for a in approved:
            out.add("- " + src.approval_facts(a, today), out.cite_approval(a))
    if review:
        out.add(f"Not usable until approved again (in review or past expiry) ({len(review)}):")
        for a in review:
            out.add("- " + src.approval_facts(a, today), out.cite_approval(a))
    return out


def pending(
    session: Session, today: date | None = None, use: IntendedUse | None = None
) -> ExactAnswer:
    """Requests waiting for a decision and approvals in review (for ``use``, if given)."""
    out = ExactAnswer()
    query = select(Approval).options(selectinload(Approval.model)).order_by(Approval.id)
    if use is not None:
        query = query.where(Approval.use == use)
    rows = list(
        session.scalars(
            query.where(Approval.state.in_((ApprovalState.REQUESTED, ApprovalState.NEEDS_REVIEW)))
        )
    )
    requested = [a for a in rows if a.state is ApprovalState.REQUESTED]
    review = [a for a in rows if a.state is ApprovalState.NEEDS_REVIEW]
    scope = f" for {use.value} use" if use else ""
    if not rows:
        out.add("Nothing is pending or in review" + (f" for {use.value} use." if use else "."))
        return out
    if requested:
        out.add(f"Pending requests{scope} ({len(requested)}):")
        for a in requested:
            out.add("- " + src.approval_facts(a, today), out.cite_approval(a))
    if review:
        out.add(f"In review after an upstream change{scope} ({len(review)}):")
        for a in review:
            out.add("- " + src.approval_facts(a, today), out.cite_approval(a))
    return out


def clarify(candidates: Sequence[TrackedModel]) -> ExactAnswer:
    """Ask back: the loose name fits several tracked models."""
    out = ExactAnswer()
    names = [m.repo_id for m in candidates[:8]]
    shown = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
    out.add(f"Which model do you mean: {shown}? Ask again with its full name.")
    return out


def not_tracked(name: str) -> ExactAnswer:
    out = ExactAnswer()
    out.add(
        f"{name} is not tracked, so it has no approval; request it with "
        f"`/models request {name} --use <use>`."
    )
    return out


def tracked(session: Session) -> ExactAnswer:
    """Every tracked model: watched or not, current license, standing approvals."""
    out = ExactAnswer()
    models = src.tracked_models(session, with_approvals=False)
    if not models:
        out.add("No model is tracked yet; `/models request <repo>` adds one.")
        return out
    kb = load_knowledge_base()
    latest = src.latest_snapshots(session)
    open_rows = session.execute(
        select(Approval.model_id, Approval.use, Approval.state).where(
            Approval.state.in_(OPEN_STATES)
        )
    )
    standing_of: dict[int, list[str]] = {}
    for model_id, use, state in open_rows:
        standing_of.setdefault(model_id, []).append(f"{use.value} {state.value.replace('_', ' ')}")
    out.add(f"Tracked models ({len(models)}):")
    for model in models:
        snapshot = latest.get(model.id)
        terms = src.license_of(snapshot, kb)
        license_shown = terms.id if terms else (snapshot.license if snapshot else None)
        standing = sorted(standing_of.get(model.id, []))
        line = f"- {model.repo_id}: license {license_shown or 'not checked yet'}"
        line += "; " + (", ".join(standing) if standing else "no standing approval")
        line += "" if model.watched else "; not watched"
        out.add(line + ".")
    return out
