"""Where a daily-log batch goes (issue 8): the attendance service in this process (ASGI, no
network), a real nats-server and PostgreSQL (or SQLite), the benchmark's data
(``tests/bench/attendance.py``) posted one batch after another by one poster, and per batch the
median wall and CPU time (``time.process_time``: this process's Python work, not the database's) between
the boundaries of its phases: parsing, loading the state, the rules, the upsert, the results, the
events and outbox, the alert rules, the batch row and audit, the JSON answer and the commit.
Optionally a pyinstrument profile of the whole posting.

The boundaries are taken by wrapping the service's functions (``parsing.parse_batch``,
``service._load_state``, ``writing.write``, ``writing.publish``, ``alerts.after_batch``,
``service._alert_timelines``, ``alerts.raise_due``, ``service.audit``, ``service.post_batch``, those
that exist); what runs between two of them is named by the pair.
The relay runs in the same process (as in the benchmark's first service process): its work on
earlier batches' events interleaves with the awaits of the later ones and is counted there; with
``--no-relay`` it is stopped first and the figures are the batch's own.

Usage: python -m tests.bench.profile_ingest [--backend postgresql|sqlite] [--agreements 5000]
                                            [--skip 2] [--no-relay] [--profile out.html|out.prof]
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import itertools
import json
import os
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ktt_common import bulk
from ktt_common.clock import FrozenClock
from ktt_common.testing import DatabaseFactory, NatsServer, run_service

from tests.bench.attendance import BATCH, TODAY, _agreements, _batches, _settings
from tests.bench.cli import profile_parser, require_backend
from tests.bench.run import peak_rss_mib

Marks = list[tuple[str, float, float]]
_TICK = os.sysconf("SC_CLK_TCK")


def _process_cpu_s(pid: int) -> float | None:
    """user + system CPU seconds of a process (/proc/<pid>/stat), None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def _machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy (every core, /proc/stat), for the share of other work."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / _TICK  # all but idle and iowait


async def _backend_cpu(svc: Any) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the service's database (its pool's
    connections: the service's statements' own work, not the server's background writers)."""
    from sqlalchemy import text

    async with svc.rt.sessionmaker() as session:
        pids = (await session.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))).scalars()
        return {pid: cpu for pid in pids if (cpu := _process_cpu_s(pid)) is not None}


def _wrap(module: Any, name: str, marks: Marks) -> Callable[[], None]:
    """Mark the start and the end of every call of ``module.name``; returns the undo."""
    original = getattr(module, name)

    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        marks.append((f"{name}>", time.perf_counter(), time.process_time()))
        try:
            return await original(*args, **kwargs)
        finally:
            marks.append((f"{name}<", time.perf_counter(), time.process_time()))

    def sync_wrapped(*args: Any, **kwargs: Any) -> Any:
        marks.append((f"{name}>", time.perf_counter(), time.process_time()))
        try:
            return original(*args, **kwargs)
        finally:
            marks.append((f"{name}<", time.perf_counter(), time.process_time()))

    setattr(module, name, wrapped if asyncio.iscoroutinefunction(original) else sync_wrapped)
    return lambda: setattr(module, name, original)


async def measure(backend: str, n_agreements: int, root: Path, skip: int, relay: bool, profile: str | None) -> dict[str, Any]:
    from ktt_attendance.agreements.models import AgreementCopy
    from ktt_attendance.alerts import service as alerts
    from ktt_attendance.app import create_app
    from ktt_attendance.log import parsing, service, writing

    nats = NatsServer(root / "js")
    nats.start()
    factory = DatabaseFactory(root)
    undo: list[Callable[[], None]] = []
    try:
        url = await factory.create(backend, "attendance")
        async with run_service(create_app, _settings(url, nats.url, root), FrozenClock(TODAY)) as svc:
            agreements = _agreements(n_agreements)
            async with svc.rt.sessionmaker() as session, session.begin():
                for i in range(0, len(agreements), BATCH):
                    await bulk.write_rows(session, AgreementCopy.__table__, agreements[i:i + BATCH])
            bodies = [(p, json.dumps({"entries": e}).encode(), len(e)) for p, e in _batches(agreements)]
            if not relay:
                svc.rt.relay.stop()
            marks: Marks = []
            for module, name in ((parsing, "parse_batch"), (service, "post_batch"), (service, "_load_state"), (writing, "write"), (writing, "publish"),
                                 (alerts, "after_batch"), (service, "_alert_timelines"), (alerts, "raise_due"), (service, "audit")):
                if hasattr(module, name):
                    undo.append(_wrap(module, name, marks))
            tokens = {p: svc.auth("provider", provider_id=p) for p, _, _ in bodies}
            phases: dict[str, list[tuple[float, float]]] = defaultdict(list)
            totals: list[tuple[float, float]] = []
            profiler: Any = None
            if profile and profile.endswith(".prof"):
                profiler = cProfile.Profile()
            elif profile:
                from pyinstrument import Profiler

                profiler = Profiler(async_mode="disabled", interval=0.001)  # where the CPU goes: waits show as select
            # As in the benchmark: the long-lived data (agreements, bodies) and the started service
            # out of the garbage collector's way.
            gc.collect()
            gc.freeze()
            gc_time = [0.0, 0.0]  # seconds in the garbage collector, collections (of the counted batches)
            gc_by_generation = [0.0, 0.0, 0.0]
            gc_by_phase: dict[str, float] = defaultdict(float)  # by the last boundary passed
            gc_started = [0.0]

            def gc_callback(phase: str, info: dict[str, Any]) -> None:
                if phase == "start":
                    gc_started[0] = time.perf_counter()
                else:
                    gc_time[0] += time.perf_counter() - gc_started[0]
                    gc_time[1] += 1
                    gc_by_generation[info["generation"]] += time.perf_counter() - gc_started[0]
                    gc_by_phase[marks[-1][0] if marks else "?"] += time.perf_counter() - gc_started[0]

            entries = 0
            pg_before: dict[int, float] = {}
            busy_before = own_before = 0.0
            for k, (provider, body, count) in enumerate(bodies):
                if k == skip:
                    gc.callbacks.append(gc_callback)
                    pg_before = await _backend_cpu(svc) if backend == "postgresql" else {}
                    busy_before, own_before = _machine_busy_s(), time.process_time()
                if k == skip and profiler is not None:
                    profiler.enable() if isinstance(profiler, cProfile.Profile) else profiler.start()
                marks.clear()
                marks.append(("request>", time.perf_counter(), time.process_time()))
                r = await svc.client.post("/v1/daily-log", content=body,
                                          headers={**tokens[provider], "Content-Type": "application/json"})
                marks.append(("request<", time.perf_counter(), time.process_time()))
                if r.status_code != 200 or r.json()["counts"]["accepted"] != count:
                    raise RuntimeError(f"batch failed: {r.status_code} {r.text[:500]}")
                if k < skip:
                    continue
                entries += count
                for (a, wa, ca), (b, wb, cb) in itertools.pairwise(marks):
                    phases[f"{a} .. {b}"].append(((wb - wa) * 1000, (cb - ca) * 1000))
                totals.append(((marks[-1][1] - marks[0][1]) * 1000, (marks[-1][2] - marks[0][2]) * 1000))
            gc.callbacks.remove(gc_callback)
            busy = _machine_busy_s() - busy_before
            own = time.process_time() - own_before
            pg_after = await _backend_cpu(svc) if backend == "postgresql" else {}
            pg_cpu = sum(cpu - pg_before.get(pid, 0.0) for pid, cpu in pg_after.items())
            if isinstance(profiler, cProfile.Profile):
                profiler.disable()
                profiler.dump_stats(str(profile))
            elif profiler is not None:
                profiler.stop()
                Path(str(profile)).write_text(profiler.output_html())
                print(profiler.output_text(unicode=False, color=False, show_all=False))
            gc.unfreeze()
        order = list(phases)
        return {
            "backend": backend, "agreements": n_agreements, "batches": len(totals), "entries": entries, "relay": relay,
            # Medians: the machine is shared, and a batch that waited for the CPU should not move the figure.
            "phases_ms_wall_cpu": {name: (round(statistics.median(w for w, _ in phases[name]), 1),
                                          round(statistics.median(c for _, c in phases[name]), 1)) for name in order},
            "batch_ms_wall_cpu": (round(statistics.median(w for w, _ in totals), 1),
                                  round(statistics.median(c for _, c in totals), 1)),
            "entries_per_s_sequential": round(entries / (sum(w for w, _ in totals) / 1000)),
            # Means over the counted batches (CPU ms a batch): this process, the service's PostgreSQL
            # backends, and the whole machine (other work on it included).
            "cpu_ms_per_batch": {"process": round(own * 1000 / len(totals), 1), "postgresql_backends": round(pg_cpu * 1000 / len(totals), 1),
                                 "machine": round(busy * 1000 / len(totals), 1)},
            "gc_ms_per_batch": round(gc_time[0] * 1000 / len(totals), 1), "gc_collections_per_batch": round(gc_time[1] / len(totals), 1),
            "gc_ms_per_batch_by_generation": [round(t * 1000 / len(totals), 1) for t in gc_by_generation],
            "gc_ms_per_batch_after": {k: round(t * 1000 / len(totals), 1) for k, t in gc_by_phase.items()},
        }
    finally:
        for u in reversed(undo):
            u()
        factory.cleanup()
        nats.stop()


def main() -> None:
    parser = profile_parser(__doc__)
    parser.add_argument("--agreements", type=int, default=5000)
    parser.add_argument("--skip", type=int, default=2, help="batches posted first and not counted (warm-up)")
    parser.add_argument("--no-relay", action="store_true", help="stop the outbox relay first (the batch's own time only)")
    parser.add_argument("--profile", default=None, help="write a profile of the counted batches here: cProfile stats when the name ends in .prof, "
                        "else pyinstrument HTML")
    args = parser.parse_args()
    require_backend(args.backend)
    with tempfile.TemporaryDirectory(prefix="ktt-profile-ingest-") as tmp:
        result = asyncio.run(measure(args.backend, args.agreements, Path(tmp), args.skip, not args.no_relay, args.profile))
    print(f"{result['batches']} batches, {result['entries']} entries, relay {'on' if result['relay'] else 'off'}; "
          f"median ms a batch (wall / CPU of this process):")
    for name, (wall, cpu) in result["phases_ms_wall_cpu"].items():
        print(f"  {name:45s} {wall:8.1f} {cpu:8.1f}")
    wall, cpu = result["batch_ms_wall_cpu"]
    print(f"  {'whole request (its own median)':45s} {wall:8.1f} {cpu:8.1f}")
    print(f"  {'of which in the garbage collector':45s} {result['gc_ms_per_batch']:8.1f}"
          f"  ({result['gc_collections_per_batch']} collections; ms by generation {result['gc_ms_per_batch_by_generation']})")
    print(f"  garbage collector ms, by the boundary last passed: {result['gc_ms_per_batch_after']}")
    cpu_ms = result["cpu_ms_per_batch"]
    print(f"CPU ms a batch (means): this process {cpu_ms['process']}, the service's PostgreSQL backends "
          f"{cpu_ms['postgresql_backends']}, the whole machine {cpu_ms['machine']}")
    print(f"entries/s, one batch after another: {result['entries_per_s_sequential']}")
    print(f"peak RSS of this process: {peak_rss_mib()} MiB")


if __name__ == "__main__":
    main()
