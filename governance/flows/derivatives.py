"""Lineage in the watcher: bases of watched derivatives get tracked, and a change of a base's
terms reaches every watched derivative.

- A watched derivative whose base is not tracked gets the base tracked *read-only*: watched for
  its terms (a check is queued at once), with no request made for it; the audit trail says
  whose base it is.
- A change of a base's terms (license, license text, license files, gating) is a change for
  each watched derivative too: one ``base_terms_changed`` change per derivative and base check,
  reacted to like the derivative's own (approved approvals to review, one alert, deduplicated by
  the outbox on the base changes' fingerprints).

Runs inside the snapshot's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from governance.core.fingerprints import fingerprint
from governance.core.kinds import ChangeKind
from governance.flows.watch_context import WatchContext
from governance.registry import audit
from governance.registry.audit import SYSTEM_ACTOR
from governance.registry.models import TrackedModel
from governance.registry.tracking import find_model, track_model
from governance.upstream import recording
from governance.upstream.changes import DetectedChange
from governance.upstream.check_requests import request_check
from governance.upstream.facts import SnapshotFacts
from governance.upstream.lineage_queries import derivatives_of

# (session, ctx, model, change, from_snapshot_id, to_snapshot_id): the snapshot flow's reaction.
React = Callable[
    [Session, WatchContext, TrackedModel, DetectedChange, int | None, int | None], None
]


def track_bases(
    session: Session, ctx: WatchContext, model: TrackedModel, facts: SnapshotFacts
) -> list[TrackedModel]:
    """Track, read-only, every base of ``model`` that is not tracked yet, and queue its first
    check; returns the models added (none when every base was tracked already)."""
    lineage = facts.lineage
    if lineage is None or facts.availability != "available":
        return []
    added: list[TrackedModel] = []
    for base in lineage.bases:
        if find_model(session, base) is not None:
            continue
        tracked = track_model(session, repo_id=base, actor=SYSTEM_ACTOR, clock=ctx.clock)
        audit.record(
            session,
            clock=ctx.clock,
            actor=SYSTEM_ACTOR,
            action="tracked_as_base",
            model=tracked,
            after={"base_of": model.repo_id, "relation": lineage.relation},
            detail=(
                f"read-only, as the base of {model.repo_id} ({lineage.relation}): watched for "
                "the terms that bind it; no request was made"
            ),
        )
        request_check(
            session, model_id=tracked.id, reason=f"base of {model.repo_id}", now=ctx.clock.now()
        )
        added.append(tracked)
    return added


def base_change(base: TrackedModel, changes: Sequence[DetectedChange]) -> DetectedChange:
    """The change a derivative gets for the terms ``changes`` of its base ``base``."""
    kind = ChangeKind.BASE_TERMS_CHANGED
    summaries = [c.summary for c in changes]
    details = [line for c in changes for line in c.details]
    after = {
        "base": base.repo_id,
        "changes": [{"kind": c.kind.value, "summary": c.summary} for c in changes],
    }
    return DetectedChange(
        kind,
        f"Its base {base.repo_id} changed terms: {' '.join(summaries)}",
        {"base": base.repo_id},
        after,
        fingerprint([kind, base.repo_key, sorted(c.fingerprint for c in changes)]),
        details=tuple(details),
        diff=next((c.diff for c in changes if c.diff), None),
    )


def fan_out_base_change(
    session: Session,
    ctx: WatchContext,
    base: TrackedModel,
    changes: Sequence[DetectedChange],
    react: React,
) -> list[tuple[str, ChangeKind, str]]:
    """React, for every watched derivative of ``base``, to the terms ``changes`` the base just
    had (nothing when none changed terms). Returns (derivative, kind, summary) per derivative."""
    terms = [c for c in changes if c.affects_terms]
    if not terms:
        return []
    change = base_change(base, terms)
    reported: list[tuple[str, ChangeKind, str]] = []
    for derivative, _relation in derivatives_of(session, base, watched_only=True):
        latest = recording.latest_snapshot_id(session, derivative.id)
        react(session, ctx, derivative, change, latest, latest)
        reported.append((derivative.repo_id, change.kind, change.summary))
    return reported
