"""Alerts for the city (ATT-4, ATT-5, ATT-13, ATT-14, AGR-9): evaluated after each daily-log batch
for the agreements whose absences or closures it changed, raised and published once each (a unique
key per fact), listed for officials, acknowledged and closed."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.db import affected, insert_for
from ktt_common.errors import Conflict, FieldError, NotFound, RuleViolation
from ktt_common.identifiers import contains_hetu
from ktt_common.outbox import emit, runtime_of
from ktt_contracts.attendance import SituationChanged

from ktt_attendance.access import visible_agreement
from ktt_attendance.alerts import evaluation
from ktt_attendance.alerts.models import Alert


class About(Protocol):
    """The agreement an alert is about (a copy, or an evaluation ``Subject``)."""

    @property
    def agreement_id(self) -> uuid.UUID: ...
    @property
    def client_id(self) -> uuid.UUID | None: ...
    @property
    def provider_id(self) -> str | None: ...
    @property
    def unit_id(self) -> uuid.UUID | None: ...


async def _raise(session: AsyncSession, copy: About, *, kind: str, rule: str, since: dt.date, key: str,
                 details: dict[str, Any], event: Any, payload: dict[str, Any]) -> bool:
    """Insert the alert unless its key exists; publish it only when inserted (once)."""
    rt = runtime_of(session)
    alert_id = uuid.uuid4()
    today = rt.clock.today()
    inserted = affected(await session.execute(insert_for(session, Alert).values(
        id=alert_id, key=key, kind=kind, rule=rule, client_id=copy.client_id, agreement_id=copy.agreement_id,
        provider_id=copy.provider_id, unit_id=copy.unit_id, since=since, raised_on=today, details=details, status="open",
        created_at=dt.datetime.now(dt.UTC)).on_conflict_do_nothing(index_elements=["key"])))
    if inserted:
        await emit(session, event, event.payload(
            alert_id=alert_id, client_id=copy.client_id, agreement_id=copy.agreement_id, provider_id=copy.provider_id,
            unit_id=copy.unit_id, rule=rule, since=since, raised_on=today, **payload), subject=str(copy.agreement_id))
    return bool(inserted)


async def raise_due(session: AsyncSession, timelines: Iterable[evaluation.Timeline]) -> int:
    """Raise (once each) every alert the timelines make due; returns how many were new."""
    rt = runtime_of(session)
    today = rt.clock.today()
    raised = 0
    for timeline in timelines:
        for item in evaluation.due(timeline, today, rt.settings):
            raised += await _raise(session, timeline.subject, kind=item.kind, rule=item.rule, since=item.since, key=item.key,
                                   details=item.details, event=item.event, payload=item.payload)
    return raised


async def after_batch(session: AsyncSession, changed: Iterable[tuple[uuid.UUID, dt.date]]) -> int:
    """Evaluate every alert rule for the agreements whose absences or closures changed on
    (agreement, day), over their log read back from the database from ``LOOKBACK_DAYS`` before
    the earliest changed day. (A posted batch gathers the same timelines from what it holds:
    ``log.service``.)"""
    return await raise_due(session, await evaluation.timelines_from_db(session, changed))


async def report_situation(session: AsyncSession, principal: Principal, agreement_id: uuid.UUID, occurred_on: dt.date,
                           summary: str) -> tuple[Alert, bool]:
    """ATT-13: the provider tells the city of a substantial change in the client's situation. The
    same report again (day and words) is the same alert."""
    copy = await visible_agreement(session, principal, agreement_id)
    today = runtime_of(session).clock.today()
    if occurred_on > today:
        raise RuleViolation(f"{occurred_on} is in the future: report a change that has happened", rule="ATT-13",
                            errors=[FieldError(field="body.occurred_on", rule="ATT-13", message="not in the future")])
    if contains_hetu(summary):
        raise RuleViolation("the summary may not hold a personal identity code", rule="DATA-4",
                            errors=[FieldError(field="body.summary", rule="DATA-4", message="remove the personal identity code")])
    digest = hashlib.sha256(summary.strip().encode()).hexdigest()[:32]
    key = f"situation_changed:{copy.agreement_id}:{occurred_on}:{digest}"
    created = await _raise(session, copy, kind="SituationChanged", rule="ATT-13", since=occurred_on, key=key,
                           details={"summary": summary}, event=SituationChanged, payload={"summary": summary})
    alert = (await session.execute(select(Alert).where(Alert.key == key))).scalar_one()
    await audit(session, principal, "alert.situation_changed", "alert", alert.id, client_ids=[copy.client_id])
    return alert, created


async def list_alerts(session: AsyncSession, principal: Principal, *, status: str | None, kind: str | None,
                      client_id: uuid.UUID | None, provider_id: str | None, limit: int, offset: int) -> tuple[list[Alert], int]:
    where: list[Any] = []
    if principal.role is Role.PROVIDER:
        where.append(Alert.provider_id == principal.provider_id)  # DATA-3
    elif provider_id:
        where.append(Alert.provider_id == provider_id)
    if status:
        where.append(Alert.status == status)
    if kind:
        where.append(Alert.kind == kind)
    if client_id:
        where.append(Alert.client_id == client_id)
    total = int((await session.execute(select(func.count()).select_from(Alert).where(*where))).scalar_one())
    rows = list((await session.execute(select(Alert).where(*where).order_by(Alert.raised_on.desc(), Alert.since, Alert.id)
                                       .limit(limit).offset(offset))).scalars())
    await audit(session, principal, "alert.list", "alert", None, client_ids=sorted({str(a.client_id) for a in rows}))
    return rows, total


async def move(session: AsyncSession, principal: Principal, alert_id: uuid.UUID, to: str, note: str | None = None) -> Alert:
    """open -> acknowledged -> closed, or open -> closed; asking for the current state again changes nothing."""
    alert = await session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    if alert.status == to:
        return alert
    allowed = {"open": {"acknowledged", "closed"}, "acknowledged": {"closed"}, "closed": set()}[alert.status]
    if to not in allowed:
        raise Conflict(f"the alert is {alert.status}; it cannot be {to}")
    now = dt.datetime.now(dt.UTC)
    values: dict[str, Any] = {"status": to}
    if to == "acknowledged":
        values |= {"acknowledged_at": now, "acknowledged_by": principal.subject}
    else:
        values |= {"closed_at": now, "closed_by": principal.subject, "close_note": note}
    await session.execute(update(Alert).where(Alert.id == alert.id, Alert.status == alert.status).values(**values))
    await session.refresh(alert)
    await audit(session, principal, f"alert.{to}", "alert", alert.id, client_ids=[alert.client_id], details={"note": note})
    return alert
