"""What a check asks the Hub: the models to check, and each one's answer as plain values.

Nothing here writes to the database, and nothing here raises for a model the Hub cannot
answer about: the answer says why, so one model's failure never stops a cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.core.errors import GovernanceError
from governance.registry.models import Approval, ApprovalState, TrackedModel
from governance.registry.tracking import get_model
from governance.upstream.facts import SnapshotFacts, facts_from_row, status_differs
from governance.upstream.hub import (
    AuthorModel,
    HubClient,
    ListedModel,
    RepoFiles,
    RepoStatus,
    RepoUnavailable,
    TransientHubError,
)
from governance.upstream.models import AuthorRepo, Snapshot, WatchState

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


@dataclass(frozen=True)
class ListingCheck:
    """What one author's status listing answered: the models it shows unchanged, the models it
    cannot vouch for (moved, missing, malformed, or beyond a page that failed), the catalogue
    for family detection (None when a page failed) and the pages it took."""

    author: str
    unchanged: list[FetchOutcome]
    to_fetch: list[WatchTarget]
    catalogue: list[AuthorModel] | None
    pages: int
    error: str | None = None


def catalogue_sizes(session: Session, authors: Iterable[str]) -> dict[str, int]:
    """Per author, how many of its repos earlier listings recorded (0 when never listed)."""
    wanted = list(authors)
    rows = session.execute(
        select(AuthorRepo.author, func.count(AuthorRepo.id))
        .where(AuthorRepo.author.in_(wanted))
        .group_by(AuthorRepo.author)
    ).all()
    counts = {author: int(n) for author, n in rows}
    return {author: counts.get(author, 0) for author in wanted}


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


def listing_vouches(target: WatchTarget, item: ListedModel) -> bool:
    """Whether the listing shows ``target`` exactly as its last full check recorded it, so that
    ``fetch_one`` would have found nothing either (same sha, gating, privacy, terms; enabled)."""
    previous, status = target.previous, item.status
    return (
        previous is not None
        and status is not None
        and not item.disabled
        and previous.files is not None
        and not status_differs(previous, status)
    )


def check_by_listing(hub: HubClient, author: str, targets: list[WatchTarget]) -> ListingCheck:
    """Page through the author's status listing and sort ``targets`` by what it shows. Never
    raises: a failed page leaves its models (and any not seen yet) to ``to_fetch``."""
    waiting = {t.repo_id.lower(): t for t in targets}
    unchanged: list[FetchOutcome] = []
    to_fetch: list[WatchTarget] = []
    seen: list[AuthorModel] = []
    pages = 0
    error: str | None = None
    try:
        for page in hub.iter_author_statuses(author):
            pages += 1
            for item in page:
                seen.append(item.model)
                target = waiting.pop(item.model.repo_id.lower(), None)
                if target is None:
                    continue
                if listing_vouches(target, item):
                    unchanged.append(FetchOutcome(target, status=item.status))
                else:
                    to_fetch.append(target)
    except TransientHubError as exc:
        error = exc.message + (f" {exc.detail}" if exc.detail else "")
    except GovernanceError as exc:
        error = exc.message
    except Exception as exc:  # a bug must not stop the cycle: the models are checked one by one
        log.exception("listing %s failed", author)
        error = f"{type(exc).__name__}: {exc}"
    # Missing from a whole listing: renamed, deleted or made private; one request tells which.
    to_fetch.extend(waiting.values())
    return ListingCheck(author, unchanged, to_fetch, None if error else seen, pages, error)
