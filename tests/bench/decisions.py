"""Decision pipeline benchmark (issue 15): N decisions POSTed one after another (HTTP through ASGI,
validation, hetu encryption, outbox write, commit), then the time until the voucher service has issued
all N vouchers (outbox relay -> JetStream -> durable consumer -> inbox -> voucher + its own outbox).

Baseline, in the same run and through the same in-process HTTP client: N bare ``GET /healthz``
requests to the decision service (routing, middleware, auth-free JSON, no database): what a push
costs beyond the HTTP harness itself. The ratio is a push's mean time over a bare request's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ktt_common.clock import FrozenClock
from ktt_common.testing import DatabaseFactory, NatsServer, run_service, service_settings
from ktt_decision.app import create_app as decision_app
from ktt_voucher.app import create_app as voucher_app
from ktt_voucher.vouchers.models import Voucher
from tests.helpers import decision_body

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(i: int) -> str:
    """A distinct valid hetu per i (born 1980s, individual numbers 002-899)."""
    day, month, year = 1 + i % 28, 1 + (i // 28) % 12, 80 + (i // 336) % 20
    individual = 2 + (i // 6720) % 898
    digits = f"{day:02d}{month:02d}{year:02d}"
    return f"{digits}-{individual:03d}{CHECK[int(digits + f'{individual:03d}') % 31]}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def bench_decisions(backend: str, n: int, root: Path) -> dict[str, Any]:
    nats = NatsServer(root / f"js-{backend}")
    nats.start()
    factory = DatabaseFactory(root)
    try:
        clock = FrozenClock(dt.date(2026, 11, 26))
        dec = service_settings("decision", database_url=await factory.create(backend, "decision"), nats_url=nats.url,
                               data_dir=root, outbox_poll_seconds=1.0)
        vou = service_settings("voucher", database_url=await factory.create(backend, "voucher"), nats_url=nats.url,
                               data_dir=root, outbox_poll_seconds=1.0)
        async with run_service(decision_app, dec, clock) as d, run_service(voucher_app, vou, clock) as v:
            bare: list[float] = []
            for _ in range(n):
                t0 = time.perf_counter()
                r = await d.client.get("/healthz")
                bare.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise RuntimeError(f"/healthz failed: {r.status_code} {r.text}")
            headers = d.auth("integrator")
            latencies: list[float] = []
            started = time.perf_counter()
            for i in range(n):
                body = decision_body(source_id=f"BENCH-{i}")
                body["client"]["hetu"] = hetu(i)
                t0 = time.perf_counter()
                r = await d.client.post("/v1/decisions", json=body, headers=headers)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 201:
                    raise RuntimeError(f"push {i} failed: {r.status_code} {r.text}")
            push_elapsed = time.perf_counter() - started

            async def issued() -> int:
                async with v.rt.sessionmaker() as s:
                    return (await s.execute(select(func.count()).select_from(Voucher))).scalar_one()

            deadline = time.monotonic() + 300
            while (count := await issued()) < n:  # polling the outcome, not a sleep standing in for it
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {count}/{n} vouchers after 300 s")
                await asyncio.sleep(0.05)
            e2e_elapsed = time.perf_counter() - started
        return {
            "backend": backend,
            "n": n,
            "decision_push": {
                "requests_per_s": round(n / push_elapsed, 1),
                "latency_ms_mean": round(statistics.fmean(latencies) * 1000, 2),
                "latency_ms_p50": round(statistics.median(latencies) * 1000, 2),
                "latency_ms_p95": round(percentile(latencies, 95) * 1000, 2),
                "latency_ms_max": round(max(latencies) * 1000, 2),
            },
            "bare_request": {
                "requests_per_s": round(n / sum(bare), 1),
                "latency_ms_mean": round(statistics.fmean(bare) * 1000, 3),
            },
            "decision_to_voucher": {
                "seconds_until_all_issued": round(e2e_elapsed, 2),
                "vouchers_per_s": round(n / e2e_elapsed, 1),
            },
        }
    finally:
        factory.cleanup()
        nats.stop()
