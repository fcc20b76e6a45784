"""HTTP layer of agreements: parse, authorise, call the use case, shape the reply."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from ktt_common.audit import audit
from ktt_common.auth import OFFICIALS, Principal, Role, require
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, InvalidInput, Problem

from ktt_voucher import agreement_service as service
from ktt_voucher.agreement_models import Agreement, AgreementNotification, ProviderRefusal
from ktt_voucher.agreement_schemas import (
    AgreementDraftIn, AgreementOut, ContinuationIn, DeadlineOut, EndIn, OverrideIn, PeriodOut, RefusalIn, SignatureIn,
)

router = APIRouter(prefix="/v1", tags=["agreements"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}, 409: {"model": Problem}})

providers = require(Role.PROVIDER)
officials = require(*OFFICIALS)
readers = require(*OFFICIALS, Role.PROVIDER, Role.CLIENT, Role.INTEGRATOR, Role.ADMIN)
signers = require(Role.PROVIDER, Role.CLIENT)
enders = require(Role.PROVIDER, *OFFICIALS)


async def _out_many(session, agreements: list[Agreement]) -> list[AgreementOut]:  # type: ignore[no-untyped-def]
    """Responses with periods and the DATA-1 plan flag: two queries however many agreements."""
    periods = await service.periods_by_agreement(session, [a.id for a in agreements])
    visible = await service.plan_visible_pairs(session, [(a.client_id, a.provider_id) for a in agreements],
                                               service._today(session))
    out = []
    for agreement in agreements:
        item = AgreementOut.model_validate(agreement)
        item.periods = [PeriodOut.model_validate(p) for p in periods[agreement.id]]
        item.plan_visible = (agreement.client_id, agreement.provider_id) in visible
        out.append(item)
    return out


async def _out(session, agreement: Agreement) -> AgreementOut:  # type: ignore[no-untyped-def]
    return (await _out_many(session, [agreement]))[0]


@router.post("/agreements", response_model=AgreementOut, status_code=status.HTTP_201_CREATED,
             summary="A provider drafts an agreement on a voucher number (AGR-7: every item, all missing ones listed at once)")
async def draft(body: AgreementDraftIn, session: SessionDep, principal: Principal = providers) -> AgreementOut:
    return await _out(session, await service.draft_agreement(session, body, principal))


@router.get("/agreements", response_model=list[AgreementOut], summary="Agreements of a client or voucher (a provider sees its own only)")
async def list_agreements(session: SessionDep, principal: Principal = readers, client_id: uuid.UUID | None = None,
                          voucher_id: uuid.UUID | None = None, state: str | None = None) -> list[AgreementOut]:
    query = select(Agreement).where(service.visible_to(principal)).order_by(Agreement.created_at)
    if client_id:
        query = query.where(Agreement.client_id == client_id)
    if voucher_id:
        query = query.where(Agreement.voucher_id == voucher_id)
    if state:
        query = query.where(Agreement.state == state)
    if not (client_id or voucher_id) and principal.role not in (Role.PROVIDER, Role.CLIENT):
        query = query.limit(200)
    rows = list((await session.execute(query)).scalars())
    await audit(session, principal, "agreement.list", "agreement", None, client_ids={a.client_id for a in rows})
    return await _out_many(session, rows)


@router.get("/agreements/{agreement_id}", response_model=AgreementOut, summary="One agreement")
async def get(agreement_id: uuid.UUID, session: SessionDep, principal: Principal = readers) -> AgreementOut:
    agreement = await service.get_agreement(session, agreement_id, principal)
    await audit(session, principal, "agreement.read", "agreement", agreement.id, client_ids=[agreement.client_id])
    return await _out(session, agreement)


@router.post("/agreements/{agreement_id}/signatures", response_model=AgreementOut,
             summary="Record a signature (responsible person or client); both signed -> signed, values frozen (AGR-1, AGR-3)")
async def sign(agreement_id: uuid.UUID, body: SignatureIn, session: SessionDep, principal: Principal = signers) -> AgreementOut:
    return await _out(session, await service.sign(session, agreement_id, body, principal))


@router.post("/agreements/{agreement_id}/start-override", response_model=AgreementOut,
             summary="An official accepts a start later than 14 days after the decision, with a reason (VOU-3)")
async def start_override(agreement_id: uuid.UUID, body: OverrideIn, session: SessionDep, principal: Principal = officials) -> AgreementOut:
    return await _out(session, await service.override_start(session, agreement_id, body.reason, principal))


@router.post("/agreements/{agreement_id}/continuations", response_model=AgreementOut,
             summary="Agree the next period's days, hours and goals (AGR-10, AGR-11, DEC-4)")
async def continuation(agreement_id: uuid.UUID, body: ContinuationIn, session: SessionDep, principal: Principal = providers) -> AgreementOut:
    return await _out(session, await service.add_continuation(session, agreement_id, body, principal))


@router.post("/agreements/{agreement_id}/end", response_model=AgreementOut,
             summary="End an agreement early with its reason; Typake is told (AGR-13)")
async def end(agreement_id: uuid.UUID, body: EndIn, session: SessionDep, principal: Principal = enders) -> AgreementOut:
    return await _out(session, await service.end_by_request(session, agreement_id, body, principal))


@router.get("/agreements/{agreement_id}/notifications", summary="Copies and notices sent on an agreement (AGR-5, AGR-13)")
async def notifications(agreement_id: uuid.UUID, session: SessionDep, principal: Principal = readers) -> list[dict]:
    agreement = await service.get_agreement(session, agreement_id, principal)
    rows = (await session.execute(select(AgreementNotification).where(AgreementNotification.agreement_id == agreement.id)
                                  .order_by(AgreementNotification.created_at))).scalars()
    return [{"recipient": n.recipient, "kind": n.kind, "message": n.message, "created_at": n.created_at} for n in rows]


@router.post("/provider-refusals", status_code=status.HTTP_201_CREATED,
             summary="A provider refuses a client with a justified reason that Typake sees (AGR-15)")
async def refuse(body: RefusalIn, session: SessionDep, principal: Principal = providers) -> dict:
    refusal = await service.refuse_client(session, body, principal)
    return {"id": refusal.id, "voucher_id": refusal.voucher_id, "client_id": refusal.client_id,
            "provider_id": refusal.provider_id, "reason": refusal.reason, "refused_on": refusal.refused_on}


@router.get("/provider-refusals", summary="Refusals of clients by providers (officials see all, a provider its own)")
async def refusals(session: SessionDep, principal: Principal = require(*OFFICIALS, Role.PROVIDER),
                   client_id: uuid.UUID | None = None) -> list[dict]:
    query = select(ProviderRefusal).order_by(ProviderRefusal.created_at.desc())
    if principal.role is Role.PROVIDER:
        query = query.where(ProviderRefusal.provider_id == principal.provider_id)
    if client_id:
        query = query.where(ProviderRefusal.client_id == client_id)
    return [{"id": r.id, "voucher_id": r.voucher_id, "client_id": r.client_id, "provider_id": r.provider_id,
             "unit_id": r.unit_id, "reason": r.reason, "refused_on": r.refused_on} for r in (await session.execute(query)).scalars()]


@router.get("/deadlines", response_model=list[DeadlineOut],
            summary="Every open deadline of a client or of a case-worker office's clients, overdue first (VOU-3, AGR-3, REP-3, REP-4)")
async def list_deadlines(session: SessionDep, principal: Principal = officials, client_id: uuid.UUID | None = None,
                         office: Literal["typake", "social_work"] | None = Query(None)) -> list[dict]:
    if client_id is None and office is None:
        raise InvalidInput("give client_id or office", errors=[])
    rows = await service.deadlines(session, client_id=client_id, office=office, today=service._today(session))
    await audit(session, principal, "deadlines.list", "client", client_id, client_ids={r["client_id"] for r in rows})
    return rows
