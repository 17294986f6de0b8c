"""Delivering the outbox: alerts, then queued cards and DMs, each exactly once.

Delivery happens outside any transaction, through a ``Notifier``, by any number of workers:
each claims the rows it delivers (``claims``), records that an attempt started before it posts,
and a row whose attempt has no known outcome (a timeout, a crash) is looked for in its
destination before it is posted again. A failed delivery is rescheduled with backoff and never
dropped.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from governance.alerts import claims
from governance.alerts.claims import PENDING, Table
from governance.alerts.models import Alert, OutboxMessage
from governance.alerts.notifier import (
    CARD_UPDATE,
    REQUEST_CARD,
    Delivered,
    DeliveryFailed,
    Notifier,
    OutcomeUnknown,
    Outgoing,
    OutgoingAlert,
    OutgoingMessage,
)
from governance.alerts.outbox import queue_card_update
from governance.alerts.outgoing import learn_channel, outgoing
from governance.core import metrics
from governance.core.clock import Clock
from governance.registry.card_refs import remember_card

log = logging.getLogger(__name__)

# A claim outlives the notifier's longest call by this much (database writes, scheduling).
CLAIM_MARGIN_SECONDS = 15.0


@dataclass(frozen=True)
class RetryPolicy:
    """How long a row waits after a failure: exponential from ``first_seconds`` up to
    ``max_seconds``; a rate limit's own wait when it gives one; ``unknown_seconds`` before an
    attempt with an unknown outcome is looked for; ``blocked_seconds`` for a card refresh whose
    card is not posted yet. A claim lasts the notifier's longest call plus
    ``claim_margin_seconds``."""

    first_seconds: float = 30
    max_seconds: float = 3600
    unknown_seconds: float = 5
    blocked_seconds: float = 2
    claim_margin_seconds: float = CLAIM_MARGIN_SECONDS


@dataclass
class DeliveryReport:
    """What one delivery run did, counted per outcome, with one line per failure."""

    delivered: int = 0  # alerts posted
    messages: int = 0  # cards, card refreshes and DMs sent
    reconciled: int = 0  # found already in the destination: recorded, not posted again
    failed: int = 0
    lost_claims: int = 0  # rows another worker took over (this one had become too slow)
    # Rows left pending because this notifier reaches no Slack (no bot token): not claimed.
    waiting: int = 0
    errors: list[str] = field(default_factory=list)


def delivery_holder() -> str:
    """A claim owner unique to one delivery run (host, process, random)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:128]


def deliver_pending(
    factory: sessionmaker[Session],
    *,
    notifier: Notifier,
    clock: Clock,
    batch: int = 5,
    max_batches: int = 20,
    policy: RetryPolicy | None = None,
    tables: tuple[Table, ...] = (Alert, OutboxMessage),
    holder: str | None = None,
) -> DeliveryReport:
    """Claim and deliver due rows of ``tables`` (alerts, then cards and DMs), oldest first,
    ``batch`` rows at a time, at most ``max_batches`` times per table.

    A notifier that reaches no Slack gets nothing: the rows stay pending (counted as
    ``waiting``) for a worker with Slack. Returns what happened. Safe to run in any number of
    processes at once: a row is delivered by the one worker that claimed it; a crash leaves a
    claim that expires after the notifier's longest call and an attempt that the next claimant
    reconciles.
    """
    report = DeliveryReport()
    if not notifier.reaches_slack:
        # Every row is bound for Slack: claiming it here would mark it delivered to a log, and
        # a worker started later with a bot token would never post it. It waits instead.
        report.waiting = claims.count_pending(factory, tables)
        notifier.waiting(report.waiting)
        return report
    policy = policy or RetryPolicy()
    run = _Run(
        factory=factory,
        notifier=notifier,
        clock=clock,
        policy=policy,
        holder=holder or delivery_holder(),
        ttl=timedelta(seconds=notifier.max_step_seconds + policy.claim_margin_seconds),
        report=report,
    )
    for table in tables:
        # Claim a few rows at a time: a crash strands only those until their claims expire.
        for _ in range(max_batches):
            ids = claims.claim_due(
                factory,
                table,
                holder=run.holder,
                ttl=run.ttl,
                clock=clock,
                batch=batch,
                skip_destinations=frozenset(run.limited),
            )
            if not ids:
                break
            for row_id in ids:
                run.deliver_one(table, row_id)
    return report


def deliver_messages(
    factory: sessionmaker[Session], *, notifier: Notifier, clock: Clock
) -> DeliveryReport:
    """``deliver_pending`` for queued cards and DMs only (right after they are queued)."""
    return deliver_pending(factory, notifier=notifier, clock=clock, tables=(OutboxMessage,))


@dataclass
class _Run:
    factory: sessionmaker[Session]
    notifier: Notifier
    clock: Clock
    policy: RetryPolicy
    holder: str
    ttl: timedelta
    report: DeliveryReport
    # Destinations that answered 429 in this run, and when they may be tried again.
    limited: dict[str, datetime] = field(default_factory=dict)

    def deliver_one(self, table: Table, row_id: int) -> None:
        """Deliver one claimed row, unless its destination is rate limited in this run."""
        with self.factory() as session:
            row = _row(session, table, row_id)
            if row is None or row.state != PENDING or row.claimed_by != self.holder:
                return None
            limited_until = self.limited.get(row.destination)
            started = row.attempt_started_at
            generation = row.generation if isinstance(row, OutboxMessage) else 0
            item = None if limited_until is not None else outgoing(session, row)
        if limited_until is not None:  # it would be refused too: not even tried
            return self._release(table, row_id, limited_until)
        if item is None:  # nothing to send (a refresh of a card that is not posted yet)
            return self._blocked(table, row_id, session_factory=self.factory)
        if started is not None:
            if not self._extend(table, row_id):
                return None
            try:
                found = self.notifier.find(item, since=started)
            except DeliveryFailed as exc:
                return self._failed(table, row_id, exc, keep_attempt=True)
            except Exception as exc:  # a notifier bug must not lose or repeat the row
                log.exception("looking for %s #%s failed", table.__tablename__, row_id)
                return self._failed(table, row_id, _bug(exc), keep_attempt=True)
            if found is not None:
                self._delivered(table, row_id, item, found, generation)
                self.report.reconciled += 1
                metrics.DELIVERIES.labels(outbox=table.__tablename__, outcome="reconciled").inc()
                return None
        thread = {"thread_ref": item.thread_ref} if isinstance(item, OutgoingAlert) else {}
        if not self._extend(table, row_id, start_attempt=True, **thread):
            return None
        try:
            if isinstance(item, OutgoingAlert):
                delivered = self.notifier.deliver(item)
            else:
                delivered = self.notifier.send(item)
        except OutcomeUnknown as exc:
            return self._failed(table, row_id, exc, keep_attempt=True)
        except DeliveryFailed as exc:
            return self._failed(table, row_id, exc, keep_attempt=False)
        except Exception as exc:
            log.exception("notifier crashed on %s #%s", table.__tablename__, row_id)
            return self._failed(table, row_id, _bug(exc), keep_attempt=True)
        self._delivered(table, row_id, item, delivered, generation)
        metrics.DELIVERIES.labels(outbox=table.__tablename__, outcome="delivered").inc()
        if isinstance(item, OutgoingAlert):
            self.report.delivered += 1
        else:
            self.report.messages += 1
        return None

    def _extend(self, table: Table, row_id: int, **values: Any) -> bool:
        held = claims.extend_claim(
            self.factory,
            table,
            row_id,
            holder=self.holder,
            ttl=self.ttl,
            clock=self.clock,
            **values,
        )
        if not held:
            self.report.lost_claims += 1
            log.warning("%s #%s: claim lost to another worker", table.__tablename__, row_id)
        return held

    def _failed(
        self, table: Table, row_id: int, failure: DeliveryFailed, *, keep_attempt: bool
    ) -> None:
        self.report.failed += 1
        metrics.count_delivery_failure(table.__tablename__, failure, unknown=keep_attempt)
        self.report.errors.append(f"{table.__tablename__} #{row_id}: {failure.reason}")
        with self.factory() as session, session.begin():
            row = _row(session, table, row_id)
            if row is None:
                return None
            attempts = row.attempts + 1
            if failure.retry_after is not None:
                wait = failure.retry_after  # Slack said when; the row is not at fault
                # Slack limits posts per channel: the others may still be delivered now.
                until = self.clock.now() + timedelta(seconds=wait)
                self.limited[row.destination] = until
            elif isinstance(failure, OutcomeUnknown) or keep_attempt:
                wait = self.policy.unknown_seconds
            else:
                wait = min(self.policy.first_seconds * 2 ** (attempts - 1), self.policy.max_seconds)
            values: dict[str, Any] = {"attempts": attempts, "last_error": failure.reason[:1000]}
            if not keep_attempt:
                values["attempt_started_at"] = None
            claims.release(
                session,
                table,
                row_id,
                holder=self.holder,
                next_attempt_at=self.clock.now() + timedelta(seconds=wait),
                **values,
            )

    def _blocked(
        self, table: Table, row_id: int, *, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            wait = timedelta(seconds=self.policy.blocked_seconds)
            claims.release(
                session, table, row_id, holder=self.holder, next_attempt_at=self.clock.now() + wait
            )
        return None

    def _release(self, table: Table, row_id: int, due: datetime) -> None:
        with self.factory() as session, session.begin():
            claims.release(session, table, row_id, holder=self.holder, next_attempt_at=due)

    def _delivered(
        self, table: Table, row_id: int, item: Outgoing, where: Delivered, generation: int
    ) -> None:
        with self.factory() as session, session.begin():
            if isinstance(item, OutgoingMessage) and item.kind == CARD_UPDATE:
                row = session.get(OutboxMessage, row_id)  # card refreshes are outbox messages
                if row is not None and row.generation != generation:
                    # Asked again while this one was sent: send the newest state once more.
                    claims.release(
                        session, table, row_id, holder=self.holder, next_attempt_at=self.clock.now()
                    )
                    return
            values: dict[str, Any] = {"attempts": table.attempts + 1}
            if where.message_ref is not None:
                values["message_ref"] = where.message_ref
            if where.channel_id is not None:
                values["channel_id"] = where.channel_id
            if isinstance(item, OutgoingAlert):
                values["thread_ref"] = item.thread_ref
            if not claims.mark_delivered(session, table, row_id, clock=self.clock, **values):
                return
            if where.channel_id:
                learn_channel(session, item.destination, where.channel_id, self.clock)
            if isinstance(item, OutgoingAlert):
                for approval_id in _approvals_moved(item):
                    queue_card_update(session, approval_id=approval_id, clock=self.clock)
            elif item.kind == REQUEST_CARD and item.approval_id is not None and where.message_ref:
                remember_card(
                    session,
                    approval_id=item.approval_id,
                    destination=where.channel_id or item.destination,
                    message_ref=where.message_ref,
                    clock=self.clock,
                )


def _row(session: Session, table: Table, row_id: int) -> Alert | OutboxMessage | None:
    """Row ``row_id`` of ``table``, or None when it is gone."""
    # One branch per table: ``session.get`` on the union would be typed as their common base.
    return session.get(Alert, row_id) if table is Alert else session.get(OutboxMessage, row_id)


def _bug(exc: Exception) -> OutcomeUnknown:
    return OutcomeUnknown(f"{type(exc).__name__}: {exc}")


def _approvals_moved(alert: OutgoingAlert) -> set[int]:
    """Approvals an alert moved (to review, expired): their cards must show the new state."""
    ids = [a.get("id") for a in alert.payload.get("approvals_in_review") or []]
    ids.append(alert.payload.get("approval_id"))
    return {i for i in ids if isinstance(i, int)}
