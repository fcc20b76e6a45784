"""Benchmarks (``make bench``): every benchmark the system has, one report in ``bench-results/``
(``bench.json`` and ``bench.md``, see ``tests/bench/report.py``); speed and memory measured, never asserted.

Each benchmark runs in a child process of its own (so that its peak memory is its own; ``--quick`` runs
them in this process) against the real services and a real nats-server started for it:

1. decision pipeline (``tests/bench/decisions.py``), on SQLite and on PostgreSQL: N decisions pushed
   one after another and the time until every voucher is issued; baseline: bare ``GET /healthz``.
2. daily-log ingestion (``tests/bench/attendance.py``, issue 8): 50,000 agreements' month of days
   (about 900,000 entries) in 5,000-entry batches through HTTP -> database -> outbox -> NATS; baseline:
   a bare ``unnest`` upsert of the same rows (PostgreSQL only).
4. decision pushes at a constant rate (``tests/bench/decision_rate.py``, issue 15): the decision and
   voucher services as separate processes (as under ``make run``), an open-loop driver at 100 pushes a
   second for 60 s, then higher rates until the latency limits fail (lower ones when 100/s failed), then
   bisection to within 10/s (the sustainable rate: the highest that held), then the capacity of new
   pushes and of replays; baseline: the replays. ``--quick``: the steady run only, no search.
3. monthly settlement (``tests/bench/billing.py``, issue 10): a national month settled by the real
   ``settle-month`` job; baseline: one hand-written SQL aggregate over the same rows.

Ingestion and settlement run on PostgreSQL when it is reachable, else on SQLite, and the report then
says so in every section. ``--quick`` runs everything at toy sizes (a smoke check for the test suite:
it proves the report is produced, not any figure).

Usage: python -m tests.bench.run [--quick] [--backend sqlite|postgresql|all]
                                 [--only decisions|decision_rate|attendance|billing] [--n 500] [--rate 100]
                                 [--seconds 60] [--ramp-seconds 15] [--closed-n 1000] [--workers 1]
                                 [--agreements 50000] [--posters 2] [--scale 1.0] [--out bench-results]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ktt_common.testing import postgres_admin_url
from tests.bench import report

OUT = Path(__file__).resolve().parents[2] / "bench-results"
QUICK = {"n": 20, "agreements": 100, "scale": 0.002, "posters": 1, "rate": 5.0, "seconds": 1.0, "closed_n": 10}
NAMES = ["decisions", "decision_rate", "attendance", "billing"]
# Rates tried after the steady run, each for RAMP_SECONDS, until one fails the limits.
RAMP = [125.0, 150.0, 200.0, 250.0, 300.0, 400.0]
RAMP_SECONDS = 15.0


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM; ``ru_maxrss`` would carry a parent's peak over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def speed_gauge(rounds: int = 20_000) -> dict[str, float]:
    """The machine's speed at this moment: CPU and wall ms of a fixed piece of Python work like a service's
    (a small document to JSON and back, a keyed hash, a dict built). The host's speed varied ~3x over a day
    (docs/benchmarks.md, 2026-12-01): figures of two runs compare only beside their gauges (lower is faster)."""
    import hashlib
    import hmac

    key = b"k" * 32
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(rounds):
        doc = {"id": i, "source_id": f"EFF-2026-{i:06d}", "period": {"start": "2026-12-01", "end": "2027-11-30"}}
        text = json.dumps(doc)
        hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        {k: v for k, v in json.loads(text).items() if k != "id"}
    return {"cpu_ms": round((time.process_time() - cpu) * 1000, 1), "wall_ms": round((time.perf_counter() - wall) * 1000, 1)}


def run_async(coro: Any) -> Any:
    """Run a benchmark's coroutine on uvloop, the event loop the services run on under
    ``ktt_common.serve`` (the in-process benchmarks then measure what production runs, and the
    open-loop driver costs less CPU beside the services it measures)."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def bench_here(name: str, backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one benchmark in this process; its result with this process's peak memory so far."""
    if backend == "postgresql":
        postgres_admin_url()  # probed (with its own event loop) before the benchmark's loop starts
    with tempfile.TemporaryDirectory(prefix=f"ktt-bench-{name}-") as tmp:
        if name == "decisions":
            from tests.bench.decisions import bench_decisions

            result = run_async(bench_decisions(backend, args.n, Path(tmp)))
        elif name == "decision_rate":
            from tests.bench.decision_rate import MAX_BISECT, bench_decision_rate

            result = run_async(bench_decision_rate(
                backend, Path(tmp), rate=args.rate, seconds=args.seconds, ramp=[] if args.quick else RAMP,
                ramp_seconds=args.ramp_seconds, closed_n=args.closed_n, concurrency=2 if args.quick else 16,
                workers=args.workers, step_down=[] if args.quick else None, max_bisect=0 if args.quick else MAX_BISECT))
        elif name == "attendance":
            from tests.bench.attendance import bench_attendance

            result = run_async(bench_attendance(backend, args.agreements, Path(tmp), args.posters))
        else:
            from tests.bench import billing

            result = billing.run(args.scale, None, backend)
    result["peak_rss_mib"] = peak_rss_mib()
    return result


def bench(name: str, backend: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """One benchmark in a child process of its own (its peak memory is its own); with ``--quick`` in
    this process instead (a smoke run: each child would pay the imports and migrations again), where
    the peak memory reported is the process's so far."""
    if args.quick:
        return {**bench_here(name, backend, args), "peak_rss_is": "the whole quick run's so far (one process)"}
    out = tmp / f"{name}-{backend}.json"
    argv = ["--backend", backend, "--n", str(args.n), "--rate", str(args.rate), "--seconds", str(args.seconds),
            "--ramp-seconds", str(args.ramp_seconds), "--closed-n", str(args.closed_n),
            "--workers", str(args.workers), "--agreements", str(args.agreements), "--posters",
            str(args.posters), "--scale", str(args.scale), "--json", str(out)]
    # The services log to stdout; a failure shows on stderr and stops the run.
    subprocess.run([sys.executable, "-m", "tests.bench.run", "--child", name, *argv], check=True,
                   stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="toy sizes: a smoke check that the report is produced")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--only", choices=NAMES, default=None)
    parser.add_argument("--n", type=int, default=None, help="decision pipeline: decisions pushed (500)")
    parser.add_argument("--rate", type=float, default=None, help="decision rate: pushes a second offered (100)")
    parser.add_argument("--seconds", type=float, default=None, help="decision rate: seconds at that rate (60)")
    parser.add_argument("--ramp-seconds", type=float, default=None,
                        help="decision rate: seconds of each phase of the sustainable-rate search (15)")
    parser.add_argument("--closed-n", type=int, default=None,
                        help="decision rate: pushes of each closed-loop capacity phase, new and replay (1000)")
    parser.add_argument("--workers", type=int, default=1, help="decision rate: uvicorn workers per service (KTT_WORKERS)")
    parser.add_argument("--agreements", type=int, default=None, help="daily-log ingestion: agreements x ~18 days (50000)")
    parser.add_argument("--posters", type=int, default=None, help="daily-log ingestion: providers posting at once (2)")
    parser.add_argument("--scale", type=float, default=None, help="settlement: share of the national month (1.0)")
    parser.add_argument("--out", default=str(OUT), help="where bench.json and bench.md go")
    parser.add_argument("--child", choices=NAMES, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = {"n": 500, "agreements": 50_000, "scale": 1.0, "posters": 2, "rate": 100.0, "seconds": 60.0,
             "ramp_seconds": RAMP_SECONDS, "closed_n": 1000, **(QUICK if args.quick else {})}
    for key, value in sizes.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.child:
        Path(args.json).write_text(json.dumps(bench_here(args.child, args.backend, args), default=str) + "\n")
        return 0

    requested = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    postgresql = "postgresql" in requested and postgres_admin_url() is not None
    decision_backends = [b for b in requested if b == "sqlite" or postgresql] or ["sqlite"]
    heavy = "postgresql" if postgresql else "sqlite"
    sections: list[dict[str, Any]] = []
    gauge_before, load_before = speed_gauge(), [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="ktt-bench-") as tmp:
        if args.only in (None, "decisions"):
            for backend in decision_backends:
                sections.append(report.decision_section(bench("decisions", backend, args, Path(tmp))))
        if args.only in (None, "decision_rate"):
            sections.append(report.decision_rate_section(bench("decision_rate", heavy, args, Path(tmp))))
        if args.only in (None, "attendance"):
            sections.append(report.ingestion_section(bench("attendance", heavy, args, Path(tmp))))
        if args.only in (None, "billing"):
            sections.append(report.settlement_section(bench("billing", heavy, args, Path(tmp))))
    machine = {"python": platform.python_version(), "cpu_count": os.cpu_count(), "platform": platform.platform(),
               "speed_gauge": {"before": gauge_before, "after": speed_gauge()}, "loadavg_before": load_before}
    result = report.build(sections, when=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), machine=machine,
                          quick=args.quick, postgresql=postgresql, requested=requested)
    paths = report.write(result, Path(args.out))
    print(report.markdown(result))
    print("written: " + ", ".join(str(p) for p in paths), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
