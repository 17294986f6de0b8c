"""What a check asks the Hub: the models to check, and each one's answer as plain values.

Nothing here writes to the database, and nothing here raises for a model the Hub cannot
answer about: the answer says why, so one model's failure never stops a cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.core.errors import GovernanceError
from governance.registry.models import Approval, ApprovalState, TrackedModel
from governance.registry.tracking import get_model
from governance.upstream.facts import SnapshotFacts, facts_from_row
from governance.upstream.hub import (
    AuthorModel,
    HubClient,
    RepoFiles,
    RepoStatus,
    RepoUnavailable,
    TransientHubError,
)
from governance.upstream.models import Snapshot, WatchState

log = logging.getLogger(__name__)

AUTHOR_LISTING_LIMIT = 100


@dataclass(frozen=True)
class WatchTarget:
    """One model to check, with what the last check recorded about it."""

    model_id: int
    repo_id: str
    previous: SnapshotFacts | None
    unreachable_alerted: bool = False
    has_unpinned_approvals: bool = False

    @property
    def known_blobs(self) -> frozenset[str]:
        """License blobs whose text is stored already (the Hub client skips downloading them)."""
        files = self.previous.license_files if self.previous else None
        return frozenset(f.blob_id for f in files or () if f.blob_id and f.content_hash)


@dataclass(frozen=True)
class FetchOutcome:
    """The Hub's answer about one target: a status (and files when fetched), the reason it is
    unavailable, or the error of a failed request."""

    target: WatchTarget
    status: RepoStatus | None = None
    files: RepoFiles | None = None
    unavailable: str | None = None
    error: str | None = None


def load_targets(session: Session, repo_ids: Iterable[str] | None) -> list[WatchTarget]:
    """The models to check with their latest snapshots: all watched ones, or those named.

    Raises NotFound (before any request is sent) for a named model that is not tracked.
    """
    if repo_ids:
        models = [get_model(session, repo) for repo in repo_ids]
    else:
        models = list(
            session.scalars(
                select(TrackedModel).where(TrackedModel.watched.is_(True)).order_by(TrackedModel.id)
            )
        )
    ids = [m.id for m in models]
    latest = {
        model_id: (snapshot, alerted)
        for model_id, snapshot, alerted in session.execute(
            select(WatchState.model_id, Snapshot, WatchState.unreachable_alerted)
            .join(Snapshot, Snapshot.id == WatchState.latest_snapshot_id)
            .where(WatchState.model_id.in_(ids))
        ).all()
    }
    unpinned = set(
        session.scalars(
            select(Approval.model_id).where(
                Approval.model_id.in_(ids),
                Approval.state == ApprovalState.APPROVED,
                Approval.revision_sha.is_(None),
            )
        )
    )
    targets = []
    for m in models:
        snapshot, alerted = latest.get(m.id, (None, False))
        previous = facts_from_row(snapshot) if snapshot is not None else None
        targets.append(WatchTarget(m.id, m.repo_id, previous, bool(alerted), m.id in unpinned))
    return targets


def fetch_one(hub: HubClient, target: WatchTarget) -> FetchOutcome:
    """Ask the Hub about one model: one request when nothing changed. Never raises."""
    try:
        status = hub.fetch_status(target.repo_id)
        previous = target.previous
        if (
            previous is None
            or previous.sha != status.sha
            or previous.gated != status.gated
            or previous.availability != "available"
            or previous.files is None
        ):
            files = hub.fetch_files(status.repo_id, status.sha, known_blobs=target.known_blobs)
            return FetchOutcome(target, status=status, files=files)
        return FetchOutcome(target, status=status)
    except RepoUnavailable as exc:
        return FetchOutcome(target, unavailable=exc.reason)
    except TransientHubError as exc:
        return FetchOutcome(target, error=exc.message + (f" {exc.detail}" if exc.detail else ""))
    except GovernanceError as exc:
        return FetchOutcome(target, error=exc.message)
    except Exception as exc:  # a bug in one model's check must not stop the cycle
        log.exception("checking %s failed", target.repo_id)
        return FetchOutcome(target, error=f"{type(exc).__name__}: {exc}")


def list_author(hub: HubClient, author: str) -> list[AuthorModel] | str:
    """The author's newest repos, or why they could not be listed. Never raises."""
    try:
        return hub.list_author_models(author, limit=AUTHOR_LISTING_LIMIT)
    except GovernanceError as exc:
        return exc.message
    except Exception as exc:
        log.exception("listing %s failed", author)
        return f"{type(exc).__name__}: {exc}"
