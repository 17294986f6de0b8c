"""A lease row per job name: whoever holds an unexpired lease runs the job; others skip.

APScheduler's job stores must not be shared, so each worker schedules its own jobs, and the
database decides who actually runs each periodic job. Delivery needs no lease: it claims each
outbox row itself (``governance.alerts.claims``), because a job-wide lease can expire mid-run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from governance.core.clock import Clock
from governance.core.db import Base, UTCDateTime, rows_matched


class Lease(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


def acquire_lease(
    factory: sessionmaker[Session], *, name: str, holder: str, ttl: timedelta, clock: Clock
) -> bool:
    """Take (or renew) the lease ``name`` for ``holder`` until now + ``ttl``.

    Returns True when ``holder`` now holds it; False when another holder's lease is unexpired.
    Atomic on SQLite and PostgreSQL: a conditional UPDATE, else an INSERT that may lose a race.
    """
    now = clock.now()
    values = {"holder": holder, "acquired_at": now, "expires_at": now + ttl}
    with factory() as session, session.begin():
        taken = rows_matched(
            session.execute(
                update(Lease)
                .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
                .values(**values)
            )
        )
        if taken:
            return True
    try:
        with factory() as session, session.begin():
            session.execute(insert(Lease).values(name=name, **values))
        return True
    except IntegrityError:
        return False
