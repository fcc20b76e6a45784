"""Payment batch endpoints (city official): create from approved settlements, read, pain.001, ledger CSV, mark paid."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from ktt_common.auth import Principal, Role
from ktt_common.bounds import BoundedDate
from ktt_common.deps import RuntimeDep, SessionDep
from ktt_common.errors import PROBLEM_RESPONSES
from ktt_common.settings import settings_as

from ktt_billing.payments import service
from ktt_billing.payments.models import PaymentBatch, PaymentItem
from ktt_billing.policy import authorize
from ktt_billing.settings import BillingSettings

router = APIRouter(prefix="/v1/payment-batches", tags=["payments"], responses={**PROBLEM_RESPONSES})
OFFICIAL = (Role.CITY_OFFICIAL,)


class BatchIn(BaseModel):
    settlement_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000)
    execution_date: BoundedDate | None = Field(None, description="Requested execution date (default today)")


class ItemOut(BaseModel):
    settlement_id: uuid.UUID
    provider_id: str
    provider_name: str
    supplier_number: str
    business_id: str
    iban: str
    reference: str
    amount_cents: int
    due_date: dt.date
    month: str


class BatchOut(BaseModel):
    id: uuid.UUID
    number: int
    state: str
    created_on: dt.date
    execution_date: dt.date
    total_cents: int
    paid_on: dt.date | None
    items: list[ItemOut]
    held: list[dict[str, Any]]


def out(batch: PaymentBatch, items: Sequence[PaymentItem]) -> BatchOut:
    return BatchOut(id=batch.id, number=batch.number, state=batch.state, created_on=batch.created_on,
                    execution_date=batch.execution_date, total_cents=batch.total_cents, paid_on=batch.paid_on,
                    held=batch.held or [], items=[ItemOut.model_validate(i, from_attributes=True) for i in items])


@router.post("", response_model=BatchOut, status_code=201, summary="Make a payment batch of approved settlements",
             responses={404: {"description": "Unknown settlement"}, 409: {"description": "Not approved, or nothing payable"}})
async def create(body: BatchIn, session: SessionDep, rt: RuntimeDep,
                 principal: Principal = authorize("payments.create")) -> BatchOut:
    today = rt.clock.today()
    batch = await service.create_batch(session, body.settlement_ids, body.execution_date or today, principal, today)
    return out(*await service.get(session, batch.id))


@router.get("/{batch_id}", response_model=BatchOut, summary="A payment batch with its items and held settlements")
async def read(batch_id: uuid.UUID, session: SessionDep, principal: Principal = authorize("payments.read")) -> BatchOut:
    return out(*await service.get(session, batch_id))


@router.get("/{batch_id}/pain001", summary="The batch as an ISO 20022 pain.001.001.03 file",
            response_class=Response, responses={200: {"content": {"application/xml": {}}}})
async def pain001(batch_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                  principal: Principal = authorize('payments.pain001')) -> Response:
    batch, items = await service.get(session, batch_id)
    return Response(service.pain001(settings_as(rt.settings, BillingSettings), batch, items), media_type="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="ktt-batch-{batch.number}.xml"'})


@router.get("/{batch_id}/ledger.csv", summary="The batch as a purchase-ledger CSV",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def ledger(batch_id: uuid.UUID, session: SessionDep, principal: Principal = authorize("payments.ledger")) -> Response:
    batch, items = await service.get(session, batch_id)
    return Response(service.ledger_csv(items), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="ktt-batch-{batch.number}.csv"'})


@router.post("/{batch_id}/mark-paid", response_model=BatchOut, summary="The bank paid the batch: its settlements are paid",
             responses={404: {"description": "No such batch"}, 409: {"description": "Already paid"}})
async def mark_paid(batch_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                    principal: Principal = authorize("payments.mark_paid")) -> BatchOut:
    batch = await service.mark_paid(session, batch_id, principal, rt.clock.today())
    return out(*await service.get(session, batch.id))
