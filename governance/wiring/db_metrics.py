"""Metrics only the database knows, read when Prometheus scrapes: the outbox backlog and the
last finished scheduled recheck.

Counting these in a process would be wrong twice over: the backlog is shared by every
process of a deployment, and a restarted worker would forget when the last cycle finished.
So ``DatabaseCollector`` asks the database at scrape time, with a few indexed statements in
one short read-only transaction (bounded by ``statement_timeout`` on PostgreSQL and by the
engine's connect timeout), and never fails the scrape: when the database cannot answer, it
reports ``modelgov_database_up 0`` and leaves the other series out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, select

from governance.alerts.claims import PENDING
from governance.alerts.models import Alert, OutboxMessage
from governance.core.clock import Clock
from governance.core.db import read_only_engine
from governance.upstream.models import RecheckCycle

log = logging.getLogger(__name__)

# A scrape must come back well inside Prometheus's default 10 s scrape timeout.
STATEMENT_TIMEOUT_MS = 2000
SCHEDULED = "schedule"


@dataclass(frozen=True)
class Backlog:
    """One outbox table's pending rows: how many, and when the oldest was queued."""

    pending: int
    oldest: datetime | None


@dataclass(frozen=True)
class DatabaseSample:
    """What one scrape read: each outbox table's backlog, the last scheduled cycle's end."""

    backlogs: dict[str, Backlog]
    last_cycle_finished: datetime | None


def sample_database(connection: Connection) -> DatabaseSample:
    """Read the backlog of both outbox tables and the last finished scheduled cycle."""
    backlogs = {}
    for table in (Alert, OutboxMessage):
        count, oldest = connection.execute(
            select(func.count(), func.min(table.created_at)).where(table.state == PENDING)
        ).one()
        backlogs[table.__tablename__] = Backlog(int(count), oldest)
    # Newest first by primary key: stops at the first finished scheduled cycle, however many
    # cycles (webhook checks, manual runs) the table has accumulated.
    last = connection.scalar(
        select(RecheckCycle.finished_at)
        .where(RecheckCycle.trigger == SCHEDULED, RecheckCycle.finished_at.is_not(None))
        .order_by(RecheckCycle.id.desc())
        .limit(1)
    )
    return DatabaseSample(backlogs=backlogs, last_cycle_finished=last)


class DatabaseCollector(Collector):
    """A prometheus_client collector over ``engine``; register it on the registry a
    ``/metrics`` endpoint serves (one per process)."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = read_only_engine(engine)
        self._clock = clock

    def describe(self) -> Iterator[Metric]:
        """Nothing: registering must not query the database (prometheus_client would)."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        """The families of one scrape; only ``modelgov_database_up`` when the database is down."""
        up = GaugeMetricFamily(
            "modelgov_database_up",
            "1 when the database answered this scrape's queries, else 0.",
        )
        try:
            sample = self._sample()
        except Exception as exc:  # the scrape itself must succeed, saying the database is down
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from self._families(sample)

    def _sample(self) -> DatabaseSample:
        with self._engine.connect() as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
            return sample_database(connection)

    def _families(self, sample: DatabaseSample) -> Iterator[Metric]:
        now = self._clock.now()
        pending = GaugeMetricFamily(
            "modelgov_outbox_pending_messages",
            "Outbox rows not delivered yet, by table (alerts; outbox_messages: request cards, "
            "card refreshes, DMs); those waiting for a retry included.",
            labels=["outbox"],
        )
        oldest = GaugeMetricFamily(
            "modelgov_outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered outbox row, by table (0 when none is pending).",
            labels=["outbox"],
        )
        for table, backlog in sorted(sample.backlogs.items()):
            pending.add_metric([table], backlog.pending)
            age = 0.0 if backlog.oldest is None else (now - backlog.oldest).total_seconds()
            oldest.add_metric([table], max(age, 0.0))
        yield pending
        yield oldest
        if sample.last_cycle_finished is not None:
            last = GaugeMetricFamily(
                "modelgov_recheck_last_finished_timestamp_seconds",
                "Unix time the last scheduled recheck cycle finished (absent before the first).",
            )
            last.add_metric([], sample.last_cycle_finished.timestamp())
            yield last
