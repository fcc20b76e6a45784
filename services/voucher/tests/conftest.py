from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ktt_common.clock import FrozenClock
from ktt_common.events import Envelope, EventType
from ktt_common.testing import RunningService, run_service, service_settings
from ktt_contracts.decision import DecisionAmended, DecisionMade, DecisionRevoked
from ktt_voucher.app import create_app

TODAY = dt.date(2026, 11, 26)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TODAY)


@pytest.fixture
async def voucher_service(databases: Callable[..., Any], nats_server: Any, tmp_path: Path, clock: FrozenClock) -> AsyncIterator[RunningService]:
    url = await databases("voucher")
    settings = service_settings("voucher", database_url=url, nats_url=nats_server.url, data_dir=tmp_path)
    async with run_service(create_app, settings, clock) as running:
        yield running


def decision_facts(**overrides: Any) -> dict[str, Any]:
    facts: dict[str, Any] = dict(
        decision_id=str(uuid.uuid4()), client_id=str(uuid.uuid4()), source_system="effica", source_id="EFF-1",
        version=1, decided_on="2026-11-25", period_start="2026-12-01", period_end="2027-11-30", form="individual",
        benefit_basis="labour_market_subsidy", voucher_kind="regular", approved_hours=None,
        case_worker_office="typake", language="fi",
    )
    facts.update(overrides)
    return facts


def envelope(event_type: EventType[Any], payload: dict[str, Any]) -> Envelope:
    return event_type.envelope(payload, subject=payload.get("decision_id"), correlation_id=None,
                               time=dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC))


class Decisions:
    """Delivers decision-service events to the voucher service's real consumer (inbox + handler)."""

    def __init__(self, svc: RunningService) -> None:
        self.svc = svc

    facts = staticmethod(lambda **kw: decision_facts(**kw))
    envelope = staticmethod(lambda et, payload: envelope(et, payload))

    async def published(self, name: str | None = None) -> list[dict[str, Any]]:
        return await published(self.svc, name)

    async def voucher_of(self, decision_id: str) -> dict[str, Any]:
        return await voucher_of(self.svc, decision_id)

    async def deliver(self, env: Envelope) -> str:
        return await self.svc.rt.consumer("decision").process(env)

    async def made(self, **overrides: Any) -> dict[str, Any]:
        facts = decision_facts(**overrides)
        assert await self.deliver(envelope(DecisionMade, facts)) == "handled"
        return facts

    async def amended(self, facts: dict[str, Any], *, version: int, **changes: Any) -> str:
        new = {**facts, **changes, "version": version}
        payload = {**new, "previous_version": version - 1,
                   "changes": {k: {"old": facts.get(k), "new": v} for k, v in changes.items()}}
        return await self.deliver(envelope(DecisionAmended, payload))

    async def revoked(self, facts: dict[str, Any], reason: str = "moved away") -> str:
        payload = {"decision_id": facts["decision_id"], "client_id": facts["client_id"], "revoked_on": "2026-11-27", "reason": reason}
        return await self.deliver(envelope(DecisionRevoked, payload))


@pytest.fixture
def decisions(voucher_service: RunningService) -> Decisions:
    return Decisions(voucher_service)


async def published(svc: RunningService, name: str | None = None) -> list[dict[str, Any]]:
    """Events the voucher service wrote to its outbox (what it publishes), oldest first."""
    outbox = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as session:
        rows = (await session.execute(select(outbox.c.event_type, outbox.c.envelope).order_by(outbox.c.seq))).all()
    out = []
    for row in rows:
        env = Envelope.model_validate_json(row.envelope)
        if name is None or row.event_type == f"ktt.voucher.{name}.v1":
            out.append({"type": row.event_type, **env.data})
    return out


async def voucher_of(svc: RunningService, decision_id: str) -> dict[str, Any]:
    r = await svc.client.get("/v1/vouchers", params={"decision_id": decision_id}, headers=svc.auth("city_official"))
    assert r.status_code == 200, r.text
    assert len(r.json()) == 1
    return r.json()[0]
