"""Issue 15: a retry of the very same push is answered from the body-hash index before the body is
parsed: one statement, no DecisionIn, no transaction; the answer is byte for byte the one the full
path gives to a replay. Everything else still takes the full path."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from sqlalchemy import event, select

from ktt_decision.decisions.models import DecisionVersion
from ktt_decision.decisions.reading import FAST_REPLAYS

from tests.helpers import HETU_2023_SIGN, decision_body


class Statements:
    """The statements the service sends while in the block, through SQLAlchemy or straight to asyncpg
    (the replay's look-up on PostgreSQL, ktt_decision.decisions.reading), but for SQLite's BEGIN and those
    of the outbox relay and its lease (it runs beside the request, on its own schedule)."""

    def __init__(self, svc: Any) -> None:
        self.engine = svc.rt.engine.sync_engine
        self.seen: list[str] = []
        self._fetchrow = asyncpg.Connection.fetchrow

    def _note(self, _conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if not sql.startswith("BEGIN") and "outbox" not in sql and "lease" not in sql:
            self.seen.append(" ".join(sql.split()))

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._note)
        real, note = self._fetchrow, self._note

        async def fetchrow(conn: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            note(conn, None, query)  # a spy: the real call follows, to the real database
            return await real(conn, query, *args, **kwargs)

        asyncpg.Connection.fetchrow = fetchrow  # type: ignore[method-assign]
        return self.seen

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._note)
        asyncpg.Connection.fetchrow = self._fetchrow  # type: ignore[method-assign]


def _fast_replays() -> float:
    return FAST_REPLAYS._value.get()


def _answer(r: Any) -> tuple[int, bytes, list[tuple[str, str]]]:
    return r.status_code, r.content, [(k, v) for k, v in r.headers.items() if k != "x-correlation-id"]


async def test_a_retry_of_the_same_request_is_one_read_and_answers_as_the_full_path(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    body = decision_body()
    raw = json.dumps(body).encode()
    first = await svc.client.post("/v1/decisions", content=raw, headers={**h, "content-type": "application/json"})
    assert first.status_code == 201, first.text

    before = _fast_replays()
    with Statements(svc) as seen:
        fast = await svc.client.post("/v1/decisions", content=raw, headers={**h, "content-type": "application/json"})
    assert fast.status_code == 200, fast.text
    assert _fast_replays() == before + 1
    assert len(seen) == 1 and seen[0].startswith("SELECT decision.id") and "body_hash" in seen[0], seen

    # The same content in another spelling (other bytes) takes the full path, which knows it by its
    # content hash: the same answer, status, body and headers alike.
    spelled = json.dumps(body, indent=2).encode()
    with Statements(svc) as seen:
        full = await svc.client.post("/v1/decisions", content=spelled, headers={**h, "content-type": "application/json"})
    assert _fast_replays() == before + 1 and len(seen) >= 2
    assert _answer(fast) == _answer(full)
    assert fast.json()["client"]["first_name"] == body["client"]["first_name"]  # opened from its seal


async def test_an_amended_decision_answers_a_retry_of_either_version_with_its_current_state(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    v1 = decision_body()
    assert (await svc.client.post("/v1/decisions", json=v1, headers=h)).status_code == 201
    v2 = decision_body(version=2, form="group")
    amended = await svc.client.post("/v1/decisions", json=v2, headers=h)
    assert amended.status_code == 200 and amended.json()["version"] == 2
    async with svc.rt.sessionmaker() as s:
        hashes = (await s.execute(select(DecisionVersion.version, DecisionVersion.body_hash)
                                  .order_by(DecisionVersion.version))).all()
    assert [v for v, _ in hashes] == [1, 2] and all(len(h_ or "") == 64 for _, h_ in hashes)
    assert json.dumps(v1) not in str(hashes)  # a keyed hash, not the body

    before = _fast_replays()
    for body in (v1, v2):
        r = await svc.client.post("/v1/decisions", json=body, headers=h)
        assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["form"] == "group"
        assert r.headers["location"] == f"/v1/decisions/{amended.json()['id']}"
    assert _fast_replays() == before + 2


async def test_what_is_not_a_retry_of_a_stored_request_is_answered_by_the_endpoint_as_before(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    body = decision_body()
    assert (await svc.client.post("/v1/decisions", json=body, headers=h)).status_code == 201
    before = _fast_replays()
    # No token, a role that may not push, another content type: refused as before, never answered from the index.
    assert (await svc.client.post("/v1/decisions", json=body)).status_code == 401
    assert (await svc.client.post("/v1/decisions", json=body, headers=svc.auth("social_worker"))).status_code == 403
    as_text = await svc.client.post("/v1/decisions", content=json.dumps(body).encode(),
                                    headers={**h, "content-type": "text/plain"})
    assert as_text.status_code == 422
    # The same version with other content is still a conflict; broken JSON still a validation problem.
    assert (await svc.client.post("/v1/decisions", json=decision_body(form="group"), headers=h)).status_code == 409
    broken = await svc.client.post("/v1/decisions", content=b'{"source_system": "effica",',
                                   headers={**h, "content-type": "application/json"})
    assert broken.status_code == 422
    assert _fast_replays() == before


# --- answered early, by the shared request context (ktt_common.app.RequestContext) ------------------


async def _asgi(app: Any, headers: dict[str, str], body: bytes) -> tuple[dict[str, Any], int, bytes, list[tuple[str, str]]]:
    """POST /v1/decisions straight into the ASGI app with a scope of our own, to see what the layers
    below the request context left in it (the router marks the scope it routes)."""
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/v1/decisions", "raw_path": b"/v1/decisions", "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"host", b"decision"), (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 40000), "server": ("decision", 80)}
    given = False
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal given
        if given:
            return {"type": "http.disconnect"}
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = messages[0]
    content = b"".join(m.get("body", b"") for m in messages[1:])
    answer_headers = sorted((k.decode(), v.decode()) for k, v in start["headers"] if k != b"x-correlation-id")
    return scope, start["status"], content, answer_headers


def _sample(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_replay_is_answered_before_routing_with_the_same_bytes_metrics_and_log_line(decision_service):
    import structlog

    svc = decision_service
    h = {**svc.auth("integrator"), "content-type": "application/json"}
    raw = json.dumps(decision_body()).encode()
    assert (await svc.client.post("/v1/decisions", content=raw, headers=h)).status_code == 201
    # The router has sent a push to its route once: now a replay is answered before it, with the route's answer.
    routed = await svc.client.post("/v1/decisions", content=json.dumps(decision_body(), indent=1).encode(), headers=h)
    scope, status, content, headers = await _asgi(svc.app, h, raw)
    assert "router" not in scope and "fastapi_astack" not in scope  # neither routing nor the exit stack ran
    assert (status, content, headers) == (routed.status_code, routed.content,
                                          sorted((k, v) for k, v in routed.headers.items() if k != "x-correlation-id"))

    labels = {"service": "decision", "method": "POST", "route": "/v1/decisions"}
    before = (_sample("ktt_http_requests_total", **labels, status="200"),
              _sample("ktt_http_request_duration_seconds_count", **labels), _fast_replays())
    with structlog.testing.capture_logs() as logs:
        early = await svc.client.post("/v1/decisions", content=raw, headers={**h, "X-Correlation-ID": "corr-early-1"})
    assert early.status_code == 200 and early.content == routed.content
    assert early.headers["x-correlation-id"] == "corr-early-1"
    assert (_sample("ktt_http_requests_total", **labels, status="200"),
            _sample("ktt_http_request_duration_seconds_count", **labels), _fast_replays()) == (
        before[0] + 1, before[1] + 1, before[2] + 1)
    [line] = [e for e in logs if e["event"] == "http_request"]
    assert {k: line[k] for k in ("method", "route", "status", "correlation_id")} == {
        "method": "POST", "route": "/v1/decisions", "status": 200, "correlation_id": "corr-early-1"}


async def test_what_the_early_look_did_not_answer_takes_the_full_path_looked_up_once(decision_service):
    svc = decision_service
    h = {**svc.auth("integrator"), "content-type": "application/json"}
    first = decision_body()
    assert (await svc.client.post("/v1/decisions", json=first, headers=h)).status_code == 201  # the route is known
    before = _fast_replays()
    # A new decision: the body read early reaches the endpoint intact, and the index is read once.
    other_body = decision_body(source_id="EFF-2026-000999")
    other_body["client"]["hetu"] = HETU_2023_SIGN  # another person: no overlap with the first (DEC-4)
    other = json.dumps(other_body).encode()
    with Statements(svc) as seen:
        scope, status, content, _ = await _asgi(svc.app, h, other)
    assert status == 201 and json.loads(content)["source_id"] == "EFF-2026-000999" and "router" in scope, content
    assert len([s for s in seen if s.startswith("SELECT") and "body_hash" in s]) == 1, seen
    # Refusals and problems are the endpoint's, as before.
    assert (await svc.client.post("/v1/decisions", json=first)).status_code == 401
    assert (await svc.client.post("/v1/decisions", json=first, headers=svc.auth("social_worker"))).status_code == 403
    assert (await svc.client.post("/v1/decisions", content=b"{", headers=h)).status_code == 422
    assert _fast_replays() == before


async def test_a_replay_with_an_idempotency_key_is_kept_under_its_key(decision_service):
    """The idempotency middleware sits below the early answer: a push with a key takes the full path,
    so the key is kept and a reuse with another body is refused (issue 12 item 8)."""
    svc = decision_service
    h = svc.auth("integrator")
    body = decision_body()
    assert (await svc.client.post("/v1/decisions", json=body, headers=h)).status_code == 201  # the route is known
    keyed = {**h, "Idempotency-Key": "replay-key-1"}
    again = await svc.client.post("/v1/decisions", json=body, headers=keyed)
    assert again.status_code == 200 and "idempotency-replayed" not in again.headers
    replayed = await svc.client.post("/v1/decisions", json=body, headers=keyed)
    assert replayed.status_code == 200 and replayed.headers["idempotency-replayed"] == "true"
    assert replayed.content == again.content
    reused = await svc.client.post("/v1/decisions", json=decision_body(source_id="EFF-OTHER"), headers=keyed)
    assert reused.status_code == 422 and reused.json()["type"].endswith("idempotency-key-reused")


async def test_on_postgresql_the_look_up_is_asyncpgs_alone_and_a_lost_connection_falls_back(start_decision):
    """Issue 15: on PostgreSQL the replay's look-up goes to the runtime's plain asyncpg pool (none of
    SQLAlchemy's execution); on SQLite through the engine. A pool connection the server has cut fails the
    look-up, and the endpoint answers the replay as it does (nothing lost); the stopped service closes the pool."""
    async with start_decision() as svc:
        pool = await _replays_through_the_pool_or_engine(svc)
    assert pool is None or pool._closed  # noqa: SLF001 - asyncpg's own flag: no connection is left behind


async def _replays_through_the_pool_or_engine(svc: Any) -> Any:
    h = {**svc.auth("integrator"), "content-type": "application/json"}
    raw = json.dumps(decision_body()).encode()
    assert (await svc.client.post("/v1/decisions", content=raw, headers=h)).status_code == 201
    engine_statements: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if "outbox" not in sql and "lease" not in sql and not sql.startswith("BEGIN"):
            engine_statements.append(sql)

    event.listen(svc.rt.engine.sync_engine, "before_cursor_execute", note)
    try:
        before = _fast_replays()
        assert (await svc.client.post("/v1/decisions", content=raw, headers=h)).status_code == 200
        assert _fast_replays() == before + 1
    finally:
        event.remove(svc.rt.engine.sync_engine, "before_cursor_execute", note)
    if svc.rt.engine.dialect.name != "postgresql":
        assert len(engine_statements) == 1 and svc.rt._driver_pool is None  # noqa: SLF001
        return None
    assert engine_statements == []  # through asyncpg alone
    resets: list[Any] = []
    real_reset = asyncpg.Connection.reset

    async def reset(conn: Any, *args: Any, **kwargs: Any) -> None:  # a spy: asyncpg's reset is a round trip
        resets.append(conn)
        await real_reset(conn, *args, **kwargs)

    asyncpg.Connection.reset = reset  # type: ignore[method-assign]
    try:
        assert (await svc.client.post("/v1/decisions", content=raw, headers=h)).status_code == 200
    finally:
        asyncpg.Connection.reset = real_reset  # type: ignore[method-assign]
    assert resets == []  # the connection went back to the pool without a reset query
    pool = await svc.rt.driver_pool()
    async with svc.rt.engine.connect() as conn:  # the server ends the pool's connections (a restart, a cut)
        ended = (await conn.exec_driver_sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'ktt-driver-pool'")).scalar()
    assert ended >= 1
    before = _fast_replays()
    answers = [await svc.client.post("/v1/decisions", content=raw, headers=h) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    assert _fast_replays() >= before + 1  # the pool replaced what was cut: the next look-up is fast again
    return pool
