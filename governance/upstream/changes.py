"""Change detection: the difference between two snapshots, as typed changes. Pure functions.

Each change carries before/after values, a one-line summary, optional detail lines (the clause
summary of a license change) and a fingerprint of its new state (the outbox dedupes on it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from governance.core.fingerprints import fingerprint
from governance.core.kinds import ChangeKind
from governance.licenses.clauses import diff_license_ids
from governance.licenses.diffs import clause_diff
from governance.licenses.knowledge import load_knowledge_base
from governance.upstream.facts import AVAILABLE, SnapshotFacts
from governance.upstream.hub import is_weight_file

# Kinds after which the terms an approval was granted under may no longer hold.
TERMS_KINDS = frozenset(
    {
        ChangeKind.LICENSE_CHANGED,
        ChangeKind.LICENSE_TEXT_CHANGED,
        ChangeKind.LICENSE_FILE_ADDED,
        ChangeKind.LICENSE_FILE_REMOVED,
        ChangeKind.GATING_CHANGED,
        ChangeKind.BASE_TERMS_CHANGED,
    }
)


@dataclass(frozen=True)
class DetectedChange:
    """One difference between two snapshots: its kind, a one-line summary, before and after,
    the fingerprint of its new state, detail lines and, for a license text, the unified diff."""

    kind: ChangeKind
    summary: str
    before: Any
    after: Any
    fingerprint: str
    details: tuple[str, ...] = ()
    diff: str | None = None

    @property
    def affects_terms(self) -> bool:
        """Whether the terms an approval was granted under may no longer hold after this change."""
        return self.kind in TERMS_KINDS


@dataclass(frozen=True)
class _Context:
    repo_id: str
    text_of: Callable[[str], str | None]
    changes: list[DetectedChange] = field(default_factory=list)

    def add(self, kind: ChangeKind, summary: str, before: Any, after: Any, **extra: Any) -> None:
        """Record a change of ``kind`` whose fingerprint is the kind and its new state."""
        self.changes.append(
            DetectedChange(kind, summary, before, after, fingerprint([kind, after]), **extra)
        )


def detect_changes(
    previous: SnapshotFacts | None,
    current: SnapshotFacts,
    *,
    text_of: Callable[[str], str | None],
    renamed_from: str | None = None,
) -> list[DetectedChange]:
    """What changed from ``previous`` to ``current``; nothing for a first snapshot but a rename.

    ``text_of`` returns a stored license text by its content hash (for diffs).
    """
    ctx = _Context(current.repo_id, text_of)
    if renamed_from:
        ctx.add(
            ChangeKind.RENAMED,
            f"{renamed_from} was renamed to {current.repo_id}.",
            renamed_from,
            current.repo_id,
        )
    if previous is None:
        return ctx.changes
    if current.availability != AVAILABLE or previous.availability != AVAILABLE:
        _availability(ctx, previous, current)
        if current.availability != AVAILABLE or previous.sha is None:
            return ctx.changes
    _license(ctx, previous, current)
    _license_files(ctx, previous, current)
    _gating(ctx, previous, current)
    _revision(ctx, previous, current)
    if current.new_version and current.new_version != previous.new_version:
        ctx.add(
            ChangeKind.SUPERSEDED,
            f"{current.repo_id} points to a newer version: {current.new_version}.",
            previous.new_version,
            current.new_version,
        )
    return ctx.changes


def _availability(ctx: _Context, previous: SnapshotFacts, current: SnapshotFacts) -> None:
    if current.availability == previous.availability:
        return
    if current.availability == AVAILABLE:
        ctx.add(
            ChangeKind.UNAVAILABLE,
            f"{ctx.repo_id} is available on the Hub again.",
            previous.availability,
            AVAILABLE,
        )
        return
    kind = ChangeKind.DISABLED if current.availability == "disabled" else ChangeKind.UNAVAILABLE
    reason = {
        "not_found": "was deleted, made private, or is no longer visible to us",
        "gated_no_access": "is gated and our token has no access",
        "disabled": "was disabled by the Hub",
    }.get(current.availability, current.availability)
    ctx.add(kind, f"{ctx.repo_id} {reason}.", previous.availability, current.availability)


def _license(ctx: _Context, previous: SnapshotFacts, current: SnapshotFacts) -> None:
    before, after = previous.license_terms, current.license_terms
    if before == after:
        return
    shown_before = previous.license_name or previous.license or "none"
    shown_after = current.license_name or current.license or "none"
    details: tuple[str, ...] = ()
    kb = load_knowledge_base()
    old = kb.find(previous.license_name or "") or kb.find(previous.license or "")
    new = kb.find(current.license_name or "") or kb.find(current.license or "")
    if old and new and old.id != new.id:
        details = tuple(diff_license_ids(old.id, new.id).summary[1:])
    what = "license" if shown_before != shown_after else "license link or tags"
    ctx.add(
        ChangeKind.LICENSE_CHANGED,
        f"The card's {what} changed: {shown_before} → {shown_after}.",
        before,
        after,
        details=details,
    )


def _license_files(ctx: _Context, previous: SnapshotFacts, current: SnapshotFacts) -> None:
    if previous.license_files is None or current.license_files is None:
        return
    old = {f.path: f for f in previous.license_files}
    new = {f.path: f for f in current.license_files}
    for path in sorted(new.keys() - old.keys()):
        ctx.add(
            ChangeKind.LICENSE_FILE_ADDED,
            f"{path} was added.",
            None,
            {"path": path, "content_hash": new[path].content_hash},
        )
    for path in sorted(old.keys() - new.keys()):
        ctx.add(
            ChangeKind.LICENSE_FILE_REMOVED,
            f"{path} was removed.",
            {"path": path, "content_hash": old[path].content_hash},
            None,
        )
    for path in sorted(old.keys() & new.keys()):
        a, b = old[path], new[path]
        if a.content_hash == b.content_hash or not (a.content_hash and b.content_hash):
            continue  # unreadable (gated) texts are unknown, not changed
        old_text, new_text = ctx.text_of(a.content_hash), ctx.text_of(b.content_hash)
        details: tuple[str, ...] = ()
        diff = None
        if old_text is not None and new_text is not None:
            clause = clause_diff(path, old_text, new_text)
            details, diff = clause.summary, clause.unified_diff
        ctx.add(
            ChangeKind.LICENSE_TEXT_CHANGED,
            f"The text of {path} changed.",
            {"path": path, "content_hash": a.content_hash},
            {"path": path, "content_hash": b.content_hash},
            details=details,
            diff=diff,
        )


def _gating(ctx: _Context, previous: SnapshotFacts, current: SnapshotFacts) -> None:
    before = {"gated": previous.gated, "prompt": dict(previous.gating_prompt)}
    after = {"gated": current.gated, "prompt": dict(current.gating_prompt)}
    if before == after:
        return
    if previous.gated != current.gated:
        summary = f"Gating changed: {previous.gated or 'false'} → {current.gated or 'false'}."
    else:
        summary = "The gating prompt (the terms users accept to get access) changed."
    ctx.add(ChangeKind.GATING_CHANGED, summary, before, after)


def _revision(ctx: _Context, previous: SnapshotFacts, current: SnapshotFacts) -> None:
    if previous.sha == current.sha or current.sha is None:
        return
    old = {f.path: f.identity for f in previous.files or ()}
    new = {f.path: f.identity for f in current.files or ()}
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    changed = sorted(p for p in old.keys() & new.keys() if old[p] != new[p])
    weights = any(is_weight_file(p) for p in [*added, *removed, *changed])
    counts = f"{len(added)} added, {len(removed)} removed, {len(changed)} changed"
    ctx.add(
        ChangeKind.REVISION_CHANGED,
        f"New commit {current.sha[:12]} ({counts}"
        + ("; weights changed" if weights else "")
        + ").",
        {"sha": previous.sha},
        {
            "sha": current.sha,
            "added": added[:50],
            "removed": removed[:50],
            "changed": changed[:50],
            "weights_changed": weights,
        },
    )


def family_release(repo_id: str, created_at: datetime | None, *, family_of: str) -> DetectedChange:
    """The change a watched model ``family_of`` gets when ``repo_id`` is published beside it."""
    kind = ChangeKind.NEW_RELEASE_IN_FAMILY
    return DetectedChange(
        kind,
        f"{repo_id} was published, in the family of {family_of}.",
        None,
        {"repo_id": repo_id, "created_at": created_at.isoformat() if created_at else None},
        fingerprint([kind, repo_id]),
    )
