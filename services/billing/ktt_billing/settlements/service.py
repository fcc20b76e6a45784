"""Settlement use cases: compute a month (draft), hold and release (BIL-2, BIL-3), approve, settle.
Each runs inside the caller's transaction and writes its events to the outbox with the state change."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, and_, delete, exists, func, insert, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit, audit_many
from ktt_common.auth import Principal
from ktt_common.bulk import cached_row_plans, random_uuid, write_rows
from ktt_common.db import affected, dialect_name
from ktt_common.errors import Conflict, NotFound
from ktt_common.outbox import emit, emit_many, runtime_of
from ktt_common.settings import settings_as
from ktt_contracts import billing as ev

from ktt_billing.copies.models import DayEntry as E
from ktt_billing.copies.models import MonthConfirmation as MC
from ktt_billing.copies.models import ReportCopy as R
from ktt_billing.corrections.service import correction_lines
from ktt_billing.settings import BillingSettings
from ktt_billing.settlements import compute, rules
from ktt_billing.settlements.models import Settlement, SettlementLine
from ktt_billing.sql import distinct_strings


def facts(s: Settlement, line_count: int) -> dict[str, Any]:
    return {"settlement_id": s.id, "provider_id": s.provider_id, "month": s.month, "state": s.state, "total_cents": s.total_cents,
                "line_count": line_count}


async def line_count(session: AsyncSession, settlement_id: uuid.UUID) -> int:
    return int((await session.execute(select(func.count()).where(SettlementLine.settlement_id == settlement_id))).scalar_one())


async def line_counts(session: AsyncSession, settlement_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Lines per settlement, in one statement (0 for a settlement without lines)."""
    counts = dict.fromkeys(settlement_ids, 0)
    if settlement_ids:
        counts.update({sid: int(n) for sid, n in (await session.execute(
            select(SettlementLine.settlement_id, func.count()).where(SettlementLine.settlement_id.in_(settlement_ids))
            .group_by(SettlementLine.settlement_id))).all()})
    return counts


# Any constant shared by every writer of settlements: the key of their transaction-scoped advisory lock.
SETTLEMENT_LOCK_KEY = 0x4B5454_0B11


async def lock_settlements(session: AsyncSession) -> None:
    """Serialise the creation of settlements until the transaction ends: two job runs (or a job and an
    accepted dispute) never read the same max(seq) or both create a provider's month. PostgreSQL takes a
    transaction-scoped advisory lock (re-entrant, released at commit or rollback); SQLite's transactions
    already begin with the write lock (BEGIN IMMEDIATE). The unique constraints stay the backstop."""
    if dialect_name(session) == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SETTLEMENT_LOCK_KEY})


async def _next_seq(session: AsyncSession) -> int:
    """The next running number (the base of the payment reference), under the settlements lock."""
    await lock_settlements(session)
    return int((await session.execute(select(func.coalesce(func.max(Settlement.seq), 0)))).scalar_one()) + 1


async def compute_month(session: AsyncSession, month: str, today: dt.date,
                        providers: Iterable[str] | None = None, *, actor: str = "job:settle-month") -> dict[str, int]:
    """Compute (or recompute) the open settlements of ``month``: one per provider with lines. A frozen
    settlement of the month is left alone (later changes become corrections in a later month).

    Set-based (issue 10's benchmark): the day and coaching groups go from the entries into a staging
    table and from there into ``settlement_line`` by ``INSERT ... SELECT``; totals and line counts are
    summed by the database; only the settlements themselves (one per provider) pass through Python."""
    first, last = rules.parse_month(month)
    providers = None if providers is None else sorted(set(providers))
    await lock_settlements(session)  # before reading which settlements exist
    stage = await compute.stage_month(session, first, last, providers)
    await write_rows(session, stage, await correction_lines(session, month, providers))  # refunds and corrections
    with_lines = set((await session.execute(select(stage.c.provider_id).distinct())).scalars().all())

    q = select(Settlement).where(Settlement.month == month)
    if providers is not None:
        q = q.where(Settlement.provider_id.in_(providers))
    existing = {s.provider_id: s for s in (await session.execute(q)).scalars().all()}
    created, recomputed = [], []
    seq = await _next_seq(session)
    for provider_id in sorted(with_lines | {p for p, s in existing.items() if s.state in rules.OPEN_STATES}):
        s = existing.get(provider_id)
        if s is not None and s.state not in rules.OPEN_STATES:
            continue
        if s is None:
            s = Settlement(id=uuid.uuid4(), provider_id=provider_id, month=month, state="draft", held=False,
                           hold_reasons=[], total_cents=0, reference=rules.finnish_reference(seq), seq=seq,
                           created_on=today, computed_on=today)
            seq += 1
            session.add(s)
            created.append(s)
        else:
            recomputed.append(s)
        s.computed_on = today
    await session.flush()
    counts = {s.id: 0 for s in (*created, *recomputed)}
    totals = dict(counts)
    if recomputed:  # lines from accepted disputes stay and count in the total; computed ones are replaced
        ids = [s.id for s in recomputed]
        await session.execute(delete(SettlementLine).where(SettlementLine.settlement_id.in_(ids),
                                                           SettlementLine.origin == "computed"))
        for sid, n, amount in (await session.execute(
                select(SettlementLine.settlement_id, func.count(), func.sum(SettlementLine.amount_cents))
                .where(SettlementLine.settlement_id.in_(ids)).group_by(SettlementLine.settlement_id))).all():
            counts[sid], totals[sid] = int(n), int(amount)
    written = 0
    if counts:
        # The staged lines into settlement_line in one statement, each joined to its provider's settlement.
        async with cached_row_plans(session):
            written = affected(await session.execute(insert(SettlementLine).from_select(
                ["id", "settlement_id", *compute.GROUP_COLUMNS[1:], "kind", "cause", "origin"],
                select(random_uuid(session), Settlement.id, *[stage.c[c] for c in compute.GROUP_COLUMNS[1:]],
                       stage.c.kind, stage.c.cause, literal("computed", String))
                .join(Settlement, and_(Settlement.provider_id == stage.c.provider_id, Settlement.month == month))
                .where(Settlement.id.in_(list(counts))))))
    # Line counts, totals and each provider's clients (for the audit) summed from the stage by the database.
    by_provider = {s.provider_id: s.id for s in (*created, *recomputed)}
    clients: dict[uuid.UUID, list[str]] = {}
    for provider_id, n, amount, client_ids in (await session.execute(
            select(stage.c.provider_id, func.count(), func.sum(stage.c.amount_cents),
                   distinct_strings(session, stage.c.client_id)).group_by(stage.c.provider_id))).all():
        if (found := by_provider.get(provider_id)) is not None:
            sid = found
            counts[sid] += int(n)
            totals[sid] += int(amount)
            clients[sid] = sorted(c if len(c) == 36 else str(uuid.UUID(c)) for c in client_ids.split(","))
    await compute.drop_stage(session)
    for s in (*created, *recomputed):
        s.total_cents = totals[s.id]
    if created:
        await emit_many(session, [(ev.InvoiceCreated, {**facts(s, counts[s.id]), "created_on": today}, str(s.id))
                                  for s in created])
        await audit_many(session, actor, "settlement.create", "settlement", [
            (s.id, clients.get(s.id, []), {"provider_id": s.provider_id, "month": s.month, "seq": s.seq,
                                           "reference": s.reference, "total_cents": s.total_cents,
                                           "line_count": counts[s.id]})
            for s in created])
    await evaluate_holds(session, [*created, *recomputed], today, counts)
    return {"created": len(created), "recomputed": len(recomputed), "lines": written}


async def hold_reasons(session: AsyncSession, month: str, providers: list[str]) -> dict[str, list[dict[str, Any]]]:
    """BIL-2: every unit with entries in the month must have confirmed it; BIL-3 (when required): every
    agreement with realised days must have its monthly follow-up report submitted."""
    first, last = rules.parse_month(month)
    reasons: dict[str, list[dict[str, Any]]] = {p: [] for p in providers}
    in_month = and_(E.provider_id.in_(providers), E.date >= first, E.date <= last)
    confirmed = exists().where(MC.provider_id == E.provider_id, MC.unit_id == E.unit_id, MC.month == month)
    for provider_id, unit_id in (await session.execute(
            select(E.provider_id, E.unit_id).distinct().where(in_month, ~confirmed).order_by(E.provider_id, E.unit_id))).all():
        reasons[provider_id].append({"rule": "BIL-2", "unit_id": str(unit_id),
                                         "reason": f"unit {unit_id} has not confirmed its realised days of {month}"})
    if settings_as(runtime_of(session).settings, BillingSettings).require_monthly_follow_up:
        reported = exists().where(R.agreement_id == E.agreement_id, R.month == month, R.kind == "monthly_follow_up",
                                  (R.submitted_on.is_not(None)) | (R.accepted_on.is_not(None)))
        for provider_id, agreement_id in (await session.execute(
                select(E.provider_id, E.agreement_id).distinct().where(in_month, E.realised.is_(True), ~reported)
                .order_by(E.provider_id, E.agreement_id))).all():
            reasons[provider_id].append({"rule": "BIL-3", "agreement_id": str(agreement_id),
                                             "reason": f"the monthly follow-up of agreement {agreement_id} for {month} "
                                                    "has not been submitted"})
    return reasons


async def evaluate_holds(session: AsyncSession, settlements: list[Settlement], today: dt.date,
                         known_counts: dict[uuid.UUID, int] | None = None) -> None:
    """Hold an open settlement with its reasons, or release it to review when none is left.
    ``known_counts``: line counts the caller already knows (a negative one is counted again)."""
    known = {k: v for k, v in (known_counts or {}).items() if v >= 0}
    missing = [s.id for s in settlements if s.state in rules.OPEN_STATES and s.id not in known]
    counts = {**known, **await line_counts(session, missing)}
    by_month: dict[str, list[Settlement]] = {}
    for s in settlements:
        if s.state in rules.OPEN_STATES:
            by_month.setdefault(s.month, []).append(s)
    events: list[tuple[Any, dict[str, Any], str]] = []
    for month, items in by_month.items():
        reasons = await hold_reasons(session, month, [s.provider_id for s in items])
        for s in items:
            now = reasons[s.provider_id]
            n = counts[s.id]
            if now:
                changed = not s.held or s.hold_reasons != now
                s.held, s.hold_reasons, s.state = True, now, "draft"
                if changed:
                    events.append((ev.InvoiceHeld, {**facts(s, n), "held_on": today, "reasons": now}, str(s.id)))
            else:
                was_held = s.held
                s.held, s.hold_reasons, s.state = False, [], "under_review"
                if was_held:
                    events.append((ev.InvoiceReleased, {**facts(s, n), "released_on": today}, str(s.id)))
    if events:
        await emit_many(session, events)
    await session.flush()


async def reevaluate_holds(session: AsyncSession, provider_id: str, month: str, today: dt.date) -> None:
    s = (await session.execute(select(Settlement).where(Settlement.provider_id == provider_id, Settlement.month == month)
                               )).scalar_one_or_none()
    if s is not None and s.state in rules.OPEN_STATES:
        await evaluate_holds(session, [s], today)


async def get(session: AsyncSession, settlement_id: uuid.UUID, *, for_update: bool = False) -> Settlement:
    q = select(Settlement).where(Settlement.id == settlement_id)
    if for_update:
        q = q.with_for_update()
    s = (await session.execute(q)).scalar_one_or_none()
    if s is None:
        raise NotFound(f"no settlement {settlement_id}")
    return s


async def approve(session: AsyncSession, settlement_id: uuid.UUID, who: Principal, today: dt.date) -> Settlement:
    s = await get(session, settlement_id, for_update=True)
    why = rules.may_approve(s.state, s.held)
    if why:
        raise Conflict(why, rule="BIL-2" if s.held else None)
    s.state, s.approved_on, s.approved_by = "approved", today, who.subject
    n = await line_count(session, s.id)
    await emit(session, ev.InvoiceApproved, {**facts(s, n), "approved_on": today, "approved_by": who.subject},
               subject=str(s.id))
    await audit(session, who, "settlement.approve", "settlement", s.id, details={"total_cents": s.total_cents})
    return s


async def settle_due(session: AsyncSession, today: dt.date) -> int:
    """On (or after) the settlement day, approved settlements become settled and are frozen for good."""
    day = settings_as(runtime_of(session).settings, BillingSettings).settlement_day
    items = (await session.execute(select(Settlement).where(Settlement.state == "approved")
                                   .order_by(Settlement.month, Settlement.provider_id))).scalars().all()
    events = []
    due = [s for s in items if rules.settles_on(s.month, day) <= today]
    counts = await line_counts(session, [s.id for s in due])
    for s in due:
        s.state, s.settled_on = "settled", today
        events.append((ev.InvoiceSettled, {**facts(s, counts[s.id]), "settled_on": today}, str(s.id)))
    if events:
        await emit_many(session, events)
        await audit(session, "job:settle-month", "settlement.settle", "settlement", None,
                    details={"settled": [str(e[1]["settlement_id"]) for e in events]})
    return len(events)


async def settle_month(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """The daily job: compute the month that ended, recompute every other open settlement (their holds
    and corrections), and settle what is due on the settlement day."""
    month = rules.previous_month(run_date)
    result = {"month": month, **await compute_month(session, month, run_date)}
    others = (await session.execute(select(Settlement.month, Settlement.provider_id)
                                    .where(Settlement.state.in_(rules.OPEN_STATES), Settlement.month != month))).all()
    by_month: dict[str, list[str]] = {}
    for m, p in others:
        by_month.setdefault(m, []).append(p)
    for m in sorted(by_month):
        await compute_month(session, m, run_date, by_month[m])
    result["settled"] = await settle_due(session, run_date)
    return result
