"""The audit log is tamper-evident and answers "who has seen this client's data" (issue 13, DATA-3).

Every row carries the hash of the row before it; changing a field, deleting a row in the middle
or cutting the tail is found by GET /v1/admin/audit/verify and by ``python -m ktt_common.audit
verify`` (exit 1, naming the first bad row). Rows written before the chain existed are chained by
the migration."""

from __future__ import annotations

import asyncio
import sys

from alembic import command
from sqlalchemy import delete, insert, select, update

from ktt_common.audit import GENESIS, audit, chain_hash
from ktt_common.migrations import _run_command, upgrade
from ktt_common.serve import service_dir

from tests.helpers import HETU_1900, decision_body

OTHER_CLIENT = "6f1c0e64-0d7e-4c1f-9d55-1c4a3b2e7f10"


async def _scenario(svc) -> dict:
    made = (await svc.client.post("/v1/decisions", json=decision_body(),
                                  headers=svc.auth("integrator", subject="effica-bot"))).json()
    for who in ("liisa", "pekka", "liisa"):
        r = await svc.client.get(f"/v1/decisions/{made['id']}", headers=svc.auth("city_official", subject=who))
        assert r.status_code == 200
    return made


async def _verify(svc) -> dict:
    r = await svc.client.get("/v1/admin/audit/verify", headers=svc.auth("admin"))
    assert r.status_code == 200, r.text
    return r.json()


async def _cli(url: str) -> tuple[int, str]:
    """The command line tool in its own process (the event loop, and the service on it, go on)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ktt_common.audit", "verify", "--service", "decision", "--database-url", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode, out.decode()


async def _rows(svc) -> list:
    log = svc.rt.infra.audit_log
    async with svc.rt.sessionmaker() as s:
        return (await s.execute(select(log).order_by(log.c.chain_seq))).all()


async def test_rows_are_chained_and_the_intact_chain_verifies(decision_service):
    svc = decision_service
    await _scenario(svc)
    rows = await _rows(svc)
    assert [r.chain_seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == GENESIS
    for before, row in zip(rows, rows[1:]):
        assert row.prev_hash == before.row_hash  # each row names the one before
    assert all(r.row_hash == chain_hash(r._mapping) for r in rows)
    assert await _verify(svc) == {"ok": True, "rows": 4, "first_bad_id": None, "first_bad_seq": None, "reason": None}
    code, out = await _cli(svc.rt.settings.database_url)
    assert code == 0 and "decision: ok, 4 rows" in out, out


async def test_a_changed_field_is_found_and_named(decision_service):
    svc = decision_service
    await _scenario(svc)
    victim = (await _rows(svc))[2]
    log = svc.rt.infra.audit_log
    async with svc.rt.sessionmaker() as s, s.begin():  # someone hides that pekka read the decision
        await s.execute(update(log).where(log.c.id == victim.id).values(actor="liisa"))
    report = await _verify(svc)
    assert report["ok"] is False and report["first_bad_id"] == victim.id and report["rows"] == 2
    assert "changed" in report["reason"]
    code, out = await _cli(svc.rt.settings.database_url)
    assert code == 1 and f"id={victim.id}" in out, out


async def test_a_deleted_row_and_a_cut_tail_are_found(decision_service):
    svc = decision_service
    await _scenario(svc)
    rows = await _rows(svc)
    log = svc.rt.infra.audit_log
    async with svc.rt.sessionmaker() as s, s.begin():
        await s.execute(delete(log).where(log.c.id == rows[1].id))
    report = await _verify(svc)
    assert report["ok"] is False and report["first_bad_id"] == rows[2].id and report["rows"] == 1
    assert (await _cli(svc.rt.settings.database_url))[0] == 1

    # Put it back: intact again. Then cut the last row: the head still names it.
    async with svc.rt.sessionmaker() as s, s.begin():
        await s.execute(insert(log).values(**rows[1]._mapping))
    assert (await _verify(svc))["ok"] is True
    async with svc.rt.sessionmaker() as s, s.begin():
        await s.execute(delete(log).where(log.c.id == rows[-1].id))
    report = await _verify(svc)
    assert report["ok"] is False and report["first_bad_seq"] == 4 and "removed" in report["reason"]


async def test_a_rolled_back_transaction_takes_no_place_in_the_chain(decision_service):
    svc = decision_service
    await _scenario(svc)
    async with svc.rt.sessionmaker() as s:
        await audit(s, "mallory", "decision.read", "decision", "x", client_ids=[OTHER_CLIENT])
        await s.rollback()
    async with svc.rt.sessionmaker() as s, s.begin():
        await audit(s, "system-job", "decision.read", "decision", "y", client_ids=[OTHER_CLIENT])
    rows = await _rows(svc)
    assert [(r.chain_seq, r.actor) for r in rows][-1] == (5, "system-job") and len(rows) == 5
    assert (await _verify(svc))["ok"] is True


async def test_a_savepoint_neither_writes_early_nor_drops_the_rows_queued_before_it(decision_service):
    svc = decision_service
    async with svc.rt.sessionmaker() as s, s.begin():
        await audit(s, "before-savepoint", "decision.read", "decision", "a", client_ids=[OTHER_CLIENT])
        try:
            async with s.begin_nested():
                await audit(s, "inside-failed-savepoint", "decision.read", "decision", "b", client_ids=[OTHER_CLIENT])
                raise RuntimeError("the savepoint fails")
        except RuntimeError:
            pass
        async with s.begin_nested():  # released, not committed: nothing is written yet
            await audit(s, "inside-savepoint", "decision.read", "decision", "c", client_ids=[OTHER_CLIENT])
        log = svc.rt.infra.audit_log
        assert (await s.execute(select(log.c.id))).all() == []
    actors = [r.actor for r in await _rows(svc)]
    assert actors == ["before-savepoint", "inside-failed-savepoint", "inside-savepoint"]
    assert (await _verify(svc))["ok"] is True


async def test_officials_see_who_has_seen_a_client_and_others_may_not_ask(decision_service):
    svc = decision_service
    made = await _scenario(svc)
    url = f"/v1/clients/{made['client_id']}/access-log"
    r = await svc.client.get(url, headers=svc.auth("social_worker", subject="sari"))
    assert r.status_code == 200, r.text
    seen = r.json()
    assert [(e["actor"], e["action"]) for e in seen] == [
        ("liisa", "decision.read"), ("pekka", "decision.read"), ("liisa", "decision.read"),
        ("effica-bot", "decision.create")]
    assert HETU_1900 not in r.text
    # The question is itself on the record.
    again = (await svc.client.get(url, headers=svc.auth("city_official", subject="liisa"))).json()
    assert (again[0]["actor"], again[0]["action"]) == ("sari", "client.access_log.read")
    # Another client's log holds none of it; admin, providers and the client via this route may not ask.
    assert (await svc.client.get(f"/v1/clients/{OTHER_CLIENT}/access-log",
                                 headers=svc.auth("city_official"))).json() == []
    for role, claims in (("admin", {}), ("integrator", {}), ("client", {"client_id": made["client_id"]})):
        denied = await svc.client.get(url, headers=svc.auth(role, **claims))
        assert denied.status_code == 403 and denied.headers["content-type"] == "application/problem+json"
    bad = await svc.client.get("/v1/clients/not-a-uuid/access-log", headers=svc.auth("city_official"))
    assert bad.status_code == 422


async def test_the_migration_chains_rows_written_before_it(databases):
    url = await databases("decision")
    where = service_dir("decision")
    await _run_command(url, where, lambda cfg: command.downgrade(cfg, "0005"))
    from ktt_common.db import create_engine
    from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table
    import datetime as dt

    old = Table("audit_log", MetaData(), Column("id", Integer, primary_key=True),
                Column("at", DateTime(timezone=True)), Column("actor", String), Column("role", String),
                Column("provider_id", String), Column("action", String), Column("target_type", String),
                Column("target_id", String), Column("client_ids", JSON), Column("correlation_id", String),
                Column("details", JSON))
    engine = create_engine(url)
    at = dt.datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=dt.UTC)
    async with engine.begin() as conn:
        await conn.execute(insert(old), [
            dict(at=at + dt.timedelta(seconds=i), actor=f"user{i}", role="city_official", provider_id=None,
                 action="decision.read", target_type="decision", target_id=str(i), client_ids=[OTHER_CLIENT],
                 correlation_id=None, details={"n": i}) for i in range(3)])
    await engine.dispose()
    await upgrade(url, where)
    code, out = await _cli(url)
    assert code == 0 and "ok, 3 rows" in out, out
    engine = create_engine(url)
    async with engine.begin() as conn:  # and the backfilled chain still catches a change
        await conn.exec_driver_sql("UPDATE audit_log SET details = '{\"n\": 7}' WHERE actor = 'user1'")
    await engine.dispose()
    code, out = await _cli(url)
    assert code == 1 and "chain_seq=2" in out, out
