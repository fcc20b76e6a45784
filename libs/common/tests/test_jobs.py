"""Daily jobs run through the one admin endpoint shape, for a given date, recorded in job_run."""

from __future__ import annotations

from sqlalchemy import select


async def test_job_runs_for_the_given_date_and_is_recorded(start_probe, probe_switch):
    async with start_probe() as svc:
        admin = svc.auth("admin")
        r = await svc.client.get("/v1/admin/jobs", headers=admin)
        assert r.json() == [{"job": "count-effects", "description": "Counts probe effects for the date (idempotent: it changes nothing)"}]
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
