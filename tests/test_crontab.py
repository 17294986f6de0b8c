"""MODELGOV_RECHECK_CRON is read as crontab reads it (APScheduler 3 counts weekdays from Monday)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from governance.wiring.crontab import CrontabError, crontab_trigger, weekday_names

# A Wednesday.
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _next_runs(expression: str, count: int = 3) -> list[str]:
    trigger = crontab_trigger(expression, timezone="UTC")
    runs, previous, now = [], None, NOW
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        runs.append(fire.strftime("%a %d %H:%M"))
        previous, now = fire, fire + timedelta(seconds=1)
    return runs


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("0 6 * * 1", ["Mon 07 06:00", "Mon 14 06:00", "Mon 21 06:00"]),  # from_crontab: Tue
        ("0 6 * * 0", ["Sun 06 06:00", "Sun 13 06:00", "Sun 20 06:00"]),
        ("0 6 * * 7", ["Sun 06 06:00", "Sun 13 06:00", "Sun 20 06:00"]),
        ("30 1 * * 1-5", ["Thu 03 01:30", "Fri 04 01:30", "Mon 07 01:30"]),
        ("0 0 * * 5-7", ["Fri 04 00:00", "Sat 05 00:00", "Sun 06 00:00"]),
        ("0 0 * * sat,sun", ["Sat 05 00:00", "Sun 06 00:00", "Sat 12 00:00"]),
        ("0 */6 * * *", ["Wed 02 12:00", "Wed 02 18:00", "Thu 03 00:00"]),
    ],
)
def test_weekdays_are_counted_from_sunday_as_crontab_does(expression: str, runs: list[str]) -> None:
    assert _next_runs(expression) == runs


def test_a_step_over_the_week_starts_on_sunday() -> None:
    assert weekday_names("*/2") == "sun,tue,thu,sat"
    assert weekday_names("1-5/2") == "mon,wed,fri"


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("0 6 * *", "4 fields where crontab has five"),
        ("0 6 * * 8", "not a day of the week"),
        ("0 6 * * 5-1", "runs backwards"),
        ("0 6 * * mon..fri", "not a day-of-week term"),
        ("0 6 1 * 1", "restrict one of them"),
    ],
)
def test_expressions_crontab_would_read_differently_are_refused(expression: str, says: str) -> None:
    with pytest.raises(CrontabError, match=says):
        crontab_trigger(expression, timezone="UTC")
