"""Long-running processes and the `check` command's terminal UI (rich progress and table)."""

from __future__ import annotations

import logging
import signal
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from rich.console import Console
from rich.markup import escape as markup_escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.slack.health import HealthProbe
from bot.slack.observability import serve_metrics
from governance.flows.recheck import CycleReport, run_cycle
from governance.wiring.contexts import watch_context
from governance.wiring.scheduler import build_scheduler
from governance.wiring.services import Services

log = logging.getLogger(__name__)


def start_background_scheduler(services: Services) -> BackgroundScheduler:
    """Start the jobs in this process (``serve``); they stop when the process ends."""
    scheduler = build_scheduler(services)
    scheduler.start()
    return scheduler


def run_worker(services: Services) -> None:
    """Run the jobs until SIGTERM/SIGINT (the Procfile's ``worker``)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    scheduler = build_scheduler(services)
    scheduler.start()
    metrics = serve_metrics(services, HealthProbe.for_worker(services))  # MODELGOV_METRICS_PORT
    jobs = ", ".join(
        f"{job.id} (next {job.next_run_time:%Y-%m-%d %H:%M UTC})" for job in scheduler.get_jobs()
    )
    log.info("modelgov worker running: %s", jobs)
    # Wait in short slices: the kernel may hand SIGTERM to a scheduler thread, and then the main
    # thread, blocked in a wait with no timeout, never runs the handler (the worker ignored
    # SIGTERM about one time in three with the every-second job running).
    while not stop.wait(timeout=0.2):
        pass
    scheduler.shutdown(wait=True)
    metrics.close()
    services.close()


def run_check(services: Services, repos: list[str], *, as_json: bool) -> CycleReport:
    """Recheck now with a progress bar (none with ``as_json``); print the summary table unless
    ``as_json`` (the caller prints the JSON). Returns the cycle's report.

    Raises NotFound (before any request is sent) for a named model that is not tracked.
    """
    console = Console(stderr=True)
    with Progress(
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json or not console.is_terminal,
    ) as progress:
        task = progress.add_task("check", total=None)

        def advance(report: CycleReport, total: int) -> None:
            progress.update(task, total=total, completed=report.checked)

        report = run_cycle(
            watch_context(services), repo_ids=repos or None, trigger="manual", on_progress=advance
        )
    if not as_json:
        _print_summary(report)
    return report


def _print_summary(report: CycleReport) -> None:
    console = Console()
    table = Table(title="modelgov check")
    for column in ("checked", "unchanged", "changed", "first snapshots", "failed", "requests used"):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            str(v)
            for v in (
                report.checked,
                report.unchanged,
                report.changed,
                report.first,
                report.failed,
                report.requests,
            )
        )
    )
    console.print(table)
    for repo, kind, summary in report.changes:
        console.print(
            f"[bold]{markup_escape(repo)}[/bold] {kind}: {markup_escape(summary)}", highlight=False
        )
    for repo, error in report.failures:
        console.print(
            f"[red]failed[/red] {markup_escape(repo)}: {markup_escape(error)}", highlight=False
        )
    for author, error in report.listing_failures:  # not models: not in the failed column
        console.print(
            f"[red]listing failed[/red] {markup_escape(author)}: {markup_escape(error)} "
            "(its models were checked one by one; new releases are looked for next cycle)",
            highlight=False,
        )
