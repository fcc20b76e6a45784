"""Issue 15: a new decision push builds no SQL statements of its own. The client's upsert, the audit row
with the chain head (and, on PostgreSQL, the outbox row in the same statement) are built once and executed
with parameters, so SQLAlchemy neither coerces their values nor generates their cache keys again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.bench.decisions import hetu
from tests.helpers import decision_body

# The push's own writes (the relay's claims and the fast replay's read are not among them).
WRITES = ("INSERT INTO client (", "INSERT INTO audit_log", "FROM audit_head", "UPDATE audit_head")


class Executed:
    """The statement objects the service executes while in the block that write the client or the audit chain."""

    def __init__(self, svc: Any) -> None:
        self.engine = svc.rt.engine.sync_engine
        self.seen: list[Any] = []

    def _note(self, conn: Any, element: Any, *_: Any) -> None:
        sql = " ".join(str(element.compile(dialect=conn.dialect)).split())
        if any(w in sql for w in WRITES):
            self.seen.append(element)

    def __enter__(self) -> list[Any]:
        event.listen(self.engine, "before_execute", self._note)
        return self.seen

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_execute", self._note)


async def test_new_pushes_execute_the_statements_built_for_the_first(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    runs: list[list[Any]] = []
    for i in range(3):  # three new clients, three new decisions
        body = decision_body(source_id=f"STMT-{i}")
        body["client"]["hetu"] = hetu(i)
        with Executed(svc) as seen:
            r = await svc.client.post("/v1/decisions", json=body, headers=h)
        assert r.status_code == 201, r.text
        runs.append(seen)
    first = {id(s) for s in runs[0]}
    # Upsert, the head's lock and the audit row (SQLite: also the head's update and the outbox row apart).
    assert len(first) >= 3, runs[0]
    for later in runs[1:]:
        assert [id(s) for s in later] == [id(s) for s in runs[0]], "a push built a statement of its own"
