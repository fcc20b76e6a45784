"""Idempotency-Key on creates (issue 12 item 8): a retried create returns the first answer and does
nothing twice; the same key with another body is a 422 problem; keys belong to their caller; a
key is purged by the platform job after IDEMPOTENCY_RETENTION_DAYS."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from registry_builders import add_unit, apply, as_provider, official, outbox_types, unit_body


async def unit_count(svc, provider_id: str) -> int:
    from ktt_registry.models import Unit

    async with svc.rt.sessionmaker() as s:
        return int((await s.execute(select(func.count()).select_from(Unit).where(Unit.provider_id == provider_id))).scalar_one())


async def test_a_retried_create_returns_the_first_answer_and_creates_once(registry):
    svc = registry
    await apply(svc, "P1")
    h = {**as_provider(svc, "P1"), "Idempotency-Key": "unit-create-7f3a"}
    body = unit_body()
    first = await svc.client.post("/v1/providers/P1/units", json=body, headers=h)
    assert first.status_code == 201, first.text
    assert "idempotency-replayed" not in first.headers
    events = (await outbox_types(svc))["UnitChanged"]
    again = await svc.client.post("/v1/providers/P1/units", json=body, headers=h)
    assert again.status_code == 201 and again.json() == first.json(), again.text
    assert again.headers["idempotency-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await unit_count(svc, "P1") == 1
    assert (await outbox_types(svc))["UnitChanged"] == events  # no second event either

    # Without a key, a second create is a second unit, as before.
    r = await svc.client.post("/v1/providers/P1/units", json=unit_body(), headers=as_provider(svc, "P1"))
    assert r.status_code == 201, r.text
    assert await unit_count(svc, "P1") == 2


async def test_the_same_key_with_another_body_is_refused_and_keys_belong_to_their_caller(registry):
    svc = registry
    await apply(svc, "P1")
    key = {"Idempotency-Key": "k-1"}
    body = unit_body()
    assert (await svc.client.post("/v1/providers/P1/units", json=body,
                                  headers={**as_provider(svc, "P1"), **key})).status_code == 201
    r = await svc.client.post("/v1/providers/P1/units", json={**body, "name": "Toinen paja"},
                              headers={**as_provider(svc, "P1"), **key})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/idempotency-key-reused")
    assert r.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert await unit_count(svc, "P1") == 1

    # The official's same key is the official's own: a new unit, not the provider's answer replayed.
    r = await svc.client.post("/v1/providers/P1/units", json={**body, "service_producer_code": "SPC-official"},
                              headers={**official(svc), **key})
    assert r.status_code == 201 and "idempotency-replayed" not in r.headers
    assert await unit_count(svc, "P1") == 2

    # An error answer is an answer too (a 4xx is replayed), and a bad key is a 400 problem.
    bad = {**as_provider(svc, "P1"), "Idempotency-Key": "k-2"}
    first = await svc.client.post("/v1/providers/P1/units", json={"name": ""}, headers=bad)
    again = await svc.client.post("/v1/providers/P1/units", json={"name": ""}, headers=bad)
    assert first.status_code == again.status_code == 422 and first.json() == again.json()
    assert again.headers["idempotency-replayed"] == "true"
    r = await svc.client.post("/v1/providers/P1/units", json=unit_body(),
                              headers={**as_provider(svc, "P1"), "Idempotency-Key": "x" * 201})
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-idempotency-key")

    # Without a valid token nothing is kept or replayed: 401 as always.
    r = await svc.client.post("/v1/providers/P1/units", json=unit_body(), headers={"Idempotency-Key": "k-1"})
    assert r.status_code == 401


async def test_keys_are_purged_after_the_retention(registry, clock):
    svc = registry
    await apply(svc, "P1")
    await add_unit(svc, "P1")
    h = {**as_provider(svc, "P1"), "Idempotency-Key": "k-old"}
    assert (await svc.client.post("/v1/providers/P1/units", json=unit_body(), headers=h)).status_code == 201
    table = svc.rt.infra.idempotency_key

    async def keys() -> int:
        async with svc.rt.sessionmaker() as s:
            return int((await s.execute(select(func.count()).select_from(table))).scalar_one())

    assert await keys() == 1
    admin = svc.auth("admin")
    kept = await svc.client.post("/v1/admin/jobs/bus-retention/run", headers=admin)
    assert kept.status_code == 200 and await keys() == 1
    clock.advance(dt.timedelta(days=svc.rt.settings.idempotency_retention_days + 1))
    purged = await svc.client.post("/v1/admin/jobs/bus-retention/run", headers=admin)
    assert purged.status_code == 200, purged.text
    assert await keys() == 0


async def test_a_key_still_running_is_409_and_an_abandoned_one_is_taken_over(registry, clock):
    """A first request without an answer (still running, or its process died) blocks a retry with 409
    for two minutes; after that the retry runs in its place."""
    svc = registry
    await apply(svc, "P1")
    table = svc.rt.infra.idempotency_key
    body = unit_body()
    async with svc.rt.sessionmaker() as s, s.begin():
        await s.execute(table.insert().values(key="k-run", principal="provider|staff-of-P1|P1|",
                                              request="POST /v1/providers/P1/units", request_hash="0" * 64,
                                              created_at=svc.rt.clock.now()))
    h = {**as_provider(svc, "P1"), "Idempotency-Key": "k-run"}
    r = await svc.client.post("/v1/providers/P1/units", json=body, headers=h)
    assert r.status_code == 409 and r.json()["type"].endswith("/idempotency-key-in-flight")
    assert await unit_count(svc, "P1") == 0
    clock.advance(dt.timedelta(minutes=3))
    r = await svc.client.post("/v1/providers/P1/units", json=body, headers=h)
    assert r.status_code == 201, r.text
    again = await svc.client.post("/v1/providers/P1/units", json=body, headers=h)
    assert again.status_code == 201 and again.headers["idempotency-replayed"] == "true" and again.json() == r.json()
    assert await unit_count(svc, "P1") == 1
