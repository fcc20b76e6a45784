"""What the voucher service's consumer costs a DecisionMade (issue 15): the voucher service in this
process with a real nats-server and database, N DecisionMade put in the stream first, then fetched
from the service's durable consumer ``batch`` at a time and handled as its consumer loop does
(``ConsumerRunner.handle_fetched``: one transaction per fetch when it brought several, else one per
message). Counted per message: the CPU time of this process (``time.process_time``: fetching, parsing,
the inbox, the handler, acking; not the database's or nats-server's work), the statements sent and
the commits. The outbox relay does not run (its cost is the same either way).

Usage: python -m tests.bench.profile_consume [--backend postgresql|sqlite] [--n 1000] [--batch 1 64]
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from ktt_common.clock import FrozenClock
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


async def measure(backend: str, n: int, batches: list[int], root: Path) -> dict[str, Any]:
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
    args = parser.parse_args()
    require_backend(args.backend)
    run_printed(lambda root: measure(args.backend, args.n, args.batch, root), prefix="ktt-profile-")


if __name__ == "__main__":
    main()
