"""Reading the outbox's alerts without touching them (``/models alerts``).

Listing never claims, delivers or marks anything: an alert waiting for Slack is still waiting
after anyone looked at it, so a worker with a bot token posts it exactly once later.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.alerts.claims import DELIVERED, PENDING
from governance.alerts.models import Alert
from governance.core.errors import InvalidInput

ALERT_STATES = ("pending", "delivered", "all")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class AlertPage:
    """Alerts in ``state`` (newest first), at most the limit asked for, and how many there are."""

    state: str
    alerts: list[Alert]
    total: int


def parse_state(word: str | None) -> str:
    """``pending`` (the default), ``delivered`` or ``all``.

    Raises InvalidInput naming the word and the states there are."""
    if word is None:
        return PENDING
    state = word.strip().lower()
    if state not in ALERT_STATES:
        raise InvalidInput(
            f"{word[:30]!r} is not an alert state; expected one of: {', '.join(ALERT_STATES)}."
        )
    return state


def parse_limit(value: str | None) -> int:
    """The number of alerts to show (default 20, at most 100).

    Raises InvalidInput when it is not a whole number from 1 to 100."""
    if value is None:
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise InvalidInput(
            f"--limit takes a whole number from 1 to {MAX_LIMIT}, not {value[:20]!r}."
        )
    return int(value)


def list_alerts(session: Session, *, state: str = PENDING, limit: int = DEFAULT_LIMIT) -> AlertPage:
    """The newest ``limit`` alerts in ``state`` (``pending``, ``delivered`` or ``all``) and
    their total; reads only."""
    where = [] if state == "all" else [Alert.state == (PENDING if state == PENDING else DELIVERED)]
    total = session.scalar(select(func.count()).select_from(Alert).where(*where)) or 0
    rows = list(session.scalars(select(Alert).where(*where).order_by(Alert.id.desc()).limit(limit)))
    return AlertPage(state=state, alerts=rows, total=total)
