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

from governance.core.db import transaction
from governance.core.kinds import ChangeKind
from governance.flows.snapshots import AppliedResult, apply_author_listing, apply_outcome
from governance.flows.watch_context import WatchContext
from governance.upstream.fetch import FetchOutcome, fetch_one, list_author, load_targets
from governance.upstream.hub import AuthorModel
from governance.upstream.models import RecheckCycle
from governance.upstream.recording import is_quiet, record_quiet

log = logging.getLogger(__name__)

APPLY_BATCH = 25


@dataclass
class CycleReport:
    """What one cycle found, counted as it goes (progress bars read it mid-cycle)."""

    cycle_id: int
    checked: int = 0
    unchanged: int = 0
    changed: int = 0
    first: int = 0
    failed: int = 0
    requests: int = 0
    elapsed: float = 0.0
    changes: list[tuple[str, ChangeKind, str]] = field(default_factory=list)  # repo, kind, summary
    failures: list[tuple[str, str]] = field(default_factory=list)  # repo, error


def run_cycle(
    ctx: WatchContext,
    *,
    repo_ids: Iterable[str] | None = None,
    trigger: str = "schedule",
    on_progress: Callable[[CycleReport, int], None] | None = None,
) -> CycleReport:
    """Check every watched model (or ``repo_ids``) once; returns what happened.

    ``on_progress(report, total)`` is called after each model is recorded (progress bars).
    Raises NotFound (before any request is sent) for a named model that is not tracked.
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
        author_futures = {pool.submit(list_author, ctx.hub, a): a for a in authors}
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
        finished = session.get(RecheckCycle, report.cycle_id)
        assert finished is not None  # written above; cycles are never deleted
        finished.finished_at = ctx.clock.now()
        finished.checked, finished.changed = report.checked, report.changed
        finished.failed, finished.requests = report.failed, report.requests
    return report


def _apply_batch(
    ctx: WatchContext,
    outcomes: list[FetchOutcome],
    report: CycleReport,
    total: int,
    on_progress: Callable[[CycleReport, int], None] | None,
) -> None:
    if not outcomes:
        return
    quiet = [o for o in outcomes if is_quiet(o)]
    with transaction(ctx.factory) as session:
        # Most checks find nothing: record those in two statements, not a round trip each.
        record_quiet(
            session, [o.target.model_id for o in quiet], report.cycle_id, now=ctx.clock.now()
        )
        for outcome in quiet:
            _count(report, outcome.target.repo_id, AppliedResult("unchanged"))
        if quiet and on_progress is not None:
            on_progress(report, total)
        for outcome in outcomes:
            if is_quiet(outcome):
                continue
            try:
                with session.begin_nested():
                    result = apply_outcome(session, ctx, outcome, report.cycle_id)
            except Exception as exc:
                log.exception("recording %s failed", outcome.target.repo_id)
                result = AppliedResult("failed", error=f"{type(exc).__name__}: {exc}")
            _count(report, outcome.target.repo_id, result)
            if on_progress is not None:
                on_progress(report, total)


def _count(report: CycleReport, repo_id: str, result: AppliedResult) -> None:
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
    # Wait for every listing first: the write transaction must not stay open across Hub I/O
    # (on SQLite it holds the file's write lock, and every other writer queues behind it).
    listings = [(author, future.result()) for future, author in futures.items()]
    with transaction(ctx.factory) as session:
        for author, listing in listings:
            if isinstance(listing, str):
                report.failures.append((author, f"listing failed: {listing}"))
                continue
            report.changes.extend(apply_author_listing(session, ctx, author, listing))
