"""Applying one check's outcome: snapshot, changes, approvals to review, alerts, team policy.

Runs inside the caller's transaction, so a snapshot, the changes computed from it, the approvals
it moved to review, their audit events and the alerts are committed together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.alerts.outbox import raise_alert
from governance.core.fingerprints import fingerprint
from governance.core.kinds import ChangeKind, NoticeKind
from governance.flows.derivatives import fan_out_base_change, track_bases
from governance.flows.policy_enforcement import policy_on_new_snapshot
from governance.flows.watch_context import WatchContext
from governance.registry import audit
from governance.registry.audit import SYSTEM_ACTOR
from governance.registry.decisions import mark_needs_review
from governance.registry.models import Approval, ApprovalState, ModelAlias, TrackedModel
from governance.registry.tracking import find_model
from governance.upstream import recording
from governance.upstream.changes import DetectedChange, detect_changes, family_release
from governance.upstream.facts import (
    SnapshotFacts,
    facts_from_hub,
    facts_from_row,
    unavailable_facts,
)
from governance.upstream.family import same_family
from governance.upstream.fetch import FetchOutcome
from governance.upstream.hub import AuthorModel
from governance.upstream.models import Change, Snapshot, WatchState

DIFF_EXCERPT_CHARS = 1500


@dataclass(frozen=True)
class AppliedResult:
    """What recording one outcome amounted to, for the cycle's report."""

    outcome: str  # first | unchanged | changed | failed
    changes: list[tuple[ChangeKind, str]] = field(default_factory=list)  # kind, summary
    error: str | None = None
    # Changes this outcome caused for other models (watched derivatives of a base): repo, kind,
    # summary.
    related: list[tuple[str, ChangeKind, str]] = field(default_factory=list)


def apply_outcome(
    session: Session, ctx: WatchContext, outcome: FetchOutcome, cycle_id: int | None
) -> AppliedResult:
    """Record ``outcome`` for its model and react to what changed; returns what it amounted to.

    Raises only on a bug or a database error (the caller rolls back this model's savepoint).
    """
    model = session.get(TrackedModel, outcome.target.model_id)
    if model is None:  # untracked meanwhile
        return AppliedResult("unchanged")
    now = ctx.clock.now()
    # Locked (PostgreSQL; SQLite has one writer anyway): a concurrent check of the same model,
    # e.g. a webhook's during a scheduled cycle, waits here until this one is committed.
    session.get(WatchState, model.id, with_for_update=True)
    state = recording.checked_state(session, model.id, now=now)
    if outcome.error is not None:
        if recording.record_failure(session, state, outcome.error, cycle_id=cycle_id, now=now):
            _alert_unreachable(session, ctx, model, state, outcome.error)
        return AppliedResult("failed", error=outcome.error)
    streak = recording.record_reachable(state, now=now)
    if streak is not None:
        _alert_recovered(session, ctx, model, streak)
    previous = outcome.target.previous
    recorded = session.get(Snapshot, state.latest_snapshot_id) if state.latest_snapshot_id else None
    if recorded is not None and (previous is None or facts_from_row(recorded) != previous):
        # Another check recorded a snapshot after this one's targets were loaded: compare with
        # that one, or the same change would be recorded twice.
        previous = facts_from_row(recorded)
    if outcome.unavailable is not None:
        current = unavailable_facts(model.repo_id, outcome.unavailable, previous)
        renamed_from = None
    else:
        assert outcome.status is not None
        current = facts_from_hub(outcome.status, outcome.files, previous=previous)
        renamed_from = outcome.status.renamed_from
        recording.store_texts(session, outcome.files, now=now)
    detected = detect_changes(
        previous,
        current,
        text_of=lambda h: recording.stored_text(session, h),
        renamed_from=renamed_from,
    )
    if previous is not None and not detected:
        recording.record_check(
            session, model_id=model.id, cycle_id=cycle_id, outcome="unchanged", now=now
        )
        _pin_unpinned(session, ctx, model, previous, state.latest_snapshot_id)
        return AppliedResult("unchanged")
    previous_snapshot_id = state.latest_snapshot_id
    snapshot = recording.store_snapshot(session, state, current, now=now)
    if renamed_from:
        _rename(session, ctx, model, current.repo_id)
    for change in detected:
        _react(session, ctx, model, change, previous_snapshot_id, snapshot.id)
    related = fan_out_base_change(session, ctx, model, detected, _react)
    if current.availability == "available":
        track_bases(session, ctx, model, current)
        _pin_unpinned(session, ctx, model, current, snapshot.id)
        policy_on_new_snapshot(
            session,
            model,
            current,
            snapshot.id,
            clock=ctx.clock,
            default_destination=ctx.default_destination,
        )
    first = previous is None
    recording.record_check(
        session,
        model_id=model.id,
        cycle_id=cycle_id,
        outcome="first" if first else "changed",
        now=now,
        snapshot_id=snapshot.id,
    )
    return AppliedResult(
        "first" if first and not detected else "changed",
        [(c.kind, c.summary) for c in detected],
        related=related,
    )


def _alert_unreachable(
    session: Session, ctx: WatchContext, model: TrackedModel, state: WatchState, error: str
) -> None:
    kind = NoticeKind.UPSTREAM_UNREACHABLE
    summary = (
        f"{model.repo_id} could not be checked {state.consecutive_failures} times "
        f"in a row; last error: {error[:200]}"
    )
    raise_alert(
        session,
        kind=kind,
        title=f"{model.repo_id}: unreachable",
        body=summary,
        payload={"repo_id": model.repo_id, "kind": kind, "summary": [summary]},
        state_fingerprint=fingerprint(["unreachable", state.last_success_at]),
        default_destination=ctx.default_destination,
        clock=ctx.clock,
        model_id=model.id,
    )


def _alert_recovered(session: Session, ctx: WatchContext, model: TrackedModel, streak: int) -> None:
    kind = NoticeKind.UPSTREAM_RECOVERED
    summary = f"{model.repo_id} answers again after {streak} failed checks."
    raise_alert(
        session,
        kind=kind,
        title=f"{model.repo_id}: reachable again",
        body=summary,
        payload={"repo_id": model.repo_id, "kind": kind, "summary": [summary]},
        state_fingerprint=fingerprint(["recovered", ctx.clock.now()]),
        default_destination=ctx.default_destination,
        clock=ctx.clock,
        model_id=model.id,
    )


def _rename(session: Session, ctx: WatchContext, model: TrackedModel, new_id: str) -> None:
    """Follow a rename on the Hub: the old id stays an alias; the new one is taken unless
    another tracked model holds it already."""
    old_id = model.repo_id
    if session.scalar(select(ModelAlias).where(ModelAlias.alias_key == old_id.lower())) is None:
        session.add(
            ModelAlias(
                model_id=model.id,
                alias=old_id,
                alias_key=old_id.lower(),
                created_at=ctx.clock.now(),
            )
        )
    clash = find_model(session, new_id)
    if clash is None or clash.id == model.id:
        model.repo_id, model.repo_key = new_id, new_id.lower()
        model.display_name = new_id.split("/", 1)[1]
    audit.record(
        session,
        clock=ctx.clock,
        actor=SYSTEM_ACTOR,
        action="renamed",
        model=model,
        before={"repo_id": old_id},
        after={"repo_id": new_id},
    )


def _react(
    session: Session,
    ctx: WatchContext,
    model: TrackedModel,
    change: DetectedChange,
    from_snapshot_id: int | None,
    to_snapshot_id: int | None,
) -> None:
    """Record ``change``; a change of terms moves approved approvals to review; one alert."""
    row = Change(
        model_id=model.id,
        detected_at=ctx.clock.now(),
        kind=change.kind,
        summary=change.summary,
        before=change.before,
        after=change.after,
        diff=change.diff,
        fingerprint=change.fingerprint,
        from_snapshot_id=from_snapshot_id,
        to_snapshot_id=to_snapshot_id,
    )
    session.add(row)
    session.flush()
    in_review: list[Approval] = []
    if change.affects_terms:
        for approval in _approvals(session, model, ApprovalState.APPROVED):
            if mark_needs_review(
                session,
                approval=approval,
                clock=ctx.clock,
                reason=f"upstream change #{row.id} ({change.kind}): {change.summary}",
            ):
                in_review.append(approval)
    pinned = [
        (a, a.revision_sha)
        for a in _approvals(session, model, ApprovalState.APPROVED)
        if change.kind == ChangeKind.REVISION_CHANGED and a.revision_sha
    ]
    payload: dict[str, Any] = {
        "repo_id": model.repo_id,
        "kind": change.kind,
        "change_id": row.id,
        "summary": [change.summary, *change.details],
        "before": change.before,
        "after": change.after,
        "diff_excerpt": (change.diff or "")[:DIFF_EXCERPT_CHARS] or None,
        "diff_truncated": bool(change.diff and len(change.diff) > DIFF_EXCERPT_CHARS),
        "approvals_in_review": [
            {"id": a.id, "use": a.use.value, "decided_by": a.decided_by} for a in in_review
        ],
        "approvers": list(ctx.approvers),
        "pinned_approvals": [
            {"id": a.id, "use": a.use.value, "revision_sha": sha} for a, sha in pinned
        ],
    }
    body = "\n".join(payload["summary"])
    if in_review:
        body += "\nNow in review: " + ", ".join(f"#{a.id} ({a.use.value})" for a in in_review)
    if pinned:
        body += "\nA newer revision exists; " + "; ".join(
            f"approval #{a.id} covers {sha[:12]}" for a, sha in pinned
        )
    raise_alert(
        session,
        kind=change.kind,
        title=f"{model.repo_id}: {change.summary}",
        body=body,
        payload=payload,
        state_fingerprint=change.fingerprint,
        default_destination=ctx.default_destination,
        clock=ctx.clock,
        model_id=model.id,
        change_id=row.id,
    )


def _approvals(session: Session, model: TrackedModel, state: ApprovalState) -> list[Approval]:
    return list(
        session.scalars(
            select(Approval)
            .where(Approval.model_id == model.id, Approval.state == state)
            .order_by(Approval.id)
        )
    )


def _pin_unpinned(
    session: Session,
    ctx: WatchContext,
    model: TrackedModel,
    facts: SnapshotFacts,
    snapshot_id: int | None,
) -> None:
    """Fill in the revision and license fingerprint of approvals granted before any snapshot."""
    if facts.availability != "available" or facts.sha is None:
        return
    for approval in _approvals(session, model, ApprovalState.APPROVED):
        if approval.revision_sha is not None:
            continue
        before = approval.audited_fields()
        approval.revision_sha = facts.sha
        approval.license_fingerprint = facts.license_fingerprint
        approval.updated_at = ctx.clock.now()
        audit.record(
            session,
            clock=ctx.clock,
            actor=SYSTEM_ACTOR,
            action="pinned",
            approval=approval,
            before=before,
            after=approval.audited_fields(),
            detail=f"revision {facts.sha[:12]} (snapshot #{snapshot_id})",
        )


def apply_author_listing(
    session: Session, ctx: WatchContext, author: str, listing: list[AuthorModel]
) -> list[tuple[str, ChangeKind, str]]:
    """Record an author's repos; new ones in a watched model's family become changes.

    The first listing of an author is the baseline: it records, and raises nothing. Returns
    (watched repo, kind, summary) for each change.
    """
    new = recording.record_listing(session, author, listing, now=ctx.clock.now())
    watched = list(
        session.scalars(
            select(TrackedModel).where(
                TrackedModel.watched.is_(True), TrackedModel.repo_key.like(f"{author.lower()}/%")
            )
        )
    )
    reported: list[tuple[str, ChangeKind, str]] = []
    for item in new:
        if find_model(session, item.repo_id) is not None:
            continue
        for model in watched:
            if not same_family(model.repo_id, item.repo_id):
                continue
            change = family_release(item.repo_id, item.created_at, family_of=model.repo_id)
            latest = recording.latest_snapshot_id(session, model.id)
            _react(session, ctx, model, change, None, latest)
            reported.append((model.repo_id, change.kind, change.summary))
    session.flush()
    return reported
