"""Issue 15: a retry of the very same push is answered from the body-hash index before the body is
parsed: one statement, no DecisionIn, no transaction; the answer is byte for byte the one the full
path gives to a replay. Everything else still takes the full path."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event, select

from ktt_decision.decisions.models import DecisionVersion
from ktt_decision.decisions.reading import FAST_REPLAYS

from tests.helpers import decision_body


class Statements:
    """The statements the service sends while in the block, but for SQLite's BEGIN and those of the
    outbox relay and its lease (it runs beside the request, on its own schedule)."""

    def __init__(self, svc: Any) -> None:
        self.engine = svc.rt.engine.sync_engine
        self.seen: list[str] = []

    def _note(self, _conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if not sql.startswith("BEGIN") and "outbox" not in sql and "lease" not in sql:
            self.seen.append(" ".join(sql.split()))

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._note)
        return self.seen

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._note)


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
