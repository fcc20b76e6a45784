"""The provider registry's events as the decision service needs them: which providers exist, and
which were removed, so a consent names a real provider (DATA-1). Safe to run twice and in any
order: a row is only ever replaced by a newer event's facts."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.events import Envelope
from ktt_common.inbox import Subscription
from ktt_contracts.registry import (
    ProviderApplied,
    ProviderApproved,
    ProviderChanged,
    ProviderInsuranceLapsed,
    ProviderInsuranceRenewed,
    ProviderRemoved,
    ProviderSuspended,
)

from ktt_decision.providers.models import KnownProvider

from_registry = Subscription(producer="provider-registry")


async def _provider(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
    row = await session.get(KnownProvider, payload.provider_id)
    if row is None:
        session.add(KnownProvider(provider_id=payload.provider_id, name=payload.name, status=payload.status,
                                  event_time=envelope.time))
    elif row.event_time <= envelope.time:
        row.name, row.status, row.event_time = payload.name, payload.status, envelope.time


for _event_type in (ProviderApplied, ProviderChanged, ProviderApproved, ProviderSuspended, ProviderRemoved,
                    ProviderInsuranceLapsed, ProviderInsuranceRenewed):
    from_registry.on(_event_type)(_provider)
