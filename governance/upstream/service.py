"""Watching models and reading what the watcher found (for commands and the dashboard)."""

from __future__ import annotations

from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.core.clock import Clock
from governance.core.errors import InvalidInput, NotFound
from governance.registry import audit
from governance.registry.approvers import ApproverDirectory, require_approver
from governance.registry.models import TrackedModel
from governance.registry.tracking import get_model, track_model
from governance.registry.validation import validate_repo_id
from governance.upstream.hub import HubClient, RepoStatus
from governance.upstream.models import Change, LicenseText, Snapshot, WatchState


def lookup(hub: HubClient, repo_id: str) -> RepoStatus:
    """What the Hub says about ``repo_id`` now (one request); nothing is recorded.

    Raises InvalidInput (malformed id), RepoUnavailable (not found, gated, disabled) or
    TransientHubError (try again later) — each with a sentence for the user.
    """
    return hub.fetch_status(validate_repo_id(repo_id))


def watch(session: Session, *, repo_id: str, actor: str, clock: Clock) -> TrackedModel:
    """Track ``repo_id`` (if new) and watch it upstream."""
    model = track_model(session, repo_id=repo_id, actor=actor, clock=clock)
    if not model.watched:
        model.watched = True
        audit.record(session, clock=clock, actor=actor, action="watched", model=model)
    return model


def unwatch(
    session: Session, *, repo_id: str, actor: str, approvers: ApproverDirectory, clock: Clock
) -> TrackedModel:
    """Stop rechecking ``repo_id`` (approvers only: it silences alerts for the model)."""
    require_approver(session, actor, approvers, "unwatch models")
    model = get_model(session, repo_id)
    if model.watched:
        model.watched = False
        audit.record(session, clock=clock, actor=actor, action="unwatched", model=model)
    return model


def recent_changes(session: Session, *, repo_id: str | None, limit: int = 20) -> list[Change]:
    """The newest changes, of one model or of all."""
    query = select(Change).order_by(Change.id.desc()).limit(limit)
    if repo_id:
        query = query.where(Change.model_id == get_model(session, repo_id).id)
    return list(session.scalars(query))


def latest_snapshot(session: Session, model: TrackedModel) -> Snapshot | None:
    """The model's latest snapshot, or None before its first check."""
    state = session.get(WatchState, model.id)
    if state is None or state.latest_snapshot_id is None:
        return None
    return session.get(Snapshot, state.latest_snapshot_id)


def snapshots(session: Session, model: TrackedModel) -> list[Snapshot]:
    """Every snapshot of the model, oldest first."""
    return list(
        session.scalars(select(Snapshot).where(Snapshot.model_id == model.id).order_by(Snapshot.id))
    )


def _find_snapshot(history: list[Snapshot], ref: str) -> Snapshot:
    ref = ref.strip().lower()
    if len(ref) < 7 or any(c not in "0123456789abcdef" for c in ref):
        raise InvalidInput(
            f"{ref[:40]!r} is not a revision; give at least 7 hex digits of a commit sha."
        )
    matches = [s for s in history if s.sha and s.sha.startswith(ref)]
    if not matches:
        raise NotFound(f"No snapshot of revision {ref} was recorded; `/models changes` lists them.")
    return matches[-1]


def license_diff(
    session: Session, *, repo_id: str, from_ref: str | None = None, to_ref: str | None = None
) -> tuple[Snapshot, Snapshot, dict[str, tuple[str, str]]]:
    """Two recorded revisions and, per license path that differs, (old text, new text).

    Without refs: the two latest snapshots whose license texts differ. '' stands for a file
    that is absent on one side.
    """
    model = get_model(session, repo_id)
    history = [s for s in snapshots(session, model) if s.license_files is not None]
    if from_ref and to_ref:
        old, new = _find_snapshot(history, from_ref), _find_snapshot(history, to_ref)
    elif from_ref or to_ref:
        raise InvalidInput("Give both revisions (`diff <repo> <from> <to>`) or neither.")
    else:
        pairs = [(a, b) for a, b in pairwise(history) if _texts(a) != _texts(b)]
        if not pairs:
            raise NotFound(f"No license text change of {model.repo_id} has been recorded.")
        old, new = pairs[-1]
    return old, new, license_texts(session, old, new)


def _texts(snapshot: Snapshot) -> dict[str, str | None]:
    return {f["path"]: f.get("content_hash") for f in snapshot.license_files or ()}


def license_texts(session: Session, old: Snapshot, new: Snapshot) -> dict[str, tuple[str, str]]:
    """For each license path that differs: (old text, new text); '' where absent."""
    before, after = _texts(old), _texts(new)
    return {
        path: (_load(session, before.get(path)), _load(session, after.get(path)))
        for path in sorted(before.keys() | after.keys())
        if before.get(path) != after.get(path)
    }


def _load(session: Session, content_hash: str | None) -> str:
    if content_hash is None:
        return ""
    row = session.get(LicenseText, content_hash)
    return row.text if row else ""
