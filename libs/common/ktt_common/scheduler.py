"""The daily-job scheduler every service runs beside its HTTP API.

Each tick (every ``SCHEDULER_POLL_SECONDS``) the replica that holds the ``scheduler`` lease runs,
for every job, each business date that is due and has no finished scheduled run yet, oldest first
(``job_rules.due_dates``: catch-up after downtime). So each job runs once per day however many
replicas there are. A failing date stops that job's catch-up (later dates wait, in order) and is
tried again next tick; the error is in ``job_run``. ``POST /v1/admin/jobs/{job}/run`` stays for
a manual run. Tests drive :meth:`JobScheduler.tick` directly with a frozen clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from ktt_common.clock import HELSINKI
from ktt_common.job_rules import due_dates
from ktt_common.jobs import run_job
from ktt_common.lease import Lease
from ktt_common.logging import get_logger

if TYPE_CHECKING:
    from ktt_common.runtime import Runtime

log = get_logger(__name__)

SCHEDULE_TRIGGER = "schedule"


class JobScheduler:
    def __init__(self, rt: Runtime, holder: str | None = None) -> None:
        self.rt = rt
        self.lease = Lease(rt, "scheduler", rt.settings.scheduler_lease_seconds, holder)
        self._stop = asyncio.Event()

    async def last_scheduled(self, job: str) -> dt.date | None:
        """The newest date this job finished without error by the schedule."""
        job_run = self.rt.infra.job_run
        async with self.rt.sessionmaker() as session:
            last: dt.date | None = (await session.execute(
                select(func.max(job_run.c.run_date)).where(
                    job_run.c.job == job, job_run.c.trigger == SCHEDULE_TRIGGER,
                    job_run.c.finished_at.is_not(None), job_run.c.error.is_(None),
                )
            )).scalar()
            return last

    async def tick(self) -> list[dict[str, Any]]:
        """Run what is due now; returns the runs made (empty when another replica holds the lease)."""
        if not await self.lease.acquire():
            return []
        s = self.rt.settings
        now_local = self.rt.clock.now().astimezone(HELSINKI)
        runs: list[dict[str, Any]] = []
        for name in sorted(self.rt.jobs.jobs):
            days = due_dates(await self.last_scheduled(name), now_local, s.scheduler_run_at, s.scheduler_catch_up_days)
            for day in days:
                if not await self.lease.acquire():  # renewed before every run; lost: another replica goes on
                    return runs
                try:
                    runs.append(await run_job(self.rt, name, day, trigger=SCHEDULE_TRIGGER))
                except Exception as exc:
                    log.error("scheduled_job_failed", job=name, date=day.isoformat(), error=str(exc) or type(exc).__name__)
                    break  # later dates of this job wait until this one succeeds
        return runs

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database busy or gone: the next tick tries again
                log.warning("scheduler_error", error=str(exc) or type(exc).__name__)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.rt.settings.scheduler_poll_seconds)
            except TimeoutError:
                pass
        try:
            await self.lease.release()
        except Exception:
            pass

    def stop(self) -> None:
        self._stop.set()
