"""The approved list for the TE office (PRV-15), as JSON or CSV."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES

from ktt_registry.policy import authorize
from ktt_registry.schemas_quality import ApprovedProvider
from ktt_registry.service import approved_list as svc
from ktt_registry.service.common import today

router = APIRouter(prefix="/v1", tags=["approved list"], responses={**PROBLEM_RESPONSES})



@router.get("/approved-list", response_model=list[ApprovedProvider],
            summary="Approved providers with units, legal form, business ID and approval dates (PRV-15); "
                    "CSV with Accept: text/csv or ?format=csv",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
async def approved_list(request: Request, session: SessionDep, principal: Principal = authorize("approved_list.approved_list"),
                        fmt: Literal["json", "csv"] | None = Query(None, alias="format", description="csv: one row per unit")) -> object:
    providers = await svc.approved_list(session)
    wants_csv = fmt == "csv" or (fmt is None and "text/csv" in request.headers.get("accept", ""))
    if not wants_csv:
        return providers
    return Response(svc.to_csv(providers), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="approved-list-{today(session).isoformat()}.csv"'})
