"""Storing what a check found: check rows, snapshots, license texts, watch state, listings.

Runs inside the caller's transaction and writes upstream's own tables only; what a change
means for approvals and alerts is decided above (``governance.flows.snapshots``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from governance.upstream.facts import SnapshotFacts, row_from_facts, status_differs
from governance.upstream.fetch import FetchOutcome
from governance.upstream.hub import AuthorModel, RepoFiles
from governance.upstream.models import (
    AuthorRepo,
    Check,
    LicenseText,
    Snapshot,
    SnapshotBase,
    WatchState,
)

# Failed checks in a row after which a model counts as unreachable (and is alerted once).
UNREACHABLE_AFTER = 3
ERROR_CHARS = 1000


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
    session: Session, model_ids: list[int], cycle_id: int | None, *, now: datetime
) -> None:
    """Record quiet checks in bulk: one INSERT of checks, one UPDATE of watch states."""
    if not model_ids:
        return
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


def checked_state(session: Session, model_id: int, *, now: datetime) -> WatchState:
    """The model's watch state (created on its first check), marked checked ``now``."""
    state = session.get(WatchState, model_id) or WatchState(model_id=model_id)
    session.add(state)
    state.last_checked_at = now
    return state


def record_check(
    session: Session,
    *,
    model_id: int,
    cycle_id: int | None,
    outcome: str,
    now: datetime,
    snapshot_id: int | None = None,
) -> None:
    """One check row: ``unchanged`` (one request), or ``first`` / ``changed`` with its snapshot."""
    session.add(
        Check(
            model_id=model_id,
            cycle_id=cycle_id,
            checked_at=now,
            outcome=outcome,
            snapshot_id=snapshot_id,
            requests=1 if outcome == "unchanged" else 0,
        )
    )


def record_failure(
    session: Session, state: WatchState, error: str, *, cycle_id: int | None, now: datetime
) -> bool:
    """A failed check: never a change, one more in the failure streak.

    Returns True when this failure makes the model unreachable (``UNREACHABLE_AFTER`` in a row,
    not announced yet); the state then counts as announced and the caller raises the alert.
    """
    state.consecutive_failures = (state.consecutive_failures or 0) + 1
    state.last_error = error[:ERROR_CHARS]
    session.add(
        Check(
            model_id=state.model_id,
            cycle_id=cycle_id,
            checked_at=now,
            outcome="failed",
            error=error[:ERROR_CHARS],
        )
    )
    if state.consecutive_failures >= UNREACHABLE_AFTER and not state.unreachable_alerted:
        state.unreachable_alerted = True
        return True
    return False


def record_reachable(state: WatchState, *, now: datetime) -> int | None:
    """A check the Hub answered: the failure streak ends.

    Returns the length of the streak when it had made the model unreachable (the caller
    announces the recovery), else None.
    """
    announced = state.consecutive_failures if state.unreachable_alerted else None
    state.unreachable_alerted = False
    state.consecutive_failures = 0
    state.last_error = None
    state.last_success_at = now
    return announced


def store_texts(session: Session, files: RepoFiles | None, *, now: datetime) -> None:
    """Store each fetched license text once per content hash (texts known already are kept)."""
    for license_file in files.license_files if files else ():
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


def stored_text(session: Session, content_hash: str) -> str | None:
    """The license text stored under ``content_hash``, or None when it was never fetched."""
    row = session.get(LicenseText, content_hash)
    return row.text if row else None


def store_snapshot(
    session: Session, state: WatchState, facts: SnapshotFacts, *, now: datetime
) -> Snapshot:
    """A new snapshot row for ``facts``, flushed (it has an id), now the model's latest."""
    snapshot = row_from_facts(facts, model_id=state.model_id, taken_at=now)
    session.add(snapshot)
    session.flush()
    lineage = facts.lineage if facts.availability == "available" else None
    for position, base in enumerate(lineage.bases if lineage else ()):
        session.add(
            SnapshotBase(
                snapshot_id=snapshot.id,
                position=position,
                base_repo_id=base,
                base_key=base.lower(),
                relation=lineage.relation if lineage else "",
            )
        )
    state.latest_snapshot_id = snapshot.id
    return snapshot


def latest_snapshot_id(session: Session, model_id: int) -> int | None:
    """The id of the model's latest snapshot (None before its first check)."""
    state = session.get(WatchState, model_id)
    return state.latest_snapshot_id if state else None


KEY_CHUNK = 500  # repo keys per IN (...) query


def record_listing(
    session: Session, author: str, listing: list[AuthorModel], *, now: datetime
) -> list[AuthorModel]:
    """Record the repos of an author's listing not seen before.

    Returns the new ones created after the newest recorded before, or nothing for the author's
    first listing (the baseline).
    """
    seen = set(session.scalars(select(AuthorRepo.repo_key).where(AuthorRepo.author == author)))
    baseline = not seen
    # A repo older than the newest one already recorded is not a release: it was only beyond
    # the pages listed before (a longer listing, a rename, a repo made public).
    newest = session.scalar(
        select(func.max(AuthorRepo.upstream_created_at)).where(AuthorRepo.author == author)
    )
    # Keys recorded under another spelling of the author count as seen too (one query a chunk,
    # not one a repo: a first full listing of a large catalogue has thousands).
    unseen = sorted({item.repo_id.lower() for item in listing} - seen)
    for start in range(0, len(unseen), KEY_CHUNK):
        chunk = unseen[start : start + KEY_CHUNK]
        seen.update(
            session.scalars(select(AuthorRepo.repo_key).where(AuthorRepo.repo_key.in_(chunk)))
        )
    new: list[AuthorModel] = []
    for item in listing:
        key = item.repo_id.lower()
        if key in seen:
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
        if baseline:
            continue
        if newest is None or item.created_at is None or item.created_at > newest:
            new.append(item)
    return new
