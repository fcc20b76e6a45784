"""Use cases on clients: who pays the benefit (ATT-6) and the allowance basis per month (DEC-5)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import FieldError, RuleViolation
from ktt_common.identifiers import contains_hetu
from ktt_common.outbox import runtime_of
from ktt_common.settings import settings_as

from ktt_attendance.clients.models import ClientCopy
from ktt_attendance.log.models import LogEntry
from ktt_attendance.months.service import parse_month_or_422
from ktt_attendance.notices import rules
from ktt_attendance.notices.schemas import AllowanceOut, BenefitPayerIn, BenefitPayerOut
from ktt_attendance.settings import AttendanceSettings


async def set_payer(session: AsyncSession, principal: Principal, client_id: uuid.UUID, body: BenefitPayerIn) -> BenefitPayerOut:
    """ATT-6: the client's benefit comes from Kela or from an unemployment fund (the fund gets the TT3)."""
    if body.fund_name and contains_hetu(body.fund_name):
        raise RuleViolation("no personal identity code here", rule="DATA-4",
                            errors=[FieldError(field="body.fund_name", rule="DATA-4", message="remove it")])
    row = await session.get(ClientCopy, client_id, with_for_update=True)
    if row is None:
        row = ClientCopy(client_id=client_id, updated_at=dt.datetime.now(dt.UTC))
        session.add(row)
    row.benefit_payer, row.fund_name = body.payer, body.fund_name if body.payer == "unemployment_fund" else None
    row.updated_at = dt.datetime.now(dt.UTC)
    await audit(session, principal, "client.benefit_payer", "client", client_id, client_ids=[client_id],
                details={"payer": body.payer})
    return BenefitPayerOut(client_id=client_id, benefit_basis=row.benefit_basis, payer=row.payer(), fund_name=row.fund_name)


async def allowances(session: AsyncSession, principal: Principal, month: str, client_id: uuid.UUID | None) -> list[AllowanceOut]:
    """DEC-5: per client, the attended days of the month on which the expense allowance
    (unemployment benefit) or activity allowance (social assistance) is paid, at the configured
    rate. Absences and days without service earn nothing; the client is never charged (BIL-4)."""
    first, last = parse_month_or_422(month)
    rate = settings_as(runtime_of(session).settings, AttendanceSettings).allowance_day_rate_cents
    query = select(LogEntry.client_id, LogEntry.date).where(LogEntry.realised.is_(True), LogEntry.date >= first,
                                                            LogEntry.date <= last)
    if client_id is not None:
        query = query.where(LogEntry.client_id == client_id)
    attended: dict[uuid.UUID, set[dt.date]] = defaultdict(set)
    for cid, day in (await session.execute(query)).all():
        attended[cid].add(day)
    if client_id is not None:
        attended.setdefault(client_id, set())
    copies = {c.client_id: c for c in (await session.execute(
        select(ClientCopy).where(ClientCopy.client_id.in_(sorted(attended))))).scalars()} if attended else {}
    out = []
    for cid in sorted(attended):
        basis = copies[cid].benefit_basis if cid in copies else None
        kind = rules.allowance_kind(basis)
        days = sorted(attended[cid])
        out.append(AllowanceOut(client_id=cid, month=month, benefit_basis=basis, allowance=kind, attended_days=days,
                                day_rate_cents=rate, amount_cents=len(days) * rate if kind else 0))
    await audit(session, principal, "allowance.read", "client", client_id, client_ids=[str(c) for c in sorted(attended)],
                details={"month": month})
    return out
