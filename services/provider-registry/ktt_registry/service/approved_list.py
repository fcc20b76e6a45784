"""The approved list the city gives the TE office (PRV-15): approved providers with their units,
legal form, business ID and approval dates, as JSON or CSV. Changes to it are published as
ProviderListChanged by the approval state machine (service.providers.change_status)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_registry import rules_oversight as oversight
from ktt_registry.models import Provider, ProviderStatusChange, Unit
from ktt_registry.schemas_quality import ApprovedProvider, ApprovedUnit

CSV_COLUMNS = ("provider_id", "provider_name", "business_id", "legal_form", "approved_on", "first_approved_on",
               "unit_name", "street_address", "postal_code", "city", "service_producer_code")


async def approved_list(session: AsyncSession) -> list[ApprovedProvider]:
    providers = (await session.execute(
        select(Provider).where(Provider.status == "approved").order_by(Provider.name, Provider.id)
    )).scalars().all()
    ids = [p.id for p in providers]
    if not ids:
        return []
    first = dict((await session.execute(
        select(ProviderStatusChange.provider_id, func.min(ProviderStatusChange.changed_on))
        .where(ProviderStatusChange.provider_id.in_(ids), ProviderStatusChange.to_status == "approved")
        .group_by(ProviderStatusChange.provider_id)
    )).all())
    units = (await session.execute(select(Unit).where(Unit.provider_id.in_(ids)).order_by(Unit.name, Unit.id))).scalars().all()
    return [ApprovedProvider(
        provider_id=p.id, name=p.name, business_id=p.business_id, legal_form=p.legal_form,
        approved_on=p.status_changed_on, first_approved_on=first.get(p.id, p.status_changed_on),
        email=(p.contact or {}).get("email"), phone=(p.contact or {}).get("phone"), website=p.website,
        units=[ApprovedUnit(unit_id=u.id, name=u.name, street_address=u.street_address, postal_code=u.postal_code, city=u.city,
                            service_producer_code=u.service_producer_code) for u in units if u.provider_id == p.id],
    ) for p in providers]


def to_csv(providers: list[ApprovedProvider]) -> str:
    """One row per unit (a provider without units gets one row with the unit columns empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for p in providers:
        head = [p.provider_id, p.name, p.business_id, p.legal_form, p.approved_on.isoformat(), p.first_approved_on.isoformat()]
        units: list[ApprovedUnit | None] = [*p.units] or [None]
        for unit in units:
            tail = [unit.name, unit.street_address, unit.postal_code, unit.city, unit.service_producer_code] if unit else [""] * 5
            writer.writerow([oversight.csv_safe(v) for v in head + tail])
    return out.getvalue()
