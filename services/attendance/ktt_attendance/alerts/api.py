"""Alerts for officials (ATT-4, ATT-5, ATT-13, AGR-9) and the provider's situation reports (ATT-13)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query, Response, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_attendance.alerts import service
from ktt_attendance.alerts.schemas import AlertOut, AlertPage, CloseIn, SituationIn
from ktt_attendance.policy import authorize

router = APIRouter(prefix="/v1", tags=["alerts"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})

Kind = Literal["NoShowThresholdReached", "LongSickLeave", "RepeatedAbsences", "ContinuityBroken", "SituationChanged"]


@router.get("/alerts", response_model=AlertPage, summary="Alerts with the client, provider, rule and since when")
async def list_alerts(
    session: SessionDep, principal: Principal = authorize("alerts.list_alerts"),
    status_filter: Literal["open", "acknowledged", "closed"] | None = Query(None, alias="status"),
    kind: Kind | None = None, client_id: uuid.UUID | None = None, provider_id: str | None = Query(None, max_length=100),
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=1_000_000),
) -> AlertPage:
    """Newest first. A provider sees the alerts of its own agreements only (DATA-3)."""
    rows, total = await service.list_alerts(session, principal, status=status_filter, kind=kind, client_id=client_id,
                                            provider_id=provider_id, limit=limit, offset=offset)
    return AlertPage(items=[AlertOut.model_validate(a) for a in rows], total=total, limit=limit, offset=offset)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut, summary="An official has seen the alert",
             responses={409: {"model": Problem}})
async def acknowledge(alert_id: uuid.UUID, session: SessionDep,
                      principal: Principal = authorize("alerts.acknowledge")) -> AlertOut:
    return AlertOut.model_validate(await service.move(session, principal, alert_id, "acknowledged"))


@router.post("/alerts/{alert_id}/close", response_model=AlertOut, summary="Close the alert, with what was done",
             responses={409: {"model": Problem}})
async def close(alert_id: uuid.UUID, body: CloseIn, session: SessionDep,
                principal: Principal = authorize("alerts.close")) -> AlertOut:
    return AlertOut.model_validate(await service.move(session, principal, alert_id, "closed", body.note))


@router.post("/agreements/{agreement_id}/situation-changes", response_model=AlertOut, status_code=status.HTTP_201_CREATED,
             summary="Report a substantial change in the client's situation (ATT-13)")
async def situation_changed(agreement_id: uuid.UUID, body: SituationIn, session: SessionDep, response: Response,
                            principal: Principal = authorize("alerts.situation_changed")) -> AlertOut:
    """Raises SituationChanged for the city; the same report again answers 200 with the same alert."""
    alert, created = await service.report_situation(session, principal, agreement_id, body.occurred_on, body.summary)
    if not created:
        response.status_code = status.HTTP_200_OK
    return AlertOut.model_validate(alert)
