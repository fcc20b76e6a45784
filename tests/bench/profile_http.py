"""CPU of one request in the shared HTTP layer (issue 15), the service alone: the decision service's
ASGI application is called directly (no HTTP client in the process, no server), with logging configured
as in production (JSON, through the standard library's handler, written to /dev/null) and the background
tasks (relay, consumers) off. Per request kind, the median ``time.process_time`` of N calls, one after another:

- ``healthz``: ``GET /healthz``, the HTTP layer around a trivial endpoint (context, metrics, routing);
- ``replay``: ``POST /v1/decisions`` of a version already stored, same bytes (answered from the index);
- ``new``: ``POST /v1/decisions`` of a new decision (the full path).

``--compare-early``: replays and new pushes with the request context's early answer off and on, alternating
batches in one process (robust against the load of a shared machine).

Usage: python -m tests.bench.profile_http [--backend postgresql|sqlite] [--n 300] [--profile-replay x.pstats]
       [--profile-new x.pstats] [--compare-early]
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import datetime as dt
import json
import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ktt_common.clock import FrozenClock
from ktt_common.logging import configure_logging
from ktt_common.testing import run_service, service_settings

from ktt_decision.app import create_app as decision_app
from tests.bench.cli import profile_parser, real_parts, require_backend, run_printed
from tests.bench.decisions import hetu
from tests.helpers import decision_body

Request = tuple[str, str, dict[str, str], bytes]  # method, path, headers, body


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


async def cpu_times(app: Any, requests: list[tuple[str, str, dict[str, str], bytes]], expect: int) -> list[float]:
    cpu = []
    for method, path, headers, body in requests:
        c0 = time.process_time()
        status = await call(app, method, path, headers, body)
        cpu.append(time.process_time() - c0)
        assert status == expect, status
    return cpu


async def timed(app: Any, requests: list[tuple[str, str, dict[str, str], bytes]], expect: int) -> float:
    return round(statistics.median(await cpu_times(app, requests, expect)) * 1000, 3)


def request_context(app: Any) -> Any:
    """The app's RequestContext middleware (built with the app's middleware stack on its first request)."""
    layer = app.middleware_stack
    while layer is not None and type(layer).__name__ != "RequestContext":
        layer = getattr(layer, "app", None)
    return layer


async def early_ab(app: Any, replays: list[Request], fresh: list[Request], rounds: int) -> dict[str, Any]:
    """Replays and new pushes with the request context's early answer off (A: the route looks, after
    routing) and on (B), alternating batches in this one process, so that the machine's load drifts over
    both alike."""
    ctx = request_context(app)
    learnt = dict(getattr(ctx, "early", None) or {})
    if not learnt:  # a version without the early answer
        return {}
    cpu: dict[str, list[float]] = {}
    for kind, requests, expect in (("replay", replays, 200), ("new", fresh, 201)):
        size = max(1, len(requests) // (2 * rounds))
        for r in range(rounds):
            order = ("A_routed", "B_early") if r % 2 == 0 else ("B_early", "A_routed")  # ABBA: no side always second
            for i, mode in enumerate(order):
                ctx.early = dict(learnt) if mode == "B_early" else _Forgetful()
                batch = requests[(2 * r + i) * size:(2 * r + i + 1) * size]
                cpu.setdefault(f"{kind}_cpu_ms_{mode}", []).extend(await cpu_times(app, batch, expect))
    ctx.early = learnt
    return {key: round(statistics.median(v) * 1000, 3) for key, v in cpu.items()}


class _Forgetful(dict):  # type: ignore[type-arg]
    """An early-answer table that learns nothing (the route is never offered a request early)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


@contextlib.contextmanager
def profiled(out: str | None) -> Iterator[None]:
    """cProfile the block into ``out`` (.pstats) with the process's CPU clock (its default is wall time)."""
    if not out:
        yield
        return
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(out)


async def measure(backend: str, n: int, root: Path, replay_profile: str | None,
                  compare_early: bool = False, new_profile: str | None = None,
                  log_stream: Any = None) -> dict[str, Any]:
    with real_parts(root) as (nats, factory):
        settings = service_settings("decision", database_url=await factory.create(backend, "decision"),
                                    nats_url=nats.url, data_dir=root, log_json=True, run_background=False)
        # No relay, consumers or bus: their wake-ups (several a second) would land in the requests' CPU time.
        async with run_service(decision_app, settings, FrozenClock(dt.date(2026, 11, 26))) as d:
            configure_logging("decision", "INFO", True, log_stream)
            headers = {**d.auth("integrator"), "content-type": "application/json"}
            pushes = []
            for i in range(n + 10):
                body = decision_body(source_id=f"HTTP-{i}")
                body["client"]["hetu"] = hetu(i)
                pushes.append(("POST", "/v1/decisions", headers, json.dumps(body).encode()))
            for p in pushes[:10]:  # warm-up
                assert await call(d.app, *p) == 201
            health = [("GET", "/healthz", {}, b"")] * n
            out = {"backend": backend, "n": n, "healthz_cpu_ms": await timed(d.app, health, 200)}
            with profiled(new_profile):
                out["new_cpu_ms"] = await timed(d.app, pushes[10:], 201)
            with profiled(replay_profile):
                out["replay_cpu_ms"] = await timed(d.app, pushes[10:], 200)
            out["healthz_cpu_ms_after"] = await timed(d.app, health, 200)
            if compare_early:
                fresh = []
                for i in range(n + 10, 2 * n + 10):  # other people: a decision each, none overlapping
                    body = decision_body(source_id=f"HTTP-{i}")
                    body["client"]["hetu"] = hetu(i)
                    fresh.append(("POST", "/v1/decisions", headers, json.dumps(body).encode()))
                out |= await early_ab(d.app, pushes[10:], fresh, rounds=5)
        return out


def main() -> None:
    parser = profile_parser(__doc__)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile-replay", default=None, help="write a cProfile (.pstats) of the replays here")
    parser.add_argument("--profile-new", default=None, help="write a cProfile (.pstats) of the new pushes here")
    parser.add_argument("--compare-early", action="store_true",
                        help="also replays with the early answer off and on, alternating batches (when the app has it)")
    args = parser.parse_args()
    require_backend(args.backend)
    with open(os.devnull, "w") as devnull:
        run_printed(lambda root: measure(args.backend, args.n, root, args.profile_replay, args.compare_early,
                                         args.profile_new, devnull), prefix="ktt-http-", indent=None)


if __name__ == "__main__":
    main()
