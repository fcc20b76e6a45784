"""A test-only service, ``probe``, that publishes and consumes its own event.

Its handler can be told to fail, so the tests can drive retries, parking and replay through
the real bus, a real nats-server and a real database.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import Column, Integer, String, Table, Uuid, insert
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.app import create_service_app
from ktt_common.db import new_metadata
from ktt_common.events import Envelope, EventType
from ktt_common.inbox import Subscription
from ktt_common.infra import define_infra_tables
from ktt_common.jobs import JobRegistry
from ktt_common.runtime import ServiceSpec
from ktt_common.testing import TEST_EVENT_TYPES

metadata = new_metadata()
INFRA = define_infra_tables(metadata)
effects = Table(
    "probe_effect", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(100), nullable=False),
    Column("item", Uuid, nullable=False),
)


class ProbePayload(BaseModel):
    item: uuid.UUID
    note: str = ""


ProbeHappened = EventType("probe", "ProbeHappened", 1, ProbePayload, "test-only event")
TEST_EVENT_TYPES.append(ProbeHappened)  # so the suite's AsyncAPI check knows its payload


class Switch:
    failing = False
    calls = 0  # events the handlers ran for (one by one or in batches)
    batches = 0  # calls of the batch handler
    failing_items: "set[uuid.UUID]" = set()  # events whose handling fails (one by one or in a batch)
    gate: "asyncio.Event | None" = None  # when set, the handler waits for it (a long handler)


switch = Switch()
subscription = Subscription(producer="probe")


@subscription.on(ProbeHappened)
async def on_probe(session: AsyncSession, envelope: Envelope, payload: ProbePayload) -> None:
    switch.calls += 1
    if switch.gate is not None:
        await switch.gate.wait()
    await session.execute(insert(effects).values(event_id=envelope.id, item=payload.item))
    if switch.failing or payload.item in switch.failing_items:
        raise RuntimeError("probe handler told to fail")


@subscription.on_batch(ProbeHappened)
async def on_probes(session: AsyncSession, batch: list[tuple[Envelope, ProbePayload]]) -> None:
    """The set-based form: one statement for the run (issue 15)."""
    switch.calls += len(batch)
    switch.batches += 1
    if switch.gate is not None:
        await switch.gate.wait()
    await session.execute(insert(effects), [{"event_id": env.id, "item": payload.item} for env, payload in batch])
    if switch.failing or any(payload.item in switch.failing_items for _, payload in batch):
        raise RuntimeError("probe handler told to fail")


jobs = JobRegistry()


@jobs.job("count-effects", "Counts probe effects for the date (idempotent: it changes nothing)")
async def count_effects(session: AsyncSession, run_date):  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    return {"effects": (await session.execute(select(func.count()).select_from(effects))).scalar_one(),
            "date": run_date.isoformat()}


SPEC = ServiceSpec(
    name="probe", title="probe", description="test-only", metadata=metadata, infra=INFRA,
    migrations_dir=Path("."), subscriptions=[subscription], jobs=jobs,
)


def create_app(settings=None, clock=None, **kwargs):  # type: ignore[no-untyped-def]
    return create_service_app(SPEC, settings, clock=clock, **kwargs)
