"""Use cases of the daily log: post a batch, read entries and their revisions.

A batch is one transaction: a few set-based reads (the agreements, the entries it touches, the
clients' realised days, deviations, confirmed months), every entry checked in memory against the
rules, then one statement per table (entries upserted, superseded versions kept, the batch, the
outbox events) and one audit row (``writing``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pydantic_core
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.clock import is_public_holiday
from ktt_common.db import dialect_name
from ktt_common.identifiers import contains_hetu
from ktt_common.outbox import runtime_of

from ktt_attendance.access import not_yours, sees
from ktt_attendance.agreements import rules as agreement_rules
from ktt_attendance.agreements.models import AgreementCopy, Deviation
from ktt_attendance.alerts import evaluation
from ktt_attendance.alerts import service as alerts
from ktt_attendance.log import collector, parsing, rules, writing
from ktt_attendance.log.models import LogBatch, LogEntry
from ktt_attendance.log.schemas import EntryIn
from ktt_attendance.log.writing import Agreement, Checked, content_of_row
from ktt_attendance.months import service as months

COACHING_PRODUCT = "intensive_coaching"


@dataclass
class BatchState:
    """What a batch needs to know, loaded once before its entries are checked."""

    today: dt.date
    copies: dict[uuid.UUID, Agreement]
    client_days: dict[uuid.UUID, rules.ClientDays]
    coaching_used: dict[uuid.UUID, int]
    confirmed: dict[tuple[uuid.UUID, str], dt.date] = field(default_factory=dict)
    span: tuple[dt.date, dt.date] | None = None  # the batch's first and last day: ``existing`` holds every entry of them
    hetu_free: dict[str, bool] = field(default_factory=dict)  # free texts already scanned (DATA-4)


def month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


async def post_batch_body(session: AsyncSession, principal: Principal, content_type: str, body: bytes, max_entries: int) -> bytes:
    """A posted body read (``parsing``), recorded (``post_batch``) and answered: the JSON of
    ``schemas.BatchOut``. The batch's objects (entries, contents, results, event days) are
    released before the collector is back on (``collector``)."""
    with collector.held_off():
        kind, entries = parsing.parse_batch(content_type, body, max_entries)
        answer = pydantic_core.to_json(await post_batch(session, principal, entries, kind))
        del entries
    collector.after_batch()
    return answer


async def post_batch(session: AsyncSession, principal: Principal, entries: list[EntryIn], content_type: str) -> dict[str, Any]:
    """ATT-1 / ATT-2: record a batch of client-days. Per entry: accepted, unchanged (the same
    content again), revised (kept with history), or rejected with the rule; one bad entry never
    loses the good ones. Writes and events are per batch: one AttendanceRecorded per agreement.
    Returns the fields of ``schemas.BatchOut`` (UUIDs as UUIDs: serialised by ``pydantic_core.to_json``)."""
    rt = runtime_of(session)
    today = rt.clock.today()
    now = dt.datetime.now(dt.UTC)
    batch_id = uuid.uuid4()
    state = await _load_state(session, principal, entries, today)
    results: list[dict[str, Any] | None] = [None] * len(entries)
    checked: list[Checked] = []
    # Date order, then the batch's order (the sort is stable).
    for index in sorted(range(len(entries)), key=lambda i: entries[i].date):
        outcome = _check(state, principal, index, entries[index])
        if isinstance(outcome, dict):
            results[index] = outcome
        else:
            checked.append(outcome)
            _count_realised(state, outcome)
    written = await writing.write(session, principal, batch_id, now, checked)
    for item, (entry_id, revision) in zip(checked, written):
        results[item.index] = _result(item.index, "revised" if item.existing else "accepted", entry_id=entry_id,
                                      revision=revision, correction=item.correction)
    final = [r for r in results if r is not None]
    counts = {status: 0 for status in ("accepted", "unchanged", "revised", "rejected")}
    for r in final:
        counts[r["status"]] += 1
    await writing.publish(session, batch_id, today, checked, written)
    await alerts.raise_due(session, await _alert_timelines(session, state, checked))
    session.add(LogBatch(id=batch_id, provider_id=principal.provider_id or principal.subject, recorded_by=principal.subject,
                         content_type=content_type, entries=len(entries), counts=counts, received_on=today, received_at=now))
    await audit(session, principal, "daily_log.post", "log_batch", batch_id,
                client_ids=sorted({str(item.copy.client_id) for item in checked}), details={"counts": counts})
    return {"batch_id": batch_id, "results": final, "counts": counts}


async def _load_state(session: AsyncSession, principal: Principal, entries: list[EntryIn], today: dt.date) -> BatchState:
    ids = sorted({e.agreement_id for e in entries})
    # The copies' columns the rules need, as plain rows (no ORM objects: a batch holds hundreds).
    a = AgreementCopy
    query = select(a.agreement_id, a.client_id, a.provider_id, a.unit_id, a.product_kind, a.form, a.approved_hours, a.start,
                   a.end, a.ended_on, a.periods).where(a.agreement_id.in_(ids)).order_by(a.agreement_id)
    if dialect_name(session) == "postgresql":
        query = query.with_for_update()  # concurrent batches of one agreement take turns
    copies: dict[uuid.UUID, Agreement] = {}
    # One object for each provider and unit of the batch (asyncpg makes one per row): a column of
    # the entries' insert holding one object throughout is sent once, not as an array (``ktt_common.bulk``).
    one: dict[object, Any] = {}
    for aid, client_id, provider_id, unit_id, product_kind, form, approved_hours, start, end, ended_on, periods in (
            (await session.execute(query)).all() if ids else ()):
        if start is None or end is None or not sees(principal, provider_id):  # not AgreementCopy.has_facts, or not theirs
            continue
        copies[aid] = Agreement(
            agreement_id=aid, client_id=client_id, provider_id=one.setdefault(provider_id, provider_id),  # type: ignore[arg-type]
            unit_id=one.setdefault(unit_id, unit_id),  # has_facts: AgreementSigned gave these
            product_kind=product_kind, form=form, approved_hours=approved_hours, start=start, end=end, ended_on=ended_on,
            last_day=min(end, ended_on) if ended_on is not None else end,  # AgreementCopy.last_day
            segments=agreement_rules.schedule_segments(periods), existing={}, deviations={})
    client_days: dict[uuid.UUID, rules.ClientDays] = {}
    coaching_used: dict[uuid.UUID, int] = {}
    confirmed: dict[tuple[uuid.UUID, str], dt.date] = {}
    days = {e.date for e in entries}
    if copies and days:
        own = sorted(copies)
        lo, hi = min(days), max(days)
        for r in (await session.execute(select(LogEntry).where(
                LogEntry.agreement_id.in_(own), LogEntry.date >= lo, LogEntry.date <= hi))).scalars():
            copies[r.agreement_id].existing[r.date] = r
        for d in (await session.execute(select(Deviation).where(
                Deviation.agreement_id.in_(own), Deviation.date >= lo, Deviation.date <= hi))).scalars():
            copies[d.agreement_id].deviations[d.date] = d.kind
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
        # Asked for every unit of the batch in every month of the batch (a few keys, a superset
        # of the entries' own (unit, month) pairs, which are all that is ever looked up).
        months_of_batch = sorted({month_key(day) for day in days})
        units = {c.unit_id for c in copies.values() if c.unit_id}
        confirmed = await months.confirmed_months(session, {(unit, month) for unit in units for month in months_of_batch})
    return BatchState(today=today, copies=copies, client_days=client_days, coaching_used=coaching_used, confirmed=confirmed,
                      span=(min(days), max(days)) if days else None)


def _reject(index: int, rule: str, message: str) -> dict[str, Any]:
    return _result(index, "rejected", rule=rule, message=message)


def _result(index: int, status: str, *, entry_id: uuid.UUID | None = None, revision: int | None = None,
            correction: bool | None = None, rule: str | None = None, message: str | None = None) -> dict[str, Any]:
    """One entry's answer, the fields of ``schemas.EntryResult`` (5,000 of them are built per batch;
    ``entry_id`` stays a UUID: the answer is serialised by ``pydantic_core.to_json``)."""
    return {"index": index, "status": status, "entry_id": entry_id, "revision": revision, "correction": correction,
            "rule": rule, "message": message}


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


def _hetu_in(state: BatchState, text: str) -> bool:
    """DATA-4, asked once per distinct text of the batch (providers repeat their task texts)."""
    found = state.hetu_free.get(text)
    if found is None:
        found = state.hetu_free[text] = contains_hetu(text)
    return found


def _check(state: BatchState, principal: Principal, index: int, entry: EntryIn) -> dict[str, Any] | Checked:
    """Every rule of one entry, in the order a provider would fix them. The same content as the
    stored entry is ``unchanged`` (an EntryResult) before the content rules are asked again."""
    copy = state.copies.get(entry.agreement_id)
    if copy is None:
        # DATA-3: another provider's agreement is answered exactly like an unknown one.
        return _reject(index, "DATA-3", not_yours(entry.agreement_id))
    day = entry.date
    if day > state.today and (future := rules.future_problem(day, state.today)) is not None:
        return _reject(index, "ATT-1", future)
    if not copy.start <= day <= copy.last_day:  # the common case costs one comparison
        out = agreement_rules.out_of_force_problem(day, copy.start, copy.end, copy.ended_on)
        if out is not None:
            return _reject(index, *out)
    scheduled = agreement_rules.is_scheduled(copy.segments, day)
    recorded = copy.deviations.get(day) if copy.deviations else None
    not_organised_reason, not_organised = None, None
    if entry.kind == "not_organised":
        not_organised_reason, not_organised = rules.not_organised_problem(day, entry.not_organised_reason)
    content = _content(entry, not_organised_reason, entry.deviation or (recorded if not scheduled else None))
    existing = copy.existing.get(day) if copy.existing else None
    if existing is not None and content_of_row(existing) == content:
        return _result(index, "unchanged", entry_id=existing.id, revision=existing.revision, correction=existing.correction)
    for name in ("tasks", "note", "content"):
        value = getattr(entry, name)
        if value and _hetu_in(state, value):
            return _reject(index, "DATA-4", f"{name} holds a personal identity code: leave it out (the log knows the client)")
    if entry.deviation is not None and recorded is None:
        return _reject(index, "AGR-14", f"no deviation is recorded for {day}: a deviation is agreed and recorded "
                                        "before the day (POST /v1/agreements/{id}/deviations)")
    if entry.deviation is not None and recorded != entry.deviation:
        return _reject(index, "AGR-14", f"the deviation recorded for {day} is {recorded}, not {entry.deviation}")
    if not scheduled and recorded is None:
        weekday = agreement_rules.WEEKDAYS[day.weekday()]
        return _reject(index, "AGR-14", f"{day} ({weekday}) is not a scheduled day of the agreement; a day off the "
                                        "schedule needs a deviation recorded before the day")
    if not_organised:
        return _reject(index, "AGR-9", not_organised)
    if entry.kind == "absent" and is_public_holiday(day) and recorded is None:
        return _reject(index, "ATT-1", f"{day} is a public holiday: a day without service is not an absence; "
                                       "record it as not_organised")
    if entry.kind == "present":
        problem_rule = _present_problem(state, copy, entry, content, existing)
        if problem_rule:
            return _reject(index, *problem_rule)
    correction = False
    if state.confirmed:
        confirmed_on = state.confirmed.get((copy.unit_id, month_key(day))) if copy.unit_id is not None else None
        if confirmed_on is not None:
            if not entry.correction:
                return _reject(index, "ATT-10", f"the month {month_key(day)} was confirmed on {confirmed_on}: "
                                                "send the change as a correction (correction: true) for billing to settle")
            correction = True
    content["authorised"] = rules.authorised(entry.reason or "", bool(entry.certificate)) if entry.kind == "absent" else None
    return Checked(index=index, entry=entry, copy=copy, content=content, existing=existing, correction=correction)


def _present_problem(state: BatchState, copy: Agreement, entry: EntryIn, content: dict[str, Any],
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


async def _alert_timelines(session: AsyncSession, state: BatchState, checked: list[Checked]) -> list[evaluation.Timeline]:
    """ATT-4, ATT-5, AGR-9: the timelines of the agreements whose absences or closures the batch
    changed (only those can start an alert), as ``evaluation.timelines_from_db`` would read them
    after the write: the batch's agreements as loaded; on the days it spans, the entries it loaded
    with what it wrote over them; only the log outside that span is read."""
    changed = [item for item in checked
               if item.content["kind"] != "present" or (item.existing is not None and item.existing.kind != "present")]
    if not changed or state.span is None:
        return []
    lo = evaluation.lookback_from(item.entry.date for item in changed)
    ids = sorted({item.copy.agreement_id for item in changed})
    known = {aid: {day: evaluation.day_of(r.kind, r.authorised, r.absence_reason, r.not_organised_reason)
                   for day, r in state.copies[aid].existing.items()} for aid in ids}
    for item in checked:
        log = known.get(item.copy.agreement_id)
        if log is not None:
            c = item.content
            log[item.entry.date] = evaluation.day_of(c["kind"], c["authorised"], c["absence_reason"], c["not_organised_reason"])
    rest = await evaluation.read_logs(session, ids, lo, skip=state.span)
    out = []
    for aid in ids:
        a = state.copies[aid]
        subject = evaluation.Subject(a.agreement_id, a.client_id, a.provider_id, a.unit_id, a.form, a.start, a.last_day, a.segments)
        if (timeline := evaluation.timeline_of(subject, lo, known[aid], rest.get(aid))) is not None:
            out.append(timeline)
    return out


def _count_realised(state: BatchState, item: Checked) -> None:
    """Keep the client's realised days current as the batch's entries are accepted (ATT-9)."""
    was = item.existing is not None and item.existing.realised
    now = item.content["kind"] == "present"
    if was != now:
        days = state.client_days.get(item.copy.client_id)
        if days is None:
            days = state.client_days[item.copy.client_id] = rules.ClientDays()
        if was:
            days.remove(item.entry.date)
        else:
            days.add(item.entry.date)
    if item.copy.product_kind == COACHING_PRODUCT or item.copy.agreement_id in state.coaching_used:
        before = (item.existing.coaching_minutes or 0) if item.existing else 0
        state.coaching_used[item.copy.agreement_id] = (state.coaching_used.get(item.copy.agreement_id, 0)
                                                       - before + (item.content["coaching_minutes"] or 0))


# --- reading ---------------------------------------------------------------------------------------
