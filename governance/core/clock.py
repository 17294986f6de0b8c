"""Time as a collaborator: services take a clock so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


def format_time(value: datetime | None) -> str:
    """Return ``value`` as people read a timestamp in messages (``2026-11-27 10:31 UTC``),
    or ``-`` for None.

    One format for every sentence: the domain's refusals and answers and the bot's renderers.
    """
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests, benchmarks)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now = self._now + timedelta(**delta)
        return self._now
