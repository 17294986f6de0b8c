"""Checks asked for by a Hub webhook: a durable queue, one row per model, claimed by a worker.

The web process only writes a row (it never calls the Hub); a worker claims due rows, checks
those models and removes the rows it served. One row per model collapses duplicates and bursts:
a request for a model that is already queued bumps the row's ``version`` instead of adding a
row. A request that arrives while the model is being checked also bumps ``version``, so the
worker, finding a version newer than the one it claimed, keeps the row for one more check (the
change may have been pushed after its fetch).

Claims are conditional ``UPDATE``s (PostgreSQL row locks, SQLite's single writer): two workers
never claim one row, and a claim that outlives a dead worker expires and is taken again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from governance.core.db import Base, UTCDateTime, rows_matched

REASON_MAX = 200
HOLDER_MAX = 120
# A requested check that failed (the Hub unreachable, a 5xx) is tried again this much later,
# doubling, and given up after MAX_ATTEMPTS: polling remains the safety net.
RETRY_AFTER = timedelta(seconds=30)
MAX_ATTEMPTS = 3


class CheckRequest(Base):
    """A check of one model that someone (the Hub, by webhook) asked for and no worker ran yet."""

    __tablename__ = "check_requests"

    model_id: Mapped[int] = mapped_column(ForeignKey("tracked_models.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(REASON_MAX))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Events collapsed into this row (1 for the first), and a counter bumped by each of them.
    events: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(HOLDER_MAX))
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_version: Mapped[int | None] = mapped_column(Integer)


@dataclass(frozen=True)
class ClaimedCheck:
    """One claimed row: the model to check and the version the claim covers."""

    model_id: int
    version: int
    attempts: int


def request_check(session: Session, *, model_id: int, reason: str, now: datetime) -> None:
    """Queue a check of ``model_id``, or fold this request into the one already queued.

    One statement (``INSERT … ON CONFLICT DO UPDATE``), so two web processes queuing the same
    model at once leave one row. A row that was waiting to be retried becomes due now.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = CheckRequest.__table__
    statement = dialect.insert(CheckRequest).values(
        model_id=model_id,
        reason=reason[:REASON_MAX],
        requested_at=now,
        events=1,
        version=1,
        due_at=now,
        attempts=0,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["model_id"],
        set_={
            "reason": statement.excluded.reason,
            "requested_at": statement.excluded.requested_at,
            "events": table.c.events + 1,
            "version": table.c.version + 1,
            "due_at": statement.excluded.due_at,
            "attempts": 0,
        },
    )
    session.execute(statement)


def claim_due(
    session: Session, *, holder: str, now: datetime, ttl: timedelta, batch: int
) -> list[ClaimedCheck]:
    """Claim up to ``batch`` due, unclaimed rows for ``holder``; returns what was claimed.

    Each row is taken by a conditional ``UPDATE``: a row another worker claimed first (and
    whose claim has not expired) matches nothing and is left to it.
    """
    free = or_(CheckRequest.claimed_by.is_(None), CheckRequest.claim_expires_at <= now)
    due = list(
        session.execute(
            select(CheckRequest.model_id, CheckRequest.version, CheckRequest.attempts)
            .where(CheckRequest.due_at <= now, free)
            .order_by(CheckRequest.due_at, CheckRequest.model_id)
            .limit(batch)
        )
    )
    claimed: list[ClaimedCheck] = []
    for model_id, version, attempts in due:
        taken = rows_matched(
            session.execute(
                update(CheckRequest)
                .where(
                    CheckRequest.model_id == model_id,
                    CheckRequest.version == version,
                    CheckRequest.due_at <= now,
                    free,
                )
                .values(claimed_by=holder, claim_expires_at=now + ttl, claimed_version=version)
                .execution_options(synchronize_session=False)
            )
        )
        if taken:
            claimed.append(ClaimedCheck(model_id, version, attempts))
    return claimed


def finish(
    session: Session, claim: ClaimedCheck, *, holder: str, failed: bool, now: datetime
) -> str:
    """Settle a claimed row after its check; returns ``done``, ``again``, ``retry``,
    ``given_up`` or ``lost`` (the claim had passed to another worker: nothing is changed).

    A row whose version moved during the check stays queued for one more check (``again``).
    A failed check is retried later (``retry``) until MAX_ATTEMPTS (``given_up``). Every
    write is conditional on the owner and the version, so a request queued meanwhile is
    never lost.
    """
    mine = (CheckRequest.model_id == claim.model_id) & (CheckRequest.claimed_by == holder)
    unchanged = mine & (CheckRequest.version == claim.version)
    release = {"claimed_by": None, "claim_expires_at": None, "claimed_version": None}
    if failed and claim.attempts + 1 < MAX_ATTEMPTS:
        wait = RETRY_AFTER * (2**claim.attempts)
        retried = update(CheckRequest).where(unchanged)
        retried = retried.values(**release, attempts=claim.attempts + 1, due_at=now + wait)
        settled = session.execute(retried.execution_options(synchronize_session=False))
        outcome = "retry"
    else:
        removed = delete(CheckRequest).where(unchanged)
        settled = session.execute(removed.execution_options(synchronize_session=False))
        outcome = "given_up" if failed else "done"
    if rows_matched(settled):
        return outcome
    again = update(CheckRequest).where(mine).values(**release, attempts=0)
    if rows_matched(session.execute(again.execution_options(synchronize_session=False))):
        return "again"
    return "lost"


def queued(session: Session) -> list[CheckRequest]:
    """Every queued request, oldest first (tests, the bench and operators' queries)."""
    return list(session.scalars(select(CheckRequest).order_by(CheckRequest.requested_at)))
