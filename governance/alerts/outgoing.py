"""What a claimed outbox row is sent as, and the channel ids learned from delivering them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from governance.alerts.claims import DELIVERED
from governance.alerts.models import Alert, DestinationChannel, OutboxMessage
from governance.alerts.notifier import CARD_UPDATE, Outgoing, OutgoingAlert, OutgoingMessage
from governance.alerts.outbox import card_pending
from governance.core.clock import Clock
from governance.registry.card_refs import find_card
from governance.registry.models import Approval


def learn_channel(session: Session, destination: str, channel_id: str, clock: Clock) -> None:
    """Remember the channel id Slack delivered ``destination`` (a ``#name``) to; returns nothing."""
    if not destination or destination == channel_id:
        return
    if session.get(DestinationChannel, destination) is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                DestinationChannel(
                    destination=destination, channel_id=channel_id, learned_at=clock.now()
                )
            )
            session.flush()
    except IntegrityError:
        pass  # learned concurrently: the same id


def _known_channel(session: Session, destination: str) -> str | None:
    known = session.get(DestinationChannel, destination)
    return known.channel_id if known else None


def outgoing(session: Session, row: Alert | OutboxMessage) -> Outgoing | None:
    """What to send for ``row``; None when there is nothing to send yet (a refresh of a card
    whose post is still queued)."""
    if isinstance(row, OutboxMessage):
        return _outgoing_message(session, row)
    thread_ref = row.thread_ref
    # An open attempt went where it went (maybe top-level): look for it, and retry it, there.
    if thread_ref is None and row.model_id is not None and row.attempt_started_at is None:
        thread_ref = session.scalar(
            select(Alert.message_ref)
            .where(
                Alert.model_id == row.model_id,
                Alert.destination == row.destination,
                Alert.state == DELIVERED,
                Alert.thread_ref.is_(None),
                Alert.message_ref.is_not(None),
                Alert.id != row.id,
            )
            .order_by(Alert.id)
            .limit(1)
        )
    return outgoing_alert(session, row, thread_ref=thread_ref)


def outgoing_alert(session: Session, row: Alert, *, thread_ref: str | None = None) -> OutgoingAlert:
    """``row`` as its notifier renders it: the stored facts, with the requester of each approval
    it moved to review (the people the alert is about) looked up now; ``thread_ref`` is where
    it goes (default: where it went, if it was delivered)."""
    payload = dict(row.payload or {})
    in_review = [dict(a) for a in payload.get("approvals_in_review") or [] if isinstance(a, dict)]
    for item in in_review:
        approval = session.get(Approval, item["id"]) if isinstance(item.get("id"), int) else None
        if approval is not None:
            item.setdefault("requested_by", approval.requested_by)
    if in_review:
        payload["approvals_in_review"] = in_review
    return OutgoingAlert(
        id=row.id,
        kind=row.kind,
        destination=row.destination,
        title=row.title,
        body=row.body,
        payload=payload,
        thread_ref=thread_ref if thread_ref is not None else row.thread_ref,
        dedupe_key=row.dedupe_key,
        channel_id=row.channel_id or _known_channel(session, row.destination),
        created_at=row.created_at,
    )


def _outgoing_message(session: Session, row: OutboxMessage) -> OutgoingMessage | None:
    payload = dict(row.payload or {})
    destination = row.destination
    channel_id = row.channel_id or _known_channel(session, row.destination)
    if row.kind == CARD_UPDATE:
        if row.approval_id is None:
            return None
        card = find_card(session, row.approval_id)
        if card is None:
            if card_pending(session, row.approval_id):
                return None  # the card's post renders the latest state; refresh after it
            payload = {}
        else:
            destination, channel_id = card.destination, card.destination
            payload = {"ts": card.message_ref}
    return OutgoingMessage(
        id=row.id,
        kind=row.kind,
        destination=destination,
        dedupe_key=row.dedupe_key,
        approval_id=row.approval_id,
        payload=payload,
        channel_id=channel_id,
    )
