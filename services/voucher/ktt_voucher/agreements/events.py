"""What the agreement part of the voucher service learns from other services' events.

Copies of providers, units, products and values come from the registry; consents from the
decision service. Each registry copy remembers the producer's revision of the entity it was set
from (and the event time, for events from before revisions), so a redelivered or late older event
never rolls it back (ktt_common.revisions.supersedes).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.events import Envelope
from ktt_common.inbox import Subscription
from ktt_common.revisions import supersedes
from ktt_contracts.decision import (
    ConsentRecorded,
    ConsentRecordedPayload,
    ConsentWithdrawn,
    ConsentWithdrawnPayload,
    RepresentativeAuthorised,
    RepresentativeAuthorisedPayload,
    RepresentativeWithdrawn,
    RepresentativeWithdrawnPayload,
)
from ktt_contracts.registry import (
    CapacityChanged,
    CapacityChangedPayload,
    PriceListChanged,
    PriceListChangedPayload,
    ProductChanged,
    ProductChangedPayload,
    ProviderApplied,
    ProviderApproved,
    ProviderChanged,
    ProviderInsuranceLapsed,
    ProviderInsuranceLapsedPayload,
    ProviderInsuranceRenewed,
    ProviderInsuranceRenewedPayload,
    ProviderRemoved,
    ProviderStatusChangedPayload,
    ProviderSuspended,
    QueueChanged,
    QueueChangedPayload,
    UnitChanged,
    UnitChangedPayload,
)

from ktt_voucher.agreements import ending as agreement_ending
from ktt_voucher.agreements.models import (
    Agreement,
    CapacityCopy,
    ConsentCopy,
    PriceCopy,
    ProductCopy,
    ProviderCopy,
    QueueCopy,
    RepresentativeCopy,
    UnitCopy,
)
from ktt_voucher.vouchers.events import from_decision

from_registry = Subscription(producer="provider-registry")


async def _upsert(session: AsyncSession, model: Any, key: Any, envelope: Envelope, payload: Any, values: dict[str, Any]) -> None:
    """Apply a copy by the producer's per-entity revision (issue 12 item 3), never backwards."""
    revision = getattr(payload, "revision", None)
    row = await session.get(model, key, with_for_update=True)
    if row is None:
        session.add(model(**values, event_time=envelope.time, revision=revision))
    elif supersedes(revision, envelope.time, row.revision, row.event_time):
        for name, value in values.items():
            setattr(row, name, value)
        row.event_time, row.revision = envelope.time, revision


async def _provider(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
    await _upsert(session, ProviderCopy, payload.provider_id, envelope, payload, {
        "provider_id": payload.provider_id, "name": payload.name, "status": payload.status,
        "email": payload.email, "phone": payload.phone, "insurance_valid_until": payload.insurance_valid_until,
    })


for _event_type in (ProviderApplied, ProviderApproved, ProviderSuspended, ProviderChanged):
    from_registry.on(_event_type)(_provider)


@from_registry.on(ProviderInsuranceLapsed)
async def on_insurance_lapsed(session: AsyncSession, envelope: Envelope, payload: ProviderInsuranceLapsedPayload) -> None:
    """PRV-10: no new agreements with the provider until its insurance is renewed."""
    await _provider(session, envelope, payload)
    await _insurance(session, envelope, payload, lapsed_on=payload.lapsed_on)


@from_registry.on(ProviderInsuranceRenewed)
async def on_insurance_renewed(session: AsyncSession, envelope: Envelope, payload: ProviderInsuranceRenewedPayload) -> None:
    await _provider(session, envelope, payload)
    await _insurance(session, envelope, payload, lapsed_on=None)


async def _insurance(session: AsyncSession, envelope: Envelope, payload: Any, *, lapsed_on: dt.date | None) -> None:
    """The lapse flag follows the newest lapse/renewal event (a late older one never reopens or closes it)."""
    provider = await session.get(ProviderCopy, payload.provider_id)
    assert provider is not None  # _provider made it
    revision = getattr(payload, "revision", None)
    if supersedes(revision, envelope.time, provider.insurance_revision, provider.insurance_event_time):
        provider.insurance_lapsed_on, provider.insurance_event_time = lapsed_on, envelope.time
        provider.insurance_revision = revision


@from_registry.on(ProviderRemoved)
async def on_provider_removed(session: AsyncSession, envelope: Envelope, payload: ProviderStatusChangedPayload) -> None:
    """PRV-11 / AGR-13: a removed provider's agreements end; the city arranges replacement service."""
    await _provider(session, envelope, payload)
    await agreement_ending.end_open_agreements(
        session, Agreement.provider_id == payload.provider_id, kind="provider_removed",
        reason=f"the provider was removed from the approved list: {payload.reason}", on=payload.changed_on,
        actor=f"event:{envelope.type}",
    )


@from_registry.on(UnitChanged)
async def on_unit(session: AsyncSession, envelope: Envelope, payload: UnitChangedPayload) -> None:
    await _upsert(session, UnitCopy, payload.unit_id, envelope, payload, {
        "unit_id": payload.unit_id, "provider_id": payload.provider_id, "name": payload.name,
        "street_address": payload.street_address, "postal_code": payload.postal_code, "city": payload.city,
        "service_producer_code": payload.service_producer_code, "responsible_person_name": payload.responsible_person_name,
        "responsible_person_phone": payload.responsible_person_phone, "responsible_person_email": payload.responsible_person_email,
        "taking_clients": payload.taking_clients, "signing_deputies": list(payload.signing_deputies),
    })


@from_registry.on(CapacityChanged)
async def on_capacity(session: AsyncSession, envelope: Envelope, payload: CapacityChangedPayload) -> None:
    """PRV-6 / PRV-8: the unit's places, so that signing in a full unit is refused."""
    await _upsert(session, CapacityCopy, payload.unit_id, envelope, payload, {
        "unit_id": payload.unit_id, "provider_id": payload.provider_id, "capacity": payload.capacity,
        "occupied": payload.occupied, "free_places": payload.free_places, "taking_clients": payload.taking_clients,
    })


@from_registry.on(QueueChanged)
async def on_queue(session: AsyncSession, envelope: Envelope, payload: QueueChangedPayload) -> None:
    """PRV-7: the unit's queue in order: the first in it takes the first free place."""
    entries = sorted(payload.entries, key=lambda e: e.position)
    await _upsert(session, QueueCopy, (payload.unit_id, payload.product_id), envelope, payload, {
        "unit_id": payload.unit_id, "product_id": payload.product_id, "client_ids": [str(e.client_id) for e in entries],
        "unit_ranks": {str(e.client_id): e.unit_position for e in entries if e.unit_position is not None},
    })


@from_registry.on(ProductChanged)
async def on_product(session: AsyncSession, envelope: Envelope, payload: ProductChangedPayload) -> None:
    await _upsert(session, ProductCopy, payload.product_id, envelope, payload, {
        "product_id": payload.product_id, "provider_id": payload.provider_id, "kind": payload.kind, "form": payload.form,
        "name": payload.name, "active": payload.active,
    })


@from_registry.on(PriceListChanged)
async def on_prices(session: AsyncSession, envelope: Envelope, payload: PriceListChangedPayload) -> None:
    """Values are versioned and never overwritten: add the versions not yet known."""
    for version in payload.versions:
        if await session.get(PriceCopy, (payload.product_id, version.version)) is None:
            session.add(PriceCopy(
                product_id=payload.product_id, version=version.version, effective_from=version.effective_from,
                day_value_first_year_cents=version.day_value_first_year_cents,
                base_day_value_cents=version.base_day_value_cents, hour_value_cents=version.hour_value_cents,
            ))


@from_decision.on(ConsentRecorded)
async def on_consent(session: AsyncSession, envelope: Envelope, payload: ConsentRecordedPayload) -> None:
    """DATA-1: plan data becomes visible to the provider once the client's consent is recorded."""
    if await session.get(ConsentCopy, payload.consent_id) is None:
        session.add(ConsentCopy(consent_id=payload.consent_id, client_id=payload.client_id, provider_id=payload.provider_id,
                                scope=payload.scope, given_on=payload.given_on, valid_until=payload.valid_until))


@from_decision.on(ConsentWithdrawn)
async def on_consent_withdrawn(session: AsyncSession, envelope: Envelope, payload: ConsentWithdrawnPayload) -> None:
    consent = await session.get(ConsentCopy, payload.consent_id)
    if consent is None:
        # Withdrawn before we saw it recorded (events of one stream arrive in order, so only after
        # a replay from a dead letter): keep the withdrawal so the consent never takes effect.
        session.add(ConsentCopy(consent_id=payload.consent_id, client_id=payload.client_id, provider_id=payload.provider_id,
                                scope=[], given_on=payload.withdrawn_on, withdrawn_on=payload.withdrawn_on))
    elif consent.withdrawn_on is None:
        consent.withdrawn_on = payload.withdrawn_on


@from_decision.on(RepresentativeAuthorised)
async def on_representative(session: AsyncSession, envelope: Envelope, payload: RepresentativeAuthorisedPayload) -> None:
    """VOU-9: the client's representative may act for them through a link made for them."""
    rep = await session.get(RepresentativeCopy, payload.representative_id)
    if rep is None:
        session.add(RepresentativeCopy(representative_id=payload.representative_id, client_id=payload.client_id,
                                       name=payload.name, scope=list(payload.scope), authorised_on=payload.authorised_on,
                                       valid_until=payload.valid_until))
    elif rep.withdrawn_on is None:
        rep.name, rep.scope, rep.valid_until = payload.name, list(payload.scope), payload.valid_until


@from_decision.on(RepresentativeWithdrawn)
async def on_representative_withdrawn(session: AsyncSession, envelope: Envelope, payload: RepresentativeWithdrawnPayload) -> None:
    """VOU-9: from the withdrawal on, the representative's links act for nobody (a withdrawal seen
    before its authorisation is kept, so the late authorisation never takes effect)."""
    rep = await session.get(RepresentativeCopy, payload.representative_id)
    if rep is None:
        session.add(RepresentativeCopy(representative_id=payload.representative_id, client_id=payload.client_id,
                                       name=payload.name, scope=list(payload.scope), authorised_on=payload.authorised_on,
                                       valid_until=payload.valid_until, withdrawn_on=payload.withdrawn_on))
    elif rep.withdrawn_on is None or rep.withdrawn_on > payload.withdrawn_on:
        rep.withdrawn_on = payload.withdrawn_on


async def end_agreements_of_revoked_decision(session: AsyncSession, envelope: Envelope, decision_id: Any, on: dt.date, reason: str) -> int:
    """DEC-7 / DEC-1: a revoked decision ends the agreements on its voucher."""
    return await agreement_ending.end_open_agreements(
        session, Agreement.decision_id == decision_id, kind="decision_revoked", reason=reason, on=on,
        actor=f"event:{envelope.type}",
    )


SUBSCRIPTIONS = [from_registry]
