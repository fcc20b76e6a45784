"""HTTP layer of the voucher service."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from ktt_common.audit import audit
from ktt_common.auth import OFFICIALS, Principal, Role, require
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, NotFound, Problem

from ktt_voucher.models import Voucher

router = APIRouter(prefix="/v1", tags=["vouchers"], responses={**PROBLEM_RESPONSES})
readers = require(*OFFICIALS, Role.INTEGRATOR, Role.ADMIN)


class VoucherOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    number: str
    decision_id: uuid.UUID
    client_id: uuid.UUID
    type: str
    state: str
    valid_from: dt.date
    valid_to: dt.date
    created_at: dt.datetime


@router.get("/vouchers", response_model=list[VoucherOut], summary="Vouchers of a decision or of a client")
async def list_vouchers(
    session: SessionDep, principal: Principal = readers,
    decision_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None,
) -> list[Voucher]:
    query = select(Voucher).order_by(Voucher.created_at)
    if decision_id is not None:
        query = query.where(Voucher.decision_id == decision_id)
    if client_id is not None:
        query = query.where(Voucher.client_id == client_id)
    if decision_id is None and client_id is None:
        query = query.limit(100)
    rows = list((await session.execute(query)).scalars().all())
    await audit(session, principal, "voucher.list", "voucher", None, client_ids={v.client_id for v in rows})
    return rows


@router.get("/vouchers/{voucher_id}", response_model=VoucherOut, summary="One voucher", responses={404: {"model": Problem}})
async def get_voucher(voucher_id: uuid.UUID, session: SessionDep, principal: Principal = readers) -> Voucher:
    voucher = await session.get(Voucher, voucher_id)
    if voucher is None:
        raise NotFound(f"no voucher {voucher_id}")
    await audit(session, principal, "voucher.read", "voucher", voucher.id, client_ids=[voucher.client_id])
    return voucher
