"""Dispute endpoints: a provider disputes a line of its own settlement; a city official resolves it."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from ktt_common.auth import Principal
from ktt_common.deps import RuntimeDep, SessionDep
from ktt_common.errors import PROBLEM_RESPONSES
from ktt_common.pagination import PageDep, announce_next, paginate

from ktt_billing.access import provider_scope
from ktt_billing.disputes import service
from ktt_billing.disputes.models import Dispute
from ktt_billing.disputes.schemas import DisputeIn, DisputeOut, ResolveIn
from ktt_billing.policy import authorize
from ktt_billing.settlements.rules import quantity

router = APIRouter(prefix="/v1", tags=["disputes"], responses={**PROBLEM_RESPONSES})


def out(d: Dispute) -> DisputeOut:
    return DisputeOut(id=d.id, settlement_id=d.settlement_id, line_id=d.line_id, provider_id=d.provider_id, reason=d.reason,
                      claimed_quantity=None if d.claimed_quantity_centi is None else quantity(d.claimed_quantity_centi),
                      state=d.state, opened_on=d.opened_on, answer=d.answer,
                      corrected_quantity=None if d.corrected_quantity_centi is None else quantity(d.corrected_quantity_centi),
                      resolved_on=d.resolved_on, correction_settlement_id=d.correction_settlement_id)


@router.post("/settlements/{settlement_id}/lines/{line_id}/disputes", response_model=DisputeOut, status_code=201,
             summary="Dispute a line of your own settlement (provider)",
             responses={404: {"description": "No such line of yours"}, 409: {"description": "Already disputed"}})
async def open_dispute(settlement_id: uuid.UUID, line_id: uuid.UUID, body: DisputeIn, session: SessionDep,
                       rt: RuntimeDep, principal: Principal = authorize("disputes.open_dispute")) -> DisputeOut:
    return out(await service.open_dispute(session, settlement_id, line_id, body.reason, body.claimed_quantity, principal,
                                          rt.clock.today()))


@router.post("/disputes/{dispute_id}/resolve", response_model=DisputeOut, summary="Accept or reject a dispute (city official)",
             responses={404: {"description": "No such dispute"}, 409: {"description": "Already resolved"}})
async def resolve(dispute_id: uuid.UUID, body: ResolveIn, session: SessionDep, rt: RuntimeDep,
                  principal: Principal = authorize("disputes.resolve")) -> DisputeOut:
    return out(await service.resolve(session, dispute_id, body.outcome, body.answer, body.corrected_quantity, principal,
                                     rt.clock.today()))


@router.get("/disputes", response_model=list[DisputeOut], summary="Disputes (a provider sees its own)")
async def list_disputes(session: SessionDep, page: PageDep, request: Request, response: Response,
                        principal: Principal = authorize("disputes.list_disputes"),
                        provider_id: str | None = Query(None, max_length=100),
                        state: str | None = Query(None, pattern="^(open|accepted|rejected)$")) -> list[DisputeOut]:
    """Oldest first, one page (``limit``, ``cursor``); the next in ``Link`` rel=next / ``X-Next-Cursor``."""
    q = provider_scope(select(Dispute), Dispute.provider_id, principal, provider_id)
    if state:
        q = q.where(Dispute.state == state)
    rows, cursor = await paginate(session, q, (Dispute.opened_on, Dispute.id), page)
    announce_next(request, response, cursor)
    return [out(d) for d in rows]
