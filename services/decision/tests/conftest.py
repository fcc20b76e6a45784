from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from ktt_common.clock import FrozenClock
from ktt_common.testing import RunningService, eventually, run_service, service_settings

from ktt_decision.app import create_app

TODAY = dt.date(2026, 11, 26)


@pytest.fixture
async def decision_service(databases: Callable[..., Any], nats_server: Any, tmp_path: Path) -> AsyncIterator[RunningService]:
    url = await databases("decision")
    settings = service_settings("decision", database_url=url, nats_url=nats_server.url, data_dir=tmp_path)
    async with run_service(create_app, settings, FrozenClock(TODAY)) as running:
        yield running


@pytest.fixture
def start_decision(databases: Callable[..., Any], nats_server: Any, tmp_path: Path) -> Callable[..., Any]:
    """start_decision(**settings overrides): a decision service with settings of the test's own."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[RunningService]:
        url = await databases("decision")
        settings = service_settings("decision", database_url=url, nats_url=nats_server.url, data_dir=tmp_path, **overrides)
        async with run_service(create_app, settings, FrozenClock(TODAY)) as running:
            yield running

    return start


async def _announce_provider(svc: RunningService, provider_id: str, status: str = "approved",
                            time: dt.datetime | None = None) -> None:
    """Publish a registry status event for ``provider_id`` onto the registry's stream, as the
    registry would, and wait until the decision service knows the provider in that status."""
    from sqlalchemy import select

    from ktt_contracts.registry import ProviderApproved, ProviderRemoved

    from ktt_decision.providers.models import KnownProvider

    event_type = ProviderRemoved if status == "removed" else ProviderApproved
    payload = {"provider_id": provider_id, "name": f"Työpaja {provider_id} ry", "business_id": "1572860-0",
               "legal_form": "registered_association", "status": status, "payment_terms_days": 14,
               "iban": "FI2112345600000785", "previous_status": "applied", "reason": "test",
               "changed_on": "2026-11-20", "changed_by": "official"}
    env = event_type.envelope(payload, subject=provider_id, correlation_id=None,
                              time=time or dt.datetime.now(dt.UTC))
    await svc.rt.bus.publish(event_type.subject, env.model_dump_json().encode(), env.id)

    async def known() -> bool:
        async with svc.rt.sessionmaker() as s:
            row = (await s.execute(select(KnownProvider).where(KnownProvider.provider_id == provider_id))).scalar_one_or_none()
            return row is not None and row.status == status

    await eventually(known, what=f"the decision service to know provider {provider_id} as {status}")


@pytest.fixture
def announce_provider() -> Callable[..., Any]:
    """announce_provider(svc, provider_id, status="approved"): the registry tells of a provider."""
    return _announce_provider
