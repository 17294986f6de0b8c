"""The outbox: raising alerts (deduplicated) and delivering them with retries.

An alert is written in the same transaction as the change that caused it. Delivery happens
later, outside any transaction, through a ``Notifier``; a failed delivery is rescheduled with
exponential backoff and never dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from governance.alerts.models import Alert
from governance.alerts.notifier import DeliveryFailed, Notifier, OutgoingAlert
from governance.alerts.subscriptions import destinations_for
from governance.clock import Clock
from governance.upstream.facts import fingerprint

log = logging.getLogger(__name__)

PENDING = "pending"
DELIVERED = "delivered"
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600


def dedupe_key(*, model_id: int | None, kind: str, state_fingerprint: str, destination: str) -> str:
    """The outbox's idempotency key: (model, kind, new fingerprint, destination)."""
    return fingerprint([model_id, kind, state_fingerprint, destination])


def raise_alert(
    session: Session,
    *,
    kind: str,
    title: str,
    body: str,
    payload: dict[str, Any],
    state_fingerprint: str,
    default_destination: str,
    clock: Clock,
    model_id: int | None = None,
    change_id: int | None = None,
) -> list[Alert]:
    """One alert row per destination routed for ``kind``; duplicates are skipped.

    Returns the alerts created now (an empty list when every one existed already).
    """
    created: list[Alert] = []
    for destination in destinations_for(session, kind=kind, default=default_destination):
        key = dedupe_key(
            model_id=model_id,
            kind=kind,
            state_fingerprint=state_fingerprint,
            destination=destination,
        )
        if session.scalar(select(Alert.id).where(Alert.dedupe_key == key)) is not None:
            continue
        alert = Alert(
            created_at=clock.now(),
            kind=kind,
            model_id=model_id,
            change_id=change_id,
            destination=destination,
            dedupe_key=key,
            title=title,
            body=body,
            payload=payload,
            state=PENDING,
            attempts=0,
            next_attempt_at=clock.now(),
        )
        try:
            with session.begin_nested():
                session.add(alert)
                session.flush()
        except IntegrityError:
            continue  # raised concurrently by another process: theirs stands
        created.append(alert)
    return created


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def deliver_pending(
    factory: sessionmaker[Session], *, notifier: Notifier, clock: Clock, batch: int = 50
) -> DeliveryReport:
    """Hand due pending alerts to ``notifier``, oldest first; record what happened to each."""
    report = DeliveryReport()
    with factory() as session:
        due = session.scalars(
            select(Alert)
            .where(Alert.state == PENDING, Alert.next_attempt_at <= clock.now())
            .order_by(Alert.id)
            .limit(batch)
        ).all()
        outgoing = [_outgoing(session, alert) for alert in due]
    for item in outgoing:
        try:
            delivered = notifier.deliver(item)
        except DeliveryFailed as exc:
            _reschedule(factory, item.id, exc, clock)
            report.failed += 1
            report.errors.append(f"alert #{item.id}: {exc.reason}")
            continue
        except Exception as exc:  # a notifier bug must not lose the alert either
            log.exception("notifier crashed on alert #%s", item.id)
            _reschedule(factory, item.id, DeliveryFailed(f"{type(exc).__name__}: {exc}"), clock)
            report.failed += 1
            continue
        with factory() as session, session.begin():
            session.execute(
                update(Alert)
                .where(Alert.id == item.id, Alert.state == PENDING)
                .values(
                    state=DELIVERED,
                    delivered_at=clock.now(),
                    message_ref=delivered.message_ref,
                    thread_ref=item.thread_ref,
                    attempts=Alert.attempts + 1,
                    last_error=None,
                )
            )
        report.delivered += 1
    return report


def _outgoing(session: Session, alert: Alert) -> OutgoingAlert:
    thread_ref = None
    if alert.model_id is not None:
        thread_ref = session.scalar(
            select(Alert.message_ref)
            .where(
                Alert.model_id == alert.model_id,
                Alert.destination == alert.destination,
                Alert.state == DELIVERED,
                Alert.thread_ref.is_(None),
                Alert.message_ref.is_not(None),
                Alert.id != alert.id,
            )
            .order_by(Alert.id)
            .limit(1)
        )
    return OutgoingAlert(
        id=alert.id,
        kind=alert.kind,
        destination=alert.destination,
        title=alert.title,
        body=alert.body,
        payload=dict(alert.payload or {}),
        thread_ref=thread_ref,
    )


def _reschedule(
    factory: sessionmaker[Session], alert_id: int, failure: DeliveryFailed, clock: Clock
) -> None:
    with factory() as session, session.begin():
        alert = session.get(Alert, alert_id)
        if alert is None or alert.state != PENDING:
            return
        alert.attempts += 1
        backoff = min(BACKOFF_FIRST_SECONDS * 2 ** (alert.attempts - 1), BACKOFF_MAX_SECONDS)
        wait = max(backoff, failure.retry_after or 0)
        alert.next_attempt_at = clock.now() + timedelta(seconds=wait)
        alert.last_error = failure.reason[:1000]
