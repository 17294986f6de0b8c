"""APScheduler jobs, safe to run in any number of worker processes.

APScheduler's job stores must not be shared between schedulers, so every worker schedules its
own in-memory jobs with fixed ids. Delivery runs in every worker: each claims the outbox rows
it delivers, row by row, so workers share a backlog and never post the same row twice. The
other jobs are guarded by a lease row that decides which worker runs them; such a job keeps its
lease for most of its period instead of releasing it, so a second worker whose timer fires a
little later finds it taken and skips.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from governance.alerts.delivery import DeliveryReport, RetryPolicy, deliver_pending
from governance.core import metrics
from governance.core.config import ConfigError, Settings
from governance.core.db import transaction
from governance.core.leases import acquire_lease
from governance.flows import jobs
from governance.flows.recheck import CycleReport, run_cycle
from governance.flows.requested_checks import RequestedChecksReport, run_requested_checks
from governance.registry.audit import SCHEDULER, with_origin
from governance.upstream.models import RecheckCycle
from governance.wiring.contexts import watch_context
from governance.wiring.crontab import crontab_trigger
from governance.wiring.services import Services

log = logging.getLogger(__name__)

DELIVERY_SECONDS = 30
# How often every worker looks for checks a Hub webhook queued (one indexed SELECT when idle).
REQUESTED_CHECKS_SECONDS = 1
REQUESTED_CHECKS_NAME = "checks queued by Hub webhooks"
EXPIRY_HOURS = 1


class _QuietRequestedChecks(logging.Filter):
    """Drops APScheduler's two INFO lines per run of the every-second webhook job (the job
    logs what it checked itself); its warnings and errors still pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or REQUESTED_CHECKS_NAME not in record.getMessage()


_QUIET = _QuietRequestedChecks()


def worker_id() -> str:
    """A holder name unique to this process, readable in the lease table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def resilient(name: str, work: Callable[[], Any]) -> Callable[[], Any]:
    """``work`` wrapped so a failure is logged and does not kill the scheduler thread."""

    def run() -> Any:
        try:
            return work()
        except Exception:
            log.exception("job %s failed", name)
            return None

    return run


def guarded(
    services: Services, *, name: str, holder: str, hold: timedelta, work: Callable[[Services], Any]
) -> Callable[[], Any]:
    """``work`` wrapped so it runs only while ``holder`` holds the lease ``name``."""

    def run() -> Any:
        if not acquire_lease(
            services.session_factory, name=name, holder=holder, ttl=hold, clock=services.clock
        ):
            log.info("job %s skipped: another worker holds its lease", name)
            return None
        return resilient(name, lambda: work(services))()

    return run


def recheck_job(services: Services) -> CycleReport:
    """The recheck job: one scheduled cycle over every watched model; returns its report."""
    return run_cycle(watch_context(services), trigger="schedule")


def requested_checks_job(services: Services, *, holder: str) -> RequestedChecksReport:
    """The webhook job: check the models whose queued requests ``holder`` claims (any worker
    may run it; each row is claimed by one); returns what it checked."""
    return run_requested_checks(watch_context(services), holder=holder)


def delivery_job(services: Services, *, policy: RetryPolicy | None = None) -> DeliveryReport:
    """The delivery job: claim due alerts, cards and DMs and hand them to the notifier (any
    worker may run it); returns what was delivered."""
    return deliver_pending(
        services.session_factory, notifier=services.notifier, clock=services.clock, policy=policy
    )


def expiry_job(services: Services) -> list[int]:
    """The expiry job: ``flows.jobs.expire_approvals`` alerting the alerts channel; returns
    the ids expired."""
    return jobs.expire_approvals(
        with_origin(services.session_factory, SCHEDULER),
        clock=services.clock,
        default_destination=services.settings.alerts_channel,
    )


def digest_job(services: Services) -> jobs.Digest:
    """The digest job: ``flows.jobs.daily_digest`` to the alerts channel; returns the digest."""
    return jobs.daily_digest(
        with_origin(services.session_factory, SCHEDULER),
        clock=services.clock,
        default_destination=services.settings.alerts_channel,
    )


def next_recheck_at(services: Services, interval: timedelta) -> datetime:
    """When the next recheck is due: the last completed cycle plus the interval (or now)."""
    with transaction(services.session_factory) as session:
        last = session.scalar(
            select(func.max(RecheckCycle.finished_at)).where(RecheckCycle.trigger == "schedule")
        )
    now = services.clock.now()
    return now if last is None else max(now, last + interval)


def recheck_trigger(services: Services) -> tuple[Any, timedelta]:
    """The recheck trigger from settings (cron wins over the interval) and its period."""
    settings = services.settings
    jitter = settings.recheck_jitter_seconds or None
    if settings.recheck_cron:
        try:
            # APScheduler 3's from_crontab takes no jitter (passing it raised TypeError at start)
            # and misreads crontab's weekday numbers: governance.wiring.crontab reads them.
            cron = crontab_trigger(settings.recheck_cron, timezone="UTC")
            cron.jitter = jitter
            return cron, timedelta(minutes=5)
        except ValueError as exc:
            raise ConfigError(
                f"MODELGOV_RECHECK_CRON: {exc}; expected five cron fields like '0 */6 * * *'."
            ) from None
    interval = timedelta(hours=settings.recheck_interval_hours)
    return IntervalTrigger(
        seconds=interval.total_seconds(), jitter=jitter, timezone="UTC"
    ), interval


def digest_trigger(settings: Settings) -> CronTrigger:
    """Every day at ``MODELGOV_DIGEST_TIME`` (HH:MM, UTC; validated by Settings)."""
    hour, minute = settings.digest_time.split(":")
    return CronTrigger(hour=int(hour), minute=int(minute), timezone="UTC")


def build_scheduler(services: Services, *, holder: str | None = None) -> BackgroundScheduler:
    """A scheduler with the five jobs (fixed ids); call ``.start()`` to run it."""
    holder = holder or worker_id()
    logging.getLogger("apscheduler.executors.default").addFilter(_QUIET)  # added once
    scheduler = BackgroundScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    # A due job, run or skipped as still running, proves the scheduler alive (/healthz).
    scheduler.add_listener(metrics.SCHEDULER.beat, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES)
    trigger, period = recheck_trigger(services)
    # A cron trigger computes its own first run. (Passing next_run_time=None instead, as this
    # did, adds the job paused: with MODELGOV_RECHECK_CRON no recheck ever ran.)
    first: dict[str, Any] = (
        {}
        if services.settings.recheck_cron
        else {"next_run_time": next_recheck_at(services, period)}
    )
    scheduler.add_job(
        guarded(services, name="recheck", holder=holder, hold=period * 0.9, work=recheck_job),
        trigger,
        id="recheck",
        name="upstream recheck cycle",
        replace_existing=True,
        **first,
    )
    scheduler.add_job(
        resilient("checks", lambda: requested_checks_job(services, holder=holder)),
        IntervalTrigger(seconds=REQUESTED_CHECKS_SECONDS, timezone="UTC"),
        id="requested_checks",
        name=REQUESTED_CHECKS_NAME,
        replace_existing=True,
        misfire_grace_time=REQUESTED_CHECKS_SECONDS * 5,
    )
    scheduler.add_job(
        resilient("deliver", lambda: delivery_job(services)),
        IntervalTrigger(seconds=DELIVERY_SECONDS, timezone="UTC"),
        id="deliver",
        name="alert delivery",
        replace_existing=True,
        misfire_grace_time=DELIVERY_SECONDS,
        # What waited (e.g. for a worker with Slack) goes out at start, not 30 s later.
        next_run_time=services.clock.now(),
    )
    scheduler.add_job(
        guarded(
            services,
            name="expiry",
            holder=holder,
            hold=timedelta(minutes=50),
            work=expiry_job,
        ),
        IntervalTrigger(hours=EXPIRY_HOURS, timezone="UTC"),
        id="expiry",
        name="approval expiry",
        replace_existing=True,
        next_run_time=services.clock.now(),
    )
    scheduler.add_job(
        guarded(services, name="digest", holder=holder, hold=timedelta(hours=20), work=digest_job),
        digest_trigger(services.settings),
        id="digest",
        name="daily digest",
        replace_existing=True,
    )
    return scheduler
