"""Social guidance and the staff report (PRV-16): who gives social guidance, a qualified
social-welfare professional always available; the staff data the provider gives the city."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import FieldError, refuse
from ktt_common.identifiers import contains_hetu
from ktt_common.policy import one_scoped

from ktt_registry.models import Provider, SocialGuidance, StaffMember, Unit
from ktt_registry.schemas import SocialGuidanceIn, StaffMemberOut, StaffReportIn, StaffReportOut
from ktt_registry.service.common import now, own_provider, today


async def _unit_of(session: AsyncSession, provider: Provider, unit_id: uuid.UUID | None, field: str) -> list[FieldError]:
    if unit_id is None:
        return []
    unit = await session.get(Unit, unit_id)
    if unit is None or unit.provider_id != provider.id:
        return [FieldError(field=field, message="not a unit of this provider")]
    return []


def _no_hetu(values: dict[str, str | None], prefix: str) -> list[FieldError]:
    """PRV-16 staff data, like everything the registry keeps of people, carries no personal identity code."""
    return [FieldError(field=f"{prefix}.{name}", rule="PRV-16",
                       message="staff data is given without personal identity codes: names, roles and qualifications only")
            for name, value in values.items() if value and contains_hetu(value)]


async def add_social_guidance(session: AsyncSession, provider_id: str, body: SocialGuidanceIn, principal: Principal) -> SocialGuidance:
    """PRV-16: record who gives social guidance to a unit's clients (or every unit's)."""
    provider = await own_provider(session, principal, provider_id)
    errors = await _unit_of(session, provider, body.unit_id, "body.unit_id")
    errors += _no_hetu({"name": body.name, "availability": body.availability}, "body")
    refuse(errors)
    item = SocialGuidance(id=uuid.uuid4(), provider_id=provider.id, unit_id=body.unit_id, name=body.name,
                          qualification=body.qualification, registration_number=body.registration_number,
                          availability=body.availability, active=True, started_on=today(session), created_by=principal.subject,
                          created_at=now())
    session.add(item)
    await session.flush()
    await audit(session, principal, "social_guidance.add", "provider", provider.id, details={"id": str(item.id)})
    return item


async def list_social_guidance(session: AsyncSession, provider_id: str, principal: Principal) -> list[SocialGuidance]:
    await own_provider(session, principal, provider_id)
    return list((await session.execute(
        select(SocialGuidance).where(SocialGuidance.provider_id == provider_id)
        .order_by(SocialGuidance.active.desc(), SocialGuidance.created_at)
    )).scalars().all())


async def guided_units(session: AsyncSession, provider_id: str) -> tuple[bool, bool, set[uuid.UUID]]:
    """(any arrangement, a provider-wide arrangement, units with their own arrangement), active ones only."""
    rows = (await session.execute(
        select(SocialGuidance.unit_id).where(SocialGuidance.provider_id == provider_id, SocialGuidance.active.is_(True))
    )).scalars().all()
    return bool(rows), any(u is None for u in rows), {u for u in rows if u is not None}


async def end_social_guidance(session: AsyncSession, guidance_id: uuid.UUID, principal: Principal) -> SocialGuidance:
    """PRV-16: an arrangement ends; while the provider is approved, every unit must stay covered."""
    item = await one_scoped(session, select(SocialGuidance).where(SocialGuidance.id == guidance_id), principal,
                            provider_column=SocialGuidance.provider_id, detail=f"no social guidance arrangement {guidance_id}")
    provider = await own_provider(session, principal, item.provider_id, for_update=True)
    if not item.active:
        return item  # ended already: a replay changes nothing
    item.active, item.ended_on = False, today(session)
    await session.flush()
    if provider.status == "approved":
        arranged, provider_wide, own = await guided_units(session, provider.id)
        units = (await session.execute(select(Unit).where(Unit.provider_id == provider.id).order_by(Unit.name))).scalars().all()
        uncovered = [u.name for u in units if not provider_wide and u.id not in own]
        if uncovered or not arranged:
            refuse([FieldError(field="path.guidance_id", rule="PRV-16", message=(
                "social guidance must always be available: record the replacement first; this would leave "
                + (", ".join(f"'{n}'" for n in uncovered) if uncovered else "the provider") + " without it"))])
    await audit(session, principal, "social_guidance.end", "provider", provider.id, details={"id": str(item.id)})
    return item


async def report_staff(session: AsyncSession, provider_id: str, body: StaffReportIn, principal: Principal) -> StaffReportOut:
    """PRV-16: the provider gives the city its staff data; the new report replaces the previous one."""
    provider = await own_provider(session, principal, provider_id, for_update=True)
    errors: list[FieldError] = []
    for i, member in enumerate(body.staff):
        errors += await _unit_of(session, provider, member.unit_id, f"body.staff.{i}.unit_id")
        errors += _no_hetu({"name": member.name, "role": member.role, "qualification": member.qualification,
                            "responsibilities": member.responsibilities}, f"body.staff.{i}")
    refuse(errors)
    await session.execute(delete(StaffMember).where(StaffMember.provider_id == provider.id))
    day, t = today(session), now()
    session.add_all([StaffMember(id=uuid.uuid4(), provider_id=provider.id, unit_id=m.unit_id, name=m.name, role=m.role,
                                 qualification=m.qualification, education_level=m.education_level,
                                 responsibilities=m.responsibilities, reported_on=day, reported_by=principal.subject,
                                 created_at=t) for m in body.staff])
    await session.flush()
    await audit(session, principal, "staff.report", "provider", provider.id, details={"count": len(body.staff)})
    return await staff_report(session, provider.id, principal)


async def staff_report(session: AsyncSession, provider_id: str, principal: Principal) -> StaffReportOut:
    await own_provider(session, principal, provider_id)
    rows = (await session.execute(
        select(StaffMember).where(StaffMember.provider_id == provider_id).order_by(StaffMember.created_at, StaffMember.name)
    )).scalars().all()
    return StaffReportOut(provider_id=provider_id, reported_on=rows[0].reported_on if rows else None,
                          reported_by=rows[0].reported_by if rows else None,
                          staff=[StaffMemberOut.model_validate(r) for r in rows])
