"""Where a decision push goes (issue 15): the decision service in this process (ASGI, no network),
N new pushes and N replays one after another, counting per push the SQL statements the service sent
and the CPU time of this process (``time.process_time``: the service's Python work, not the database's),
and optionally a pyinstrument profile of the new pushes.

``--known``: then N new decisions of the same clients (known clients: each one's second decision, after the first).

``--compare-fused`` (PostgreSQL): new pushes of new clients with the client and the decision written by one
statement (B, the service's path) and by two (A: the upsert, then the decision, as for a known client),
alternating batches ABBA in this one process, so that the machine's load drifts over both alike.

Usage: python -m tests.bench.profile_push [--backend postgresql|sqlite] [--n 300] [--profile out.html]
       [--known] [--compare-fused]
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from ktt_common.clock import FrozenClock
from ktt_common.testing import run_service, service_settings

from ktt_decision.app import create_app as decision_app
import ktt_decision.decisions.service as decision_service
from tests.bench.cli import profile_parser, real_parts, require_backend, run_printed
from tests.bench.decisions import hetu
from tests.helpers import decision_body


async def fused_ab(client: Any, headers: dict[str, str], bodies: list[dict[str, Any]], rounds: int = 6) -> dict[str, Any]:
    """CPU ms of a new push, the client and decision in one statement (B) or two (A), alternating ABBA batches."""
    real = decision_service.dialect_name
    size = max(1, len(bodies) // (2 * rounds))
    cpu: dict[str, list[float]] = {"A_two_statements": [], "B_one_statement": []}
    try:
        for r in range(rounds):
            order = ("A_two_statements", "B_one_statement") if r % 2 == 0 else ("B_one_statement", "A_two_statements")
            for i, mode in enumerate(order):
                # A: the push does not see PostgreSQL where it chooses the one statement (nowhere else)
                decision_service.dialect_name = real if mode.startswith("B") else (lambda _s: "postgresql-apart")  # type: ignore[assignment]
                for body in bodies[(2 * r + i) * size:(2 * r + i + 1) * size]:
                    c0 = time.process_time()
                    reply = await client.post("/v1/decisions", json=body, headers=headers)
                    cpu[mode].append(time.process_time() - c0)
                    assert reply.status_code == 201, reply.text
    finally:
        decision_service.dialect_name = real  # type: ignore[assignment]
    return {f"new_cpu_ms_{mode}": round(statistics.median(v) * 1000, 3) for mode, v in cpu.items()}


async def measure(backend: str, n: int, root: Path, profile: str | None, replay_profile: str | None = None,
                  compare_fused: bool = False, known: bool = False) -> dict[str, Any]:
    with real_parts(root) as (nats, factory):
        settings = service_settings("decision", database_url=await factory.create(backend, "decision"),
                                    nats_url=nats.url, data_dir=root, log_json=True)
        async with run_service(decision_app, settings, FrozenClock(dt.date(2026, 11, 26))) as d:
            statements: list[str] = []

            def count(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
                statements.append(sql.split(None, 1)[0].upper())

            event.listen(d.rt.engine.sync_engine, "before_cursor_execute", count)
            headers = d.auth("integrator")
            bodies = []
            for i in range(n + 10):
                body = decision_body(source_id=f"PROF-{i}")
                body["client"]["hetu"] = hetu(i)
                bodies.append(body)
            for body in bodies[:10]:  # warm-up
                assert (await d.client.post("/v1/decisions", json=body, headers=headers)).status_code == 201

            async def run(batch: list[dict[str, Any]], expect: int) -> dict[str, Any]:
                statements.clear()
                cpu, wall = [], []
                for body in batch:
                    c0, w0 = time.process_time(), time.perf_counter()
                    r = await d.client.post("/v1/decisions", json=body, headers=headers)
                    cpu.append(time.process_time() - c0)
                    wall.append(time.perf_counter() - w0)
                    assert r.status_code == expect, r.text
                kinds: dict[str, int] = {}
                for s in statements:
                    kinds[s] = kinds.get(s, 0) + 1
                return {"n": len(batch), "cpu_ms_mean": round(statistics.fmean(cpu) * 1000, 2),
                        "cpu_ms_median": round(statistics.median(cpu) * 1000, 2),
                        "wall_ms_median": round(statistics.median(wall) * 1000, 2),
                        "statements_per_push": round(len(statements) / len(batch), 2),
                        "statement_kinds_per_push": {k: round(v / len(batch), 2) for k, v in sorted(kinds.items())}}

            async def profiled(batch: list[dict[str, Any]], expect: int, out: str | None) -> dict[str, Any]:
                if not out:
                    return await run(batch, expect)
                if out.endswith(".pstats"):  # cProfile: CPU by function (pyinstrument's is wall time)
                    import cProfile

                    cprofiler = cProfile.Profile()
                    cprofiler.enable()
                    try:
                        return await run(batch, expect)
                    finally:
                        cprofiler.disable()
                        cprofiler.dump_stats(out)
                from pyinstrument import Profiler

                profiler = Profiler(async_mode="enabled", interval=0.0005)
                profiler.start()
                try:
                    return await run(batch, expect)
                finally:
                    profiler.stop()
                    Path(out).write_text(profiler.output_html())
                    print(profiler.output_text(unicode=False, color=False, show_all=False))

            new = await profiled(bodies[10:], 201, profile)
            replay = await profiled(bodies[10:], 200, replay_profile)
            out: dict[str, Any] = {"backend": backend, "new": new, "replay": replay}
            if known:  # each client's second decision, after the first (DEC-4: no overlap, justified past 12 months)
                out["known"] = await run([{**body, "source_id": f"{body['source_id']}-2",
                                           "period": {"start": "2027-12-01", "end": "2028-05-31"},
                                           "extension_justification": "Jatko parantaa työkykyä."}
                                          for body in bodies[10:]], 201)
            if compare_fused:
                fresh = []
                for i in range(n + 10, 2 * n + 10):  # other people: a new client and decision each
                    body = decision_body(source_id=f"PROF-{i}")
                    body["client"]["hetu"] = hetu(i)
                    fresh.append(body)
                out["fused"] = await fused_ab(d.client, headers, fresh)
        return out


def main() -> None:
    parser = profile_parser(__doc__)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile", default=None, help="write a pyinstrument HTML profile of the new pushes here")
    parser.add_argument("--profile-replay", default=None, help="the same for the replays")
    parser.add_argument("--known", action="store_true", help="also N second decisions of the same (known) clients")
    parser.add_argument("--compare-fused", action="store_true",
                        help="also new pushes with the client and decision in one statement and in two, alternating")
    args = parser.parse_args()
    require_backend(args.backend)
    run_printed(lambda root: measure(args.backend, args.n, root, args.profile, args.profile_replay,
                                             args.compare_fused, args.known), prefix="ktt-profile-")


if __name__ == "__main__":
    main()
