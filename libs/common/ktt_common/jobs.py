"""Daily jobs: registered by name, run for a business date, recorded in ``job_run``.

Each job must be idempotent for its date (running it twice emits nothing new): it should key
what it creates on the date and the entity, with a unique constraint behind it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.errors import FieldError, RuleViolation
from ktt_common.job_rules import RULE_JOB_DATE, job_date_error
from ktt_common.metrics import JOB_RUNS

if TYPE_CHECKING:
    from ktt_common.runtime import Runtime

JobFn = Callable[[AsyncSession, dt.date], Awaitable[dict[str, Any] | None]]


@dataclass
class JobRegistry:
    jobs: dict[str, tuple[JobFn, str]] = field(default_factory=dict)

    def job(self, name: str, description: str = "") -> Callable[[JobFn], JobFn]:
        def register(fn: JobFn) -> JobFn:
            if name in self.jobs:
                raise ValueError(f"job {name} registered twice")
            self.jobs[name] = (fn, description or (fn.__doc__ or "").strip().split("\n")[0])
            return fn

        return register

    def merged(self, other: JobRegistry) -> JobRegistry:
        """A new registry with the jobs of both (a name in both is an error)."""
        clash = self.jobs.keys() & other.jobs.keys()
        if clash:
            raise ValueError(f"jobs registered twice: {', '.join(sorted(clash))}")
        return JobRegistry({**self.jobs, **other.jobs})


def check_job_date(run_date: dt.date, today: dt.date, field_name: str = "query.date") -> None:
    """OPS-1: refuse a date after today (or before any KTT data) before anything is written."""
    error = job_date_error(run_date, today)
    if error:
        raise RuleViolation(error, rule=RULE_JOB_DATE, errors=[FieldError(field=field_name, message=error, rule=RULE_JOB_DATE)])


async def run_job(rt: Runtime, name: str, run_date: dt.date, trigger: str = "admin") -> dict[str, Any]:
    fn, _ = rt.jobs.jobs[name]
    check_job_date(run_date, rt.clock.today())
    run_id = uuid.uuid4()
    job_run = rt.infra.job_run
    async with rt.sessionmaker() as session, session.begin():
        await session.execute(
            insert(job_run).values(id=run_id, job=name, run_date=run_date, trigger=trigger, started_at=dt.datetime.now(dt.UTC))
        )
    try:
        async with rt.sessionmaker() as session, session.begin():
            result = await fn(session, run_date) or {}
    except Exception as exc:
        async with rt.sessionmaker() as session, session.begin():
            await session.execute(
                update(job_run).where(job_run.c.id == run_id)
                .values(finished_at=dt.datetime.now(dt.UTC), error=(str(exc) or type(exc).__name__)[:2000])
            )
        JOB_RUNS.labels(rt.settings.service, name, "error").inc()
        raise
    async with rt.sessionmaker() as session, session.begin():
        await session.execute(
            update(job_run).where(job_run.c.id == run_id).values(finished_at=dt.datetime.now(dt.UTC), result=result)
        )
    JOB_RUNS.labels(rt.settings.service, name, "ok").inc()
    return {"run_id": str(run_id), "job": name, "date": run_date.isoformat(), "result": result}
