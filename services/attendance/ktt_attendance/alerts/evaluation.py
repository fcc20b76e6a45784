"""Which alerts are due for an agreement after a daily-log batch (ATT-4, ATT-5, ATT-14, AGR-9):
its *timeline* (the agreement's facts and its log from ``LOOKBACK_DAYS`` before the earliest day
the batch changed) in, the alerts its episodes make due out (``due``, pure; raised by
``service.raise_due``).

A timeline is gathered one of two ways, which must give the same timeline:

- ``timelines_from_db``: the agreements and their logs read back from the database (any caller);
- ``timeline_of``, with ``read_logs(..., skip=...)``: a posted batch already holds its agreements
  and, for the days it spans, every stored entry and what it wrote over them; only the days
  outside that span are read (``log.service``).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_contracts.attendance import ContinuityBroken, LongSickLeave, NoShowThresholdReached, RepeatedAbsences

from ktt_attendance.agreements import rules as agreement_rules
from ktt_attendance.agreements.models import AgreementCopy
from ktt_attendance.agreements.rules import Segment
from ktt_attendance.alerts import rules
from ktt_attendance.log.models import LogEntry

LOOKBACK_DAYS = 120  # a batch's days are judged with the log this far before them


@dataclass(frozen=True, slots=True)
class Subject:
    """The agreement an alert is about, and what the rules need of it (a copy with facts)."""

    agreement_id: uuid.UUID
    client_id: uuid.UUID | None
    provider_id: str | None
    unit_id: uuid.UUID | None
    form: str | None
    start: dt.date
    last_day: dt.date
    segments: list[Segment]


@dataclass(slots=True)
class Timeline:
    subject: Subject
    log: dict[dt.date, rules.Day]


@dataclass(frozen=True, slots=True)
class Due:
    """An alert an episode makes due: inserted unless its ``key`` exists, published when inserted."""

    kind: str
    rule: str
    since: dt.date
    key: str
    details: dict[str, Any]
    event: Any
    payload: dict[str, Any]


@functools.lru_cache(maxsize=256)  # a handful of distinct days: one shared object each
def day_of(kind: str, authorised: bool | None, reason: str | None, not_organised_reason: str | None) -> rules.Day:
    return rules.Day(kind, authorised, reason, not_organised_reason)


def lookback_from(days: Iterable[dt.date]) -> dt.date:
    return min(days) - dt.timedelta(days=LOOKBACK_DAYS)


async def read_logs(session: AsyncSession, ids: list[uuid.UUID], lo: dt.date,
                    skip: tuple[dt.date, dt.date] | None = None) -> dict[uuid.UUID, dict[dt.date, rules.Day]]:
    """The agreements' log from ``lo`` on, as the alert rules see it; without the days in
    ``skip`` (first, last) when the caller holds those already."""
    where = [LogEntry.agreement_id.in_(ids), LogEntry.date >= lo]
    if skip is not None:
        where.append((LogEntry.date < skip[0]) | (LogEntry.date > skip[1]))
    logs: dict[uuid.UUID, dict[dt.date, rules.Day]] = defaultdict(dict)
    for aid, day, kind, authorised, reason, not_organised_reason in (await session.execute(select(
            LogEntry.agreement_id, LogEntry.date, LogEntry.kind, LogEntry.authorised, LogEntry.absence_reason,
            LogEntry.not_organised_reason).where(*where))).all():
        logs[aid][day] = day_of(kind, authorised, reason, not_organised_reason)
    return logs


async def timelines_from_db(session: AsyncSession, changed: Iterable[tuple[uuid.UUID, dt.date]]) -> list[Timeline]:
    """The timelines of the agreements whose absences or closures changed on (agreement, day),
    read from the database (agreement id order; copies without facts or without a log left out)."""
    changed = list(changed)
    ids = sorted({aid for aid, _ in changed})
    if not ids:
        return []
    copies = {c.agreement_id: c for c in (await session.execute(
        select(AgreementCopy).where(AgreementCopy.agreement_id.in_(ids)))).scalars()}
    logs = await read_logs(session, ids, lookback_from(d for _, d in changed))
    out = []
    for agreement_id in ids:
        copy = copies.get(agreement_id)
        log = logs.get(agreement_id)
        if copy is None or copy.start is None or copy.last_day is None or not log:  # not has_facts: nothing scheduled
            continue
        out.append(Timeline(Subject(copy.agreement_id, copy.client_id, copy.provider_id, copy.unit_id, copy.form, copy.start,
                                    copy.last_day, agreement_rules.schedule_segments(copy.periods)), log))
    return out


def timeline_of(subject: Subject, lo: dt.date, known: Mapping[dt.date, rules.Day],
                rest: Mapping[dt.date, rules.Day] | None) -> Timeline | None:
    """A timeline from what a batch holds: ``known``, every entry of the days the batch spans as
    they stand after its write; ``rest``, the log outside that span (``read_logs`` with ``skip``).
    None when the log from ``lo`` on is empty (as ``timelines_from_db`` leaves it out)."""
    log = {day: entry for day, entry in known.items() if day >= lo}
    if rest:
        log.update(rest)
    return Timeline(subject, log) if log else None


def _iso(days: Iterable[dt.date]) -> list[str]:
    return [d.isoformat() for d in days]


def due(timeline: Timeline, today: dt.date, settings: Any) -> list[Due]:
    """Every alert the agreement's episodes make due, in the order they are raised."""
    copy, log = timeline.subject, timeline.log
    first, last = max(copy.start, min(log)), min(copy.last_day, today)
    scheduled = agreement_rules.scheduled_days(copy.segments, first, last) if last >= first else []
    scheduled = sorted(set(scheduled) | {d for d in log if first <= d <= last})  # deviation days too (AGR-14)
    out: list[Due] = []
    aid = copy.agreement_id
    for ep in rules.no_show_working_days(scheduled, log):
        out.append(Due("NoShowThresholdReached", "ATT-4", ep.since, f"no_show_working_days:{aid}:{ep.since}",
                       {"variant": "working_days", "missed_days": _iso(ep.days)}, NoShowThresholdReached,
                       {"variant": "working_days", "missed_days": list(ep.days), "threshold": rules.NO_SHOW_WORKING_DAYS}))
    if copy.form == "group":
        for ep in rules.no_show_group_sessions(scheduled, log):
            out.append(Due("NoShowThresholdReached", "ATT-4", ep.since, f"no_show_group_sessions:{aid}:{ep.since}",
                           {"variant": "group_sessions", "missed_days": _iso(ep.days)}, NoShowThresholdReached,
                           {"variant": "group_sessions", "missed_days": list(ep.days),
                            "threshold": rules.NO_SHOW_GROUP_SESSIONS}))
    for ep in rules.long_sick_leaves(scheduled, log):
        length = (ep.days[-1] - ep.days[0]).days + 1
        out.append(Due("LongSickLeave", "ATT-5", ep.since, f"long_sick_leave:{aid}:{ep.since}",
                       {"sick_from": ep.days[0].isoformat(), "sick_through": ep.days[-1].isoformat(), "days": length},
                       LongSickLeave, {"sick_from": ep.days[0], "sick_through": ep.days[-1], "days": length}))
    threshold, window = settings.repeated_absences_threshold, settings.repeated_absences_window_days
    for ep in rules.repeated_absences(log, threshold, window):
        out.append(Due("RepeatedAbsences", "ATT-5", ep.since, f"repeated_absences:{aid}:{ep.since}",
                       {"threshold": threshold, "window_days": window, "absence_days": _iso(ep.days)}, RepeatedAbsences,
                       {"threshold": threshold, "window_days": window, "absence_days": list(ep.days)}))
    limit, window = settings.continuity_not_organised_limit, settings.continuity_window_days
    for ep in rules.continuity_broken(scheduled, log, limit, window):
        out.append(Due("ContinuityBroken", "AGR-9", ep.since, f"continuity_broken:{aid}:{ep.since}",
                       {"limit": limit, "window_days": window, "not_organised_days": _iso(ep.days)}, ContinuityBroken,
                       {"limit": limit, "window_days": window, "not_organised_days": list(ep.days)}))
    return out
