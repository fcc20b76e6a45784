"""Where a decision push goes (issue 15): the decision service in this process (ASGI, no network),
N new pushes and N replays one after another, counting per push the SQL statements the service sent
and the CPU time of this process (``time.process_time``: the service's Python work, not the database's),
and optionally a pyinstrument profile of the new pushes.

Usage: python -m tests.bench.profile_push [--backend postgresql|sqlite] [--n 300] [--profile out.html]
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
from tests.bench.cli import profile_parser, real_parts, require_backend, run_printed
from tests.bench.decisions import hetu
from tests.helpers import decision_body


async def measure(backend: str, n: int, root: Path, profile: str | None, replay_profile: str | None = None) -> dict[str, Any]:
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
        return {"backend": backend, "new": new, "replay": replay}


def main() -> None:
    parser = profile_parser(__doc__)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile", default=None, help="write a pyinstrument HTML profile of the new pushes here")
    parser.add_argument("--profile-replay", default=None, help="the same for the replays")
    args = parser.parse_args()
    require_backend(args.backend)
    run_printed(lambda root: measure(args.backend, args.n, root, args.profile, args.profile_replay), prefix="ktt-profile-")


if __name__ == "__main__":
    main()
