"""Benchmarks (``make bench``): speed and memory measured, written to ``bench-results/``, never asserted.

Runs the real services in-process on SQLite (and PostgreSQL when reachable) against a real
nats-server started for the run:

1. ``decision_push``: N decisions POSTed one after another (HTTP through ASGI, validation, hetu
   encryption, outbox write, commit): requests/s and latency percentiles.
2. ``decision_to_voucher``: from the first push until the voucher service has issued all N
   vouchers (outbox relay -> JetStream -> durable consumer -> inbox -> voucher + its own outbox).
3. ``daily_log_ingestion`` (issue 8, PostgreSQL): 50,000 agreements and a month of their days
   (about 900,000 entries) posted as 5,000-entry batches through HTTP -> validation -> database ->
   outbox -> published on NATS, beside a bare ``unnest`` upsert of the same rows into the same
   table (see ``tests/bench/attendance.py``).
4. ``settlement`` (issue 10, PostgreSQL): a national month (50,000 agreements x 18 days, a tenth
   crossing their base-value date mid-month; ``--scale`` for a share of it) settled by the real
   ``settle-month`` job, beside one hand-written SQL aggregate over the same rows (see
   ``tests/bench/billing.py``); run in a child process so that its peak memory is its own.
5. Peak resident memory of the process.

Usage: python -m tests.bench.run [--n 500] [--backend sqlite|postgresql|all] [--agreements 50000]
                                 [--only decisions|attendance|billing] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ktt_common.clock import FrozenClock
from ktt_common.testing import DatabaseFactory, NatsServer, postgres_admin_url, run_service, service_settings
from ktt_decision.app import create_app as decision_app
from ktt_voucher.app import create_app as voucher_app
from ktt_voucher.models import Voucher
from tests.helpers import decision_body

OUT = Path(__file__).resolve().parents[2] / "bench-results"
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


async def bench_backend(backend: str, n: int, root: Path) -> dict[str, Any]:
    nats = NatsServer(root / f"js-{backend}")
    nats.start()
    factory = DatabaseFactory(root)
    try:
        clock = FrozenClock(__import__("datetime").date(2026, 11, 26))
        dec = service_settings("decision", database_url=await factory.create(backend, "decision"), nats_url=nats.url,
                               data_dir=root, outbox_poll_seconds=1.0)
        vou = service_settings("voucher", database_url=await factory.create(backend, "voucher"), nats_url=nats.url,
                               data_dir=root, outbox_poll_seconds=1.0)
        async with run_service(decision_app, dec, clock) as d, run_service(voucher_app, vou, clock) as v:
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
            while (count := await issued()) < n:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {count}/{n} vouchers after 300 s")
                await asyncio.sleep(0.05)
            e2e_elapsed = time.perf_counter() - started
        return {
            "backend": backend,
            "n": n,
            "decision_push": {
                "requests_per_s": round(n / push_elapsed, 1),
                "latency_ms_p50": round(statistics.median(latencies) * 1000, 2),
                "latency_ms_p95": round(percentile(latencies, 95) * 1000, 2),
                "latency_ms_max": round(max(latencies) * 1000, 2),
            },
            "decision_to_voucher": {
                "seconds_until_all_issued": round(e2e_elapsed, 2),
                "vouchers_per_s": round(n / e2e_elapsed, 1),
            },
        }
    finally:
        factory.cleanup()
        nats.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--agreements", type=int, default=50_000, help="daily-log ingestion: agreements (x ~18 days)")
    parser.add_argument("--only", choices=["decisions", "attendance", "billing"], default=None)
    parser.add_argument("--scale", type=float, default=1.0, help="settlement: share of the national month (1.0 = 50,000 agreements)")
    parser.add_argument("--posters", type=int, default=2, help="daily-log ingestion: providers posting at the same time")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    if "postgresql" in backends and not postgres_admin_url():
        backends.remove("postgresql")
    results = []
    ingestion: dict[str, Any] | None = None
    settlement: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="ktt-bench-") as tmp:
        if args.only in (None, "decisions"):
            for backend in backends:
                results.append(asyncio.run(bench_backend(backend, args.n, Path(tmp))))
        if args.only in (None, "attendance") and "postgresql" in backends:
            from tests.bench.attendance import bench_attendance

            ingestion = asyncio.run(bench_attendance("postgresql", args.agreements, Path(tmp), args.posters))
        if args.only in (None, "billing") and "postgresql" in backends:
            out = Path(tmp) / "settlement.json"
            subprocess.run([sys.executable, "-m", "tests.bench.billing", "--scale", str(args.scale), "--json", str(out)],
                           check=True, stdout=subprocess.DEVNULL)
            settlement = json.loads(out.read_text())
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpu_count": __import__("os").cpu_count(), "platform": platform.platform()},
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "results": results,
        "daily_log_ingestion": ingestion,
        "settlement": settlement,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# Benchmarks ({report['when']})", "", f"Peak RSS of the benchmark process: {report['peak_rss_mib']} MiB", "",
             "| backend | n | pushes/s | p50 ms | p95 ms | max ms | decision→voucher s | vouchers/s |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        p, e = r["decision_push"], r["decision_to_voucher"]
        lines.append(f"| {r['backend']} | {r['n']} | {p['requests_per_s']} | {p['latency_ms_p50']} | {p['latency_ms_p95']} | "
                     f"{p['latency_ms_max']} | {e['seconds_until_all_issued']} | {e['vouchers_per_s']} |")
    if ingestion:
        bare = ingestion.get("bare_unnest_upsert") or {}
        lines += ["", "Daily-log ingestion (issue 8), PostgreSQL: HTTP batches of 5,000 -> validation -> database -> outbox -> "
                  "published on NATS", "",
                  "| agreements | posters | entries | batches | events | HTTP s | entries/s (HTTP) | end to end s | entries/s (end to end) | "
                  "batch p50 ms | batch p95 ms | bare unnest upsert entries/s | share of bare |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
                  f"| {ingestion['agreements']} | {ingestion['concurrent_posters']} | {ingestion['entries']} | {ingestion['batches']} | {ingestion['events']} | "
                  f"{ingestion['http_seconds']} | {ingestion['http_entries_per_s']} | {ingestion['end_to_end_seconds']} | "
                  f"{ingestion['end_to_end_entries_per_s']} | {ingestion['batch_ms_p50']} | {ingestion['batch_ms_p95']} | "
                  f"{bare.get('entries_per_s', '-')} | {ingestion.get('share_of_bare', '-')} |",
                  "", f"Peak RSS when the ingestion had run: {ingestion['peak_rss_mib_after']} MiB"]
    if settlement:
        st, base = settlement["settlement"], settlement["baseline_aggregate"]
        lines += ["", "Monthly settlement (issue 10), PostgreSQL: the settle-month job beside one hand-written SQL aggregate "
                  "over the same rows", "",
                  "| scale | agreements | providers | entries | crossing base date | settlements | lines | settlement s | "
                  "aggregate s | ratio (target ≤ 5) | peak RSS MiB (target < 1024) |",
                  "|---|---|---|---|---|---|---|---|---|---|---|",
                  f"| {settlement['scale']} | {settlement['agreements']} | {settlement['providers']} | {settlement['entries']} | "
                  f"{settlement['crossing_base_value_date']} | {st['settlements']} | {st['lines']} | {st['seconds']} | "
                  f"{base['seconds']} | {settlement['ratio']} | {settlement['peak_rss_mib']} |"]
    (OUT / "bench.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
