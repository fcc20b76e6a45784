"""Use cases of providers: application, own data, insurance, and the approval state machine."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.errors import Conflict, FieldError, Forbidden, refuse
from ktt_common.outbox import emit
from ktt_common.pagination import PageRequest, paginate
from ktt_common.policy import scope_rows
from ktt_contracts.registry import (
    ProviderApplied,
    ProviderAppliedPayload,
    ProviderApproved,
    ProviderChanged,
    ProviderChangedPayload,
    ProviderListChanged,
    ProviderListChangedPayload,
    ProviderRemoved,
    ProviderStatusChangedPayload,
    ProviderSuspended,
)

from ktt_registry import rules
from ktt_registry import rules_oversight as oversight
from ktt_registry.models import Product, ProductValue, Provider, ProviderStatusChange, StaffMember, Unit
from ktt_registry.schemas import ProviderIn, ProviderPatch, StatusIn
from ktt_registry.service import insurance
from ktt_registry.service.common import now, own_provider, policies_of, policy_periods, provider_facts, today
from ktt_registry.service.inspections import latest_outcomes
from ktt_registry.service.staff import guided_units

STATUS_EVENTS = {"approved": ProviderApproved, "suspended": ProviderSuspended, "removed": ProviderRemoved}


async def create_provider(session: AsyncSession, body: ProviderIn, principal: Principal) -> Provider:
    """An application for the approved list (PRV-1). A provider user applies under the id in its
    token; an official may register one under any free id (or a generated one)."""
    if principal.role is Role.PROVIDER:
        if body.id is not None and body.id != principal.provider_id:
            raise Forbidden("a provider user applies only under the provider id in its token", rule="DATA-3")
        provider_id = principal.provider_id
    else:
        provider_id = body.id or str(uuid.uuid4())
    errors: list[FieldError] = []
    business_id, e = rules.check_business_id(body.business_id)
    errors += e
    iban, e = rules.check_iban(body.iban)
    errors += e
    errors += rules.check_voucher_provider_form(body.legal_form)  # PRV-2
    if body.registration.date > today(session):
        errors.append(FieldError(field="body.registration.date", rule="PRV-1", message="the registration date is in the future"))
    refuse(errors)
    if await session.get(Provider, provider_id) is not None:
        raise Conflict(f"provider {provider_id} exists already; change it with PATCH /v1/providers/{provider_id}")
    if (await session.execute(select(Provider.id).where(Provider.business_id == business_id))).first():
        raise Conflict(f"a provider with business ID {business_id} exists already")
    t, day = now(), today(session)
    provider = Provider(
        id=provider_id, name=body.name, business_id=business_id, legal_form=body.legal_form,
        registration_register=body.registration.register_, registration_number=body.registration.number,
        registration_date=body.registration.date, data_protection_officer=body.data_protection_officer.model_dump(),
        contact=body.contact.model_dump(), website=body.website, supplier_number=body.supplier_number,
        payment_terms_days=body.payment_terms_days, iban=iban, presentation=body.presentation, phone_hours=body.phone_hours,
        status="applied", status_changed_on=day, applied_on=day, created_at=t, updated_at=t,
    )
    try:
        async with session.begin_nested():
            session.add(provider)
    except IntegrityError:
        raise Conflict(f"provider {provider_id} or business ID {business_id} exists already") from None
    await emit(session, ProviderApplied, ProviderAppliedPayload(**await provider_facts(session, provider), applied_on=day),
               subject=provider.id, revision_of=f"provider:{provider.id}")
    await audit(session, principal, "provider.apply", "provider", provider.id)
    return provider


async def patch_provider(session: AsyncSession, provider_id: str, body: ProviderPatch, principal: Principal) -> Provider:
    provider = await own_provider(session, principal, provider_id, for_update=True)
    changes = body.model_dump(exclude_unset=True)
    if "iban" in changes:
        iban, errors = rules.check_iban(changes["iban"] or "")
        refuse(errors)
        changes["iban"] = iban
    for required in ("name", "data_protection_officer", "contact", "iban"):
        if required in changes and changes[required] is None:
            refuse([FieldError(field=f"body.{required}", rule="PRV-14" if required == "data_protection_officer" else None,
                               message=f"{required} cannot be removed")])
    changed = sorted(k for k, v in changes.items() if getattr(provider, k) != v)
    if not changed:
        return provider  # nothing new: nothing published
    for key in changed:
        setattr(provider, key, changes[key])
    provider.updated_at = now()
    await emit(session, ProviderChanged, ProviderChangedPayload(
        **await provider_facts(session, provider), changed_fields=changed, changed_on=today(session)), subject=provider.id,
        revision_of=f"provider:{provider.id}")
    await audit(session, principal, "provider.update", "provider", provider.id, details={"fields": sorted(changes)})
    return provider


async def approval_facts(session: AsyncSession, provider: Provider) -> rules.ApprovalFacts:
    units = (await session.execute(select(Unit).where(Unit.provider_id == provider.id).order_by(Unit.name))).scalars().all()
    arranged, provider_wide, guided = await guided_units(session, provider.id)
    inspected = await latest_outcomes(session, provider.id)
    staff = (await session.execute(select(StaffMember.id).where(StaffMember.provider_id == provider.id).limit(1))).first()
    priced = (await session.execute(
        select(func.count()).select_from(Product).where(
            Product.provider_id == provider.id, Product.active.is_(True),
            exists().where(ProductValue.product_id == Product.id),
        )
    )).scalar_one()
    dpo = provider.data_protection_officer or {}
    day = today(session)
    periods = policy_periods(await policies_of(session, provider.id))
    in_force = [p for p in periods if p.valid_from <= day <= p.valid_until]
    # PRV-10: the cover in force today (to the end of its renewals), else the policy recorded last.
    insured_from, insured_until = ((min(p.valid_from for p in in_force), oversight.insurance_end(periods, day)) if in_force
                                   else (provider.insurance_valid_from, provider.insurance_valid_until))
    return rules.ApprovalFacts(
        registration_register=provider.registration_register, registration_number=provider.registration_number,
        registration_date=provider.registration_date, legal_form=provider.legal_form,
        units_with_responsible_person=sum(1 for u in units if (u.responsible_person or {}).get("name")),
        insurance_valid_from=insured_from, insurance_valid_until=insured_until,
        priced_products=int(priced), data_protection_officer_named=bool((dpo.get("name") or "").strip()),
        social_guidance_arranged=arranged, staff_reported=staff is not None,
        units=tuple(rules.UnitReadiness(
            unit_id=str(u.id), name=u.name, social_guidance=provider_wide or u.id in guided,
            degree_level=((u.responsible_person or {}).get("degree") or {}).get("level"),
            inspection_outcome=inspected[u.id][1] if u.id in inspected else None,
            inspected_on=inspected[u.id][0] if u.id in inspected else None,
        ) for u in units),
    )


async def change_status(session: AsyncSession, provider_id: str, body: StatusIn, principal: Principal) -> tuple[Provider, bool]:
    """PRV-1 / PRV-11: a city official moves the provider, with a reason; published exactly once.
    Returns (provider, changed). Asking for the current status again changes and publishes nothing."""
    provider = await own_provider(session, principal, provider_id, for_update=True)
    verdict = rules.transition(provider.status, body.status)
    if not verdict.allowed:
        raise Conflict(verdict.reason or "transition refused", rule="PRV-1")
    if verdict.no_change:
        return provider, False
    day = today(session)
    if body.status == "approved":
        missing = rules.approval_preconditions(await approval_facts(session, provider), day)
        refuse(missing, "the provider cannot be approved yet")
    previous = provider.status
    provider.status, provider.status_reason, provider.status_changed_on = body.status, body.reason, day
    provider.updated_at = now()
    session.add(ProviderStatusChange(provider_id=provider.id, from_status=previous, to_status=body.status, reason=body.reason,
                                     changed_by=principal.subject, changed_on=day, created_at=now()))
    await emit(session, STATUS_EVENTS[body.status], ProviderStatusChangedPayload(
        **await provider_facts(session, provider), previous_status=previous, reason=body.reason, changed_on=day,
        changed_by=principal.subject,
    ), subject=provider.id, revision_of=f"provider:{provider.id}")
    if body.status == "approved":
        await insurance.reconcile(session, provider, day)  # PRV-10: a lapse from before the suspension ends now
    list_change = rules.approved_list_change(previous, body.status)
    if list_change is not None:  # PRV-15: the TE office learns every change of the approved list
        await emit(session, ProviderListChanged, ProviderListChangedPayload(
            provider_id=provider.id, name=provider.name, business_id=provider.business_id, change=list_change,
            changed_on=day, reason=body.reason,
        ), subject=provider.id)
    await audit(session, principal, f"provider.{body.status}", "provider", provider.id,
                details={"from": previous, "to": body.status, "reason": body.reason})
    return provider, True


async def list_providers(session: AsyncSession, principal: Principal, status: str | None,
                         page: PageRequest) -> tuple[list[Provider], str | None]:
    """By name, one page; a provider user sees only its own (DATA-3: filtered in the query)."""
    query = scope_rows(select(Provider), principal, provider_column=Provider.id)
    if status:
        query = query.where(Provider.status == status)
    return await paginate(session, query, (Provider.name, Provider.id), page)
