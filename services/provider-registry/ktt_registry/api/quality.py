"""Quality follow-up: spot checks, visits, client panels, self-monitoring plans and annual reports
(QUA-2), and the quality figures of a provider (QUA-1, QUA-2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from ktt_common.auth import Principal
from ktt_common.bounds import BoundedDate
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_registry.models import QualityRecord
from ktt_registry.policy import authorize
from ktt_registry.schemas_quality import QualityOut, QualityRecordIn, QualityRecordKind, QualityRecordOut
from ktt_registry.service import quality as svc

router = APIRouter(prefix="/v1", tags=["quality"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})



@router.post("/providers/{provider_id}/quality-records", response_model=QualityRecordOut, status_code=status.HTTP_201_CREATED,
             summary="Record a spot check, visit or client panel (city official), or a self-monitoring plan or annual report "
                     "received (city official, or the provider handing it in; QUA-2)",
             responses={409: {"model": Problem, "description": "That year's annual report was received already"}})
async def record(provider_id: str, body: QualityRecordIn, session: SessionDep,
                 principal: Principal = authorize("quality.record")) -> QualityRecord:
    return await svc.record(session, provider_id, body, principal)


@router.get("/providers/{provider_id}/quality-records", response_model=list[QualityRecordOut],
            summary="A provider's quality records, oldest first (QUA-2)")
async def list_records(provider_id: str, session: SessionDep, principal: Principal = authorize("quality.list_records"),
                       kind: QualityRecordKind | None = None) -> list[QualityRecord]:
    return await svc.list_records(session, provider_id, principal, kind)


@router.get("/providers/{provider_id}/quality", response_model=QualityOut,
            summary="Quality figures of a provider over a period (city official; QUA-1, QUA-2)")
async def quality(provider_id: str, session: SessionDep,
                  period_from: Annotated[BoundedDate, Query(alias="from")],
                  period_to: Annotated[BoundedDate, Query(alias="to")],
                      principal: Principal = authorize("quality.quality")) -> QualityOut:
    return await svc.quality(session, provider_id, period_from, period_to, principal)
