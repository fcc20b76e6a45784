"""Decision pushes at a constant rate (issue 15), with the services as ``make run`` runs them: the
decision and voucher services each a separate ``python -m ktt_common.serve`` process (uvicorn, real
HTTP, ``KTT_WORKERS`` workers each), a real nats-server, their own databases.

The driver (this process) is *open-loop*: push i is started at ``t0 + i / rate`` whatever the earlier
pushes are doing (asyncio, as many in flight as that takes), so a slow service shows as latency, not as
a lower offered rate. For each push it records:

- push latency: from the moment the push was due to its 201 (queueing in the driver counts);
- push -> voucher readable: from the moment the push was due until ``VoucherIssued`` for its decision
  arrives on a core NATS subscription (the voucher service publishes it from its outbox after the
  commit that made the voucher, so the voucher is readable by then).

Phases: a warm-up; the steady run (``rate`` a second for ``duration`` seconds: the target is 100/s for
60 s with p99 push <= 100 ms, p99 push -> voucher <= 500 ms, no errors); then the search for the
*sustainable rate* (the highest rate that met those limits), in short steps: up a ramp of higher rates
until one fails (or, when the steady rate failed, down until one holds), then bisection between the
highest rate that held and the lowest that failed until they are ``resolution`` apart (10/s; at most
``max_bisect`` steps); then the closed-loop capacity of new pushes and of replays (the same version
again), ``concurrency`` in flight, and their ratio (target: replays >= 5x new pushes), with the
VoucherIssued subscription closed (they wait for no voucher). CPU seconds of the service processes (and
their workers), of the driver and of the machine are read around each phase: CPU ms per push.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import nats

from ktt_common.auth import issue_token
from ktt_common.settings import DEV_JWT_SECRET
from ktt_common.testing import DatabaseFactory, NatsServer
from tests.bench.decisions import hetu, percentile
from tests.helpers import decision_body

LIMITS = {"push_p99_ms": 100.0, "voucher_p99_ms": 500.0}
# The sustainable rate is searched to within this many pushes a second, in at most MAX_BISECT steps
# after the ramp (each a short phase of its own).
RESOLUTION = 10.0
MAX_BISECT = 4
# A push that could not even be sent this long after it was due is an error (the run stays bounded).
GIVE_UP_SECONDS = 10.0
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn's workers)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            children = []
        todo += [int(c) for c in children]
    return found


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (all cores, /proc/stat: everything but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


class Services:
    """The decision and voucher services as separate processes, as under ``make run``."""

    def __init__(self, root: Path, backend: str, workers: int) -> None:
        self.root, self.backend, self.workers = root, backend, workers
        self.nats = NatsServer(root / "js")
        self.factory = DatabaseFactory(root)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}

    async def start(self) -> None:
        self.nats.start()
        env = dict(os.environ, KTT_ENV="development", NATS_URL=self.nats.url, DATA_DIR=str(self.root),
                   KTT_WORKERS=str(self.workers), SCHEDULER_ENABLED="false")
        for service in ("decision", "voucher"):
            prefix = service.upper()
            self.ports[service] = free_port()
            env[f"{prefix}_DATABASE_URL"] = await self.factory.create(self.backend, service)
            env[f"{prefix}_PORT"] = str(self.ports[service])
        for service in ("decision", "voucher"):
            log = open(self.root / f"{service}.log", "wb")
            self.procs[service] = subprocess.Popen([sys.executable, "-m", "ktt_common.serve", service], env=env,
                                                   stdout=log, stderr=subprocess.STDOUT)
        async with aiohttp.ClientSession() as client:
            for service, port in self.ports.items():
                deadline = time.monotonic() + 120
                while True:  # polling readiness (database, NATS, consumers bound), not a fixed sleep
                    if self.procs[service].poll() is not None:
                        raise RuntimeError(f"{service} exited: see {self.root / (service + '.log')}")
                    try:
                        async with client.get(f"http://127.0.0.1:{port}/readyz") as ready:
                            if ready.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{service} not ready within 120 s")
                    await asyncio.sleep(0.1)

    def peak_rss_mib(self) -> dict[str, float]:
        """Peak resident memory (VmHWM) of each service's processes, summed over its workers."""
        out = {}
        for service, proc in self.procs.items():
            total = 0
            for p in _tree(proc.pid):
                try:
                    for line in Path(f"/proc/{p}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            total += int(line.split()[1])
                except OSError:
                    pass
            out[service] = round(total / 1024, 1)
        return out

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of each service (its worker processes included), of this process (the
        driver: HTTP client, NATS subscription, bookkeeping) and of the whole machine (PostgreSQL and
        nats-server are the rest), so a phase's CPU a push shows where the cores went."""
        out = {s: cpu_seconds(p.pid) for s, p in self.procs.items()}
        out["driver"] = time.process_time()
        out["machine"] = machine_busy_seconds()
        return out

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.factory.cleanup()
        self.nats.stop()


# uvicorn closes a keep-alive connection idle for 5 s (its default); the driver drops its own first, so
# that it never sends a push down a connection the server is closing (a POST is not retried).
KEEPALIVE_SECONDS = 4.0


class Driver:
    """The load driver. It shares the two cores with what it measures, so its hot path is kept cheap
    (docs/decisions.md 2026-12-01 "a lighter load driver"): aiohttp on a keep-alive pool, bodies encoded
    to bytes before a phase starts, no per-request logging, the answer parsed only for the id it needs."""

    def __init__(self, services: Services, concurrency_cap: int = 64) -> None:
        self.services = services
        self.concurrency_cap = concurrency_cap
        # At most this many pushes in flight; a push due while all are busy waits for one, and that
        # wait counts in its latency (measured from when it was due). Unbounded, thousands of requests
        # queued in the client's pool cost the driver more CPU than the services (seen at 100/s on a
        # saturated machine).
        self.in_flight = asyncio.Semaphore(concurrency_cap)
        self.url = f"http://127.0.0.1:{services.ports['decision']}/v1/decisions"
        self.headers = {"Authorization": f"Bearer {issue_token(DEV_JWT_SECRET, role='integrator')}",
                        "Content-Type": "application/json"}
        self.session: aiohttp.ClientSession | None = None
        self.issued: dict[str, float] = {}  # decision id -> when VoucherIssued arrived
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.next_index = 0
        self.nc: Any = None
        self.subscription: Any = None

    async def start(self) -> None:
        """The HTTP session (made on the running loop, as aiohttp requires) and the VoucherIssued subscription."""
        connector = aiohttp.TCPConnector(limit=self.concurrency_cap, keepalive_timeout=KEEPALIVE_SECONDS)
        # No cookies to keep (the token is a header); the dummy jar skips the jar's filtering per request.
        self.session = aiohttp.ClientSession(connector=connector, headers=self.headers,
                                             timeout=aiohttp.ClientTimeout(total=60.0),
                                             cookie_jar=aiohttp.DummyCookieJar())
        await self.subscribe()

    async def subscribe(self) -> None:
        self.nc = await nats.connect(self.services.nats.url)

        async def on_issued(msg: Any) -> None:
            now = time.perf_counter()
            decision_id = json.loads(msg.data)["data"]["decision_id"]
            self.issued[decision_id] = now
            waiter = self.waiters.pop(decision_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)

        self.subscription = await self.nc.subscribe("ktt.voucher.VoucherIssued", cb=on_issued)

    async def unsubscribe(self) -> None:
        """No more VoucherIssued to the driver: the capacity phases do not wait for vouchers, and each
        event delivered would cost the driver (and nats-server) CPU that is not the system's."""
        if self.subscription is not None:
            await self.subscription.unsubscribe()
            self.subscription = None

    def body(self, i: int) -> bytes:
        """Push i's body, JSON-encoded once (before a phase starts: encoding is not the driver's per-push cost)."""
        body = decision_body(source_id=f"RATE-{i}")
        body["client"]["hetu"] = hetu(i)
        return json.dumps(body).encode()

    async def push(self, body: bytes, due: float, want_voucher: bool) -> dict[str, Any]:
        assert self.session is not None, "Driver.start() first"
        try:
            async with self.in_flight:
                if time.perf_counter() - due > GIVE_UP_SECONDS:  # overloaded: count it, do not pile up
                    return {"error": f"not started within {GIVE_UP_SECONDS:g} s of its time (overload)"}
                async with self.session.post(self.url, data=body) as r:
                    status, answer = r.status, await r.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return {"error": f"{type(exc).__name__}: {exc}"}
        done = time.perf_counter()
        if status not in (200, 201):
            return {"error": f"{status} {answer[:200].decode(errors='replace')}"}
        result = {"push_s": done - due, "status": status}
        if want_voucher:  # only then is the answer parsed: the capacity phases need its status alone
            decision_id = json.loads(answer)["id"]
            if decision_id in self.issued:
                arrived = self.issued[decision_id]
            else:
                future = self.waiters[decision_id] = asyncio.get_running_loop().create_future()
                try:
                    arrived = await asyncio.wait_for(future, timeout=60)
                except TimeoutError:
                    return {**result, "error": "no VoucherIssued within 60 s"}
            result["voucher_s"] = arrived - due
        return result

    async def open_loop(self, rate: float, seconds: float) -> dict[str, Any]:
        """Pushes of new decisions at ``rate`` a second for ``seconds``, each started when it is due."""
        count = max(1, int(rate * seconds))
        first = self.next_index
        self.next_index += count
        bodies = [self.body(first + k) for k in range(count)]
        cpu0 = self.services.cpu()
        start = time.perf_counter() + 0.05
        tasks = []
        lag_max = 0.0
        for k in range(count):
            due = start + k / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                lag_max = max(lag_max, -delay)
            tasks.append(asyncio.create_task(self.push(bodies[k], due, want_voucher=True)))
        results = await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        cpu1 = self.services.cpu()
        return summarise(results, rate, count, elapsed, cpu0, cpu1, lag_max)

    async def closed_loop(self, bodies: list[bytes], concurrency: int) -> dict[str, Any]:
        """``bodies`` pushed with ``concurrency`` in flight: the capacity (pushes a second) and CPU per push."""
        queue = list(reversed(bodies))
        results: list[dict[str, Any]] = []

        async def worker() -> None:
            while queue:
                body = queue.pop()
                results.append(await self.push(body, time.perf_counter(), want_voucher=False))

        cpu0 = self.services.cpu()
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        cpu1 = self.services.cpu()
        errors = [r["error"] for r in results if "error" in r]
        lat = [r["push_s"] for r in results if "push_s" in r]
        return {"n": len(bodies), "concurrency": concurrency, "per_s": round(len(bodies) / elapsed, 1),
                "errors": len(errors), "first_error": errors[0] if errors else None,
                "latency_ms_p50": _ms(statistics.median(lat)) if lat else None,
                "latency_ms_p99": _ms(percentile(lat, 99)) if lat else None,
                "statuses": sorted({r.get("status") for r in results if "status" in r}),
                "cpu_ms_per_push": _cpu_per(cpu0, cpu1, len(bodies))}

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.nc is not None:
            await self.nc.close()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _cpu_per(cpu0: dict[str, float], cpu1: dict[str, float], n: int) -> dict[str, float]:
    return {s: round((cpu1[s] - cpu0[s]) * 1000 / n, 2) for s in cpu0}


def system_cpu_ratio(new: dict[str, float], replay: dict[str, float]) -> float | None:
    """A new push's CPU over a replay's, the whole machine's less the driver's (None when not measurable)."""
    spent_new, spent_replay = new["machine"] - new["driver"], replay["machine"] - replay["driver"]
    return round(spent_new / spent_replay, 2) if spent_new > 0 and spent_replay > 0 else None


def summarise(results: list[dict[str, Any]], rate: float, count: int, elapsed: float, cpu0: dict[str, float],
              cpu1: dict[str, float], lag_max: float) -> dict[str, Any]:
    errors = [r["error"] for r in results if "error" in r]
    push = [r["push_s"] for r in results if "push_s" in r]
    voucher = [r["voucher_s"] for r in results if "voucher_s" in r]
    out = {
        "rate": rate, "n": count, "seconds": round(elapsed, 1), "achieved_per_s": round(len(push) / elapsed, 1),  # answered pushes
        "errors": len(errors), "first_error": errors[0] if errors else None,
        "push_ms": {"p50": _ms(statistics.median(push)), "p95": _ms(percentile(push, 95)),
                    "p99": _ms(percentile(push, 99)), "max": _ms(max(push))} if push else None,
        "push_to_voucher_ms": {"p50": _ms(statistics.median(voucher)), "p95": _ms(percentile(voucher, 95)),
                               "p99": _ms(percentile(voucher, 99)), "max": _ms(max(voucher))} if voucher else None,
        # per push that was answered (pushes given up on cost the services nothing)
        "cpu_ms_per_push": _cpu_per(cpu0, cpu1, max(1, len(push))),
        "driver_lag_ms_max": _ms(lag_max),
        "loadavg": loadavg(),
    }
    out["passed"] = bool(
        not errors and push and voucher and len(voucher) == count
        and out["push_ms"]["p99"] <= LIMITS["push_p99_ms"]
        and out["push_to_voucher_ms"]["p99"] <= LIMITS["voucher_p99_ms"]
    )
    return out


def _between(lo: float, hi: float) -> float:
    """A round rate (a multiple of 5/s) between ``lo`` and ``hi``, near the middle; the middle itself
    when no multiple of 5 lies strictly between them."""
    mid = 5.0 * round((lo + hi) / 10.0)
    return mid if lo < mid < hi else (lo + hi) / 2.0


async def search_sustainable(trial: Callable[[float], Awaitable[bool]], rate: float, rate_passed: bool,
                             ramp: Sequence[float], step_down: Sequence[float], *, resolution: float = RESOLUTION,
                             max_bisect: int = MAX_BISECT) -> tuple[float | None, float | None]:
    """(highest rate that held, lowest rate that failed) after the steady run at ``rate``: up ``ramp``
    until a rate fails (when ``rate`` held), or down ``step_down`` until one holds (when it failed),
    then bisection while the two are more than ``resolution`` apart, at most ``max_bisect`` trials.
    ``trial(rate)`` runs one phase and says whether it met the limits. None: no rate held (first) or
    none failed (second)."""
    held: float | None = rate if rate_passed else None
    failed: float | None = None if rate_passed else rate
    if rate_passed:
        for step_rate in ramp:
            if not await trial(step_rate):
                failed = step_rate
                break
            held = step_rate
    else:
        for step_rate in step_down:
            if await trial(step_rate):
                held = step_rate
                break
            failed = step_rate
    for _ in range(max_bisect):
        if held is None or failed is None or failed - held <= resolution:
            break
        middle = _between(held, failed)
        if await trial(middle):
            held = middle
        else:
            failed = middle
    return held, failed


async def bench_decision_rate(backend: str, root: Path, *, rate: float = 100.0, seconds: float = 60.0,
                              ramp: list[float] | None = None, ramp_seconds: float = 15.0, closed_n: int = 1000,
                              concurrency: int = 16, workers: int | None = None,
                              step_down: Sequence[float] | None = None, resolution: float = RESOLUTION,
                              max_bisect: int = MAX_BISECT) -> dict[str, Any]:
    workers = workers or int(os.environ.get("KTT_WORKERS", "1"))
    services = Services(root, backend, workers)
    try:
        started = time.perf_counter()
        await services.start()
        startup_s = round(time.perf_counter() - started, 1)
        driver = Driver(services)
        await driver.start()
        try:
            await driver.open_loop(min(rate, 20.0), 1.0)  # warm-up: imports, connections, prepared statements
            steady = await driver.open_loop(rate, seconds)
            steps: list[dict[str, Any]] = []

            async def trial(step_rate: float) -> bool:
                step = await driver.open_loop(step_rate, ramp_seconds)
                steps.append(step)
                return bool(step["passed"])

            sustainable, lowest_failed = await search_sustainable(
                trial, rate, steady["passed"], ramp or [],
                step_down if step_down is not None else (rate * 0.5, rate * 0.25, rate * 0.1),
                resolution=resolution, max_bisect=max_bisect)
            await driver.unsubscribe()
            fresh = [driver.body(driver.next_index + k) for k in range(closed_n)]
            driver.next_index += closed_n
            new = await driver.closed_loop(fresh, concurrency)
            replay = await driver.closed_loop(fresh, concurrency)  # the same bodies again: replays
            services_rss = services.peak_rss_mib()
        finally:
            await driver.close()
        return {
            "service_peak_rss_mib": services_rss, "startup_s": startup_s, "loadavg_at_end": loadavg(),
            "backend": backend, "workers_per_service": workers, "limits": LIMITS,
            "steady": steady, "ramp": steps, "sustainable_rate_per_s": sustainable,
            "lowest_failed_rate_per_s": lowest_failed, "search_resolution_per_s": resolution,
            "new_push_capacity": new, "replay_capacity": replay,
            "replay_over_new": round(replay["per_s"] / new["per_s"], 2) if new["per_s"] else None,
            # The same ratio by the machine's CPU a request without the driver's own (the driver shares the
            # two cores and costs more than a replay does): what the system would do with the cores to itself.
            "replay_over_new_without_driver": system_cpu_ratio(new["cpu_ms_per_push"], replay["cpu_ms_per_push"]),
        }
    finally:
        services.stop()
