"""Crontab expressions for APScheduler 3, read as crontab reads them.

APScheduler 3's ``CronTrigger.from_crontab`` passes the day-of-week field through unchanged, and
APScheduler counts weekdays from Monday = 0 where crontab counts from Sunday = 0 (7 is Sunday
too): ``0 6 * * 1`` would run on Tuesdays. The field is translated to weekday names here. When
both the day of the month and the day of the week are restricted, crontab runs on either and
APScheduler only on both, so that form is refused rather than run on the wrong days.
"""

from __future__ import annotations

import re

from apscheduler.triggers.cron import CronTrigger

_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_TERM = re.compile(r"^(\*|\d{1,2}|[a-z]{3})(?:-(\d{1,2}|[a-z]{3}))?(?:/(\d{1,2}))?$")


class CrontabError(ValueError):
    """The expression is not five crontab fields this scheduler can run as crontab would."""


def _day(token: str) -> int:
    if token.isascii() and token.isdigit() and int(token) <= 7:
        return int(token) % 7
    if token in _NAMES:
        return _NAMES.index(token)
    raise CrontabError(f"{token!r} is not a day of the week (0-7 or sun-sat)")


def weekday_names(field: str) -> str:
    """The crontab day-of-week ``field`` as APScheduler weekday names (``*`` stays ``*``).

    Raises:
        CrontabError: a term that is not a day, a range or a step of days.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for term in field.lower().split(","):
        found = _TERM.match(term)
        if not found:
            raise CrontabError(f"{term!r} is not a day-of-week term (e.g. 1, 1-5, */2, mon-fri)")
        start, end, step = found.groups()
        if start == "*":
            first, last = 0, 6
        else:
            first = _day(start)
            # "5-7" ends on Sunday, which crontab numbers 7 as well as 0.
            last = (7 if end == "7" else _day(end)) if end else first
        if last < first:
            raise CrontabError(f"{term!r} runs backwards; write the earlier day first")
        stride = int(step) if step else 1
        if stride < 1:
            raise CrontabError(f"{term!r} has a step of 0")
        if step and not end and start != "*":
            last = 6  # "1/2": from Monday, every other day to the end of the week
        days.update(day % 7 for day in range(first, last + 1, stride))
    return ",".join(_NAMES[day] for day in sorted(days))


def crontab_trigger(expression: str, *, timezone: str) -> CronTrigger:
    """A trigger that fires when crontab would for ``expression`` (five fields).

    Raises:
        CrontabError: not five fields, a bad day-of-week term, or both day fields restricted.
        ValueError: APScheduler refuses a field (its message names it).
    """
    fields = expression.split()
    if len(fields) != 5:
        raise CrontabError(f"{len(fields)} fields where crontab has five")
    minute, hour, day, month, day_of_week = fields
    if day != "*" and day_of_week != "*":
        raise CrontabError(
            "both the day of the month and the day of the week are restricted (crontab runs on "
            "either, this scheduler only on both); restrict one of them"
        )
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=weekday_names(day_of_week),
        timezone=timezone,
    )
