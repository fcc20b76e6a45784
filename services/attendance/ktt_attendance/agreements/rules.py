"""Pure rules about an agreement copy: which schedule applied on a day, whether it was in force.

AGR-6: a schedule names 1-4 weekdays; AGR-12: a review changes it from ``schedule_from``, the
earlier schedule kept in ``earlier_schedules`` with its dates; AGR-18 / AGR-13: an agreement binds
from its start to its end date, or to its end day once ended. AGR-14: a deviation from the
scheduled days is recorded before the day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Segment:
    """A stretch of days [start, end] with the weekdays its schedule named, and the clock times."""

    start: dt.date
    end: dt.date
    weekdays: frozenset[int]  # 0 = Monday
    times: Mapping[int, tuple[dt.time, dt.time]]


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _time(value: Any) -> dt.time:
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(value)


def _segment(start: Any, end: Any, schedule: Iterable[Mapping[str, Any]]) -> Segment:
    times = {WEEKDAYS.index(d["weekday"]): (_time(d["start"]), _time(d["end"])) for d in schedule}
    return Segment(_day(start), _day(end), frozenset(times), times)


def schedule_segments(periods: Iterable[Mapping[str, Any]]) -> list[Segment]:
    """The agreement's periods cut into stretches with one schedule each, in date order (AGR-12):
    a reviewed period contributes its ``earlier_schedules`` and then its current schedule from
    ``schedule_from`` (or its start) to its end."""
    segments: list[Segment] = []
    for period in periods:
        for span in period.get("earlier_schedules") or []:
            segments.append(_segment(span["start"], span["end"], span["schedule"]))
        current_from = period.get("schedule_from") or period["start"]
        segments.append(_segment(current_from, period["end"], period["schedule"]))
    return sorted(segments, key=lambda s: s.start)


def segment_on(segments: list[Segment], day: dt.date) -> Segment | None:
    """The schedule stretch that covers ``day`` (the last one wins should two overlap)."""
    found = None
    for segment in segments:
        if segment.start <= day <= segment.end:
            found = segment
    return found


def is_scheduled(segments: list[Segment], day: dt.date) -> bool:
    """AGR-6 / AGR-12: ``day`` falls on a weekday that the schedule in force on that day names."""
    segment = segment_on(segments, day)
    return segment is not None and day.weekday() in segment.weekdays


def scheduled_days(segments: list[Segment], first: dt.date, last: dt.date) -> list[dt.date]:
    """Every scheduled weekday in [first, last] (public holidays included: the caller decides
    what a holiday means; days without service are not absences)."""
    days: list[dt.date] = []
    for segment in segments:
        lo, hi = max(first, segment.start), min(last, segment.end)
        if hi < lo:
            continue
        day = lo
        while day <= hi:
            if day.weekday() in segment.weekdays:
                days.append(day)
            if day == dt.date.max:
                break
            day += dt.timedelta(days=1)
    return sorted(set(days))


def in_force(start: dt.date | None, end: dt.date | None, ended_on: dt.date | None, day: dt.date) -> bool:
    """AGR-18 / AGR-13: the agreement binds ``day``: from its start to its end date, or to its end
    day once it ended (an end before the start binds no day). A copy without facts binds nothing."""
    if start is None or end is None:
        return False
    last = min(end, ended_on) if ended_on is not None else end
    return start <= day <= last


def out_of_force_problem(day: dt.date, start: dt.date, end: dt.date, ended_on: dt.date | None) -> tuple[str, str] | None:
    """Why ``day`` takes no log entry of the agreement: ``(rule, message)``, or None when it is in force.

    AGR-16: a day before the start is the client's visit before the agreement, free of charge to the
    city and to the client, so it is not logged (nor billed); AGR-13: a day after an early end;
    AGR-4: a day after the fixed term."""
    last = min(end, ended_on) if ended_on is not None else end
    if start <= day <= last:
        return None
    if day < start:
        visit = "a visit before the agreement is free of charge and is not logged"
        return "AGR-16", f"the agreement starts on {start}; {day} is before it: {visit}"
    if ended_on is not None and day <= end:
        return "AGR-13", f"the agreement ended on {ended_on}; {day} is after its last day"
    return "AGR-4", f"the agreement is in force from {start} to {last}; {day} is outside it"


def deviation_problem(day: dt.date, today: dt.date, start: dt.date | None, last_day: dt.date | None) -> str | None:
    """AGR-14: a deviation is agreed beforehand: recorded at the latest the day before, on a day the
    agreement is in force. Returns what to change, or None."""
    if day <= today:
        return (f"a deviation from the scheduled days is recorded before the day: {day} is "
                f"{'today' if day == today else 'past'}; the last day to record one for {day} was {_day_before(day)}")
    if start is None or last_day is None or not start <= day <= last_day:
        span = f"from {start} to {last_day}" if start and last_day and start <= last_day else "on no day"
        return f"the agreement is in force {span}; {day} is outside it"
    return None


def _day_before(day: dt.date) -> dt.date | str:
    return day - dt.timedelta(days=1) if day > dt.date.min else "never"
