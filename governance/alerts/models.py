"""The outbox: an alert (or a request card, or a DM) is a row first, then delivered once.

``dedupe_key`` is unique, so rechecks and restarts never create the same message twice. Each
row carries its own delivery claim (``claimed_by`` until ``claim_expires_at``) and the start of
an attempt whose outcome is not known yet (``attempt_started_at``), so any number of workers can
deliver one backlog and a crash is reconciled against the destination before posting again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from governance.core.db import Base, UTCDateTime

DESTINATION_MAX = 100
HOLDER_MAX = 128
CHANNEL_ID_MAX = 32


class Deliverable:
    """The columns every outbox row has: its state, retries, claim and unresolved attempt."""

    destination: Mapped[str] = mapped_column(String(DESTINATION_MAX))
    state: Mapped[str] = mapped_column(String(20))  # pending | delivered
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_ref: Mapped[str | None] = mapped_column(String(64))  # e.g. Slack ts
    # The destination's channel id once known (history is read by id, not by name).
    channel_id: Mapped[str | None] = mapped_column(String(CHANNEL_ID_MAX))
    claimed_by: Mapped[str | None] = mapped_column(String(HOLDER_MAX))
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set before a post is sent, cleared when its outcome is known: a row with it set may
    # already be in the channel and is reconciled before it is posted again.
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Alert(Deliverable, Base):
    """One alert for one destination, delivered through the outbox; ``dedupe_key`` makes the
    same (model, kind, new state, destination) one row however often it is raised."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    model_id: Mapped[int | None] = mapped_column(ForeignKey("tracked_models.id"), index=True)
    change_id: Mapped[int | None] = mapped_column(ForeignKey("upstream_changes.id"))
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    thread_ref: Mapped[str | None] = mapped_column(String(64))
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Subscription(Base):
    """Route alerts to a channel: those of ``kinds`` (None: every kind) about a model whose
    repo id matches one of the glob patterns ``repos`` (None: every model)."""

    __tablename__ = "alert_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String(DESTINATION_MAX), unique=True)
    kinds: Mapped[list[str] | None] = mapped_column(JSON)
    repos: Mapped[list[str] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxMessage(Deliverable, Base):
    """A request card, a card refresh or a direct message waiting to be delivered.

    ``kind`` is ``request_card`` (post the card of ``approval_id``), ``card_update`` (show its
    current state; ``generation`` grows with every request so a refresh asked for while one is
    being sent is sent again) or ``direct_message`` (``payload`` is the message; ``destination``
    the user).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20))
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    generation: Mapped[int] = mapped_column(Integer, default=0)


class DestinationChannel(Base):
    """The channel id Slack gave a destination typed by name (``#model-alerts`` -> ``C…``)."""

    __tablename__ = "destination_channels"

    destination: Mapped[str] = mapped_column(String(DESTINATION_MAX), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(CHANNEL_ID_MAX))
    learned_at: Mapped[datetime] = mapped_column(UTCDateTime())
