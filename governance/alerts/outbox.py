"""Writing to the outbox: alerts, request cards, card refreshes and direct messages.

Each is a row first (``Alert``, ``OutboxMessage``), written in the caller's transaction (an
alert in the same one as the change that caused it), then delivered by the claiming deliverer
(``governance.alerts.delivery``), so a crash or a slow answer never posts it twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from governance.alerts.claims import PENDING
from governance.alerts.models import Alert, OutboxMessage
from governance.alerts.notifier import CARD_UPDATE, DIRECT_MESSAGE, REQUEST_CARD
from governance.alerts.subscriptions import destinations_for
from governance.core.clock import Clock
from governance.core.db import rows_matched
from governance.core.fingerprints import fingerprint
from governance.core.kinds import AlertKind
from governance.registry.card_refs import find_card
from governance.registry.models import TrackedModel


def dedupe_key(
    *, model_id: int | None, kind: AlertKind, state_fingerprint: str, destination: str
) -> str:
    """The outbox's idempotency key: (model, kind, new fingerprint, destination)."""
    return fingerprint([model_id, kind, state_fingerprint, destination])


def raise_alert(
    session: Session,
    *,
    kind: AlertKind,
    title: str,
    body: str,
    payload: dict[str, Any],
    state_fingerprint: str,
    default_destination: str,
    clock: Clock,
    model_id: int | None = None,
    change_id: int | None = None,
) -> list[Alert]:
    """One alert row per destination routed for ``kind`` and the model (``payload["repo_id"]``,
    else ``model_id``'s); duplicates are skipped.

    Returns the alerts created now (an empty list when every one existed already).
    """
    created: list[Alert] = []
    repo_id = payload.get("repo_id") or (
        session.scalar(select(TrackedModel.repo_id).where(TrackedModel.id == model_id))
        if model_id is not None
        else None
    )
    routes = destinations_for(
        session, kind=kind, default=default_destination, repo_id=str(repo_id) if repo_id else None
    )
    for destination in routes:
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


def _insert(session: Session, message: OutboxMessage) -> OutboxMessage | None:
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        return None  # queued concurrently by another process: theirs stands
    return message


def _new(
    *,
    kind: str,
    key: str,
    destination: str,
    clock: Clock,
    approval_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        created_at=clock.now(),
        kind=kind,
        dedupe_key=key,
        destination=destination,
        approval_id=approval_id,
        payload=payload or {},
        generation=0,
        state=PENDING,
        attempts=0,
        next_attempt_at=clock.now(),
    )


def card_key(approval_id: int) -> str:
    """The outbox key of the request card of ``approval_id`` (one card per approval)."""
    return f"card:{approval_id}"


def queue_request_card(
    session: Session, *, approval_id: int, destination: str, clock: Clock
) -> OutboxMessage | None:
    """Queue the card of ``approval_id`` for ``destination``; None when it was queued before."""
    key = card_key(approval_id)
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return None
    if find_card(session, approval_id) is not None:
        return None  # posted before the outbox carried cards
    return _insert(
        session,
        _new(
            kind=REQUEST_CARD,
            key=key,
            destination=destination,
            clock=clock,
            approval_id=approval_id,
        ),
    )


def card_pending(session: Session, approval_id: int) -> bool:
    """True while the card of ``approval_id`` is queued but not posted yet."""
    return (
        session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.dedupe_key == card_key(approval_id), OutboxMessage.state == PENDING
            )
        )
        is not None
    )


def queue_card_update(session: Session, *, approval_id: int, clock: Clock) -> bool:
    """Ask for the card of ``approval_id`` to show its current state; False if it has none.

    One row per card: asking again while a refresh is queued or being sent bumps its
    ``generation``, so the deliverer sends it once more after the current send (a refresh
    renders the state at send time, so the last one sent shows the latest state).
    """
    if find_card(session, approval_id) is None and not card_pending(session, approval_id):
        return False
    key = f"card-update:{approval_id}"
    again = {
        "state": PENDING,
        "generation": OutboxMessage.generation + 1,
        "next_attempt_at": clock.now(),
        "attempts": 0,
        "last_error": None,
    }
    bump = update(OutboxMessage).where(OutboxMessage.dedupe_key == key).values(**again)
    if rows_matched(session.execute(bump.execution_options(synchronize_session=False))):
        return True
    row = _new(kind=CARD_UPDATE, key=key, destination="", clock=clock, approval_id=approval_id)
    if _insert(session, row) is None:
        session.execute(bump.execution_options(synchronize_session=False))
    return True


def queue_direct_message(
    session: Session, *, user: str, message: dict[str, Any], key: str, clock: Clock
) -> OutboxMessage | None:
    """Queue a DM (``message``: the post's text and blocks) to ``user`` once per ``key``.

    Returns the row, or None when a message with ``key`` was queued before.
    """
    key = f"dm:{key}"
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return None
    return _insert(
        session,
        _new(kind=DIRECT_MESSAGE, key=key, destination=user, clock=clock, payload=message),
    )
