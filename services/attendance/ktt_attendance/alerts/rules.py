"""Pure rules of the alerts: a timeline of one agreement's days in, the episodes to report out.

ATT-4  the client has not come (a) within 5 working days (Finnish public holidays excluded) to
       agreed activity, or (b) to 3 consecutive group sessions: the provider contacts Typake.
ATT-5  sick leave over two weeks, and repeated absences, are always reported to the city.
ATT-14 sick leave follows Kela's practice (over two weeks: reported).
AGR-9  a period runs without breaks; days not organised for the provider's reasons beyond a limit
       mean the city arranges the service otherwise.

A *missed* day is a scheduled day recorded absent without an authorised reason (ATT-3): illness
with a certificate or another authorised absence is explained, not a no-show. Days without
service (public holidays, ``not_organised``) neither count nor break a run; a scheduled day with
no entry yet breaks it (nothing is known of it).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass

from ktt_common.clock import is_public_holiday, is_working_day, next_working_days

NO_SHOW_WORKING_DAYS = 5          # ATT-4 (a)
NO_SHOW_GROUP_SESSIONS = 3        # ATT-4 (b)
LONG_SICK_LEAVE_OVER_DAYS = 14    # ATT-5, ATT-14: more than two weeks
SICK = frozenset({"sick_with_certificate", "sick_without_certificate"})


@dataclass(frozen=True)
class Day:
    """What the log says of one scheduled (or deviation) day."""

    kind: str                               # present, absent, not_organised
    authorised: bool | None = None
    reason: str | None = None
    not_organised_reason: str | None = None

    @property
    def missed(self) -> bool:
        return self.kind == "absent" and not self.authorised


@dataclass(frozen=True)
class Episode:
    since: dt.date
    days: tuple[dt.date, ...]


@functools.lru_cache(maxsize=4096)  # asked for every missed day of every batch: a few distinct days
def _working_window(day: dt.date) -> tuple[dt.date, ...]:
    """The ``NO_SHOW_WORKING_DAYS`` working days from ``day`` on."""
    return tuple(next_working_days(day, NO_SHOW_WORKING_DAYS))


def _without_service(day: dt.date, entry: Day | None) -> bool:
    return is_public_holiday(day) or (entry is not None and entry.kind == "not_organised")




def _run_start(scheduled: list[dt.date], log: dict[dt.date, Day], at: dt.date, counts: Callable[[Day], bool]) -> dt.date:
    """The first day of the run of counted days that ``at`` belongs to (days without service skipped)."""
    start = at
    for day in reversed([d for d in scheduled if d < at]):
        entry = log.get(day)
        if _without_service(day, entry):
            continue
        if entry is not None and counts(entry):
            start = day
            continue
        break
    return start


def no_show_working_days(scheduled: list[dt.date], log: dict[dt.date, Day]) -> list[Episode]:
    """ATT-4 (a): 5 consecutive working days, public holidays excluded, on which the client had
    scheduled days and came to none: every scheduled working day among them is a missed day. One
    episode per run of missed days, dated from the run's first missed day."""
    scheduled_set = set(scheduled)
    episodes: dict[dt.date, Episode] = {}
    for day in scheduled:
        entry = log.get(day)
        if entry is None or not entry.missed or not is_working_day(day):
            continue
        window = _working_window(day)
        expected = [d for d in window if d in scheduled_set and not _without_service(d, log.get(d))]
        if all((e := log.get(d)) is not None and e.missed for d in expected):
            since = _run_start(scheduled, log, day, lambda e: e.missed)
            if since not in episodes:
                episodes[since] = Episode(since, tuple(expected))
    return sorted(episodes.values(), key=lambda e: e.since)


def no_show_group_sessions(scheduled: list[dt.date], log: dict[dt.date, Day]) -> list[Episode]:
    """ATT-4 (b): 3 consecutive scheduled group sessions missed (sessions without service skipped)."""
    sessions = [d for d in scheduled if not _without_service(d, log.get(d))]
    episodes: list[Episode] = []
    run: list[dt.date] = []
    for day in sessions:
        entry = log.get(day)
        if entry is not None and entry.missed:
            run.append(day)
            if len(run) == NO_SHOW_GROUP_SESSIONS:
                episodes.append(Episode(run[0], tuple(run)))
        else:
            run = []
    return episodes


def long_sick_leaves(scheduled: list[dt.date], log: dict[dt.date, Day]) -> list[Episode]:
    """ATT-5 / ATT-14: sick leave of more than 14 consecutive calendar days, from the first to the
    last recorded sick day of a run of scheduled days all recorded sick."""
    episodes: list[Episode] = []
    run: list[dt.date] = []

    def close() -> None:
        if run and (run[-1] - run[0]).days + 1 > LONG_SICK_LEAVE_OVER_DAYS:
            episodes.append(Episode(run[0], tuple(run)))

    for day in scheduled:
        entry = log.get(day)
        if _without_service(day, entry):
            continue
        if entry is not None and entry.kind == "absent" and entry.reason in SICK:
            run.append(day)
        else:
            close()
            run = []
    close()
    return episodes


def _greedy_windows(days: list[dt.date], threshold: int, window_days: int, *, over: bool) -> list[Episode]:
    """Non-overlapping windows of ``window_days`` reaching (``over``: exceeding) ``threshold`` days."""
    days = sorted(days)
    episodes: list[Episode] = []
    first = 0
    for i, day in enumerate(days):
        while (day - days[first]).days >= window_days:
            first += 1
        count = i - first + 1
        if count > threshold if over else count >= threshold:
            episodes.append(Episode(days[first], tuple(days[first:i + 1])))
            first = i + 1
    return episodes


def repeated_absences(log: dict[dt.date, Day], threshold: int, window_days: int) -> list[Episode]:
    """ATT-5: unauthorised absences reaching ``threshold`` within ``window_days`` days."""
    return _greedy_windows([d for d, e in log.items() if e.missed], threshold, window_days, over=False)


def continuity_broken(scheduled: list[dt.date], log: dict[dt.date, Day], limit: int, window_days: int) -> list[Episode]:
    """AGR-9: scheduled days not organised for the provider's reasons (never public holidays)
    beyond ``limit`` within ``window_days`` days."""
    closures = [d for d in scheduled if (e := log.get(d)) is not None and e.kind == "not_organised"
                and e.not_organised_reason == "provider_closure" and not is_public_holiday(d)]
    return _greedy_windows(closures, limit, window_days, over=True)
