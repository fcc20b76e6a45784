"""Daily-log ingestion benchmark (issue 8): HTTP batches of 5,000 entries -> validation ->
database -> outbox -> published on NATS, beside a bare ``unnest`` upsert of the same rows into
the same table (a fresh database of the same schema) in the same run.

Data: N agreements (default 50,000) with a Monday-Thursday schedule, and every scheduled day of
March 2027 (18 days after Easter Monday: about 900,000 entries), posted agreement by agreement
(a provider's month per client), up to 5,000 entries a batch; one entry in ``ABSENCE_EVERY`` is an
absence, so AbsenceReported and the alert rules run too.

The posters are spread over service processes (``replica_count``: one per poster up to the CPU
count, or ``KTT_BENCH_REPLICAS``), each a replica of the attendance service on the same database
and NATS, as several uvicorn workers would be; each replica's relay publishes what it can claim.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import multiprocessing
import os
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


TODAY = dt.date(2027, 4, 15)
# Service processes (replicas of the attendance service on the same database and NATS, as
# several uvicorn workers or pods would be); default: one per poster, at most one per CPU.
REPLICAS_ENV = "KTT_BENCH_REPLICAS"


def replica_count(posters: int) -> int:
    configured = os.environ.get(REPLICAS_ENV)
    if configured:
        return max(1, int(configured))
    return max(1, min(posters, os.cpu_count() or 1))


def _settings(url: str, nats_url: str, root: Path) -> Any:
    return service_settings("attendance", database_url=url, nats_url=nats_url, data_dir=root,
                            outbox_poll_seconds=1.0, outbox_batch=1000)


async def _post_all(svc: Any, bodies: list[tuple[str, bytes]], posters: int, latencies: list[float]) -> None:
    """``posters`` provider systems at once, each sending batches one after another."""
    tokens = {p: svc.auth("provider", provider_id=p) for p, _ in bodies}
    queue = list(reversed(bodies))

    async def poster() -> None:
        while queue:
            provider, body = queue.pop()
            t0 = time.perf_counter()
            r = await svc.client.post("/v1/daily-log", content=body,
                                      headers={**tokens[provider], "Content-Type": "application/json"})
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200 or r.json()["counts"]["accepted"] != len(r.json()["results"]):
                raise RuntimeError(f"batch failed: {r.status_code} {r.text[:500]}")

    await asyncio.gather(*[poster() for _ in range(max(1, posters))])


def _peak_rss_mib() -> float:
    """This process's peak resident memory: VmHWM (ru_maxrss of a spawned child can be its
    parent's, as it survives fork and exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _replica_main(url: str, nats_url: str, root: str, bodies: list[tuple[str, bytes]], posters: int,
                  ready: Any, go: Any, stop: Any, results: Any) -> None:
    """A further service process: starts the service, says ready, posts its share of the
    batches when told, reports its latencies, and keeps its relay running until told to stop."""
    asyncio.run(_replica(url, nats_url, Path(root), bodies, posters, ready, go, stop, results))


async def _replica(url: str, nats_url: str, root: Path, bodies: list[tuple[str, bytes]], posters: int,
                   ready: Any, go: Any, stop: Any, results: Any) -> None:
    from ktt_attendance.app import create_app

    async with run_service(create_app, _settings(url, nats_url, root), FrozenClock(TODAY)) as svc:
        gc.collect()
        gc.freeze()
        ready.set()
        await asyncio.to_thread(go.wait)
        latencies: list[float] = []
        try:
            await _post_all(svc, bodies, posters, latencies)
            results.put(("ok", latencies, _peak_rss_mib()))
        except Exception as exc:  # reported to the parent, which fails the run
            results.put(("error", repr(exc)[:1000], 0.0))
        await asyncio.to_thread(stop.wait)


async def bench_attendance(backend: str, n_agreements: int, root: Path, concurrency: int = 1) -> dict[str, Any]:
    """``concurrency`` posters spread over ``replica_count`` service processes (this one and
    spawned children): batch i goes to replica i mod R. Timing starts when every replica is up."""
    from ktt_common import bulk

    from ktt_attendance.agreements.models import AgreementCopy
    from ktt_attendance.app import create_app

    nats = NatsServer(root / f"js-attendance-{backend}")
    nats.start()
    factory = DatabaseFactory(root)
    replicas = replica_count(concurrency)
    ctx = multiprocessing.get_context("spawn")
    ready = [ctx.Event() for _ in range(replicas - 1)]
    go, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
    children: list[Any] = []
    try:
        agreements = _agreements(n_agreements)
        bare = await _bare_upsert(await factory.create(backend, "attendance"), agreements) if backend == "postgresql" else None
        url = await factory.create(backend, "attendance")
        async with run_service(create_app, _settings(url, nats.url, root), FrozenClock(TODAY)) as svc:
            async with svc.rt.sessionmaker() as session, session.begin():
                for i in range(0, len(agreements), BATCH):
                    await bulk.write_rows(session, AgreementCopy.__table__, agreements[i:i + BATCH])
            batches = _batches(agreements)
            bodies = [(provider, json.dumps({"entries": entries}).encode()) for provider, entries in batches]
            total = sum(len(e) for _, e in batches)
            del batches, agreements
            shares = [bodies[i::replicas] for i in range(replicas)]
            posters = [concurrency // replicas + (1 if i < concurrency % replicas else 0) for i in range(replicas)]
            for i in range(1, replicas):
                child = ctx.Process(target=_replica_main, args=(url, nats.url, str(root), shares[i], posters[i],
                                                                ready[i - 1], go, stop, results), daemon=True)
                child.start()
                children.append(child)
            for event in ready:
                if not await asyncio.to_thread(event.wait, 180):
                    raise RuntimeError("a service replica did not start within 180 s")
            # The benchmark's own data (50,000 agreement dicts, the posted bodies) is long-lived:
            # freeze it, with the started service, out of the garbage collector's way, as a
            # deployed service that froze its start-up objects would be.
            gc.collect()
            gc.freeze()
            latencies: list[float] = []
            started = time.perf_counter()
            go.set()
            await _post_all(svc, shares[0], posters[0], latencies)
            peaks = [_peak_rss_mib()]
            for _ in children:
                status, data, peak = await asyncio.to_thread(results.get, True, 900)
                if status != "ok":
                    raise RuntimeError(f"a service replica failed: {data}")
                latencies.extend(data)
                peaks.append(peak)
            http_elapsed = time.perf_counter() - started
            deadline = time.monotonic() + 900
            while (pending := await svc.rt.relay.pending_count()) > 0:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{pending} events still unpublished after 900 s")
                await asyncio.sleep(0.05)
            e2e_elapsed = time.perf_counter() - started
            stop.set()
            outbox = svc.rt.infra.outbox
            async with svc.rt.sessionmaker() as session:
                events = (await session.execute(select(func.count()).select_from(outbox))).scalar_one()
        gc.unfreeze()
        latencies.sort()
        result: dict[str, Any] = {
            "backend": backend, "agreements": n_agreements, "concurrent_posters": concurrency, "service_processes": replicas,
            "entries": total, "batches": len(bodies), "events": events,
            "http_seconds": round(http_elapsed, 2), "http_entries_per_s": round(total / http_elapsed),
            "end_to_end_seconds": round(e2e_elapsed, 2), "end_to_end_entries_per_s": round(total / e2e_elapsed),
            "batch_ms_p50": round(latencies[len(latencies) // 2] * 1000, 1),
            "batch_ms_p95": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
            # This process (it also holds every request body); each further replica's own peak.
            "peak_rss_mib_after": _peak_rss_mib(),
            "peak_rss_mib_per_process": peaks,
        }
        if bare:
            result["bare_unnest_upsert"] = bare
            result["share_of_bare"] = round(result["end_to_end_entries_per_s"] / bare["entries_per_s"], 3)
        return result
    finally:
        stop.set()
        for child in children:
            child.join(30)
            if child.is_alive():
                child.terminate()
        factory.cleanup()
        nats.stop()
