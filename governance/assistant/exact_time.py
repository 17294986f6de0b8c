"""Time words in a question, read against the injected clock: a half-open window of dates.

"this year", "last month", "next week", "before July", "since 2026-09-01", "in March 2026",
"in the last 30 days". A month named without a year is the next one for questions about the
future (expiries) and the latest one for questions about the past (decisions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO = r"\d{4}-\d{2}-\d{2}"
_BOUND_WORD = r"\b(before|until|till|by|prior to|after|since|from)\s+"
_EDGE = r"(?:(?:the )?(end|start|beginning) of\s+)?"
_BOUND = re.compile(
    rf"{_BOUND_WORD}{_EDGE}({_ISO}|(?:{_MONTH})\b(?:\s+(\d{{4}}))?|\d{{4}})\b",
    re.IGNORECASE,
)
# "before next month", "until the end of this quarter": a bound on a relative period.
_BOUND_RELATIVE = re.compile(
    rf"{_BOUND_WORD}{_EDGE}(this|last|next|past|previous|coming)\s+(year|quarter|month|week)\b",
    re.IGNORECASE,
)
_IN = re.compile(rf"\b(?:in|during)\s+((?:{_MONTH})\b(?:\s+(\d{{4}}))?|\d{{4}})\b", re.IGNORECASE)
_ON = re.compile(rf"\bon\s+({_ISO})\b", re.IGNORECASE)
_RELATIVE = re.compile(
    r"\b(this|last|next|past|previous|coming)\s+(year|quarter|month|week)\b", re.I
)
_SPAN = re.compile(
    r"\b(?:in|within|over|during)?\s*(?:the\s+)?(last|past|next|coming)\s+(\d{1,3})\s+"
    r"(days?|weeks?|months?)\b",
    re.IGNORECASE,
)
_DAY = re.compile(r"\b(today|yesterday|tomorrow)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Window:
    """Dates ``start <= d < end``; either bound may be open (None). ``label`` is how to say it."""

    start: date | None
    end: date | None
    label: str

    def contains(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def _named_month(word: str, year: str | None, today: date, *, future: bool) -> date:
    """The first day of the month ``word`` (with ``year``, else the nearest one)."""
    month = _MONTHS[word.lower()]
    if year is not None:
        return date(int(year), month, 1)
    if future:
        return date(today.year + (month <= today.month), month, 1)
    return date(today.year - (month > today.month), month, 1)


def _point(token: str, year: str | None, today: date, *, future: bool) -> tuple[date, date]:
    """The first day of what ``token`` names and the first day after it."""
    if re.fullmatch(_ISO, token):
        day = date.fromisoformat(token)
        return day, day + timedelta(days=1)
    if token.isdigit():
        return date(int(token), 1, 1), date(int(token) + 1, 1, 1)
    first = _named_month(token, year, today, future=future)
    return first, _month_start(first.year, first.month + 1)


def _period(which: str, unit: str, today: date) -> tuple[date, date, str]:
    """The period "this|last|next ... year|quarter|month|week" names: its first day, the first
    day after it, and how to say it."""
    shift = {"this": 0, "last": -1, "past": -1, "previous": -1, "next": 1, "coming": 1}[which]
    if unit == "year":
        start = date(today.year + shift, 1, 1)
        return start, date(start.year + 1, 1, 1), f"in {start.year}"
    if unit == "quarter":
        first = _month_start(today.year, (today.month - 1) // 3 * 3 + 1 + 3 * shift)
        end = _month_start(first.year, first.month + 3)
        last = end - timedelta(days=1)
        return first, end, f"from {first.isoformat()} to {last.isoformat()}"
    if unit == "month":
        start = _month_start(today.year, today.month + shift)
        return start, _month_start(start.year, start.month + 1), f"in {start:%B %Y}"
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=shift)
    end = monday + timedelta(days=7)
    return monday, end, f"from {monday.isoformat()} to {(end - timedelta(1)).isoformat()}"


def _span(which: str, count: int, unit: str, today: date) -> Window:
    days = count * {"d": 1, "w": 7, "m": 30}[unit[0]]
    if which in ("last", "past"):
        start = today - timedelta(days=days)
        return Window(start, today + timedelta(1), f"since {start.isoformat()}")
    end = today + timedelta(days=days + 1)
    return Window(today, end, f"until {(end - timedelta(1)).isoformat()}")


def _bounded(word: str, edge: str | None, first: date, after: date) -> Window:
    """The window ``word`` ("before", "until", "after", "since", ...) makes of the period
    ``first <= d < after``. ``edge`` ("end", "start") narrows the period to its last or first
    day: "before the end of June" includes June, "before the start of June" does not."""
    edge = edge.lower() if edge else None
    if edge == "end":
        first = after - timedelta(days=1)
    elif edge is not None:
        after = first + timedelta(days=1)
    if word in ("before", "prior to") and edge != "end":
        return Window(None, first, f"before {first.isoformat()}")
    if word in ("before", "prior to", "until", "till", "by"):
        return Window(None, after, f"until {(after - timedelta(1)).isoformat()}")
    if word == "after":
        return Window(after, None, f"after {(after - timedelta(1)).isoformat()}")
    return Window(first, None, f"since {first.isoformat()}")


def window_of(question: str, today: date, *, future: bool = False) -> Window | None:
    """The dates ``question`` limits itself to, relative to ``today``; None when it names none.

    ``future``: the question is about what is still to come (expiry), which decides the year of
    a month named without one.
    """
    found = _BOUND_RELATIVE.search(question)
    if found:
        first, after, _ = _period(found.group(3).lower(), found.group(4).lower(), today)
        return _bounded(found.group(1).lower(), found.group(2), first, after)
    found = _BOUND.search(question)
    if found:
        token, year = found.group(3), found.group(4)
        token = token.split()[0] if not re.fullmatch(_ISO, token) and year else token
        first, after = _point(token, year, today, future=future)
        return _bounded(found.group(1).lower(), found.group(2), first, after)
    found = _SPAN.search(question)
    if found:
        return _span(found.group(1).lower(), int(found.group(2)), found.group(3).lower(), today)
    found = _RELATIVE.search(question)
    if found:
        return Window(*_period(found.group(1).lower(), found.group(2).lower(), today))
    found = _IN.search(question) or _ON.search(question)
    if found:
        token = found.group(1)
        year = found.group(2) if found.re is _IN else None
        token = token.split()[0] if year else token
        first, after = _point(token, year, today, future=future)
        last = after - timedelta(days=1)
        return Window(first, after, f"between {first.isoformat()} and {last.isoformat()}")
    found = _DAY.search(question)
    if found:
        shift = {"today": 0, "yesterday": -1, "tomorrow": 1}[found.group(1).lower()]
        day = today + timedelta(days=shift)
        return Window(day, day + timedelta(1), f"on {day.isoformat()}")
    return None
