"""Registry alerts for officials (PRV-10: a lapsed insurance): listed, and acknowledged once seen."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import NotFound

from ktt_registry.models import Provider, RegistryAlert
from ktt_registry.schemas import AlertOut
from ktt_registry.service.common import today


def alert_out(alert: RegistryAlert, provider_name: str) -> AlertOut:
    return AlertOut(id=alert.id, kind=alert.kind, provider_id=alert.provider_id, provider_name=provider_name, rule=alert.rule,
                    since=alert.since, message=alert.message, open=bool(alert.open), resolved_on=alert.resolved_on,
                    acknowledged=alert.acknowledged, acknowledged_by=alert.acknowledged_by, acknowledged_on=alert.acknowledged_on)


async def list_alerts(session: AsyncSession, *, kind: str | None, provider_id: str | None, open_: bool | None,
                      acknowledged: bool | None) -> list[AlertOut]:
    """Newest first; filters are applied in the query."""
    query = (select(RegistryAlert, Provider.name).join(Provider, Provider.id == RegistryAlert.provider_id)
             .order_by(RegistryAlert.since.desc(), RegistryAlert.created_at.desc()))
    if kind is not None:
        query = query.where(RegistryAlert.kind == kind)
    if provider_id is not None:
        query = query.where(RegistryAlert.provider_id == provider_id)
    if open_ is not None:
        query = query.where(RegistryAlert.open.is_(True) if open_ else RegistryAlert.open.is_(None))
    if acknowledged is not None:
        query = query.where(RegistryAlert.acknowledged.is_(acknowledged))
    return [alert_out(a, name) for a, name in (await session.execute(query)).all()]


async def acknowledge(session: AsyncSession, alert_id: uuid.UUID, principal: Principal) -> AlertOut:
    """An official has seen the alert; acknowledging again changes nothing."""
    alert = await session.get(RegistryAlert, alert_id, with_for_update=True)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    if not alert.acknowledged:
        alert.acknowledged, alert.acknowledged_by, alert.acknowledged_on = True, principal.subject, today(session)
        await audit(session, principal, "alert.acknowledge", "provider", alert.provider_id, details={"alert_id": str(alert.id)})
    provider = await session.get(Provider, alert.provider_id)
    return alert_out(alert, provider.name if provider else "")
