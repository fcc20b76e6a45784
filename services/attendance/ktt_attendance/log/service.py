"""Use cases of the daily log: post a batch, read entries and their revisions.

A batch is one transaction: a few set-based reads (the agreements, the entries it touches, the
clients' realised days, deviations, confirmed months), every entry checked in memory against the
rules, then one statement per table (entries upserted, superseded versions kept, the batch, the
outbox events) and one audit row.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common import bulk
from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.clock import is_public_holiday
from ktt_common.identifiers import contains_hetu
from ktt_common.outbox import emit_many, runtime_of
from ktt_contracts.attendance import AbsenceReported, AttendanceRecorded

from ktt_attendance.access import not_yours, sees
from ktt_attendance.agreements import rules as agreement_rules
from ktt_attendance.agreements.models import AgreementCopy, Deviation
from ktt_attendance.alerts import service as alerts
from ktt_attendance.log import rules
from ktt_attendance.log.models import LogBatch, LogEntry, LogEntryRevision
from ktt_attendance.log.schemas import EntryIn
from ktt_attendance.months import service as months

COACHING_PRODUCT = "intensive_coaching"
CONTENT_FIELDS = ("kind", "start_time", "end_time", "minutes", "tasks", "note", "deviation", "absence_reason", "certificate",
                  "same_day_contact", "not_organised_reason", "coaching_minutes", "coaching_content")
ENTRY_COLUMNS = ("id", "agreement_id", "date", "client_id", "provider_id", "unit_id", *CONTENT_FIELDS, "authorised", "realised",
                 "revision", "correction", "batch_id", "recorded_at", "recorded_by")
UPDATED_COLUMNS = tuple(c for c in ENTRY_COLUMNS if c not in ("id", "agreement_id", "date"))


def _hours(minutes: int | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 2)


def _jsonable(content: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, (dt.date, dt.time)) else v) for k, v in content.items()}


def day_facts(content: dict[str, Any]) -> dict[str, Any]:
    """What billing and allowances need of an entry's content (BIL-1, VOU-7, DEC-5): the fields
    of ``ktt_contracts.attendance.DayFacts``."""
    absent = content["kind"] == "absent"
    return {
        "kind": content["kind"], "realised": content["kind"] == "present", "hours": _hours(content["minutes"]),
        "coaching_hours": _hours(content["coaching_minutes"]), "absence_reason": content["absence_reason"] if absent else None,
        "authorised": content.get("authorised") if absent else None,
    }


@dataclass
class Checked:
    """An entry that passed every rule, with the content to store."""

    index: int
    entry: EntryIn
    copy: AgreementCopy
    content: dict[str, Any]
    existing: LogEntry | None
    correction: bool


@dataclass
class BatchState:
    """What a batch needs to know, loaded once before its entries are checked."""

    today: dt.date
    copies: dict[uuid.UUID, AgreementCopy]
    segments: dict[uuid.UUID, list[agreement_rules.Segment]]
    existing: dict[tuple[uuid.UUID, dt.date], LogEntry]
    deviations: dict[tuple[uuid.UUID, dt.date], str]
    client_days: dict[uuid.UUID, rules.ClientDays]
    coaching_used: dict[uuid.UUID, int]
    confirmed: dict[tuple[uuid.UUID, str], dt.date] = field(default_factory=dict)


def month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


async def post_batch(session: AsyncSession, principal: Principal, entries: list[EntryIn], content_type: str) -> dict[str, Any]:
    """ATT-1 / ATT-2: record a batch of client-days. Per entry: accepted, unchanged (the same
    content again), revised (kept with history), or rejected with the rule; one bad entry never
    loses the good ones. Writes and events are per batch: one AttendanceRecorded per agreement.
    Returns the JSON of ``schemas.BatchOut``."""
    rt = runtime_of(session)
    today = rt.clock.today()
    now = dt.datetime.now(dt.UTC)
    batch_id = uuid.uuid4()
    state = await _load_state(session, principal, entries, today)
    results: list[dict[str, Any] | None] = [None] * len(entries)
    checked: list[Checked] = []
    for index in sorted(range(len(entries)), key=lambda i: (entries[i].date, i)):
        outcome = _check(state, principal, index, entries[index])
        if isinstance(outcome, dict):
            results[index] = outcome
        else:
            checked.append(outcome)
            _count_realised(state, outcome)
    written = await _write(session, principal, batch_id, now, checked)
    for item, (entry_id, revision) in zip(checked, written):
        results[item.index] = _result(item.index, "revised" if item.existing else "accepted", entry_id=entry_id,
                                      revision=revision, correction=item.correction)
    final = [r for r in results if r is not None]
    counts = {status: 0 for status in ("accepted", "unchanged", "revised", "rejected")}
    for r in final:
        counts[r["status"]] += 1
    await _publish(session, batch_id, today, checked, written)
    # ATT-4, ATT-5, AGR-9: only absences and closures can start an alert.
    await alerts.after_batch(session, [(item.copy.agreement_id, item.entry.date) for item in checked
                                       if item.content["kind"] != "present" or (item.existing and item.existing.kind != "present")])
    session.add(LogBatch(id=batch_id, provider_id=principal.provider_id or principal.subject, recorded_by=principal.subject,
                         content_type=content_type, entries=len(entries), counts=counts, received_on=today, received_at=now))
    await audit(session, principal, "daily_log.post", "log_batch", batch_id,
                client_ids=sorted({str(item.copy.client_id) for item in checked}), details={"counts": counts})
    return {"batch_id": str(batch_id), "results": final, "counts": counts}


async def _load_state(session: AsyncSession, principal: Principal, entries: list[EntryIn], today: dt.date) -> BatchState:
    ids = sorted({e.agreement_id for e in entries})
    query = select(AgreementCopy).where(AgreementCopy.agreement_id.in_(ids)).order_by(AgreementCopy.agreement_id)
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update()  # concurrent batches of one agreement take turns
    copies = {c.agreement_id: c for c in (await session.execute(query)).scalars()
              if c.has_facts and sees(principal, c.provider_id)} if ids else {}
    segments = {aid: agreement_rules.schedule_segments(c.periods) for aid, c in copies.items()}
    wanted = [e for e in entries if e.agreement_id in copies]
    existing: dict[tuple[uuid.UUID, dt.date], LogEntry] = {}
    deviations: dict[tuple[uuid.UUID, dt.date], str] = {}
    client_days: dict[uuid.UUID, rules.ClientDays] = {}
    coaching_used: dict[uuid.UUID, int] = {}
    confirmed: dict[tuple[uuid.UUID, str], dt.date] = {}
    if wanted:
        own = sorted(copies)
        lo, hi = min(e.date for e in wanted), max(e.date for e in wanted)
        keys = {(e.agreement_id, e.date) for e in wanted}
        rows = (await session.execute(select(LogEntry).where(
            LogEntry.agreement_id.in_(own), LogEntry.date >= lo, LogEntry.date <= hi))).scalars()
        existing = {(r.agreement_id, r.date): r for r in rows if (r.agreement_id, r.date) in keys}
        deviations = {(d.agreement_id, d.date): d.kind for d in (await session.execute(select(Deviation).where(
            Deviation.agreement_id.in_(own), Deviation.date >= lo, Deviation.date <= hi))).scalars()}
        clients = sorted({c.client_id for c in copies.values() if c.client_id is not None})
        # ATT-9: every realised day of these clients, across agreements, that a 12-month window
        # holding one of the batch's days can reach.
        realised = (await session.execute(select(LogEntry.client_id, LogEntry.date).where(
            LogEntry.client_id.in_(clients), LogEntry.realised.is_(True),
            LogEntry.date > rules.add_months(lo, -12), LogEntry.date < rules.add_months(hi, 12)))).all()
        by_client: dict[uuid.UUID, list[dt.date]] = defaultdict(list)
        for client_id, day in realised:
            by_client[client_id].append(day)
        client_days = {c: rules.ClientDays.of(by_client.get(c, [])) for c in clients}
        capped = [aid for aid, c in copies.items() if c.product_kind == COACHING_PRODUCT and c.approved_hours is not None]
        if capped:
            coaching_used = {aid: int(total or 0) for aid, total in (await session.execute(
                select(LogEntry.agreement_id, func.sum(LogEntry.coaching_minutes))
                .where(LogEntry.agreement_id.in_(capped)).group_by(LogEntry.agreement_id))).all()}
        # ATT-10: a confirmed month takes corrections only.
        confirmed = await months.confirmed_months(session, {(c.unit_id, month_key(e.date))
                                                            for e in wanted if (c := copies[e.agreement_id]).unit_id})
    return BatchState(today=today, copies=copies, segments=segments, existing=existing, deviations=deviations,
                      client_days=client_days, coaching_used=coaching_used, confirmed=confirmed)


def _reject(index: int, rule: str, message: str) -> dict[str, Any]:
    return _result(index, "rejected", rule=rule, message=message)


def _result(index: int, status: str, *, entry_id: uuid.UUID | None = None, revision: int | None = None,
            correction: bool | None = None, rule: str | None = None, message: str | None = None) -> dict[str, Any]:
    """One entry's answer, as the JSON of ``schemas.EntryResult`` (5,000 of them are built per batch)."""
    return {"index": index, "status": status, "entry_id": str(entry_id) if entry_id else None, "revision": revision,
            "correction": correction, "rule": rule, "message": message}


def _content(entry: EntryIn, not_organised_reason: str | None, deviation: str | None) -> dict[str, Any]:
    present, absent = entry.kind == "present", entry.kind == "absent"
    return {
        "kind": entry.kind,
        "start_time": entry.start if present else None,
        "end_time": entry.end if present else None,
        "minutes": rules.minutes(entry.hours, entry.start, entry.end) if present else None,
        "tasks": entry.tasks if present else None,
        "note": entry.note,
        "deviation": deviation,
        "absence_reason": entry.reason if absent else None,
        "certificate": bool(entry.certificate) if absent else None,
        "same_day_contact": entry.same_day_contact if absent else None,
        "not_organised_reason": not_organised_reason,
        "coaching_minutes": round(entry.coaching_hours * 60) if present and entry.coaching_hours is not None else None,
        "coaching_content": entry.content if present else None,
    }


def _content_of_row(row: LogEntry) -> dict[str, Any]:
    return {name: getattr(row, name) for name in CONTENT_FIELDS}


def _check(state: BatchState, principal: Principal, index: int, entry: EntryIn) -> dict[str, Any] | Checked:
    """Every rule of one entry, in the order a provider would fix them. The same content as the
    stored entry is ``unchanged`` (an EntryResult) before the content rules are asked again."""
    copy = state.copies.get(entry.agreement_id)
    if copy is None:
        # DATA-3: another provider's agreement is answered exactly like an unknown one.
        return _reject(index, "DATA-3", not_yours(entry.agreement_id))
    problem = rules.future_problem(entry.date, state.today)
    if problem:
        return _reject(index, "ATT-1", problem)
    if not agreement_rules.in_force(copy.start, copy.end, copy.ended_on, entry.date):
        if copy.ended_on is not None and copy.start is not None and copy.start <= entry.date <= (copy.end or entry.date):
            return _reject(index, "AGR-13", f"the agreement ended on {copy.ended_on}; {entry.date} is after its last day")
        return _reject(index, "AGR-4", f"the agreement is in force from {copy.start} to {copy.last_day}; "
                                       f"{entry.date} is outside it")
    scheduled = agreement_rules.is_scheduled(state.segments[copy.agreement_id], entry.date)
    recorded = state.deviations.get((copy.agreement_id, entry.date))
    not_organised_reason, not_organised = None, None
    if entry.kind == "not_organised":
        not_organised_reason, not_organised = rules.not_organised_problem(entry.date, entry.not_organised_reason)
    content = _content(entry, not_organised_reason, entry.deviation or (recorded if not scheduled else None))
    existing = state.existing.get((copy.agreement_id, entry.date))
    if existing is not None and _content_of_row(existing) == content:
        return _result(index, "unchanged", entry_id=existing.id, revision=existing.revision, correction=existing.correction)
    for name in ("tasks", "note", "content"):
        value = getattr(entry, name)
        if value and contains_hetu(value):
            return _reject(index, "DATA-4", f"{name} holds a personal identity code: leave it out (the log knows the client)")
    if entry.deviation is not None and recorded is None:
        return _reject(index, "AGR-14", f"no deviation is recorded for {entry.date}: a deviation is agreed and recorded "
                                        "before the day (POST /v1/agreements/{id}/deviations)")
    if entry.deviation is not None and recorded != entry.deviation:
        return _reject(index, "AGR-14", f"the deviation recorded for {entry.date} is {recorded}, not {entry.deviation}")
    if not scheduled and recorded is None:
        weekday = agreement_rules.WEEKDAYS[entry.date.weekday()]
        return _reject(index, "AGR-14", f"{entry.date} ({weekday}) is not a scheduled day of the agreement; a day off the "
                                        "schedule needs a deviation recorded before the day")
    if not_organised:
        return _reject(index, "AGR-9", not_organised)
    if entry.kind == "absent" and is_public_holiday(entry.date) and recorded is None:
        return _reject(index, "ATT-1", f"{entry.date} is a public holiday: a day without service is not an absence; "
                                       "record it as not_organised")
    if entry.kind == "present":
        problem_rule = _present_problem(state, copy, entry, content, existing)
        if problem_rule:
            return _reject(index, *problem_rule)
    correction = False
    confirmed_on = state.confirmed.get((copy.unit_id, month_key(entry.date)))  # type: ignore[arg-type]
    if confirmed_on is not None:
        if not entry.correction:
            return _reject(index, "ATT-10", f"the month {month_key(entry.date)} was confirmed on {confirmed_on}: "
                                            "send the change as a correction (correction: true) for billing to settle")
        correction = True
    content["authorised"] = rules.authorised(entry.reason or "", bool(entry.certificate)) if entry.kind == "absent" else None
    return Checked(index=index, entry=entry, copy=copy, content=content, existing=existing, correction=correction)


def _present_problem(state: BatchState, copy: AgreementCopy, entry: EntryIn, content: dict[str, Any],
                     existing: LogEntry | None) -> tuple[str, str] | None:
    """ATT-9 (hours, week, 12 months) and VOU-7 (coaching hours) for a present day."""
    coaching_product = copy.product_kind == COACHING_PRODUCT
    if coaching_product:
        if not content["coaching_minutes"]:
            return "VOU-7", "an intensive-coaching day records its coaching hours (coaching_hours)"
    else:
        problem = rules.hours_problem(content["minutes"])
        if problem:
            return "ATT-9", problem
    if content["coaching_minutes"] and content["minutes"] is not None and content["coaching_minutes"] > content["minutes"]:
        return "VOU-7", "coaching hours cannot exceed the day's hours"
    if coaching_product and copy.approved_hours is not None:
        used = state.coaching_used.get(copy.agreement_id, 0) - ((existing.coaching_minutes or 0) if existing else 0)
        if used + content["coaching_minutes"] > copy.approved_hours * 60:
            return "VOU-7", (f"the decision approved {copy.approved_hours} coaching hours; {used / 60:g} h are recorded "
                             "for the agreement already")
    assert copy.client_id is not None
    days = state.client_days.get(copy.client_id)
    if days is None:
        days = state.client_days[copy.client_id] = rules.ClientDays()
    replacing = existing is not None and existing.realised
    if replacing:
        days.remove(entry.date)
    limit = days.problem(entry.date)
    if replacing:
        days.add(entry.date)
    return limit


def _count_realised(state: BatchState, item: Checked) -> None:
    """Keep the client's realised days current as the batch's entries are accepted (ATT-9)."""
    days = state.client_days.get(item.copy.client_id)  # type: ignore[arg-type]
    if days is None:
        days = state.client_days[item.copy.client_id] = rules.ClientDays()  # type: ignore[index]
    was = item.existing is not None and item.existing.realised
    now = item.content["kind"] == "present"
    if was and not now:
        days.remove(item.entry.date)
    elif now and not was:
        days.add(item.entry.date)
    if item.copy.agreement_id in state.coaching_used or item.copy.product_kind == COACHING_PRODUCT:
        before = (item.existing.coaching_minutes or 0) if item.existing else 0
        state.coaching_used[item.copy.agreement_id] = (state.coaching_used.get(item.copy.agreement_id, 0)
                                                       - before + (item.content["coaching_minutes"] or 0))


def _changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {k: {"old": _jsonable({k: old.get(k)})[k], "new": _jsonable({k: new.get(k)})[k]}
            for k in (*CONTENT_FIELDS, "authorised") if old.get(k) != new.get(k)}


def new_ids(n: int) -> list[uuid.UUID]:
    """``n`` random (version 4) UUIDs from one read of the system's random source."""
    raw = os.urandom(16 * n)
    return [uuid.UUID(bytes=raw[i:i + 16], version=4) for i in range(0, 16 * n, 16)]


async def _write(session: AsyncSession, principal: Principal, batch_id: uuid.UUID, now: dt.datetime,
                 checked: list[Checked]) -> list[tuple[uuid.UUID, int]]:
    """One upsert of the entries and one insert of the versions they supersede. The upsert's
    column arrays are built straight from the checked entries (no row per entry in between)."""
    n = len(checked)
    fresh = iter(new_ids(sum(1 for item in checked if item.existing is None)))
    ids = [item.existing.id if item.existing else next(fresh) for item in checked]
    revisions = [item.existing.revision + 1 if item.existing else 1 for item in checked]
    contents = [item.content for item in checked]
    columns: dict[str, list[Any]] = {
        "id": ids, "agreement_id": [item.copy.agreement_id for item in checked], "date": [item.entry.date for item in checked],
        "client_id": [item.copy.client_id for item in checked], "provider_id": [item.copy.provider_id for item in checked],
        "unit_id": [item.copy.unit_id for item in checked],
        **{k: [c[k] for c in contents] for k in CONTENT_FIELDS},
        "authorised": [c["authorised"] for c in contents], "realised": [c["kind"] == "present" for c in contents],
        "revision": revisions, "correction": [item.correction for item in checked], "batch_id": [batch_id] * n,
        "recorded_at": [now] * n, "recorded_by": [principal.subject] * n,
    }
    history: list[dict[str, Any]] = []
    for item in checked:
        old = item.existing
        if old is not None:
            before = {**_content_of_row(old), "authorised": old.authorised}
            history.append({
                "entry_id": old.id, "revision": old.revision, "agreement_id": old.agreement_id, "date": old.date,
                "client_id": old.client_id, "facts": _jsonable(before), "changes": _changes(before, item.content),
                "correction": old.correction, "batch_id": old.batch_id, "recorded_at": old.recorded_at,
                "recorded_by": old.recorded_by, "superseded_at": now, "superseded_by": principal.subject,
            })
    await bulk.write_columns(session, LogEntry.__table__, columns, conflict=("agreement_id", "date"), update=UPDATED_COLUMNS)
    await bulk.write_rows(session, LogEntryRevision.__table__, history)
    return list(zip(ids, revisions))


async def _publish(session: AsyncSession, batch_id: uuid.UUID, today: dt.date, checked: list[Checked],
                   written: list[tuple[uuid.UUID, int]]) -> None:
    """One AttendanceRecorded per agreement of the batch; AbsenceReported for every absence
    recorded or revised (ATT-7: the decision service flags the unauthorised ones). Payloads are
    built as plain data and validated once per event by its contract."""
    by_agreement: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    events: list[tuple[Any, Any, str | None]] = []
    copies: dict[uuid.UUID, AgreementCopy] = {}
    for item, (entry_id, revision) in sorted(zip(checked, written), key=lambda x: (x[0].copy.agreement_id, x[0].entry.date)):
        copy, content = item.copy, item.content
        copies[copy.agreement_id] = copy
        previous = None
        if item.existing is not None:
            previous = day_facts({**_content_of_row(item.existing), "authorised": item.existing.authorised})
        by_agreement[copy.agreement_id].append({
            **day_facts(content), "entry_id": entry_id, "date": item.entry.date,
            "not_organised_reason": content["not_organised_reason"], "deviation": content["deviation"], "revision": revision,
            "correction": item.correction, "previous": previous})
    for agreement_id, days in by_agreement.items():
        copy = copies[agreement_id]
        events.append((AttendanceRecorded, {
            "batch_id": batch_id, "agreement_id": agreement_id, "client_id": copy.client_id, "provider_id": copy.provider_id,
            "unit_id": copy.unit_id, "product_kind": copy.product_kind or "", "recorded_on": today, "days": days},
            str(agreement_id)))
    for item, (entry_id, revision) in zip(checked, written):
        if item.content["kind"] != "absent":
            continue
        copy = item.copy
        events.append((AbsenceReported, {
            "entry_id": entry_id, "agreement_id": copy.agreement_id, "client_id": copy.client_id,
            "provider_id": copy.provider_id, "date": item.entry.date, "reason": item.content["absence_reason"],
            "certificate": bool(item.content["certificate"]), "authorised": bool(item.content["authorised"]),
            "same_day_contact": item.content["same_day_contact"], "revision": revision}, str(entry_id)))
    await emit_many(session, events)


# --- reading ---------------------------------------------------------------------------------------
