"""Reconciliation endpoint: paid days against realised days per agreement and month."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Forbidden

from ktt_billing.corrections.reconciliation import reconcile
from ktt_billing.policy import authorize
from ktt_billing.settlements.rules import MONTH_RE

router = APIRouter(prefix="/v1", tags=["reconciliation"], responses={**PROBLEM_RESPONSES})


class ReconciliationRow(BaseModel):
    provider_id: str
    agreement_id: uuid.UUID
    client_id: uuid.UUID
    month: str
    realised_days: int
    paid_days: int
    difference: int
    cause: str | None


@router.get("/reconciliation", response_model=list[ReconciliationRow],
            summary="Per agreement: days paid in frozen settlements against realised days, differences with cause")
async def reconciliation(session: SessionDep, principal: Principal = authorize("corrections.reconciliation"),
                         month: str = Query(pattern=MONTH_RE.pattern, description="YYYY-MM"),
                         provider_id: str | None = Query(None, max_length=100)) -> list[dict[str, Any]]:
    if principal.role is Role.PROVIDER:
        if provider_id and provider_id != principal.provider_id:
            raise Forbidden("a provider reconciles only its own settlements (DATA-3)", rule="DATA-3")
        provider_id = principal.provider_id
    rows = await reconcile(session, month, provider_id)
    await audit(session, principal, "reconciliation.read", "month", month, details={"provider_id": provider_id,
                                                                                    "at": dt.date.today().isoformat()})
    return rows
