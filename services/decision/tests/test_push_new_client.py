"""Issue 15: on PostgreSQL a new client's first decision is written by one statement (the client's upsert, its
data key, the decision and its first version: data-modifying CTEs); all of it is written or none of it, a
known client's next decision is still checked against their others (DEC-4), and a decision a concurrent push
made first is found by that same statement and answered as before."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import event, func, select

from ktt_common.auth import Principal, Role
from ktt_common.errors import Conflict

from ktt_decision.clients.models import Client, ClientKey
from ktt_decision.decisions import service
from ktt_decision.decisions.models import Decision, DecisionVersion
from ktt_decision.decisions.reading import Probe
from ktt_decision.decisions.schemas import DecisionIn
from tests.bench.decisions import hetu
from tests.helpers import decision_body


class Writes:
    """The INSERT statements the service sends while in the block, each as the tables it inserts into."""

    def __init__(self, svc: Any) -> None:
        self.engine = svc.rt.engine.sync_engine
        self.seen: list[set[str]] = []

    def _note(self, _conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        tables = {t for t in ("client", "client_key", "decision", "decision_version") if f"INSERT INTO {t} " in sql}
        if tables:
            self.seen.append(tables)

    def __enter__(self) -> list[set[str]]:
        event.listen(self.engine, "before_cursor_execute", self._note)
        return self.seen

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._note)


class Reads(Writes):
    """The SELECT statements sent while in the block (the decision's look-ups by source left out)."""

    def __init__(self, svc: Any) -> None:
        super().__init__(svc)
        self.sql: list[str] = []

    def _note(self, _conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if sql.lstrip().startswith("SELECT") and "FROM decision" not in sql:
            self.sql.append(" ".join(sql.split()))

    def __enter__(self) -> list[str]:  # type: ignore[override]
        super().__enter__()
        return self.sql


async def _counts(svc: Any) -> dict[str, int]:
    async with svc.rt.sessionmaker() as s:
        return {m.__tablename__: (await s.execute(select(func.count()).select_from(m))).scalar_one()
                for m in (Client, ClientKey, Decision, DecisionVersion)}


def _postgresql(svc: Any) -> bool:
    return svc.rt.engine.dialect.name == "postgresql"


async def test_a_new_clients_first_decision_is_one_statement_on_postgresql_a_known_clients_is_checked_first(decision_service):
    svc = decision_service
    with Writes(svc) as seen:
        r = await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))
    assert r.status_code == 201, r.text
    if _postgresql(svc):
        assert seen == [{"client", "client_key", "decision", "decision_version"}], seen
    else:  # SQLite: the client's upsert, the decision, its version (the key is flushed by the ORM)
        assert {"client"} in seen and {"decision"} in seen and {"decision_version"} in seen, seen
    made = r.json()
    async with svc.rt.sessionmaker() as s:
        decision = await s.get(Decision, uuid.UUID(made["id"]))
        assert decision is not None and str(decision.client_id) == made["client_id"]
        assert (await s.get(ClientKey, decision.client_id)) is not None
        assert (await s.execute(select(DecisionVersion.version).where(DecisionVersion.decision_id == decision.id))
                ).scalars().all() == [1]
    # Read back through the API: the names sealed under the new client's key open again.
    got = (await svc.client.get(f"/v1/decisions/{made['id']}", headers=svc.auth("city_official"))).json()
    assert got["client"]["first_name"] == "Matti" and got["client"]["last_name"] == "Meikäläinen"
    # The same client's next decision: the upsert finds them and writes none of it; DEC-4 against the first.
    h = svc.auth("integrator")
    overlapping = decision_body(source_id="EFF-2026-000124", period={"start": "2027-06-01", "end": "2027-12-31"})
    r = await svc.client.post("/v1/decisions", json=overlapping, headers=h)
    assert r.status_code == 422 and r.json()["rule"] == "DEC-4", r.text
    later = decision_body(source_id="EFF-2026-000125", period={"start": "2027-12-01", "end": "2028-05-31"},
                          extension_justification="Jatko parantaa työkykyä.")
    with Writes(svc) as seen, Reads(svc) as reads:
        r = await svc.client.post("/v1/decisions", json=later, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["client_id"] == made["client_id"]
    # The known client's key and whether their hetu needs sealing: one read, not the client's ORM load and the key's.
    assert len([sql for sql in reads if "FROM client" in sql]) == 1, reads
    # Not with the upsert, which found the client (the DEC-4 check comes first): by a statement after it.
    assert "client" in seen[0] and "decision" in set().union(*seen[1:]), seen
    assert (await _counts(svc)) == {"client": 1, "client_key": 1, "decision": 2, "decision_version": 2}


async def test_a_decision_a_concurrent_push_made_first_is_answered_as_before_and_nothing_is_left(decision_service):
    svc = decision_service
    body = decision_body()
    assert (await svc.client.post("/v1/decisions", json=body, headers=svc.auth("integrator"))).status_code == 201
    other = decision_body()
    other["client"]["hetu"] = hetu(7)  # the same decision for another person, as a push that looked before it was made
    probe = Probe(other["source_system"], other["source_id"], 1, "0" * 64, absent=True)
    with Writes(svc) as seen, pytest.raises(Conflict, match="already received with different content"):
        async with svc.rt.sessionmaker() as s, s.begin():
            integrator = Principal(subject="test-integrator", role=Role.INTEGRATOR)
            await service.push_decision(s, DecisionIn.model_validate(other), integrator, probe=probe)
    if _postgresql(svc):  # the new client and the decision tried in one statement
        assert seen == [{"client", "client_key", "decision", "decision_version"}], seen
    assert (await _counts(svc)) == {"client": 1, "client_key": 1, "decision": 1, "decision_version": 1}


async def test_a_new_push_whose_version_cannot_be_written_leaves_no_client_key_or_decision(decision_service, monkeypatch):
    svc = decision_service
    rows = service._rows

    def broken(*args: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        decision, version = rows(*args)
        return decision, {**version, "version": None}  # NOT NULL: the last insert of the push fails

    monkeypatch.setattr(service, "_rows", broken)
    r = await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))
    assert r.status_code == 500, r.text
    assert (await _counts(svc)) == {"client": 0, "client_key": 0, "decision": 0, "decision_version": 0}
