"""Recording one check's outcome: snapshot, changes, effects on approvals, alerts.

Runs inside the caller's transaction, so a snapshot, the changes computed from it, the approvals
it moved to review, their audit events and the alerts are committed together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from governance.alerts.service import raise_alert
from governance.registry import service as registry
from governance.registry.models import Approval, ApprovalState, ModelAlias, TrackedModel
from governance.upstream.changes import DetectedChange, detect_changes
from governance.upstream.facts import (
    SnapshotFacts,
    facts_from_hub,
    fingerprint,
    row_from_facts,
    status_differs,
    unavailable_facts,
)
from governance.upstream.family import same_family
from governance.upstream.hub import AuthorModel
from governance.upstream.models import AuthorRepo, Change, Check, LicenseText, WatchState

if TYPE_CHECKING:
    from governance.upstream.watcher import FetchOutcome, WatchContext

UNREACHABLE_AFTER = 3
DIFF_EXCERPT_CHARS = 1500


@dataclass(frozen=True)
class AppliedResult:
    outcome: str  # first | unchanged | changed | failed
    changes: list[tuple[str, str]] = field(default_factory=list)  # kind, summary
    error: str | None = None


def is_quiet(outcome: FetchOutcome) -> bool:
    """A check that found the model exactly as last recorded, with nothing else to do."""
    target = outcome.target
    return (
        outcome.error is None
        and outcome.unavailable is None
        and outcome.status is not None
        and outcome.files is None
        and target.previous is not None
        and not target.unreachable_alerted
        and not target.has_unpinned_approvals
        and not status_differs(target.previous, outcome.status)
    )


def record_quiet(
    session: Session, ctx: WatchContext, model_ids: list[int], cycle_id: int | None
) -> None:
    """Record quiet checks in bulk: one INSERT of checks, one UPDATE of watch states."""
    if not model_ids:
        return
    now = ctx.clock.now()
    session.execute(
        insert(Check),
        [
            {
                "model_id": model_id,
                "cycle_id": cycle_id,
                "checked_at": now,
                "outcome": "unchanged",
                "requests": 1,
            }
            for model_id in model_ids
        ],
    )
    session.execute(
        update(WatchState)
        .where(WatchState.model_id.in_(model_ids))
        .values(last_checked_at=now, last_success_at=now, consecutive_failures=0, last_error=None)
        .execution_options(synchronize_session=False)
    )


def apply_outcome(
    session: Session, ctx: WatchContext, outcome: FetchOutcome, cycle_id: int | None
) -> AppliedResult:
    """Record ``outcome`` for its model and react to what changed."""
    model = session.get(TrackedModel, outcome.target.model_id)
    if model is None:  # untracked meanwhile
        return AppliedResult("unchanged")
    state = session.get(WatchState, model.id) or WatchState(model_id=model.id)
    session.add(state)
    now = ctx.clock.now()
    state.last_checked_at = now
    if outcome.error is not None:
        return _failed(session, ctx, model, state, outcome.error, cycle_id)
    _recovered(session, ctx, model, state)
    previous = outcome.target.previous
    if outcome.unavailable is not None:
        current = unavailable_facts(model.repo_id, outcome.unavailable, previous)
        renamed_from = None
    else:
        assert outcome.status is not None
        current = facts_from_hub(outcome.status, outcome.files, previous=previous)
        renamed_from = outcome.status.renamed_from
        _store_texts(session, outcome, now)
    detected = detect_changes(
        previous, current, text_of=lambda h: _text(session, h), renamed_from=renamed_from
    )
    if previous is not None and not detected:
        session.add(
            Check(
                model_id=model.id,
                cycle_id=cycle_id,
                checked_at=now,
                outcome="unchanged",
                requests=1,
            )
        )
        _pin_unpinned(session, ctx, model, previous, state.latest_snapshot_id)
        return AppliedResult("unchanged")
    snapshot = row_from_facts(current, model_id=model.id, taken_at=now)
    session.add(snapshot)
    session.flush()
    previous_snapshot_id = state.latest_snapshot_id
    state.latest_snapshot_id = snapshot.id
    if renamed_from:
        _rename(session, ctx, model, current.repo_id)
    for change in detected:
        _react(session, ctx, model, change, previous_snapshot_id, snapshot.id)
    if current.availability == "available":
        _pin_unpinned(session, ctx, model, current, snapshot.id)
        if ctx.on_new_snapshot is not None:
            ctx.on_new_snapshot(session, model, current, snapshot.id)
    first = previous is None
    session.add(
        Check(
            model_id=model.id,
            cycle_id=cycle_id,
            checked_at=now,
            outcome="first" if first else "changed",
            snapshot_id=snapshot.id,
        )
    )
    return AppliedResult(
        "first" if first and not detected else "changed", [(c.kind, c.summary) for c in detected]
    )


def _failed(
    session: Session,
    ctx: WatchContext,
    model: TrackedModel,
    state: WatchState,
    error: str,
    cycle_id: int | None,
) -> AppliedResult:
    """A transient failure: a failed check, never a change; alert once after 3 in a row."""
    state.consecutive_failures = (state.consecutive_failures or 0) + 1
    state.last_error = error[:1000]
    session.add(
        Check(
            model_id=model.id,
            cycle_id=cycle_id,
            checked_at=ctx.clock.now(),
            outcome="failed",
            error=error[:1000],
        )
    )
    if state.consecutive_failures >= UNREACHABLE_AFTER and not state.unreachable_alerted:
        state.unreachable_alerted = True
        summary = (
            f"{model.repo_id} could not be checked {state.consecutive_failures} times "
            f"in a row; last error: {error[:200]}"
        )
        raise_alert(
            session,
            kind="upstream_unreachable",
            title=f"{model.repo_id}: unreachable",
            body=summary,
            payload={
                "repo_id": model.repo_id,
                "kind": "upstream_unreachable",
                "summary": [summary],
            },
            state_fingerprint=fingerprint(["unreachable", state.last_success_at]),
            default_destination=ctx.default_destination,
            clock=ctx.clock,
            model_id=model.id,
        )
    return AppliedResult("failed", error=error)


def _recovered(session: Session, ctx: WatchContext, model: TrackedModel, state: WatchState) -> None:
    if state.unreachable_alerted:
        summary = f"{model.repo_id} answers again after {state.consecutive_failures} failed checks."
        raise_alert(
            session,
            kind="upstream_recovered",
            title=f"{model.repo_id}: reachable again",
            body=summary,
            payload={"repo_id": model.repo_id, "kind": "upstream_recovered", "summary": [summary]},
            state_fingerprint=fingerprint(["recovered", ctx.clock.now()]),
            default_destination=ctx.default_destination,
            clock=ctx.clock,
            model_id=model.id,
        )
    state.unreachable_alerted = False
    state.consecutive_failures = 0
    state.last_error = None
    state.last_success_at = ctx.clock.now()


def _store_texts(session: Session, outcome: FetchOutcome, now: Any) -> None:
    for license_file in outcome.files.license_files if outcome.files else ():
        if license_file.text is None or license_file.content_hash is None:
            continue
        if session.get(LicenseText, license_file.content_hash) is None:
            session.add(
                LicenseText(
                    content_hash=license_file.content_hash,
                    text=license_file.text,
                    first_seen_at=now,
                )
            )
    session.flush()


def _text(session: Session, content_hash: str) -> str | None:
    row = session.get(LicenseText, content_hash)
    return row.text if row else None


def _rename(session: Session, ctx: WatchContext, model: TrackedModel, new_id: str) -> None:
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
    clash = registry.find_model(session, new_id)
    if clash is None or clash.id == model.id:
        model.repo_id, model.repo_key = new_id, new_id.lower()
        model.display_name = new_id.split("/", 1)[1]
    registry.audit.record(
        session,
        clock=ctx.clock,
        actor=registry.SYSTEM_ACTOR,
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
    to_snapshot_id: int,
) -> None:
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
            if registry.mark_needs_review(
                session,
                approval=approval,
                clock=ctx.clock,
                reason=f"upstream change #{row.id} ({change.kind}): {change.summary}",
            ):
                in_review.append(approval)
    pinned = [
        {"id": a.id, "use": a.use.value, "revision_sha": a.revision_sha}
        for a in _approvals(session, model, ApprovalState.APPROVED)
        if change.kind == "revision_changed" and a.revision_sha
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
        "pinned_approvals": pinned,
    }
    body = "\n".join(payload["summary"])
    if in_review:
        body += "\nNow in review: " + ", ".join(f"#{a.id} ({a.use.value})" for a in in_review)
    if pinned:
        body += "\nA newer revision exists; " + "; ".join(
            f"approval #{p['id']} covers {p['revision_sha'][:12]}" for p in pinned
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
        registry.audit.record(
            session,
            clock=ctx.clock,
            actor=registry.SYSTEM_ACTOR,
            action="pinned",
            approval=approval,
            before=before,
            after=approval.audited_fields(),
            detail=f"revision {facts.sha[:12]} (snapshot #{snapshot_id})",
        )


def apply_author_listing(
    session: Session, ctx: WatchContext, author: str, listing: list[AuthorModel]
) -> list[tuple[str, str, str]]:
    """Record an author's repos; new ones in a watched model's family become changes.

    The first listing of an author is the baseline: it records, and raises nothing.
    """
    now = ctx.clock.now()
    seen = set(session.scalars(select(AuthorRepo.repo_key).where(AuthorRepo.author == author)))
    baseline = not seen
    watched = list(
        session.scalars(
            select(TrackedModel).where(
                TrackedModel.watched.is_(True), TrackedModel.repo_key.like(f"{author.lower()}/%")
            )
        )
    )
    reported: list[tuple[str, str, str]] = []
    for item in listing:
        key = item.repo_id.lower()
        if key in seen or session.scalar(select(AuthorRepo.id).where(AuthorRepo.repo_key == key)):
            continue
        seen.add(key)
        session.add(
            AuthorRepo(
                author=author,
                repo_key=key,
                repo_id=item.repo_id,
                upstream_created_at=item.created_at,
                first_seen_at=now,
            )
        )
        if baseline or registry.find_model(session, item.repo_id) is not None:
            continue
        for model in watched:
            if not same_family(model.repo_id, item.repo_id):
                continue
            change = DetectedChange(
                "new_release_in_family",
                f"{item.repo_id} was published, in the family of {model.repo_id}.",
                None,
                {
                    "repo_id": item.repo_id,
                    "created_at": item.created_at.isoformat() if item.created_at else None,
                },
                fingerprint(["new_release_in_family", item.repo_id]),
            )
            _react(session, ctx, model, change, None, _latest_snapshot_id(session, model))
            reported.append((model.repo_id, change.kind, change.summary))
    session.flush()
    return reported


def _latest_snapshot_id(session: Session, model: TrackedModel) -> int | None:
    state = session.get(WatchState, model.id)
    return state.latest_snapshot_id if state else None
