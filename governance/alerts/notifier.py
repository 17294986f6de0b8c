"""The contract between the outbox and whatever delivers alerts (log, console, Slack)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingAlert:
    """An alert as a notifier sees it: no database objects, just the facts to render.

    ``payload`` holds structured facts: ``repo_id``, ``kind``, ``before``, ``after``,
    ``summary`` (list of lines), ``diff_excerpt``, ``approvals_in_review`` (list of
    ``{"id", "use", "decided_by"}``) and ``approvers`` (ids to mention), when they apply.
    ``thread_ref`` is the message of the first alert about the same model in the same
    destination, so follow-ups can thread under it.
    """

    id: int
    kind: str
    destination: str
    title: str
    body: str
    payload: dict[str, Any] = field(default_factory=dict)
    thread_ref: str | None = None


@dataclass(frozen=True)
class Delivered:
    """Where the alert landed (``message_ref``: e.g. a Slack ts), so it can be updated later."""

    message_ref: str | None = None


class DeliveryFailed(Exception):
    """Delivery did not happen; the outbox keeps the alert and retries later."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Notifier(Protocol):
    def deliver(self, alert: OutgoingAlert) -> Delivered:
        """Deliver ``alert`` once; raise ``DeliveryFailed`` to have it retried."""
        ...


class LogNotifier:
    """Writes alerts to the log: the notifier of the console and of tests without Slack."""

    def __init__(self) -> None:
        self.delivered: list[OutgoingAlert] = []

    def deliver(self, alert: OutgoingAlert) -> Delivered:
        log.warning("alert #%s to %s: %s", alert.id, alert.destination, alert.title)
        self.delivered.append(alert)
        return Delivered(message_ref=f"log-{alert.id}")
