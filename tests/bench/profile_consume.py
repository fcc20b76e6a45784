"""What the voucher service's consumer costs a DecisionMade (issue 15): the voucher service in this
process with a real nats-server and database, N DecisionMade put in the stream first, then fetched
from the service's durable consumer ``batch`` at a time and handled as its consumer loop does
(``ConsumerRunner.handle_fetched``: one transaction per fetch when it brought several, else one per
message). Counted per message: the CPU time of this process (``time.process_time``: fetching, parsing,
the inbox, the handler, acking; not the database's or nats-server's work), the statements sent and
the commits. The outbox relay does not run (its cost is the same either way).

With ``--rate``, below saturation instead (issue 15, CONSUMER_GATHER_SECONDS): N DecisionMade published at
that rate by this process while the consumer loop fetches (CONSUMER_BATCH, the fetch timeout), gathers
for each ``--gather`` window in turn (0: off) and handles, alternately window by window, ``--repeat`` times;
counted as above, plus messages a handled fetch (this process's CPU includes the publishing, the same for
every window).

Usage: python -m tests.bench.profile_consume [--backend postgresql|sqlite] [--n 1000] [--batch 1 64]
                                             [--rate 80 --gather 0 0.02 --repeat 3]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

import nats.errors as nats_errors
from sqlalchemy import event, func, select

from ktt_common.clock import FrozenClock
from ktt_common.pace import Pace
from ktt_common.testing import run_service, service_settings
from ktt_contracts.decision import DecisionMade

from ktt_voucher.app import create_app as voucher_app
from ktt_voucher.vouchers.models import Voucher
from tests.bench.cli import profile_parser, real_parts, require_backend, run_printed


def _made() -> bytes:
    decision = str(uuid.uuid4())
    facts = dict(decision_id=decision, client_id=str(uuid.uuid4()), source_system="effica", source_id=f"EFF-{decision[:8]}",
                 version=1, decided_on="2026-11-25", received_on="2026-11-25", period_start="2026-12-01",
                 period_end="2027-11-30", form="individual", benefit_basis="labour_market_subsidy", voucher_kind="regular",
                 approved_hours=None, case_worker_office="typake", language="fi")
    env = DecisionMade.envelope(facts, subject=decision, correlation_id=str(uuid.uuid4()), time=dt.datetime.now(dt.UTC))
    return env.model_dump_json().encode()


async def at_rate(rt: Any, runner: Any, psub: Any, n: int, rate: float, gather: float, counts: dict[str, int]) -> dict[str, Any]:
    """N messages published at ``rate`` while the consumer loop runs with a gathering window of ``gather``."""
    runner._pace = Pace(gather)
    bodies = [_made() for _ in range(n)]

    async def publish() -> None:
        start = time.perf_counter()
        for i, body in enumerate(bodies):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            await rt.bus.publish(DecisionMade.subject, body, str(uuid.uuid4()))

    counts.update(statements=0, commits=0)
    done = handled = 0
    c0, w0 = time.process_time(), time.perf_counter()
    publishing = asyncio.create_task(publish())
    while done < n:
        try:
            msgs = await psub.fetch(batch=rt.settings.consumer_batch, timeout=rt.settings.consumer_fetch_timeout_seconds)
        except (TimeoutError, nats_errors.TimeoutError):
            continue
        msgs = await runner.gather(psub, msgs)
        await runner.handle_fetched(msgs)
        done, handled = done + len(msgs), handled + 1
    await publishing
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return {"rate": rate, "gather_s": gather, "n": n, "cpu_ms_per_message": round(cpu * 1000 / n, 3),
            "wall_s": round(wall, 1), "messages_per_handled_fetch": round(n / handled, 2),
            "statements_per_message": round(counts["statements"] / n, 2), "commits_per_message": round(counts["commits"] / n, 3)}


async def measure(backend: str, n: int, batches: list[int], root: Path, rate: float | None = None,
                  gathers: list[float] | None = None, repeat: int = 1) -> dict[str, Any]:
    with real_parts(root) as (nats, factory):
        settings = service_settings("voucher", database_url=await factory.create(backend, "voucher"), nats_url=nats.url,
                                    data_dir=root, run_background=False)
        async with run_service(voucher_app, settings, FrozenClock(dt.date(2026, 11, 26))) as svc:
            rt = svc.rt
            rt.bus.start()
            assert await rt.bus.wait_ready(15)
            runner = rt.consumer("decision")
            psub = await runner._bind()
            counts = {"statements": 0, "commits": 0}

            def statement(*_: Any) -> None:
                counts["statements"] += 1

            def commit(*_: Any) -> None:
                counts["commits"] += 1

            event.listen(rt.engine.sync_engine, "before_cursor_execute", statement)
            event.listen(rt.engine.sync_engine, "commit", commit)
            if rate is not None:
                windows = gathers or [0.0]
                runs = [await at_rate(rt, runner, psub, n, rate, g, counts) for g in [windows[0], *windows * repeat]]
                await psub.unsubscribe()
                return {"backend": backend, "runs": runs[1:]}  # the first warms up
            results = []
            for batch in [batches[0], *batches]:  # the first round warms up
                for _ in range(n):
                    await rt.bus.publish(DecisionMade.subject, _made(), str(uuid.uuid4()))
                counts.update(statements=0, commits=0)
                done, c0, w0 = 0, time.process_time(), time.perf_counter()
                while done < n:
                    msgs = await psub.fetch(batch=min(batch, n - done), timeout=5)
                    await runner.handle_fetched(msgs)
                    done += len(msgs)
                cpu, wall = time.process_time() - c0, time.perf_counter() - w0
                results.append({"batch": batch, "n": n, "cpu_ms_per_message": round(cpu * 1000 / n, 3),
                                "wall_ms_per_message": round(wall * 1000 / n, 3),
                                "statements_per_message": round(counts["statements"] / n, 2),
                                "commits_per_message": round(counts["commits"] / n, 3)})
            async with rt.sessionmaker() as session:
                vouchers = (await session.execute(select(func.count()).select_from(Voucher))).scalar_one()
            assert vouchers == n * (len(batches) + 1), vouchers
            await psub.unsubscribe()
        return {"backend": backend, "runs": results[1:]}


def main() -> None:
    parser = profile_parser(__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 64], help="messages a fetch (CONSUMER_BATCH)")
    parser.add_argument("--rate", type=float, default=None, help="publish at this rate while consuming (below saturation)")
    parser.add_argument("--gather", type=float, nargs="+", default=[0.0, 0.02], help="with --rate: gathering windows (s)")
    parser.add_argument("--repeat", type=int, default=3, help="with --rate: rounds of the windows, alternately")
    args = parser.parse_args()
    require_backend(args.backend)
    run_printed(lambda root: measure(args.backend, args.n, args.batch, root, args.rate, args.gather, args.repeat),
                prefix="ktt-profile-")


if __name__ == "__main__":
    main()
