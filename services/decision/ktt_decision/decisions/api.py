"""HTTP layer of the decision service: parse, authorise, call the use case, shape the reply."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Forbidden, Problem
from ktt_common.pagination import PageDep, announce_next

from ktt_decision import clients, service
from ktt_decision.models import Consent, Decision, Representative
from ktt_decision.policy import authorize
from ktt_decision.schemas import (
    ClientFlagOut,
    ConsentCheckOut,
    ConsentIn,
    ConsentOut,
    ConsentScope,
    ConsentWithdrawIn,
    DecisionDetailOut,
    DecisionIn,
    RepresentativeIn,
    RepresentativeOut,
    RepresentativeWithdrawIn,
    RevokeIn,
    StartNoticeDetailOut,
    StartNoticeOut,
)

router = APIRouter(prefix="/v1", tags=["decisions"], responses={**PROBLEM_RESPONSES})



@router.post(
    "/decisions", response_model=DecisionDetailOut, status_code=status.HTTP_201_CREATED,
    summary="Push a decision (idempotent on source_system, source_id, version; a higher version amends it)",
    responses={200: {"model": DecisionDetailOut, "description": "The same version again (nothing published), "
                                                                "or a higher version that amended the decision (DEC-7)"},
               409: {"model": Problem, "description": "A lower version, the same version with other content, "
                                                     "another person's hetu, or a revoked decision"}},
)
async def push_decision(body: DecisionIn, session: SessionDep, response: Response,
                        principal: Principal = authorize("decision.push_decision")) -> Decision:
    result = await service.push_decision(session, body, principal)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/decisions/{result.decision.id}"
    return result.decision


@router.post("/decisions/{decision_id}/revoke", response_model=DecisionDetailOut,
             summary="Revoke a decision (DEC-7); revoking again changes nothing", responses={404: {"model": Problem}})
async def revoke_decision(decision_id: uuid.UUID, body: RevokeIn, session: SessionDep,
                          principal: Principal = authorize("decision.revoke_decision")) -> Decision:
    return await service.revoke_decision(session, decision_id, body.reason, body.revoked_on, principal)


@router.get("/decisions/{decision_id}", response_model=DecisionDetailOut, summary="One decision",
            responses={404: {"model": Problem}})
async def get_decision(decision_id: uuid.UUID, session: SessionDep,
                       principal: Principal = authorize("decision.get_decision")) -> Decision:
    return await service.get_decision(session, decision_id, principal)


@router.get("/decisions", response_model=list[DecisionDetailOut], summary="Decisions of a client")
async def list_decisions(client_id: uuid.UUID, session: SessionDep,
                         principal: Principal = authorize("decision.list_decisions")) -> list[Decision]:
    rows = (await session.execute(
        select(Decision).where(Decision.client_id == client_id).order_by(Decision.created_at)
    )).scalars().all()
    await audit(session, principal, "decision.list", "client", client_id, client_ids=[client_id])
    return list(rows)


class LookupIn(BaseModel):
    hetu: str = Field(min_length=1, max_length=20, description="Personal identity code: in the body, never in a URL (DATA-4)")


class LookupOut(BaseModel):
    client_id: uuid.UUID


@router.post("/clients/lookup", response_model=LookupOut, summary="Find a client's pseudonymous id by hetu",
             responses={404: {"model": Problem}})
async def lookup_client(body: LookupIn, session: SessionDep,
                        principal: Principal = authorize("decision.lookup_client")) -> LookupOut:
    client = await service.lookup_client(session, body.hetu, principal)
    return LookupOut(client_id=client.id)


# --- consent (DATA-1) -------------------------------------------------------------------------

def _consent_out(consent: Consent, request: Request) -> ConsentOut:
    """``active``: the consent holds today for its scope (given, not expired, not withdrawn)."""
    today = request.app.state.runtime.clock.today()
    out = ConsentOut.model_validate(consent)
    out.active = any(clients.consent_is_active(consent, today, s) for s in consent.scope)
    return out


@router.post("/clients/{client_id}/consents", response_model=ConsentOut, status_code=status.HTTP_201_CREATED,
             tags=["consents"], summary="Record the client's written consent to share data with a provider (DATA-1)",
             responses={200: {"model": ConsentOut, "description": "The same consent recorded already; nothing published"},
                        404: {"model": Problem}})
async def record_consent(client_id: uuid.UUID, body: ConsentIn, session: SessionDep, request: Request, response: Response,
                         principal: Principal = authorize("decision.record_consent")) -> ConsentOut:
    consent, created = await clients.record_consent(session, client_id, body, principal)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _consent_out(consent, request)


@router.post("/clients/{client_id}/consents/{consent_id}/withdraw", response_model=ConsentOut, tags=["consents"],
             summary="The client withdraws a consent (DATA-1); withdrawing again changes nothing",
             responses={404: {"model": Problem}})
async def withdraw_consent(client_id: uuid.UUID, consent_id: uuid.UUID, session: SessionDep, request: Request,
                           body: ConsentWithdrawIn | None = None,
                               principal: Principal = authorize("decision.withdraw_consent")) -> ConsentOut:
    consent = await clients.withdraw_consent(session, client_id, consent_id, body.withdrawn_on if body else None, principal)
    return _consent_out(consent, request)


@router.get("/clients/{client_id}/consents", response_model=list[ConsentOut], tags=["consents"],
            summary="The client's consents, newest first", responses={404: {"model": Problem}})
async def list_consents(client_id: uuid.UUID, session: SessionDep, request: Request,
                        principal: Principal = authorize("decision.list_consents")) -> list[ConsentOut]:
    return [_consent_out(c, request) for c in await clients.list_consents(session, client_id, principal)]


@router.get("/clients/{client_id}/consents/check", response_model=ConsentCheckOut, tags=["consents"],
            summary="May this provider see the client's data of this scope today? (DATA-1; a provider asks only about itself)")
async def check_consent(client_id: uuid.UUID, provider_id: str, session: SessionDep, scope: ConsentScope = "plan",
                        principal: Principal = authorize("decision.check_consent")) -> ConsentCheckOut:
    if principal.role is Role.PROVIDER and principal.provider_id != provider_id:
        raise Forbidden("a provider may check only its own consents (DATA-3)", rule="DATA-3")
    consent = await clients.check_consent(session, client_id, provider_id, scope, principal)
    return ConsentCheckOut(client_id=client_id, provider_id=provider_id, scope=scope, allowed=consent is not None,
                           consent_id=consent.id if consent else None, valid_until=consent.valid_until if consent else None)


class PlanOut(BaseModel):
    decision_id: uuid.UUID
    plan: dict | None
    period_start: dt.date
    period_end: dt.date
    form: str
    voucher_kind: str


@router.get("/clients/{client_id}/plan", response_model=list[PlanOut], tags=["consents"],
            summary="The plan behind each active decision: officials, and a provider only with the client's consent (DATA-1)",
            responses={403: {"model": Problem, "description": "No recorded consent for this provider (DATA-1)"}})
async def get_plan(client_id: uuid.UUID, session: SessionDep,
                   principal: Principal = authorize("decision.get_plan")) -> list[PlanOut]:
    return [PlanOut(decision_id=d.id, plan=d.plan, period_start=d.period_start, period_end=d.period_end, form=d.form,
                    voucher_kind=d.voucher_kind) for d in await clients.plan_data(session, client_id, principal)]


# --- representatives (VOU-9) -------------------------------------------------------------------

def _representative_out(rep: Representative, request: Request) -> RepresentativeOut:
    """``active``: the representative acts for the client today (authorised, not expired, not withdrawn)."""
    out = RepresentativeOut.model_validate(rep)
    out.active = clients.representative_is_active(rep, request.app.state.runtime.clock.today())
    return out


@router.post("/clients/{client_id}/representatives", response_model=RepresentativeOut,
             status_code=status.HTTP_201_CREATED, tags=["representatives"],
             summary="Record a representative (asiainhoitaja) the client authorised to act for them (VOU-9)",
             responses={200: {"model": RepresentativeOut, "description": "The same authorisation recorded already; "
                                                                         "nothing published"},
                        404: {"model": Problem},
                        409: {"model": Problem, "description": "The same person and day recorded with other details"}})
async def record_representative(client_id: uuid.UUID, body: RepresentativeIn, session: SessionDep, request: Request,
                                response: Response,
                                    principal: Principal = authorize("decision.record_representative")) -> RepresentativeOut:
    rep, created = await clients.record_representative(session, client_id, body, principal)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _representative_out(rep, request)


@router.post("/clients/{client_id}/representatives/{representative_id}/withdraw", response_model=RepresentativeOut,
             tags=["representatives"],
             summary="The client withdraws a representative's authorisation (VOU-9); withdrawing again changes nothing",
             responses={404: {"model": Problem}})
async def withdraw_representative(client_id: uuid.UUID, representative_id: uuid.UUID, session: SessionDep,
                                  request: Request, body: RepresentativeWithdrawIn | None = None,
                                  principal: Principal = authorize("decision.withdraw_representative")) -> RepresentativeOut:
    rep = await clients.withdraw_representative(session, client_id, representative_id,
                                                body.withdrawn_on if body else None, principal)
    return _representative_out(rep, request)


@router.get("/clients/{client_id}/representatives", response_model=list[RepresentativeOut], tags=["representatives"],
            summary="The client's representatives, newest authorisation first (VOU-9)", responses={404: {"model": Problem}})
async def list_representatives(client_id: uuid.UUID, session: SessionDep, request: Request,
                               principal: Principal = authorize("decision.list_representatives")) -> list[RepresentativeOut]:
    return [_representative_out(r, request) for r in await clients.list_representatives(session, client_id, principal)]


# --- TE-office start notices (DEC-6) -----------------------------------------------------------

@router.get("/start-notices", response_model=list[StartNoticeOut], tags=["start notices"],
            summary="Start notices for the TE office (DEC-6), without the hetu")
async def list_start_notices(session: SessionDep, page: PageDep, request: Request, response: Response,
                             status_: Literal["pending", "sent"] | None = Query(None, alias="status"),
                             principal: Principal = authorize("decision.list_start_notices")) -> list:
    """One page, oldest start first; the next page in ``Link`` rel=next / ``X-Next-Cursor`` (issue 12 item 9)."""
    rows, cursor = await clients.list_start_notices(session, status_, principal, page)
    announce_next(request, response, cursor)
    return rows


@router.get("/start-notices/{notice_id}", response_model=StartNoticeDetailOut, tags=["start notices"],
            summary="One start notice with the client's hetu for the TE office (the read is audited)",
            responses={404: {"model": Problem}})
async def get_start_notice(notice_id: uuid.UUID, session: SessionDep,
                           principal: Principal = authorize("decision.get_start_notice")) -> StartNoticeDetailOut:
    notice, hetu = await clients.read_start_notice(session, notice_id, principal)
    return StartNoticeDetailOut.model_validate({**StartNoticeOut.model_validate(notice).model_dump(), "hetu": hetu})


@router.post("/start-notices/{notice_id}/mark-sent", response_model=StartNoticeOut, tags=["start notices"],
             summary="Mark a start notice sent to the TE office; marking again changes nothing",
             responses={404: {"model": Problem}})
async def mark_start_notice_sent(notice_id: uuid.UUID, session: SessionDep,
                                 principal: Principal = authorize("decision.mark_start_notice_sent")):
    return await clients.mark_start_notice_sent(session, notice_id, principal)


# --- refusals and interruptions (DEC-9) --------------------------------------------------------

@router.get("/clients/{client_id}/flags", response_model=list[ClientFlagOut], tags=["refusals and interruptions"],
            summary="The client's recorded refusals and interruptions, newest first (DEC-9; no sanction is computed)",
            responses={404: {"model": Problem}})
async def list_flags(client_id: uuid.UUID, session: SessionDep, principal: Principal = authorize("decision.list_flags")) -> list:
    return await clients.list_flags(session, client_id, principal)
