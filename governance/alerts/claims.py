"""Per-row delivery claims on outbox tables: who is delivering a row, until when.

A worker claims due rows (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; one conditional
``UPDATE`` on SQLite, whose writers are serialized), extends its claim right before every call
it makes for a row, and gives it back when done. Every write is conditional on the owner, so a
worker whose claim expired (it hung, or was too slow) can no longer act on the row: whoever
claimed it next reconciles and delivers it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from governance.alerts.models import Alert, OutboxMessage
from governance.core.clock import Clock
from governance.core.db import rows_matched

PENDING = "pending"
DELIVERED = "delivered"

Table = type[Alert] | type[OutboxMessage]


def _claimable(table: Table, now: datetime) -> ColumnElement[bool]:
    return (
        (table.state == PENDING)
        & (table.next_attempt_at <= now)
        & or_(table.claimed_by.is_(None), table.claim_expires_at <= now)
    )


def claim_due(
    factory: sessionmaker[Session],
    table: Table,
    *,
    holder: str,
    ttl: timedelta,
    clock: Clock,
    batch: int,
    skip_destinations: frozenset[str] = frozenset(),
) -> list[int]:
    """Claim up to ``batch`` due, unclaimed rows of ``table`` for ``holder``, oldest first,
    leaving rows for ``skip_destinations`` alone (they are rate limited now).

    Returns the ids claimed (an empty list when none is free). Two workers never get the same
    row: PostgreSQL skips rows another transaction has locked; SQLite runs one writer at a time.
    """
    now = clock.now()
    values = {"claimed_by": holder, "claim_expires_at": now + ttl}
    due = select(table.id).where(_claimable(table, now))
    if skip_destinations:
        due = due.where(table.destination.not_in(sorted(skip_destinations)))
    due = due.order_by(table.id).limit(batch)
    with factory() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            ids = list(session.scalars(due.with_for_update(skip_locked=True)))
            if ids:
                session.execute(update(table).where(table.id.in_(ids)).values(**values))
            return ids
        session.execute(
            update(table)
            .where(table.id.in_(due.scalar_subquery()), _claimable(table, now))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return list(
            session.scalars(
                select(table.id)
                .where(table.claimed_by == holder, table.state == PENDING)
                .order_by(table.id)
            )
        )


def extend_claim(
    factory: sessionmaker[Session],
    table: Table,
    row_id: int,
    *,
    holder: str,
    ttl: timedelta,
    clock: Clock,
    start_attempt: bool = False,
    **also: object,
) -> bool:
    """Keep ``holder``'s unexpired claim on the row for ``ttl`` more; True when it still holds.

    With ``start_attempt`` it also records that a post is about to be sent (``also`` sets other
    columns in the same write, e.g. the thread it goes to), so a crash from here on is
    reconciled instead of posted again.
    """
    now = clock.now()
    values: dict[str, object] = {"claim_expires_at": now + ttl, **also}
    if start_attempt:
        values["attempt_started_at"] = now
    with factory() as session, session.begin():
        taken = rows_matched(
            session.execute(
                update(table)
                .where(
                    table.id == row_id,
                    table.state == PENDING,
                    table.claimed_by == holder,
                    table.claim_expires_at > now,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        )
    return bool(taken)


def release(
    session: Session,
    table: Table,
    row_id: int,
    *,
    holder: str,
    next_attempt_at: datetime,
    **values: object,
) -> bool:
    """Give ``holder``'s claim back, due again at ``next_attempt_at``; False if it was lost."""
    return bool(
        rows_matched(
            session.execute(
                update(table)
                .where(table.id == row_id, table.state == PENDING, table.claimed_by == holder)
                .values(
                    claimed_by=None,
                    claim_expires_at=None,
                    next_attempt_at=next_attempt_at,
                    **values,
                )
                .execution_options(synchronize_session=False)
            )
        )
    )


def mark_delivered(
    session: Session, table: Table, row_id: int, *, clock: Clock, **values: object
) -> bool:
    """Record the row as delivered (whoever holds it: the message is out); False if it was."""
    return bool(
        rows_matched(
            session.execute(
                update(table)
                .where(table.id == row_id, table.state == PENDING)
                .values(
                    state=DELIVERED,
                    delivered_at=clock.now(),
                    claimed_by=None,
                    claim_expires_at=None,
                    attempt_started_at=None,
                    last_error=None,
                    **values,
                )
                .execution_options(synchronize_session=False)
            )
        )
    )


def count_pending(factory: sessionmaker[Session], tables: tuple[Table, ...]) -> int:
    """How many rows of ``tables`` are not delivered yet (due or not, claimed or not)."""
    with factory() as session:
        return sum(
            session.scalar(select(func.count()).select_from(t).where(t.state == PENDING)) or 0
            for t in tables
        )
