"""What the outbox relay costs a published event (issue 15/8): the decision service in this process (its
real migrations and outbox, a real nats-server), ``--commits`` transactions of ``--events`` outbox rows
each, one every ``1 / --rate`` s, each waking the relay as a commit does; the relay as the service runs
it. Counted: the relay's SQL statements (everything on the outbox but the inserts), the transactions'
BEGIN/COMMIT/ROLLBACK round trips (asyncpg), and this process's CPU (``time.process_time``: the inserts,
the relay and the NATS client; the same inserts before and after a relay change).

Usage: python -m tests.bench.profile_relay [--backend postgresql|sqlite] [--commits 500] [--events 1] [--rate 50]
                                           [--loop uvloop|asyncio]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from ktt_common.clock import FrozenClock
from ktt_common.testing import eventually, run_service, service_settings

from ktt_decision.app import create_app as decision_app
from tests.bench.cli import profile_parser, real_parts, require_backend, run_printed


def _count_round_trips(counts: dict[str, int]) -> None:
    """BEGIN/COMMIT/ROLLBACK sent by asyncpg's transactions (SQLAlchemy's events cannot tell them apart
    from an autocommit connection's logical transactions)."""
    import asyncpg.connection

    original = asyncpg.connection.Connection.execute

    async def execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        word = query.split(None, 1)[0].rstrip(";").upper() if query.strip() else ""
        if word in ("BEGIN", "COMMIT", "ROLLBACK"):
            counts[word] = counts.get(word, 0) + 1
        return await original(self, query, *args, **kwargs)

    asyncpg.connection.Connection.execute = execute  # type: ignore[method-assign]


async def measure(backend: str, commits: int, events: int, rate: float, root: Path) -> dict[str, Any]:
    with real_parts(root) as (nats, factory):
        settings = service_settings("decision", database_url=await factory.create(backend, "decision"),
                                    nats_url=nats.url, data_dir=root, log_json=True, outbox_poll_seconds=1.0)
        async with run_service(decision_app, settings, FrozenClock(dt.date(2026, 11, 26))) as d:
            rt = d.rt
            outbox = rt.infra.outbox
            relay_sql: list[str] = []

            def seen(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
                if "outbox" in sql and not sql.lstrip().upper().startswith("INSERT") and "count(" not in sql:
                    relay_sql.append(sql)

            round_trips: dict[str, int] = {}
            _count_round_trips(round_trips)

            async def commit(i: int) -> None:
                now = dt.datetime.now(dt.UTC)
                rows = []
                for k in range(events):
                    event_id = uuid.uuid4()
                    envelope = json.dumps({"specversion": "1.0", "id": str(event_id), "source": "/ktt/decision",
                                           "type": "ktt.decision.RelayProbe.v1", "time": now.isoformat(),
                                           "data": {"i": i, "k": k, "pad": "x" * 400}})
                    rows.append({"event_id": event_id, "subject": "ktt.decision.RelayProbe", "event_type": "ktt.decision.RelayProbe.v1",
                                 "envelope": envelope, "created_at": now, "attempts": 0})
                async with rt.sessionmaker() as session, session.begin():
                    await session.execute(insert(outbox), rows)
                rt.relay.wake()

            async def drained() -> bool:
                return await rt.relay.pending_count() == 0

            for i in range(20):  # warm-up: connections, prepared statements
                await commit(-1 - i)
            await eventually(drained, timeout=60, what="the warm-up published")
            event.listen(rt.engine.sync_engine, "before_cursor_execute", seen)
            round_trips.clear()
            c0, w0 = time.process_time(), time.perf_counter()
            for i in range(commits):
                due = w0 + i / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                await commit(i)
            await eventually(drained, timeout=120, what="everything published")
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            event.remove(rt.engine.sync_engine, "before_cursor_execute", seen)
            published = commits * events
            kinds: dict[str, int] = {}
            for sql in relay_sql:
                word = sql.lstrip().split(None, 1)[0].upper()
                kinds[word] = kinds.get(word, 0) + 1
            return {
                "backend": backend, "commits": commits, "events_per_commit": events, "rate_per_s": rate,
                "published": published, "wall_s": round(wall, 1),
                "cpu_ms_per_event": round(cpu * 1000 / published, 3),
                "relay_statements_per_event": round(len(relay_sql) / published, 2), "relay_statements_by_kind": kinds,
                "begin_commit_rollback_per_event (all transactions, inserts' too)": {
                    k: round(v / published, 2) for k, v in sorted(round_trips.items())},
            }


def main() -> None:
    parser = profile_parser(__doc__)
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--events", type=int, default=1)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop", help="the services' loop is uvloop")
    args = parser.parse_args()
    require_backend(args.backend)
    if args.loop == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    else:
        loop_factory = asyncio.new_event_loop
    run_printed(lambda root: measure(args.backend, args.commits, args.events, args.rate, root),
                prefix="ktt-profile-relay-", loop_factory=loop_factory)


if __name__ == "__main__":
    main()
