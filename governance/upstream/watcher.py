"""The recheck cycle: fetch every watched model from the Hub, record, compare, react.

Hub requests run on a bounded thread pool; everything that touches the database runs on the
calling thread, in short transactions (a batch of results at a time), so no transaction is
ever held open across a network call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from governance.core.clock import Clock
from governance.core.db import transaction
from governance.core.errors import GovernanceError
from governance.registry.models import Approval, ApprovalState, TrackedModel
from governance.registry.service import get_model
from governance.upstream import apply
from governance.upstream.facts import SnapshotFacts, facts_from_row
from governance.upstream.hub import (
    AuthorModel,
    HubClient,
    RepoFiles,
    RepoStatus,
    RepoUnavailable,
    TransientHubError,
)
from governance.upstream.models import RecheckCycle, Snapshot, WatchState

log = logging.getLogger(__name__)

APPLY_BATCH = 25


@dataclass(frozen=True)
class WatchTarget:
    model_id: int
    repo_id: str
    previous: SnapshotFacts | None
    unreachable_alerted: bool = False
    has_unpinned_approvals: bool = False

    @property
    def known_blobs(self) -> frozenset[str]:
        files = self.previous.license_files if self.previous else None
        return frozenset(f.blob_id for f in files or () if f.blob_id and f.content_hash)


@dataclass(frozen=True)
class FetchOutcome:
    target: WatchTarget
    status: RepoStatus | None = None
    files: RepoFiles | None = None
    unavailable: str | None = None
    error: str | None = None


@dataclass
class CycleReport:
    cycle_id: int
    checked: int = 0
    unchanged: int = 0
    changed: int = 0
    first: int = 0
    failed: int = 0
    requests: int = 0
    elapsed: float = 0.0
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # repo, kind, summary
    failures: list[tuple[str, str]] = field(default_factory=list)  # repo, error


@dataclass(frozen=True)
class WatchContext:
    """What a cycle needs, passed explicitly."""

    factory: sessionmaker[Session]
    hub: HubClient
    clock: Clock
    default_destination: str
    approvers: tuple[str, ...] = ()
    concurrency: int = 8
    # Called for every new snapshot of an available model, inside its transaction (team policy
    # checks hook in here); returns nothing, may move approvals to review and raise alerts.
    on_new_snapshot: Callable[[Session, TrackedModel, SnapshotFacts, int], None] | None = None


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


def run_cycle(
    ctx: WatchContext,
    *,
    repo_ids: Iterable[str] | None = None,
    trigger: str = "schedule",
    on_progress: Callable[[CycleReport, int], None] | None = None,
) -> CycleReport:
    """Check every watched model (or ``repo_ids``) once; returns what happened.

    ``on_progress(report, total)`` is called after each model is recorded (progress bars).
    """
    started = time.monotonic()
    sent_before = ctx.hub.requests_sent
    with transaction(ctx.factory) as session:
        targets = load_targets(session, list(repo_ids) if repo_ids else None)
        cycle = RecheckCycle(trigger=trigger, started_at=ctx.clock.now())
        session.add(cycle)
        session.flush()
        report = CycleReport(cycle_id=cycle.id)
    authors = sorted({t.repo_id.split("/", 1)[0] for t in targets})
    with ThreadPoolExecutor(max_workers=ctx.concurrency, thread_name_prefix="hub") as pool:
        model_futures = [pool.submit(fetch_one, ctx.hub, t) for t in targets]
        author_futures = {pool.submit(_list_author, ctx.hub, a): a for a in authors}
        ready: list[FetchOutcome] = []
        for future in as_completed(model_futures):
            ready.append(future.result())
            if len(ready) >= APPLY_BATCH:
                _apply_batch(ctx, ready, report, len(targets), on_progress)
                ready = []
        _apply_batch(ctx, ready, report, len(targets), on_progress)
        _apply_listings(ctx, author_futures, report)
    report.requests = ctx.hub.requests_sent - sent_before
    report.elapsed = time.monotonic() - started
    with transaction(ctx.factory) as session:
        cycle = session.get(RecheckCycle, report.cycle_id)
        assert cycle is not None
        cycle.finished_at = ctx.clock.now()
        cycle.checked, cycle.changed = report.checked, report.changed
        cycle.failed, cycle.requests = report.failed, report.requests
    return report


def _list_author(hub: HubClient, author: str) -> list[AuthorModel] | str:
    try:
        return hub.list_author_models(author, limit=100)
    except GovernanceError as exc:
        return exc.message
    except Exception as exc:
        log.exception("listing %s failed", author)
        return f"{type(exc).__name__}: {exc}"


def _apply_batch(
    ctx: WatchContext,
    outcomes: list[FetchOutcome],
    report: CycleReport,
    total: int,
    on_progress: Callable[[CycleReport, int], None] | None,
) -> None:
    if not outcomes:
        return
    quiet = [o for o in outcomes if apply.is_quiet(o)]
    with transaction(ctx.factory) as session:
        # Most checks find nothing: record those in two statements, not a round trip each.
        apply.record_quiet(session, ctx, [o.target.model_id for o in quiet], report.cycle_id)
        for outcome in quiet:
            _count(report, outcome.target.repo_id, apply.AppliedResult("unchanged"))
        if quiet and on_progress is not None:
            on_progress(report, total)
        for outcome in outcomes:
            if apply.is_quiet(outcome):
                continue
            try:
                with session.begin_nested():
                    result = apply.apply_outcome(session, ctx, outcome, report.cycle_id)
            except Exception as exc:
                log.exception("recording %s failed", outcome.target.repo_id)
                result = apply.AppliedResult("failed", error=f"{type(exc).__name__}: {exc}")
            _count(report, outcome.target.repo_id, result)
            if on_progress is not None:
                on_progress(report, total)


def _count(report: CycleReport, repo_id: str, result: apply.AppliedResult) -> None:
    report.checked += 1
    if result.outcome == "failed":
        report.failed += 1
        report.failures.append((repo_id, result.error or "unknown error"))
    elif result.outcome == "changed":
        report.changed += 1
    elif result.outcome == "first":
        report.first += 1
    else:
        report.unchanged += 1
    report.changes.extend((repo_id, kind, summary) for kind, summary in result.changes)


def _apply_listings(
    ctx: WatchContext, futures: dict[Future[list[AuthorModel] | str], str], report: CycleReport
) -> None:
    with transaction(ctx.factory) as session:
        for future, author in futures.items():
            listing = future.result()
            if isinstance(listing, str):
                report.failures.append((author, f"listing failed: {listing}"))
                continue
            for repo, kind, summary in apply.apply_author_listing(session, ctx, author, listing):
                report.changes.append((repo, kind, summary))
