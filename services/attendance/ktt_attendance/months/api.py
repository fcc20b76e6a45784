"""Month reporting over HTTP (ATT-10, BIL-2)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Path, Query, Response, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_attendance.months import service
from ktt_attendance.months.schemas import ConfirmIn, MonthReportOut
from ktt_attendance.notices.schemas import GridOut, GridRow
from ktt_attendance.policy import authorize

router = APIRouter(prefix="/v1", tags=["months"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})

MonthPath = Path(max_length=7, description="YYYY-MM")


@router.post("/months/{month}/confirm", response_model=MonthReportOut, status_code=status.HTTP_201_CREATED,
             summary="Confirm a unit's month of realised days (ATT-10, BIL-2)")
async def confirm(body: ConfirmIn, session: SessionDep, response: Response, principal: Principal = authorize("months.confirm"),
                  month: str = MonthPath) -> MonthReportOut:
    """Refused (422 ATT-10, listing them in ``missing``) while scheduled days of the month have no
    entry. Confirmed after the 3rd of the next month, the month is ``late``. Confirming again
    answers 200 with the stored confirmation; later changes are corrections."""
    out, created = await service.confirm_month(session, principal, month, body.unit_id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/month-reports", response_model=list[MonthReportOut],
            summary="Confirmed and late months per unit (officials: all; a provider: its own)")
async def list_month_reports(
    session: SessionDep,
        principal: Principal = authorize("months.list_month_reports"), month: str | None = Query(None, max_length=7),
    status_filter: Literal["confirmed", "late"] | None = Query(None, alias="status"),
    provider_id: str | None = Query(None, max_length=100),
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=1_000_000),
) -> list[MonthReportOut]:
    return await service.list_reports(session, principal, month=month, status=status_filter, provider_id=provider_id,
                                      limit=limit, offset=offset)


@router.get("/units/{unit_id}/months/{month}/grid", response_model=GridOut,
            summary="A unit's month, client x day, with the scheduled days still missing an entry (ATT-10)")
async def month_grid(unit_id: uuid.UUID, session: SessionDep, principal: Principal = authorize("months.month_grid"),
                     month: str = MonthPath) -> GridOut:
    rows = await service.grid(session, principal, unit_id, month)
    return GridOut(unit_id=unit_id, month=month, rows=[GridRow(**r) for r in rows])
