"""CPU of one request in the shared HTTP layer (issue 15), the service alone: the decision service's
ASGI application is called directly (no HTTP client in the process, no server), with logging configured
as in production (JSON, through the standard library's handler, written to /dev/null). Per request kind,
the median ``time.process_time`` of N calls, one after another:

- ``healthz``: ``GET /healthz``, the HTTP layer around a trivial endpoint (context, metrics, routing);
- ``replay``: ``POST /v1/decisions`` of a version already stored, same bytes (answered from the index);
- ``new``: ``POST /v1/decisions`` of a new decision (the full path).

Usage: python -m tests.bench.profile_http [--backend postgresql|sqlite] [--n 300] [--profile-replay x.pstats]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from ktt_common.clock import FrozenClock
from ktt_common.logging import configure_logging
from ktt_common.testing import DatabaseFactory, NatsServer, run_service, service_settings

from ktt_decision.app import create_app as decision_app
from tests.bench.cli import profile_parser, require_backend
from tests.bench.decisions import hetu
from tests.helpers import decision_body


def _scope(method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw += [(b"host", b"decision"), (b"content-length", str(len(body)).encode())]
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": raw,
            "client": ("127.0.0.1", 40000), "server": ("decision", 80)}


async def call(app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
    """One request straight into the ASGI application; its status."""
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects while the app answers
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(method, path, headers, body), receive, send)
    return status


async def timed(app: Any, requests: list[tuple[str, str, dict[str, str], bytes]], expect: int) -> float:
    cpu = []
    for method, path, headers, body in requests:
        c0 = time.process_time()
        status = await call(app, method, path, headers, body)
        cpu.append(time.process_time() - c0)
        assert status == expect, status
    return round(statistics.median(cpu) * 1000, 3)


async def measure(backend: str, n: int, root: Path, replay_profile: str | None) -> dict[str, Any]:
    nats = NatsServer(root / "js")
    nats.start()
    factory = DatabaseFactory(root)
    try:
        settings = service_settings("decision", database_url=await factory.create(backend, "decision"),
                                    nats_url=nats.url, data_dir=root, log_json=True)
        async with run_service(decision_app, settings, FrozenClock(dt.date(2026, 11, 26))) as d:
            configure_logging("decision", "INFO", True, open(os.devnull, "w"))  # noqa: SIM115 - for the run
            headers = {**d.auth("integrator"), "content-type": "application/json"}
            pushes = []
            for i in range(n + 10):
                body = decision_body(source_id=f"HTTP-{i}")
                body["client"]["hetu"] = hetu(i)
                pushes.append(("POST", "/v1/decisions", headers, json.dumps(body).encode()))
            for p in pushes[:10]:  # warm-up
                assert await call(d.app, *p) == 201
            health = [("GET", "/healthz", {}, b"")] * n
            out = {"backend": backend, "n": n, "healthz_cpu_ms": await timed(d.app, health, 200),
                   "new_cpu_ms": await timed(d.app, pushes[10:], 201)}
            if replay_profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            out["replay_cpu_ms"] = await timed(d.app, pushes[10:], 200)
            if replay_profile:
                profiler.disable()
                profiler.dump_stats(replay_profile)
            out["healthz_cpu_ms_after"] = await timed(d.app, health, 200)
        return out
    finally:
        factory.cleanup()
        nats.stop()


def main() -> None:
    parser = profile_parser(__doc__)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile-replay", default=None, help="write a cProfile (.pstats) of the replays here")
    args = parser.parse_args()
    require_backend(args.backend)
    with tempfile.TemporaryDirectory(prefix="ktt-http-") as tmp:
        result = asyncio.run(measure(args.backend, args.n, Path(tmp), args.profile_replay))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
