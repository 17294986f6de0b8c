"""Scheduled jobs: the lease keeps a second worker harmless; expiry; digest; restart timing."""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger

from governance.alerts.models import Alert
from governance.core.clock import FrozenClock
from governance.core.db import transaction
from governance.core.leases import acquire_lease
from governance.flows.decide_with_policy import approve
from governance.registry.models import Approval, ApprovalState, IntendedUse
from governance.registry.requests import request_approval
from governance.upstream.models import RecheckCycle
from governance.wiring.scheduler import (
    build_scheduler,
    digest_job,
    expiry_job,
    guarded,
    next_recheck_at,
)
from governance.wiring.services import Services, build_services
from tests.conftest import make_settings


def test_two_workers_one_runs(services: Services) -> None:
    runs: list[str] = []
    barrier = threading.Barrier(2)

    def work(_: Services) -> None:
        runs.append(threading.current_thread().name)

    def worker(holder: str) -> None:
        job = guarded(services, name="recheck", holder=holder, hold=timedelta(hours=5), work=work)
        barrier.wait()
        job()

    threads = [threading.Thread(target=worker, args=(f"w{i}",), name=f"w{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(runs) == 1
    # The holder may renew; the other may take over only once the lease expired.
    assert acquire_lease(
        services.session_factory,
        name="recheck",
        holder=runs[0],
        ttl=timedelta(hours=5),
        clock=services.clock,
    )
    other = "w1" if runs[0] == "w0" else "w0"
    assert not acquire_lease(
        services.session_factory,
        name="recheck",
        holder=other,
        ttl=timedelta(hours=5),
        clock=services.clock,
    )
    services.clock.advance(hours=6)  # type: ignore[attr-defined]
    assert acquire_lease(
        services.session_factory,
        name="recheck",
        holder=other,
        ttl=timedelta(hours=5),
        clock=services.clock,
    )


def test_next_recheck_comes_from_the_last_completed_cycle(services: Services) -> None:
    now = services.clock.now()
    interval = timedelta(hours=6)
    assert next_recheck_at(services, interval) == now  # never ran: now
    with transaction(services.session_factory) as session:
        session.add(
            RecheckCycle(
                trigger="schedule",
                started_at=now - timedelta(hours=2),
                finished_at=now - timedelta(hours=1),
            )
        )
    assert next_recheck_at(services, interval) == now + timedelta(hours=5)


def test_scheduler_has_fixed_jobs_with_generous_misfire_grace(services: Services) -> None:
    scheduler = build_scheduler(services, holder="test")
    scheduler.start(paused=True)
    try:
        jobs_by_id = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs_by_id) == {"recheck", "requested_checks", "deliver", "expiry", "digest"}
        assert jobs_by_id["recheck"].misfire_grace_time == 3600
        assert jobs_by_id["recheck"].next_run_time == services.clock.now()  # never ran: due now
    finally:
        scheduler.shutdown(wait=False)


def test_a_cron_schedule_with_jitter_is_scheduled(database_url: str, clock: FrozenClock) -> None:
    # from_crontab takes no jitter: `modelgov worker` with MODELGOV_RECHECK_CRON died at start.
    settings = make_settings(database_url, recheck_cron="0 */6 * * *", recheck_jitter_seconds=60)
    services = build_services(settings, clock=clock)
    try:
        scheduler = build_scheduler(services, holder="test")
        scheduler.start(paused=True)
        recheck = scheduler.get_job("recheck")
        assert isinstance(recheck.trigger, CronTrigger) and recheck.trigger.jitter == 60
        assert recheck.next_run_time is not None  # scheduled, not paused
        scheduler.shutdown(wait=False)
    finally:
        services.close()


def test_the_every_second_webhook_job_does_not_flood_the_log(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    build_scheduler(services, holder="test")
    executor = logging.getLogger("apscheduler.executors.default")
    with caplog.at_level(logging.INFO):
        executor.info('Running job "checks queued by Hub webhooks (trigger: interval[0:00:01])"')
        executor.info('Running job "alert delivery (trigger: interval[0:00:30])"')
        executor.error('Job "checks queued by Hub webhooks (trigger: …)" raised an exception')
    assert [r.getMessage()[:20] for r in caplog.records] == [
        'Running job "alert d',
        'Job "checks queued b',
    ]


def _approved(services: Services, repo: str, expires: date | None) -> int:
    with transaction(services.session_factory) as session:
        approval = request_approval(
            session,
            repo_id=repo,
            use=IntendedUse.INTERNAL,
            reason="",
            requester="carol",
            clock=services.clock,
        )
        approve(
            session,
            ref=str(approval.id),
            actor="bob",
            approvers=services.approvers,
            clock=services.clock,
            expires_on=expires,
        )
        return approval.id


def test_expiry_job_expires_and_alerts_once(services: Services) -> None:
    soon = _approved(services, "acme/soon", services.clock.now().date() + timedelta(days=3))
    later = _approved(services, "acme/later", services.clock.now().date() + timedelta(days=30))
    assert expiry_job(services) == []
    services.clock.advance(days=4)  # type: ignore[attr-defined]
    assert expiry_job(services) == [soon]
    assert expiry_job(services) == []
    with transaction(services.session_factory) as session:
        assert session.get(Approval, soon).state is ApprovalState.EXPIRED  # type: ignore[union-attr]
        assert session.get(Approval, later).state is ApprovalState.APPROVED  # type: ignore[union-attr]
        assert [a.kind for a in session.query(Alert)] == ["approval_expired"]


def test_daily_digest(services: Services) -> None:
    assert digest_job(services).empty
    _approved(services, "acme/expiring", services.clock.now().date() + timedelta(days=10))
    with transaction(services.session_factory) as session:
        request_approval(
            session,
            repo_id="acme/pending",
            use=IntendedUse.RESEARCH,
            reason="",
            requester="dave",
            clock=services.clock,
        )
    digest = digest_job(services)
    assert len(digest.pending) == 1 and len(digest.expiring) == 1 and digest.in_review == []
    digest_job(services)  # same day: one digest alert
    with transaction(services.session_factory) as session:
        assert [a.kind for a in session.query(Alert)] == ["digest"]
