"""The contract between the outbox and whatever delivers its rows (log, console, Slack)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

log = logging.getLogger(__name__)

# Kinds of outbox message besides alerts (rows of ``outbox_messages``).
REQUEST_CARD = "request_card"
CARD_UPDATE = "card_update"
DIRECT_MESSAGE = "direct_message"


@dataclass(frozen=True)
class OutgoingAlert:
    """An alert as a notifier sees it: no database objects, just the facts to render.

    ``payload`` holds structured facts: ``repo_id``, ``kind``, ``before``, ``after``,
    ``summary`` (list of lines), ``diff_excerpt``, ``approvals_in_review`` (list of
    ``{"id", "use", "decided_by", "requested_by"}``) and ``approvers`` (ids to mention), when
    they apply.
    ``thread_ref`` is the message of the first alert about the same model in the same
    destination, so follow-ups can thread under it. ``dedupe_key`` identifies the alert in
    the destination (message metadata); ``channel_id`` is the destination's id when known.
    """

    id: int
    kind: str
    destination: str
    title: str
    body: str
    payload: dict[str, Any] = field(default_factory=dict)
    thread_ref: str | None = None
    dedupe_key: str = ""
    channel_id: str | None = None
    created_at: datetime | None = None  # when it was raised


@dataclass(frozen=True)
class OutgoingMessage:
    """A request card, a card refresh or a direct message (see ``OutboxMessage``)."""

    id: int
    kind: str
    destination: str
    dedupe_key: str
    approval_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    channel_id: str | None = None


Outgoing = OutgoingAlert | OutgoingMessage


@dataclass(frozen=True)
class Delivered:
    """Where it landed (``message_ref``: e.g. a Slack ts; ``channel_id``: the channel's id)."""

    message_ref: str | None = None
    channel_id: str | None = None


class DeliveryFailed(Exception):
    """Delivery did not happen; the outbox keeps the row and retries later."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class OutcomeUnknown(DeliveryFailed):
    """The message may or may not have arrived (a timeout, a reset after sending, a 5xx).

    The outbox keeps the attempt open and looks for the message before posting it again.
    """


class Notifier(Protocol):
    """Delivers outbox rows; every call is bounded by ``max_step_seconds``.

    Every outbox row is bound for Slack (a channel, a card, a user's DM). A notifier whose
    ``reaches_slack`` is False (a process without a bot token) is given none of them: they stay
    pending, untouched, until a notifier that reaches Slack delivers them.
    """

    @property
    def reaches_slack(self) -> bool:
        """Whether this notifier posts to Slack (only then does it get Slack-bound rows)."""
        ...

    @property
    def max_step_seconds(self) -> float:
        """The longest one call of this notifier can take (timeouts included)."""
        ...

    def deliver(self, alert: OutgoingAlert) -> Delivered:
        """Deliver ``alert`` once; raise ``DeliveryFailed`` (or ``OutcomeUnknown``)."""
        ...

    def waiting(self, count: int) -> None:
        """Told, when it reaches no Slack, how many rows wait for a notifier that does."""
        ...

    def send(self, message: OutgoingMessage) -> Delivered:
        """Deliver a card, card refresh or DM once; raises like ``deliver``."""
        ...

    def find(self, item: Outgoing, *, since: datetime) -> Delivered | None:
        """Where ``item`` already landed, looking no further back than ``since``.

        Returns None when it did not land; raises ``DeliveryFailed`` when that cannot be told
        now (the destination's history is unreachable), so it is not posted twice.
        """
        ...


class LogNotifier:
    """The notifier of a process without Slack (no bot token): it reaches no Slack destination.

    The deliverer hands it no Slack-bound row (``reaches_slack`` is False), so alerts, cards and
    DMs wait in the outbox for a worker that has Slack (``/models alerts`` shows them) instead
    of being marked delivered to a log nobody reads. Given a row anyway (a direct call), it
    logs it; a log line cannot end with an unknown outcome, so ``find`` finds nothing.
    """

    reaches_slack = False
    max_step_seconds = 1.0

    def __init__(self) -> None:
        self.delivered: list[OutgoingAlert] = []
        self.sent: list[OutgoingMessage] = []
        self._told: int | None = None  # the waiting count last logged at INFO

    def waiting(self, count: int) -> None:
        """Log how many rows wait for Slack: at INFO when the count changed (the delivery job
        runs every 30 s, and a console shares the terminal with the log), else at DEBUG."""
        level = logging.INFO if count != self._told else logging.DEBUG
        self._told = count
        if count:
            log.log(
                level,
                "%d outbox rows wait for Slack (SLACK_BOT_TOKEN is not set); `/models alerts` "
                "lists the alerts among them; a worker with a bot token posts each once",
                count,
            )

    def deliver(self, alert: OutgoingAlert) -> Delivered:
        """Log the alert; returns a reference to the (log) message."""
        log.warning("alert #%s to %s: %s", alert.id, alert.destination, alert.title)
        self.delivered.append(alert)
        return Delivered(message_ref=f"log-{alert.id}")

    def send(self, message: OutgoingMessage) -> Delivered:
        """Log the card or DM; returns a reference to the (log) message."""
        log.info("%s #%s to %s", message.kind, message.id, message.destination)
        self.sent.append(message)
        return Delivered(message_ref=f"log-m{message.id}")

    def find(self, item: Outgoing, *, since: datetime) -> Delivered | None:
        """Nothing is ever found: a log line is never in doubt (returns None)."""
        return None
