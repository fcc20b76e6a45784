"""Registry alerts for officials: lapsed insurance (PRV-10)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_registry.policy import authorize
from ktt_registry.schemas import AlertOut
from ktt_registry.service import alerts as svc

router = APIRouter(prefix="/v1", tags=["alerts"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})



@router.get("/alerts", response_model=list[AlertOut], summary="Alerts for officials, newest first (e.g. lapsed insurance, PRV-10)")
async def list_alerts(session: SessionDep, principal: Principal = authorize("alerts.list_alerts"),
                      kind: Literal["insurance_lapsed"] | None = None,
                      provider_id: str | None = Query(None, max_length=100),
                      open: bool | None = Query(None, description="true: the condition lasts; false: resolved"),
                      acknowledged: bool | None = None) -> list[AlertOut]:
    return await svc.list_alerts(session, kind=kind, provider_id=provider_id, open_=open, acknowledged=acknowledged)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut, summary="Acknowledge an alert (officials)")
async def acknowledge(alert_id: uuid.UUID, session: SessionDep,
                      principal: Principal = authorize("alerts.acknowledge")) -> AlertOut:
    return await svc.acknowledge(session, alert_id, principal)
