"""The recheck cycle: ask the Hub about every watched model, record, compare, react.

Per author, the cheaper of two plans (``governance.upstream.plan``, from the catalogue size
earlier listings recorded): one paged status listing that vouches for every unchanged model, or
one ``model_info`` per model plus the newest page for family detection. Models the listing
cannot vouch for (moved, missing, beyond a failed page) get the per-model check; a failed
listing is never a change.

Hub requests run on a bounded thread pool; everything that touches the database runs on the
calling thread, in short transactions (a batch of results at a time), so no transaction is
ever held open across a network call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from governance.core import metrics
from governance.core.db import transaction
from governance.core.kinds import ChangeKind
from governance.flows.snapshots import AppliedResult, apply_author_listing, apply_outcome
from governance.flows.watch_context import WatchContext
from governance.upstream.fetch import (
    FetchOutcome,
    ListingCheck,
    WatchTarget,
    catalogue_sizes,
    check_by_listing,
    fetch_one,
    list_author,
    load_targets,
)
from governance.upstream.hub import STATUS_PAGE_LIMIT, AuthorModel
from governance.upstream.models import RecheckCycle
from governance.upstream.plan import RecheckPlan, choose_plan
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
    listed_authors: int = 0  # authors checked by one status listing
    per_model_authors: int = 0  # authors checked one model at a time
    listing_pages: int = 0
    longest_listing: int = 0  # pages of the longest listing (they follow one another)
    changes: list[tuple[str, ChangeKind, str]] = field(default_factory=list)  # repo, kind, summary
    failures: list[tuple[str, str]] = field(default_factory=list)  # repo, error (``failed``)
    # author, error: a failed author listing (its models were still checked one by one, but
    # new releases in the family were not looked for). Not a model, so not in ``failed``.
    listing_failures: list[tuple[str, str]] = field(default_factory=list)


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
        by_author = _by_author(targets)
        plans = _plans(by_author, catalogue_sizes(session, by_author))
        if trigger == "webhook":
            # A push names a model that just changed: ask for it directly, since the listing
            # comes from the Hub's search index, which may not show the new state yet.
            plans = dict.fromkeys(by_author, "per_model")
    listings: dict[str, list[AuthorModel] | str] = {}
    with ThreadPoolExecutor(max_workers=ctx.concurrency, thread_name_prefix="hub") as pool:
        # Three kinds of job share the pool (models, listings, family pages): Any, and each
        # result's type is checked where it is read.
        pending: set[Future[Any]] = set()
        family: dict[Future[Any], str] = {}
        for author, author_targets in by_author.items():
            if plans[author] == "listing":
                report.listed_authors += 1
                pending.add(pool.submit(check_by_listing, ctx.hub, author, author_targets))
                continue
            report.per_model_authors += 1
            pending.update(pool.submit(fetch_one, ctx.hub, t) for t in author_targets)
            future = pool.submit(list_author, ctx.hub, author)
            family[future] = author
            pending.add(future)
        ready: list[FetchOutcome] = []
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                if future in family:
                    assert not isinstance(result, (FetchOutcome, ListingCheck))
                    listings[family[future]] = result
                elif isinstance(result, ListingCheck):
                    ready.extend(result.unchanged)
                    pending.update(pool.submit(fetch_one, ctx.hub, t) for t in result.to_fetch)
                    _count_listing(report, result, listings)
                else:
                    assert isinstance(result, FetchOutcome)
                    ready.append(result)
            if len(ready) >= APPLY_BATCH:
                _apply_batch(ctx, ready, report, len(targets), on_progress)
                ready = []
        _apply_batch(ctx, ready, report, len(targets), on_progress)
        _apply_listings(ctx, listings, report)
    report.requests = ctx.hub.requests_sent - sent_before
    report.elapsed = time.monotonic() - started
    metrics.CYCLE_SECONDS.labels(trigger=trigger).observe(report.elapsed)
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
    metrics.CHECKS.labels(outcome=result.outcome).inc()
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
    report.changes.extend(result.related)


def _by_author(targets: list[WatchTarget]) -> dict[str, list[WatchTarget]]:
    out: dict[str, list[WatchTarget]] = {}
    for target in targets:
        out.setdefault(target.repo_id.split("/", 1)[0], []).append(target)
    return dict(sorted(out.items()))


def _plans(
    by_author: dict[str, list[WatchTarget]], catalogues: dict[str, int]
) -> dict[str, RecheckPlan]:
    return {
        author: choose_plan(
            checkable=sum(1 for t in author_targets if t.previous is not None),
            catalogue=catalogues.get(author, 0),
            page_size=STATUS_PAGE_LIMIT,
        )
        for author, author_targets in by_author.items()
    }


def _count_listing(
    report: CycleReport, check: ListingCheck, listings: dict[str, list[AuthorModel] | str]
) -> None:
    report.listing_pages += check.pages
    report.longest_listing = max(report.longest_listing, check.pages)
    listings[check.author] = check.catalogue if check.catalogue is not None else str(check.error)


def _apply_listings(
    ctx: WatchContext, listings: dict[str, list[AuthorModel] | str], report: CycleReport
) -> None:
    """Family detection from each author's listing; a failed listing is only reported."""
    with transaction(ctx.factory) as session:
        for author, listing in listings.items():
            if isinstance(listing, str):
                report.listing_failures.append((author, listing))
                continue
            report.changes.extend(apply_author_listing(session, ctx, author, listing))
