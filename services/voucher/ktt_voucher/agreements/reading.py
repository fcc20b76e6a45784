"""Reading agreements and what follows from them: helpers, DATA-3/DATA-2 visibility, periods,
the days their schedules project, the client's agreements in force (AGR-18), the client's first
day of voucher-bought KTT (VOU-6), and the facts every agreement event carries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.errors import NotFound
from ktt_common.outbox import runtime_of
from ktt_common.pagination import PageRequest, paginate
from ktt_common.policy import scope_rows
from ktt_contracts.agreement import (
    FrozenValues,
    PeriodFacts,
    ScheduleDayFacts,
    ScheduleSpan,
)

from ktt_voucher.agreements import rules as ar
from ktt_voucher.agreements.models import (
    Agreement,
    AgreementNotification,
    AgreementPeriod,
    ConsentCopy,
    ProviderRefusal,
)
from ktt_voucher.agreements.schemas import ScheduleDayIn
from ktt_voucher.vouchers.models import Voucher

OPEN_STATES = ("draft", "signed", "active")


def _today(session: AsyncSession) -> dt.date:
    return runtime_of(session).clock.today()


def _schedule_days(schedule: list[ScheduleDayIn] | list[dict[str, str]]) -> list[ar.ScheduleDay]:
    days = []
    for d in schedule:
        if isinstance(d, dict):
            days.append(ar.ScheduleDay(d["weekday"], dt.time.fromisoformat(d["start"]), dt.time.fromisoformat(d["end"])))
        else:
            days.append(ar.ScheduleDay(d.weekday.lower(), d.start, d.end))
    return days


def _schedule_json(days: list[ar.ScheduleDay]) -> list[dict[str, str]]:
    return [{"weekday": d.weekday, "start": d.start.strftime("%H:%M"), "end": d.end.strftime("%H:%M")} for d in days]


# --- reading ---------------------------------------------------------------------------------

def visible_to(principal: Principal) -> Any:
    """DATA-3 in the query: a provider sees its own agreements, a client its own, officials all."""
    if principal.role is Role.PROVIDER:
        return Agreement.provider_id == principal.provider_id
    if principal.role is Role.CLIENT:
        return Agreement.client_id == uuid.UUID(principal.client_id)
    return True


def after_the_end(agreement: Agreement, today: dt.date) -> bool:
    """DATA-2: the agreement has ended (its last day has passed) or was withdrawn."""
    return agreement.state == "withdrawn" or (agreement.state == "ended" and agreement.ended_on is not None
                                              and agreement.ended_on < today)


def provider_may_still_see(agreement: Agreement, principal: Principal, today: dt.date, retention_days: int | None = None) -> bool:
    """DATA-2: after the end a provider keeps what billing and reports need for the retention
    period (``ENDED_AGREEMENT_PROVIDER_DAYS``), then no longer sees the agreement at all."""
    if principal.role is not Role.PROVIDER or not after_the_end(agreement, today):
        return True
    days = retention_days if retention_days is not None else DEFAULT_PROVIDER_RETENTION_DAYS
    last = agreement.ended_on or agreement.updated_at.date()
    return today <= last + dt.timedelta(days=days)


DEFAULT_PROVIDER_RETENTION_DAYS = 400


async def get_agreement(session: AsyncSession, agreement_id: uuid.UUID, principal: Principal, *, for_update: bool = False) -> Agreement:
    query = select(Agreement).where(Agreement.id == agreement_id, visible_to(principal))
    if for_update:
        query = query.with_for_update()
    agreement = (await session.execute(query)).scalar_one_or_none()
    retention = getattr(runtime_of(session).settings, "ended_agreement_provider_days", None)
    if agreement is None or not provider_may_still_see(agreement, principal, _today(session), retention):
        raise NotFound(f"no agreement {agreement_id} that you may see")
    return agreement


async def agreement_for(session: AsyncSession, agreement_id: uuid.UUID, principal: Principal | None, *,
                        link_client: uuid.UUID | None = None, for_update: bool = False) -> Agreement:
    """The agreement someone acts on: with a login, one they may see (DATA-3); through the voucher
    link (``principal`` None), one of the link's client's own."""
    if principal is not None:
        return await get_agreement(session, agreement_id, principal, for_update=for_update)
    query = select(Agreement).where(Agreement.id == agreement_id, Agreement.client_id == link_client)
    agreement = (await session.execute(query.with_for_update() if for_update else query)).scalar_one_or_none()
    if agreement is None:
        raise NotFound(f"no agreement {agreement_id} of this voucher's client")
    return agreement


async def periods_of(session: AsyncSession, agreement_id: uuid.UUID) -> list[AgreementPeriod]:
    return list((await session.execute(
        select(AgreementPeriod).where(AgreementPeriod.agreement_id == agreement_id).order_by(AgreementPeriod.seq)
    )).scalars())


async def plan_visible_pairs(session: AsyncSession, pairs: list[tuple[uuid.UUID, str]], on: dt.date) -> set[tuple[uuid.UUID, str]]:
    """DATA-1 for many agreements in one query: the (client, provider) pairs whose consent covers the plan today."""
    if not pairs:
        return set()
    consents = (await session.execute(select(ConsentCopy).where(
        ConsentCopy.client_id.in_({c for c, _ in pairs}), ConsentCopy.provider_id.in_({p for _, p in pairs}),
        ConsentCopy.withdrawn_on.is_(None), ConsentCopy.given_on <= on,
    ))).scalars()
    return {(c.client_id, c.provider_id) for c in consents
            if "plan" in c.scope and (c.valid_until is None or c.valid_until >= on)}


async def periods_by_agreement(session: AsyncSession, agreement_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[AgreementPeriod]]:
    """The periods of many agreements in one query, in order."""
    found: dict[uuid.UUID, list[AgreementPeriod]] = {a: [] for a in agreement_ids}
    if agreement_ids:
        for period in (await session.execute(select(AgreementPeriod).where(AgreementPeriod.agreement_id.in_(agreement_ids))
                                             .order_by(AgreementPeriod.seq))).scalars():
            found[period.agreement_id].append(period)
    return found


# --- one agreement in force per client (AGR-18, AGR-8, AGR-6, AGR-11) --------------------------------

def period_segments(period: AgreementPeriod) -> list[tuple[dt.date, dt.date, set[str]]]:
    """The stretches of a period with the weekdays of the schedule that applied (AGR-12 reviews)."""
    segments = [(dt.date.fromisoformat(s["start"]), dt.date.fromisoformat(s["end"]), {d["weekday"] for d in s["schedule"]})
                for s in (period.earlier_schedules or [])]
    segments.append((period.schedule_from or period.start, period.end, {d["weekday"] for d in period.schedule}))
    return segments


def projected_days(periods: list[AgreementPeriod], until: dt.date | None = None) -> list[dt.date]:
    """Activity days the agreement's schedules project, up to ``until`` (its last day in force)."""
    days: list[dt.date] = []
    for period in periods:
        for start, end, weekdays in period_segments(period):
            last = min(end, until) if until else end
            if last >= start:
                days += ar.scheduled_days(start, last, weekdays)
    return days


async def client_agreements(session: AsyncSession, client_id: uuid.UUID, *, exclude: uuid.UUID | None = None) -> list[Agreement]:
    """The client's agreements that bind on some day (signed, active, or ended after starting)."""
    rows = (await session.execute(select(Agreement).where(
        Agreement.client_id == client_id, Agreement.state.in_(("signed", "active", "ended")),
    ).order_by(Agreement.start_date))).scalars().all()
    out = []
    for a in rows:
        until = ar.in_force_until(a.state, a.end_date, a.ended_on)
        if a.id != exclude and until is not None and until >= a.start_date:
            out.append(a)
    return out


async def first_service_day(session: AsyncSession, client_id: uuid.UUID, planned: dt.date | None) -> dt.date | None:
    """VOU-6: the client's first day of voucher-bought KTT: the first day a service actually
    started, across providers and decisions; until one has, the earliest planned first day of the
    client's agreements in force (``planned`` is the one being signed)."""
    started = (await session.execute(select(func.min(Agreement.started_on)).where(
        Agreement.client_id == client_id, Agreement.started_on.is_not(None)))).scalar_one_or_none()
    if started:
        return started
    binding = await client_agreements(session, client_id)
    periods = await periods_by_agreement(session, [a.id for a in binding])
    firsts = [d for a in binding
              for d in projected_days(periods[a.id][:1], ar.in_force_until(a.state, a.end_date, a.ended_on))[:1]]
    return min(firsts + ([planned] if planned else []), default=None)


def planned_first_day(agreement: Agreement, periods: list[AgreementPeriod]) -> dt.date:
    days = projected_days(periods[:1])
    return days[0] if days else agreement.start_date


async def agreement_facts(session: AsyncSession, agreement: Agreement) -> dict[str, Any]:
    periods = await periods_of(session, agreement.id)
    voucher = await session.get(Voucher, agreement.voucher_id)
    first_day = await first_service_day(session, agreement.client_id, planned_first_day(agreement, periods))
    return {
        "agreement_id": agreement.id, "voucher_id": agreement.voucher_id, "decision_id": agreement.decision_id,
        "client_id": agreement.client_id, "provider_id": agreement.provider_id, "unit_id": agreement.unit_id,
        "product_id": agreement.product_id, "product_kind": agreement.product_kind, "form": agreement.form,
        "start": agreement.start_date, "end": agreement.end_date,
        "periods": [PeriodFacts(period_id=p.id, seq=p.seq, start=p.start, end=p.end, goals=p.goals,
                                evaluation_due=p.evaluation_due, schedule_from=p.schedule_from,
                                earlier_schedules=[ScheduleSpan(**s) for s in (p.earlier_schedules or [])],
                                schedule=[ScheduleDayFacts(**d) for d in p.schedule]) for p in periods],
        "values": FrozenValues(price_version=agreement.price_version or 0,
                               day_value_first_year_cents=agreement.day_value_first_year_cents,
                               base_day_value_cents=agreement.base_day_value_cents,
                               hour_value_cents=agreement.hour_value_cents),
        "base_value_from": agreement.base_value_from,
        "client_first_service_day": first_day,
        "approved_hours": voucher.approved_hours if voucher else None,  # VOU-7
        "previous_agreement_id": agreement.previous_agreement_id,
    }


# --- the read use cases of the HTTP layer (routers run no queries, issue 12 item 10) -------------

async def approved_hours(session: AsyncSession, voucher_ids: set[uuid.UUID]) -> dict[uuid.UUID, int | None]:
    """The approved hours of each voucher (DEC-5), for the agreements' responses: one query."""
    if not voucher_ids:
        return {}
    rows = (await session.execute(select(Voucher).where(Voucher.id.in_(voucher_ids)))).scalars()
    return {v.id: v.approved_hours for v in rows}


async def list_agreements(session: AsyncSession, principal: Principal, page: PageRequest, *, client_id: uuid.UUID | None,
                          voucher_id: uuid.UUID | None, state: str | None) -> tuple[list[Agreement], str | None]:
    """One page of the agreements the caller may see (DATA-3 in the query, DATA-2 after it), audited."""
    query = select(Agreement).where(visible_to(principal))
    if client_id:
        query = query.where(Agreement.client_id == client_id)
    if voucher_id:
        query = query.where(Agreement.voucher_id == voucher_id)
    if state:
        query = query.where(Agreement.state == state)
    rows, cursor = await paginate(session, query, (Agreement.created_at, Agreement.id), page)
    rows = [a for a in rows if provider_may_still_see(a, principal, _today(session))]
    await audit(session, principal, "agreement.list", "agreement", None, client_ids={a.client_id for a in rows})
    return rows, cursor


async def read_agreement(session: AsyncSession, agreement_id: uuid.UUID, principal: Principal) -> Agreement:
    agreement = await get_agreement(session, agreement_id, principal)
    await audit(session, principal, "agreement.read", "agreement", agreement.id, client_ids=[agreement.client_id])
    return agreement


async def agreements_of_client(session: AsyncSession, client_id: uuid.UUID, actor: str) -> list[Agreement]:
    """Every agreement of the client of a voucher link (VOU-2, VOU-9), oldest first, audited."""
    rows = list((await session.execute(select(Agreement).where(Agreement.client_id == client_id)
                                       .order_by(Agreement.created_at))).scalars())
    await audit(session, actor, "agreement.list", "agreement", None, client_ids=[client_id])
    return rows


async def notifications_of(session: AsyncSession, agreement_id: uuid.UUID, principal: Principal) -> list[AgreementNotification]:
    """AGR-5, AGR-13: the copies and notices sent on an agreement the caller may see."""
    agreement = await get_agreement(session, agreement_id, principal)
    return list((await session.execute(select(AgreementNotification).where(AgreementNotification.agreement_id == agreement.id)
                                       .order_by(AgreementNotification.created_at))).scalars())


async def list_refusals(session: AsyncSession, principal: Principal, page: PageRequest, *,
                        client_id: uuid.UUID | None) -> tuple[list[ProviderRefusal], str | None]:
    """AGR-15: newest first; a provider its own rows only, filtered in the query (DATA-3)."""
    query = scope_rows(select(ProviderRefusal), principal, provider_column=ProviderRefusal.provider_id)
    if client_id:
        query = query.where(ProviderRefusal.client_id == client_id)
    return await paginate(session, query, (ProviderRefusal.created_at, ProviderRefusal.id), page, descending=True)


async def list_deadlines(session: AsyncSession, principal: Principal, *, client_id: uuid.UUID | None,
                         office: str | None) -> list[dict[str, Any]]:
    """Every open deadline of a client or an office's clients (VOU-3, AGR-3, REP-3, REP-4), audited."""
    from ktt_voucher.agreements.jobs import deadlines  # jobs reads through this module

    rows = await deadlines(session, client_id=client_id, office=office, today=_today(session))
    await audit(session, principal, "deadlines.list", "client", client_id, client_ids={r["client_id"] for r in rows})
    return rows
