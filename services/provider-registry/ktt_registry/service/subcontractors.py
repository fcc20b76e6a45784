"""Use cases of subcontractors (PRV-9): declared by the provider, forbiddable by the city, no chaining."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import Conflict, FieldError, NotFound, refuse
from ktt_common.outbox import emit
from ktt_contracts.registry import SubcontractorForbidden, SubcontractorForbiddenPayload

from ktt_registry import rules
from ktt_registry.models import Subcontractor
from ktt_registry.schemas_quality import ForbidIn, SubcontractorIn
from ktt_registry.service.common import now, own_provider, today


async def declare(session: AsyncSession, provider_id: str, body: SubcontractorIn, principal: Principal) -> Subcontractor:
    """PRV-9: the provider declares its subcontractor to the city. A subcontractor may not engage
    subcontractors of its own: a declaration made on behalf of one is refused."""
    provider = await own_provider(session, principal, provider_id)
    errors: list[FieldError] = []
    if body.engaged_by_subcontractor_id is not None:
        parent = await session.get(Subcontractor, body.engaged_by_subcontractor_id)
        who = f"'{parent.name}'" if parent is not None and parent.provider_id == provider.id else "a subcontractor"
        errors.append(FieldError(field="body.engaged_by_subcontractor_id", rule="PRV-9", message=(
            f"{who} may not subcontract further (no chaining); the provider itself must engage and declare every subcontractor")))
    business_id, e = rules.check_business_id(body.business_id)
    errors += [FieldError(field=x.field, message=x.message) for x in e]
    if business_id is not None and business_id == provider.business_id:
        errors.append(FieldError(field="body.business_id", rule="PRV-9", message="a provider is not its own subcontractor"))
    refuse(errors)
    sub = Subcontractor(id=uuid.uuid4(), provider_id=provider.id, name=body.name, business_id=business_id, services=body.services,
                        status="declared", declared_on=today(session), created_at=now())
    try:
        async with session.begin_nested():
            session.add(sub)
    except IntegrityError:
        raise Conflict(f"subcontractor {business_id} is already declared for this provider") from None
    await audit(session, principal, "subcontractor.declare", "subcontractor", sub.id)
    return sub


async def forbid(session: AsyncSession, subcontractor_id: uuid.UUID, body: ForbidIn, principal: Principal) -> Subcontractor:
    """PRV-9: the city forbids a subcontractor for a reason; published once."""
    sub = await session.get(Subcontractor, subcontractor_id, with_for_update=True)
    if sub is None:
        raise NotFound(f"no subcontractor {subcontractor_id}")
    if sub.status == "forbidden":
        return sub
    sub.status, sub.forbidden_reason, sub.forbidden_on = "forbidden", body.reason, today(session)
    await emit(session, SubcontractorForbidden, SubcontractorForbiddenPayload(
        provider_id=sub.provider_id, subcontractor_id=sub.id, name=sub.name, business_id=sub.business_id, reason=body.reason,
        forbidden_on=sub.forbidden_on, forbidden_by=principal.subject,
    ), subject=str(sub.id))
    await audit(session, principal, "subcontractor.forbid", "subcontractor", sub.id, details={"reason": body.reason})
    return sub


async def list_subcontractors(session: AsyncSession, provider_id: str, principal: Principal) -> list[Subcontractor]:
    await own_provider(session, principal, provider_id)
    return list((await session.execute(
        select(Subcontractor).where(Subcontractor.provider_id == provider_id).order_by(Subcontractor.name)
    )).scalars().all())
