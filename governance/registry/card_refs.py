"""Where a request's card was posted, so a decision can update it in place.

Bookkeeping for a frontend, not a governance change: no audit event. The first card recorded
for a request wins, so a repeated post cannot make the app lose track of the original.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from governance.core.clock import Clock
from governance.registry.models import RequestCard


def find_card(session: Session, approval_id: int) -> RequestCard | None:
    """The card posted for request ``approval_id``, or None when none was recorded."""
    return session.get(RequestCard, approval_id)


def remember_card(
    session: Session, *, approval_id: int, destination: str, message_ref: str, clock: Clock
) -> RequestCard:
    """Record the card of ``approval_id``; returns the card that stands (maybe an earlier one)."""
    existing = find_card(session, approval_id)
    if existing is not None:
        return existing
    card = RequestCard(
        approval_id=approval_id,
        destination=destination,
        message_ref=message_ref,
        posted_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(card)
            session.flush()
    except IntegrityError:
        raced = find_card(session, approval_id)
        if raced is None:
            raise
        return raced
    return card
