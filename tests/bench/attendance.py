"""Daily-log ingestion benchmark (issue 8): HTTP batches of 5,000 entries -> validation ->
database -> outbox -> published on NATS, beside a bare ``unnest`` upsert of the same rows into
the same table (a fresh database of the same schema) in the same run.

Data: N agreements (default 50,000) with a Monday-Thursday schedule, and every scheduled day of
March 2027 (18 days after Easter Monday: about 900,000 entries), posted agreement by agreement
(a provider's month per client), up to 5,000 entries a batch; one entry in ``ABSENCE_EVERY`` is an
absence, so AbsenceReported and the alert rules run too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import resource
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ktt_common.clock import FrozenClock, is_public_holiday
from ktt_common.testing import DatabaseFactory, NatsServer, run_service, service_settings

BATCH = 5000
ABSENCE_EVERY = 40
MONTH_FIRST, MONTH_LAST = dt.date(2027, 3, 1), dt.date(2027, 3, 31)
SCHEDULE = [{"weekday": d, "start": "09:00", "end": "14:00"} for d in ("mon", "tue", "wed", "thu")]
AGREEMENTS_PER_PROVIDER = 5000


def _days() -> list[dt.date]:
    day, out = MONTH_FIRST, []
    while day <= MONTH_LAST:
        if day.weekday() < 4 and not is_public_holiday(day):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def _agreements(n: int) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC)
    period = [{"period_id": str(uuid.uuid4()), "seq": 1, "start": "2026-12-01", "end": "2027-11-30", "schedule": SCHEDULE,
               "goals": "routine", "evaluation_due": "2027-11-23", "schedule_from": None, "earlier_schedules": []}]
    rows = []
    for i in range(n):
        rows.append(dict(agreement_id=uuid.uuid4(), client_id=uuid.uuid4(), provider_id=f"P{i // AGREEMENTS_PER_PROVIDER}",
                         unit_id=uuid.UUID(int=i // AGREEMENTS_PER_PROVIDER + 1), voucher_id=uuid.uuid4(), decision_id=uuid.uuid4(),
                         product_id=uuid.uuid4(), product_kind="individual", form="individual", start=dt.date(2026, 12, 1),
                         end=dt.date(2027, 11, 30), periods=period, approved_hours=None, signed_on=dt.date(2026, 11, 20),
                         facts_at=now, facts_event="ktt.voucher.AgreementSigned.v1", ended_on=None, end_kind=None,
                         ended_at=None, started_on=dt.date(2026, 12, 1), updated_at=now))
    return rows


def _batches(agreements: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Batches of up to 5,000 entries, each of whole months of one provider's agreements (277 x 18 =
    4,986 entries): a provider posts its own, and two batches never share an agreement, so
    concurrent posters do not queue on each other's agreement locks."""
    days = _days()
    per_batch = BATCH // len(days)
    by_provider: dict[str, list[dict[str, Any]]] = {}
    for a in agreements:
        by_provider.setdefault(a["provider_id"], []).append(a)
    out = []
    k = 0
    for provider, mine in by_provider.items():
        for i in range(0, len(mine), per_batch):
            entries = []
            for a in mine[i:i + per_batch]:
                aid = str(a["agreement_id"])
                for d in days:
                    k += 1
                    if k % ABSENCE_EVERY == 0:
                        entries.append({"agreement_id": aid, "date": d.isoformat(), "kind": "absent", "reason": "unauthorised"})
                    else:
                        entries.append({"agreement_id": aid, "date": d.isoformat(), "kind": "present", "hours": 5,
                                        "tasks": "woodwork"})
            out.append((provider, entries))
    return out


async def _bare_upsert(url: str, agreements: list[dict[str, Any]]) -> dict[str, Any]:
    """The same rows straight into log_entry with one unnest upsert per 5,000, through asyncpg."""
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database)
    days = _days()
    now = dt.datetime.now(dt.UTC)
    sql = ('INSERT INTO log_entry (id, agreement_id, date, client_id, provider_id, unit_id, kind, minutes, tasks, realised, '
           'revision, correction, batch_id, recorded_at, recorded_by) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::date[], '
           '$4::uuid[], $5::text[], $6::uuid[], $7::text[], $8::int[], $9::text[], $10::bool[], $11::int[], $12::bool[], '
           '$13::uuid[], $14::timestamptz[], $15::text[]) ON CONFLICT (agreement_id, date) DO UPDATE SET kind = EXCLUDED.kind, '
           'minutes = EXCLUDED.minutes, tasks = EXCLUDED.tasks, realised = EXCLUDED.realised, revision = EXCLUDED.revision, '
           'batch_id = EXCLUDED.batch_id, recorded_at = EXCLUDED.recorded_at')
    # Rows are made a chunk at a time (not all 900,000 at once); only the statements are timed.
    elapsed, count = 0.0, 0
    chunk: list[tuple[Any, ...]] = []

    async def flush() -> None:
        nonlocal elapsed, count
        t0 = time.perf_counter()
        await conn.execute(sql, *[list(c) for c in zip(*chunk)])
        elapsed += time.perf_counter() - t0
        count += len(chunk)
        chunk.clear()

    try:
        for a in agreements:
            for d in days:
                chunk.append((uuid.uuid4(), a["agreement_id"], d, a["client_id"], a["provider_id"], a["unit_id"], "present",
                              300, "woodwork", True, 1, False, uuid.uuid4(), now, "bench"))
                if len(chunk) == BATCH:
                    await flush()
        if chunk:
            await flush()
    finally:
        await conn.close()
    return {"entries": count, "seconds": round(elapsed, 2), "entries_per_s": round(count / elapsed)}


async def bench_attendance(backend: str, n_agreements: int, root: Path, concurrency: int = 1) -> dict[str, Any]:
    from ktt_common import bulk
    from ktt_attendance.agreements.models import AgreementCopy
    from ktt_attendance.app import create_app

    nats = NatsServer(root / f"js-attendance-{backend}")
    nats.start()
    factory = DatabaseFactory(root)
    try:
        agreements = _agreements(n_agreements)
        bare = await _bare_upsert(await factory.create(backend, "attendance"), agreements) if backend == "postgresql" else None
        url = await factory.create(backend, "attendance")
        settings = service_settings("attendance", database_url=url, nats_url=nats.url,
                                    data_dir=root, outbox_poll_seconds=1.0, outbox_batch=1000)
        async with run_service(create_app, settings, FrozenClock(dt.date(2027, 4, 15))) as svc:
            async with svc.rt.sessionmaker() as session, session.begin():
                for i in range(0, len(agreements), BATCH):
                    await bulk.write_rows(session, AgreementCopy.__table__, agreements[i:i + BATCH])
            batches = _batches(agreements)
            bodies = [(provider, json.dumps({"entries": entries}).encode()) for provider, entries in batches]
            total = sum(len(e) for _, e in batches)
            del batches, agreements
            # The benchmark's own data (50,000 agreement dicts, the posted bodies) is long-lived:
            # freeze it, with the started service, out of the garbage collector's way, as a
            # deployed service that froze its start-up objects would be.
            gc.collect()
            gc.freeze()
            tokens = {p: svc.auth("provider", provider_id=p) for p, _ in bodies}
            latencies: list[float] = []
            queue = list(reversed(bodies))

            async def poster() -> None:
                # Each poster is one provider system sending its batches one after another.
                while queue:
                    provider, body = queue.pop()
                    t0 = time.perf_counter()
                    r = await svc.client.post("/v1/daily-log", content=body,
                                              headers={**tokens[provider], "Content-Type": "application/json"})
                    latencies.append(time.perf_counter() - t0)
                    if r.status_code != 200 or r.json()["counts"]["accepted"] != len(r.json()["results"]):
                        raise RuntimeError(f"batch failed: {r.status_code} {r.text[:500]}")

            started = time.perf_counter()
            await asyncio.gather(*[poster() for _ in range(concurrency)])
            http_elapsed = time.perf_counter() - started
            deadline = time.monotonic() + 900
            while (pending := await svc.rt.relay.pending_count()) > 0:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{pending} events still unpublished after 900 s")
                await asyncio.sleep(0.05)
            e2e_elapsed = time.perf_counter() - started
            outbox = svc.rt.infra.outbox
            async with svc.rt.sessionmaker() as session:
                events = (await session.execute(select(func.count()).select_from(outbox))).scalar_one()
        gc.unfreeze()
        latencies.sort()
        result: dict[str, Any] = {
            "backend": backend, "agreements": n_agreements, "concurrent_posters": concurrency, "entries": total, "batches": len(bodies), "events": events,
            "http_seconds": round(http_elapsed, 2), "http_entries_per_s": round(total / http_elapsed),
            "end_to_end_seconds": round(e2e_elapsed, 2), "end_to_end_entries_per_s": round(total / e2e_elapsed),
            "batch_ms_p50": round(latencies[len(latencies) // 2] * 1000, 1),
            "batch_ms_p95": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
            "peak_rss_mib_after": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        if bare:
            result["bare_unnest_upsert"] = bare
            result["share_of_bare"] = round(result["end_to_end_entries_per_s"] / bare["entries_per_s"], 3)
        return result
    finally:
        factory.cleanup()
        nats.stop()
