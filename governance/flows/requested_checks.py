"""Running the checks a Hub webhook queued: claim due rows, check those models, settle the rows.

Any number of workers may run this at once: each claims its own rows (``check_requests``), and
the check itself is the same recheck cycle as the schedule's (``trigger="webhook"``), so every
rule about changes, failed checks and alerts is the same one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from governance.core.db import transaction
from governance.flows.recheck import CycleReport, run_cycle
from governance.flows.watch_context import WatchContext
from governance.registry.models import TrackedModel
from governance.upstream.check_requests import ClaimedCheck, claim_due, finish

log = logging.getLogger(__name__)

# Longer than a check of a batch can take (a few Hub requests per model, each bounded by the
# client timeout); a worker that dies leaves its rows to the next worker after this.
CLAIM_TTL = timedelta(minutes=10)
BATCH = 50


@dataclass
class RequestedChecksReport:
    """What one run did: the models checked, the cycle's report, how each row was settled."""

    repo_ids: list[str] = field(default_factory=list)
    cycle: CycleReport | None = None
    settled: dict[str, str] = field(default_factory=dict)  # repo id -> done|again|retry|…


def run_requested_checks(
    ctx: WatchContext, *, holder: str, batch: int = BATCH
) -> RequestedChecksReport:
    """Check the models whose queued requests ``holder`` can claim now; returns what it did.

    Claims up to ``batch`` rows, runs one cycle over their models, then settles each row: done,
    kept for one more check (a request came in during this one), or retried later (its check
    failed). Raises only on a database error (rows it claimed are taken again after
    ``CLAIM_TTL``).
    """
    report = RequestedChecksReport()
    with transaction(ctx.factory) as session:
        claims = claim_due(session, holder=holder, now=ctx.clock.now(), ttl=CLAIM_TTL, batch=batch)
        # Unwatched (or gone) since the request was queued: settled without a check.
        repos: list[tuple[ClaimedCheck, str | None]] = []
        for claim in claims:
            model = session.get(TrackedModel, claim.model_id)
            repos.append((claim, model.repo_id if model is not None and model.watched else None))
    if not claims:
        return report
    report.repo_ids = sorted(repo for _claim, repo in repos if repo is not None)
    failed: set[str] = set()
    if report.repo_ids:
        report.cycle = run_cycle(ctx, repo_ids=report.repo_ids, trigger="webhook")
        failed = {repo for repo, _error in report.cycle.failures}
    with transaction(ctx.factory) as session:
        now = ctx.clock.now()
        for claim, repo in repos:
            outcome = finish(session, claim, holder=holder, failed=repo in failed, now=now)
            report.settled[repo or f"model #{claim.model_id}"] = outcome
    log.info("requested checks settled: %s", report.settled)
    return report
