"""Daily jobs run through the one admin endpoint shape, for a given date, recorded in job_run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ktt_common.clock import HELSINKI
from ktt_common.scheduler import JobScheduler


async def test_job_runs_for_the_given_date_and_is_recorded(start_probe, probe_switch):
    async with start_probe() as svc:
        admin = svc.auth("admin")
        r = await svc.client.get("/v1/admin/jobs", headers=admin)
        listed = {j["job"]: j["description"] for j in r.json()}
        assert listed["count-effects"] == "Counts probe effects for the date (idempotent: it changes nothing)"
        assert set(listed) == {"count-effects", "bus-retention"}  # every service also runs the platform's job
        r = await svc.client.post("/v1/admin/jobs/count-effects/run", params={"date": "2026-01-02"}, headers=admin)
        assert r.status_code == 200, r.text
        assert r.json()["date"] == "2026-01-02" and r.json()["result"] == {"effects": 0, "date": "2026-01-02"}
        r = await svc.client.post("/v1/admin/jobs/count-effects/run", headers=admin)  # default: the clock's today
        assert r.json()["date"] == svc.rt.clock.today().isoformat() == "2026-11-26"
        job_run = svc.rt.infra.job_run
        async with svc.rt.sessionmaker() as s:
            runs = (await s.execute(select(job_run.c.run_date, job_run.c.finished_at, job_run.c.error).order_by(job_run.c.started_at))).all()
        assert [str(r.run_date) for r in runs] == ["2026-01-02", "2026-11-26"]
        assert all(r.finished_at is not None and r.error is None for r in runs)


async def _runs(svc):
    job_run = svc.rt.infra.job_run
    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(job_run.c.job, job_run.c.run_date, job_run.c.trigger).order_by(job_run.c.started_at))).all()
    return [(r.job, r.run_date.isoformat(), r.trigger) for r in rows]


async def test_job_dates_after_today_or_before_2000_are_refused_naming_field_and_rule(start_probe):
    """Issue 13 defect 1, OPS-1: a future date would act on state that does not exist yet; nothing is written."""
    async with start_probe() as svc:
        admin = svc.auth("admin")
        for date in ("2026-11-27", "9999-12-31", "0001-01-01", "1999-12-31"):
            r = await svc.client.post("/v1/admin/jobs/count-effects/run", params={"date": date}, headers=admin)
            assert r.status_code == 422, (date, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            body = r.json()
            assert body["rule"] == "OPS-1" and body["errors"][0]["field"] == "query.date" and date in body["detail"]
        assert await _runs(svc) == []
        r = await svc.client.post("/v1/admin/jobs/count-effects/run", params={"date": "2026-11-26"}, headers=admin)
        assert r.status_code == 200  # today itself is allowed
        svc.rt.clock.advance(dt.timedelta(days=1))  # the (test) clock is the way to see the future
        r = await svc.client.post("/v1/admin/jobs/count-effects/run", params={"date": "2026-11-27"}, headers=admin)
        assert r.status_code == 200, r.text


async def test_scheduler_runs_each_job_once_per_day_and_catches_up_missed_days(start_probe):
    async with start_probe() as svc:
        scheduler = svc.rt.scheduler
        first = await scheduler.tick()  # 2026-11-26 09:00 Helsinki: a fresh install starts with today
        assert sorted((r["job"], r["date"]) for r in first) == [("bus-retention", "2026-11-26"), ("count-effects", "2026-11-26")]
        assert await scheduler.tick() == []  # once per day
        svc.rt.clock.set(dt.datetime(2026, 11, 29, 0, 10, tzinfo=HELSINKI))  # down for days, back before SCHEDULER_RUN_AT
        caught_up = await scheduler.tick()
        assert [r["date"] for r in caught_up if r["job"] == "count-effects"] == ["2026-11-27", "2026-11-28"]
        svc.rt.clock.set(dt.datetime(2026, 11, 29, 0, 15, tzinfo=HELSINKI))
        assert [r["date"] for r in await scheduler.tick() if r["job"] == "count-effects"] == ["2026-11-29"]
        runs = await _runs(svc)
        scheduled = [(job, day) for job, day, trigger in runs if trigger == "schedule"]
        assert len(scheduled) == len(set(scheduled)) == 8  # two jobs x four days, none twice


async def test_only_one_replica_runs_the_schedule(start_probe):
    """Two schedulers on one database (two replicas): the lease lets one run; the other runs nothing,
    and takes over when the first one's lease is gone."""
    async with start_probe() as svc:
        other = JobScheduler(svc.rt, holder="replica-b")
        assert len(await svc.rt.scheduler.tick()) == 2
        svc.rt.clock.advance(dt.timedelta(days=1))
        assert await other.tick() == []  # replica a holds the lease
        await svc.rt.scheduler.lease.release()  # replica a stopped
        assert [r["date"] for r in await other.tick()] == ["2026-11-27", "2026-11-27"]
        assert await svc.rt.scheduler.tick() == []


async def test_scheduled_catch_up_stops_at_a_failing_date_and_retries_it(start_probe, monkeypatch):
    async with start_probe() as svc:
        calls: list[str] = []
        original, description = svc.rt.jobs.jobs["count-effects"]

        async def flaky(session, run_date):  # type: ignore[no-untyped-def]
            calls.append(run_date.isoformat())
            if run_date == dt.date(2026, 11, 27) and calls.count("2026-11-27") == 1:
                raise RuntimeError("database busy")
            return await original(session, run_date)

        monkeypatch.setitem(svc.rt.jobs.jobs, "count-effects", (flaky, description))
        await svc.rt.scheduler.tick()
        svc.rt.clock.advance(dt.timedelta(days=2))
        await svc.rt.scheduler.tick()
        assert calls == ["2026-11-26", "2026-11-27"]  # 28 waits: dates run in order
        await svc.rt.scheduler.tick()
        assert calls == ["2026-11-26", "2026-11-27", "2026-11-27", "2026-11-28"]
