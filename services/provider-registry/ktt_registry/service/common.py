"""Helpers shared by the registry's use cases: access checks, loading, refusals, event payloads."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.auth import Principal
from ktt_common.errors import NotFound
from ktt_common.outbox import emit, runtime_of
from ktt_common.policy import RowT, one_scoped
from ktt_contracts.registry import (
    CapacityChanged,
    CapacityChangedPayload,
    ProviderFacts,
    UnitChanged,
    UnitChangedPayload,
)

from ktt_registry import rules
from ktt_registry import rules_oversight as oversight
from ktt_registry.models import Instructor, InsurancePolicy, Product, Provider, Unit
from ktt_registry.settings import RegistrySettings

_DEFAULTS = RegistrySettings.model_construct()  # registry defaults when run with plain Settings


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today(session: AsyncSession) -> dt.date:
    return runtime_of(session).clock.today()


def settings_of(session: AsyncSession) -> RegistrySettings:
    settings = runtime_of(session).settings
    return settings if isinstance(settings, RegistrySettings) else _DEFAULTS



async def provider_or_404(session: AsyncSession, provider_id: str, *, for_update: bool = False) -> Provider:
    provider = await session.get(Provider, provider_id, with_for_update=for_update or None)
    if provider is None:
        raise NotFound(f"no provider {provider_id}")
    return provider


# DATA-3 (issue 12 item 7): a provider user reaches only its own provider's rows. The tenant filter is
# part of each query (ktt_common.policy.one_scoped), so another provider's resource is not found by the
# database and is answered exactly as one that does not exist (404), never a 403 that confirms it.

def _locked(query: Select[RowT], for_update: bool) -> Select[RowT]:
    return query.with_for_update() if for_update else query


async def own_provider(session: AsyncSession, principal: Principal, provider_id: str, *, for_update: bool = False) -> Provider:
    return await one_scoped(session, _locked(select(Provider).where(Provider.id == provider_id), for_update), principal,
                            provider_column=Provider.id, detail=f"no provider {provider_id}")


async def own_unit(session: AsyncSession, principal: Principal, unit_id: uuid.UUID, *, for_update: bool = False) -> Unit:
    return await one_scoped(session, _locked(select(Unit).where(Unit.id == unit_id), for_update), principal,
                            provider_column=Unit.provider_id, detail=f"no unit {unit_id}")


async def own_product(session: AsyncSession, principal: Principal, product_id: uuid.UUID) -> Product:
    return await one_scoped(session, select(Product).where(Product.id == product_id), principal,
                            provider_column=Product.provider_id, detail=f"no product {product_id}")


async def instructor_count(session: AsyncSession, unit_id: uuid.UUID) -> int:
    return int((await session.execute(
        select(func.count()).select_from(Instructor).where(Instructor.unit_id == unit_id, Instructor.active.is_(True))
    )).scalar_one())


def taking_clients(unit: Unit) -> bool:
    return unit.unable_reason is None


async def policies_of(session: AsyncSession, provider_id: str) -> list[InsurancePolicy]:
    """PRV-10: every liability insurance period recorded for the provider, oldest start first."""
    return list((await session.execute(
        select(InsurancePolicy).where(InsurancePolicy.provider_id == provider_id)
        .order_by(InsurancePolicy.valid_from, InsurancePolicy.created_at)
    )).scalars().all())


def policy_periods(policies: list[InsurancePolicy]) -> list[oversight.Policy]:
    return [oversight.Policy(p.valid_from, p.valid_until) for p in policies]


async def insurance_end(session: AsyncSession, provider_id: str, on: dt.date | None = None) -> dt.date | None:
    return oversight.insurance_end(policy_periods(await policies_of(session, provider_id)), on or today(session))


async def provider_facts(session: AsyncSession, p: Provider, on: dt.date | None = None) -> dict[str, Any]:
    """The provider as every provider event carries it, with the end of its insurance in force (PRV-10)."""
    return ProviderFacts(
        provider_id=p.id, name=p.name, business_id=p.business_id, legal_form=p.legal_form, status=p.status,
        supplier_number=p.supplier_number, payment_terms_days=p.payment_terms_days, iban=p.iban,
        email=(p.contact or {}).get("email"), phone=(p.contact or {}).get("phone"), website=p.website,
        insurance_valid_until=await insurance_end(session, p.id, on),
    ).model_dump()


async def emit_unit_changed(session: AsyncSession, unit: Unit) -> None:
    rp = unit.responsible_person or {}
    await emit(session, UnitChanged, UnitChangedPayload(
        provider_id=unit.provider_id, unit_id=unit.id, name=unit.name, street_address=unit.street_address,
        postal_code=unit.postal_code, city=unit.city, district=unit.district,
        service_producer_code=unit.service_producer_code, responsible_person_name=rp.get("name", ""),
        responsible_person_phone=rp.get("phone"), responsible_person_email=rp.get("email"),
        signing_deputies=list(rp.get("signing_deputies") or []),
        accessible=unit.step_free_access, suits_partial_work_ability=unit.suits_partial_work_ability,
        languages=list(unit.languages), phone_hours=unit.phone_hours, taking_clients=taking_clients(unit),
        unable_reason=unit.unable_reason, changed_on=today(session),
    ), subject=str(unit.id), revision_of=f"unit:{unit.id}")


async def emit_capacity_changed(session: AsyncSession, unit: Unit) -> None:
    n = await instructor_count(session, unit.id)
    await emit(session, CapacityChanged, CapacityChangedPayload(
        provider_id=unit.provider_id, unit_id=unit.id, instructors=n, capacity=rules.capacity(n), occupied=unit.occupied,
        free_places=rules.free_places(n, unit.occupied, taking_clients(unit)), taking_clients=taking_clients(unit),
        changed_on=today(session),
    ), subject=str(unit.id), revision_of=f"capacity:{unit.id}")
