"""Settlement benchmark (issue 10 "Performance"): a national-scale month settled on PostgreSQL by the
real ``settle-month`` job, beside one hand-written SQL aggregate over the same rows in the same run.

Data (``--scale 1.0``): 50,000 agreement copies of 500 providers (100 agreements, 2 units each) and
every Monday-Thursday of March 2027 (18 days after Easter Monday: 900,000 day entries), loaded
set-based with COPY (never through the API or the consumers). One entry in 40 is an absence and one
in 200 a ``not_organised`` day; a tenth of the agreements cross their base-value date mid-month (two
day lines), the rest are half in their first year and half on the base value; one in 20 has coaching
hours (1.5 h a present day; half of those have fewer approved hours than they use). Every unit has
confirmed the month and every agreement has its monthly follow-up, so nothing is held and the hold
queries run over the whole month.

Timed: the ``settle-month`` job for 2.4.2027 (``ktt_common.jobs.run_job``: compute the groups, the
corrections check, the lines written, the holds evaluated, InvoiceCreated/InvoiceReleased in the
outbox, commit) and, three times, one hand-written aggregate (realised days per agreement and basis
with their amounts, and the coaching hours) fetched through asyncpg; the best of the three is the
baseline, so the ratio errs against the settlement. Both run on warm caches after ANALYZE.
Peak memory is this process's peak RSS (run alone: ``python -m tests.bench.billing``; ``run.py``
starts it as a child process, so the other benchmarks' memory does not count).

``--profile PATH`` also writes where the job's time goes: each SQL statement's wall time (an engine
event listener) and a pyinstrument profile of the job (pyinstrument, a test dependency).

``--backend sqlite`` runs the same job and aggregate on SQLite (rows loaded by executemany, the aggregate
through the sqlite3 driver): what ``make bench`` reports when PostgreSQL is not reachable.

Usage: python -m tests.bench.billing [--scale 1.0] [--json PATH] [--profile PATH] [--backend postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ktt_common.clock import FrozenClock, is_public_holiday
from ktt_common.testing import DatabaseFactory, NatsServer, postgres_admin_url, run_service, service_settings

FULL_AGREEMENTS = 50_000
AGREEMENTS_PER_PROVIDER = 100
UNITS_PER_PROVIDER = 2
MONTH = "2027-03"
MONTH_FIRST, MONTH_LAST = dt.date(2027, 3, 1), dt.date(2027, 3, 31)
RUN_DATE = dt.date(2027, 4, 2)
ABSENCE_EVERY, NOT_ORGANISED_EVERY = 40, 200
CROSSING_EVERY, COACHING_EVERY = 10, 20
FIRST_YEAR_CENTS, BASE_CENTS, HOUR_CENTS = 9500, 7500, 6200

BASELINE_SQL = """
SELECT e.provider_id, e.agreement_id, a.client_id,
       CASE WHEN e.date < a.base_value_from THEN 'day_first_year' ELSE 'day_base' END AS basis,
       count(*) AS days,
       sum(CASE WHEN e.date < a.base_value_from THEN a.day_value_first_year_cents ELSE a.base_day_value_cents END)
           AS day_cents,
       sum(e.coaching_centihours) AS coaching_centihours,
       min(e.date) AS d0, max(e.date) AS d1
FROM day_entry e JOIN agreement_copy a ON a.agreement_id = e.agreement_id
WHERE e.realised AND e.date BETWEEN $1 AND $2
GROUP BY 1, 2, 3, 4
"""


def _days() -> list[dt.date]:
    day, out = MONTH_FIRST, []
    while day <= MONTH_LAST:
        if day.weekday() < 4 and not is_public_holiday(day):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def _agreement(i: int) -> dict[str, Any]:
    """The i-th agreement, deterministic (its ids from uuid5), so the entries can be made from it alone."""
    ns = uuid.UUID(int=i + 1)
    p = i // AGREEMENTS_PER_PROVIDER
    if i % CROSSING_EVERY == 0:  # crosses its base-value date in March: 2.3. .. 31.3.
        base_from = MONTH_FIRST + dt.timedelta(days=1 + (i // CROSSING_EVERY) % 30)
    elif i % 2:
        base_from = dt.date(2026, 9, 1)  # on the base value all month
    else:
        base_from = dt.date(2027, 9, 1)  # in its first year all month
    coaching = i % COACHING_EVERY == 1
    return dict(agreement_id=uuid.uuid5(ns, "agreement"), client_id=uuid.uuid5(ns, "client"), provider_id=f"BP{p:05d}",
                unit_id=uuid.UUID(int=(p * UNITS_PER_PROVIDER + i % UNITS_PER_PROVIDER) + 1),
                product_kind="intensive_coaching" if coaching else "individual", coaching=coaching,
                base_value_from=base_from, approved_hours=(20 if i % 40 == 1 else 60) if coaching else None)


def _agreement_rows(n: int) -> Iterator[tuple[Any, ...]]:
    facts_at = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    for i in range(n):
        a = _agreement(i)
        yield (a["agreement_id"], a["client_id"], a["provider_id"], a["unit_id"], a["product_kind"], dt.date(2026, 6, 1),
               dt.date(2027, 12, 31), None, FIRST_YEAR_CENTS, BASE_CENTS, HOUR_CENTS if a["coaching"] else None,
               a["base_value_from"], a["approved_hours"], facts_at)


def _entry_rows(n: int) -> Iterator[tuple[Any, ...]]:
    days, k = _days(), 0
    for i in range(n):
        a = _agreement(i)
        for d in days:
            k += 1
            kind = "absent" if k % ABSENCE_EVERY == 0 else "not_organised" if k % NOT_ORGANISED_EVERY == 7 else "present"
            present = kind == "present"
            yield (a["agreement_id"], d, uuid.uuid5(a["agreement_id"], d.isoformat()), a["client_id"], a["provider_id"],
                   a["unit_id"], a["product_kind"], kind, present, 150 if present and a["coaching"] else 0, 1,
                   d + dt.timedelta(days=1))


def _confirmation_rows(n: int) -> Iterator[tuple[Any, ...]]:
    seen: set[tuple[str, uuid.UUID]] = set()
    for i in range(n):
        a = _agreement(i)
        key = (a["provider_id"], a["unit_id"])
        if key not in seen:
            seen.add(key)
            yield (*key, MONTH, uuid.uuid5(a["unit_id"], MONTH), dt.date(2027, 4, 1), False)


def _report_rows(n: int) -> Iterator[tuple[Any, ...]]:
    for i in range(n):
        a = _agreement(i)
        yield (uuid.uuid5(a["agreement_id"], "report"), "monthly_follow_up", a["agreement_id"], a["client_id"],
               a["provider_id"], MONTH, dt.date(2027, 4, 1), None)


def _rss_mib() -> float:
    """Peak RSS of this process. Linux's ``ru_maxrss`` survives fork and exec (a child started by a
    process that peaked at 568 MiB reports 568 MiB), so the kernel's VmHWM of this process comes first."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def _connect(url: str) -> Any:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database)


def _copies(n: int) -> list[tuple[str, list[str], Iterator[tuple[Any, ...]]]]:
    return [
        ("agreement_copy", ["agreement_id", "client_id", "provider_id", "unit_id", "product_kind", "start", "end",
                            "ended_on", "day_value_first_year_cents", "base_day_value_cents", "hour_value_cents",
                            "base_value_from", "approved_hours", "facts_at"], _agreement_rows(n)),
        ("day_entry", ["agreement_id", "date", "entry_id", "client_id", "provider_id", "unit_id", "product_kind", "kind",
                       "realised", "coaching_centihours", "revision", "recorded_on"], _entry_rows(n)),
        ("month_confirmation", ["provider_id", "unit_id", "month", "report_id", "confirmed_on", "late"],
         _confirmation_rows(n)),
        ("report_copy", ["report_id", "kind", "agreement_id", "client_id", "provider_id", "month", "submitted_on",
                         "accepted_on"], _report_rows(n)),
    ]


async def _load(url: str, n: int) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return _load_sqlite(url, n)
    conn = await _connect(url)
    try:
        t0 = time.perf_counter()
        copies = _copies(n)
        for table, columns, rows in copies:
            await conn.copy_records_to_table(table, records=rows, columns=columns)
        await conn.execute("ANALYZE")
        counts = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t, _, _ in copies}
        # Warm the caches for both contenders alike (untimed).
        await conn.fetchval("SELECT count(*) FROM day_entry e JOIN agreement_copy a USING (agreement_id)")
        return {"seconds": round(time.perf_counter() - t0, 2), "rows": counts}
    finally:
        await conn.close()


def _sqlite_file(url: str) -> str:
    from sqlalchemy.engine import make_url

    return str(make_url(url).database)


def _load_sqlite(url: str, n: int) -> dict[str, Any]:
    """SQLite has no COPY: the same rows through SQLAlchemy Core's executemany (its column types store
    UUIDs, dates and timestamps as the service reads them), 20,000 at a time, then ANALYZE."""
    from sqlalchemy import create_engine, insert

    from ktt_billing.db import Base

    engine = create_engine(f"sqlite:///{_sqlite_file(url)}")
    t0 = time.perf_counter()
    counts = {}
    try:
        with engine.begin() as conn:
            for table, columns, rows in _copies(n):
                chunk: list[dict[str, Any]] = []
                for row in rows:
                    chunk.append(dict(zip(columns, row)))
                    if len(chunk) == 20_000:
                        conn.execute(insert(Base.metadata.tables[table]), chunk)
                        chunk.clear()
                if chunk:
                    conn.execute(insert(Base.metadata.tables[table]), chunk)
                counts[table] = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("SELECT count(*) FROM day_entry e JOIN agreement_copy a USING (agreement_id)").scalar_one()
    finally:
        engine.dispose()
    return {"seconds": round(time.perf_counter() - t0, 2), "rows": counts}


def _sqlite_fetch(url: str, sql: str, *params: Any) -> list[Any]:
    """A hand-written statement straight through the sqlite3 driver ($n placeholders become ?)."""
    import re
    import sqlite3

    conn = sqlite3.connect(_sqlite_file(url))
    try:
        conn.row_factory = sqlite3.Row
        return conn.execute(re.sub(r"\$\d+", "?", sql), [p.isoformat() if isinstance(p, dt.date) else p
                                                         for p in params]).fetchall()
    finally:
        conn.close()


async def _baseline(url: str, runs: int = 3) -> dict[str, Any]:
    sqlite = url.startswith("sqlite")
    conn = None if sqlite else await _connect(url)
    try:
        times, rows = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            if conn is None:
                rows = _sqlite_fetch(url, BASELINE_SQL, MONTH_FIRST, MONTH_LAST)
            else:
                rows = await conn.fetch(BASELINE_SQL, MONTH_FIRST, MONTH_LAST)
            times.append(time.perf_counter() - t0)
        return {"seconds": round(min(times), 3), "runs_seconds": [round(t, 3) for t in times], "groups": len(rows),
                "day_cents": sum(int(r["day_cents"]) for r in rows), "days": sum(int(r["days"]) for r in rows)}
    finally:
        if conn is not None:
            await conn.close()


SETTLED_SQL = """
SELECT count(DISTINCT s.id) AS settlements, count(l.id) AS lines,
       coalesce(sum(l.amount_cents) FILTER (WHERE l.kind IN ('day_first_year', 'day_base')), 0) AS day_cents,
       coalesce(sum(l.quantity_centi) FILTER (WHERE l.kind IN ('day_first_year', 'day_base')), 0) / 100 AS days,
       coalesce(sum(l.amount_cents), 0) AS total_cents,
       count(DISTINCT s.id) FILTER (WHERE s.held) AS held
FROM settlement s LEFT JOIN settlement_line l ON l.settlement_id = s.id WHERE s.month = $1
"""


async def _settled(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        [row] = _sqlite_fetch(url, SETTLED_SQL, MONTH)
        return {k: int(row[k]) for k in row.keys()}
    conn = await _connect(url)
    try:
        row = await conn.fetchrow(SETTLED_SQL, MONTH)
        return {k: int(v) for k, v in dict(row).items()}
    finally:
        await conn.close()


class _StatementTimes:
    """Wall time of every SQL statement the engine runs while installed (for ``--profile``; the outbox
    relay's polls on their own connection are listed too)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.engine, self.times, self.event = engine.sync_engine, [], event
        self.event.listen(self.engine, "before_cursor_execute", self._before)
        self.event.listen(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        self.times.append((time.perf_counter() - conn.info.pop("bench_t0"), " ".join(statement.split())[:160]))

    def close(self) -> list[tuple[float, str]]:
        self.event.remove(self.engine, "before_cursor_execute", self._before)
        self.event.remove(self.engine, "after_cursor_execute", self._after)
        return sorted(self.times, reverse=True)


async def bench_billing(scale: float, root: Path, factory: DatabaseFactory, profile: Path | None = None,
                        backend: str = "postgresql") -> dict[str, Any]:
    """The benchmark; ``factory.cleanup()`` (which runs its own event loop) is the caller's, after it."""
    from ktt_billing.app import create_app
    from ktt_common.jobs import run_job

    n = max(AGREEMENTS_PER_PROVIDER, int(round(FULL_AGREEMENTS * scale)))
    nats = NatsServer(root / "js-billing")
    nats.start()
    try:
        url = await factory.create(backend, "billing")
        load = await _load(url, n)
        rss_before = _rss_mib()
        settings = service_settings("billing", database_url=url, nats_url=nats.url, data_dir=root, outbox_poll_seconds=1.0)
        async with run_service(create_app, settings, FrozenClock(RUN_DATE)) as svc:
            baseline_before = await _baseline(url)
            if profile:
                from pyinstrument import Profiler

                statements, profiler = _StatementTimes(svc.rt.engine), Profiler(async_mode="enabled")
                profiler.start()
            t0 = time.perf_counter()
            job = await run_job(svc.rt, "settle-month", RUN_DATE)
            settle_seconds = time.perf_counter() - t0
            if profile:
                profiler.stop()
                times = statements.close()
                profile.write_text(f"job {settle_seconds:.2f} s; SQL statements {sum(t for t, _ in times):.2f} s "
                                   f"({len(times)} statements)\n" + "".join(f"{t:8.3f} s  {sql}\n" for t, sql in times[:25])
                                   + "\n" + profiler.output_text(unicode=True, show_all=False))
            rss_after = _rss_mib()
            baseline_after = await _baseline(url)
        settled = await _settled(url)
        baseline = min((baseline_before, baseline_after), key=lambda b: b["seconds"])
        if (settled["day_cents"], settled["days"]) != (baseline["day_cents"], baseline["days"]):
            raise RuntimeError(f"settlement and baseline disagree: {settled} vs {baseline}")
        return {
            "backend": backend, "scale": scale, "agreements": n, "providers": -(-n // AGREEMENTS_PER_PROVIDER),
            "entries": load["rows"]["day_entry"],
            "realised_days": baseline["days"],
            "crossing_base_value_date": len(range(0, n, CROSSING_EVERY)),
            "load_seconds_copy": load["seconds"],
            "job": job,
            "settlement": {"seconds": round(settle_seconds, 2), **settled},
            "baseline_aggregate": {"seconds": baseline["seconds"], "groups": baseline["groups"],
                                   "runs_seconds": baseline_before["runs_seconds"] + baseline_after["runs_seconds"]},
            "ratio": round(settle_seconds / baseline["seconds"], 2),
            "ratio_target": 5,
            "peak_rss_mib_before_settlement": rss_before,
            "peak_rss_mib": rss_after,
            "peak_rss_target_mib": 1024,
        }
    finally:
        nats.stop()


def run(scale: float, profile: Path | None = None, backend: str = "postgresql") -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ktt-bench-billing-") as tmp:
        factory = DatabaseFactory(Path(tmp))
        try:
            return asyncio.run(bench_billing(scale, Path(tmp), factory, profile, backend))
        finally:
            factory.cleanup()  # outside the benchmark's event loop, so the databases are dropped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the national month (1.0 = 50,000 agreements)")
    parser.add_argument("--json", default=None, help="write the result here as JSON (else print it)")
    parser.add_argument("--profile", default=None, help="write SQL statement times and a pyinstrument profile here")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql",
                        help="the national target is PostgreSQL's; SQLite runs the same job and aggregate embedded")
    args = parser.parse_args(argv)
    if args.backend == "postgresql" and not postgres_admin_url():
        print("billing benchmark: no PostgreSQL reachable, skipped", file=sys.stderr)
        return 2
    result = run(args.scale, Path(args.profile) if args.profile else None, args.backend)
    text = json.dumps(result, indent=2, default=str)
    if args.json:
        Path(args.json).write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
