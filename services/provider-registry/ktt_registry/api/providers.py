"""Providers: application, own data, insurance, approval state machine."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import select

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem
from ktt_common.pagination import PageDep, announce_next

from ktt_registry.models import Provider, ProviderStatusChange
from ktt_registry.policy import authorize
from ktt_registry.schemas import InsuranceIn, InsuranceOut, ProviderIn, ProviderOut, ProviderPatch, StatusIn
from ktt_registry.service import insurance
from ktt_registry.service import providers as svc
from ktt_registry.service.common import own_provider

router = APIRouter(prefix="/v1", tags=["providers"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})



@router.post("/providers", response_model=ProviderOut, status_code=status.HTTP_201_CREATED,
             summary="Apply for the approved list (a provider under its own token id, or an official)",
             responses={409: {"model": Problem, "description": "The id or business ID exists already"}})
async def create_provider(body: ProviderIn, session: SessionDep, response: Response,
                          principal: Principal = authorize("providers.create_provider")) -> Provider:
    provider = await svc.create_provider(session, body, principal)
    response.headers["Location"] = f"/v1/providers/{provider.id}"
    return provider


@router.get("/providers", response_model=list[ProviderOut], summary="Providers (a provider user sees only its own)")
async def list_providers(session: SessionDep, page: PageDep, request: Request, response: Response,
                         principal: Principal = authorize("providers.list_providers"),
                         status: Literal["applied", "approved", "suspended", "removed"] | None = None) -> list[Provider]:
    """By name, one page (``limit``, ``cursor``); the next in ``Link`` rel=next / ``X-Next-Cursor``."""
    rows, cursor = await svc.list_providers(session, principal, status, page)
    announce_next(request, response, cursor)
    return rows


@router.get("/providers/{provider_id}", response_model=ProviderOut, summary="One provider")
async def get_provider(provider_id: str, session: SessionDep,
                       principal: Principal = authorize("providers.get_provider")) -> Provider:
    return await own_provider(session, principal, provider_id)


@router.patch("/providers/{provider_id}", response_model=ProviderOut, summary="Change a provider's own data (never values or status)")
async def patch_provider(provider_id: str, body: ProviderPatch, session: SessionDep,
                         principal: Principal = authorize("providers.patch_provider")) -> Provider:
    return await svc.patch_provider(session, provider_id, body, principal)


@router.put("/providers/{provider_id}/insurance", response_model=ProviderOut,
            summary="Record a liability insurance policy period; the same number and start again corrects it (PRV-10)")
async def set_insurance(provider_id: str, body: InsuranceIn, session: SessionDep,
                        principal: Principal = authorize("providers.set_insurance")) -> Provider:
    return await insurance.record_policy(session, provider_id, body, principal)


@router.get("/providers/{provider_id}/insurance", response_model=InsuranceOut,
            summary="Whether the provider is insured today, to when, any lapse, and every recorded policy (PRV-10)")
async def get_insurance(provider_id: str, session: SessionDep,
                        principal: Principal = authorize("providers.get_insurance")) -> InsuranceOut:
    return await insurance.insurance_view(session, provider_id, principal)


@router.post("/providers/{provider_id}/status", response_model=ProviderOut,
             summary="Approve, suspend, reinstate or remove a provider, with a reason (city official; PRV-1, PRV-11)",
             responses={409: {"model": Problem, "description": "Not a transition of the state machine"}})
async def change_status(provider_id: str, body: StatusIn, session: SessionDep,
                        principal: Principal = authorize("providers.change_status")) -> Provider:
    provider, _changed = await svc.change_status(session, provider_id, body, principal)
    return provider


@router.get("/providers/{provider_id}/status-history", response_model=list[dict[str, Any]],
            summary="Every approval transition of a provider, with who and why")
async def status_history(provider_id: str, session: SessionDep,
                         principal: Principal = authorize("providers.status_history")) -> list[dict[str, Any]]:
    await own_provider(session, principal, provider_id)
    rows = (await session.execute(
        select(ProviderStatusChange).where(ProviderStatusChange.provider_id == provider_id).order_by(ProviderStatusChange.created_at)
    )).scalars().all()
    await audit(session, principal, "provider.history", "provider", provider_id)
    return [{"from": r.from_status, "to": r.to_status, "reason": r.reason, "changed_by": r.changed_by,
             "changed_on": r.changed_on.isoformat()} for r in rows]
