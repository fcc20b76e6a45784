"""What the decision service makes of the voucher service's events: TE-office start notices
(DEC-6); and DATA-4 across it all: no event or log line carries a hetu. The DEC-9 flags are in
test_flags.py."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import uuid

import structlog
from sqlalchemy import select

from ktt_common.identifiers import HETU_MASK, contains_hetu
from ktt_common.logging import configure_logging
from ktt_common.testing import eventually
from ktt_contracts.voucher import ServiceStarted, VoucherRefused, VoucherStateChanged

from tests.helpers import HETU_1900, decision_body


async def _publish(svc, event_type, payload: dict, envelope=None, msg_id: str | None = None):
    """Publish a voucher-service event onto the voucher stream, as the voucher service would."""
    env = envelope or event_type.envelope(payload, subject=str(payload.get("voucher_id")), correlation_id=None,
                                          time=dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC))
    await svc.rt.bus.publish(event_type.subject, env.model_dump_json().encode(), msg_id or env.id)
    return env


def _started(made: dict, voucher_id: uuid.UUID) -> dict:
    return {"client_id": made["client_id"], "voucher_id": str(voucher_id), "decision_id": made["id"],
            "provider_id": "P1", "provider_name": "Työpaja ry", "unit_id": "U1", "unit_name": "Puutyöverstas",
            "started_on": "2026-12-07", "form": "individual", "days_per_week": 3, "hours_per_day": 5.5}


def _refused(made: dict, voucher_id: uuid.UUID, changed_on: str = "2026-11-26") -> dict:
    return {"voucher_id": str(voucher_id), "number": "KTT-1234-5678-X", "decision_id": made["id"],
            "client_id": made["client_id"], "type": "regular", "state": "refused", "valid_from": "2026-12-01",
            "valid_to": "2027-11-30", "previous_state": "issued", "reason": "wants the city's own unit",
            "changed_on": changed_on}


def _delayed(made: dict, voucher_id: uuid.UUID) -> dict:
    return _refused(made, voucher_id) | {"state": "delayed", "reason": "VOU-3: no service started by 2026-12-09"}


async def _flags(svc, client_id: str) -> list[dict]:
    r = await svc.client.get(f"/v1/clients/{client_id}/flags", headers=svc.auth("social_worker"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_dec6_one_start_notice_per_start_even_when_redelivered_and_hetu_only_in_the_single_read(decision_service):
    svc = decision_service
    made = (await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))).json()
    voucher_id = uuid.uuid4()
    env = await _publish(svc, ServiceStarted, _started(made, voucher_id))
    await _publish(svc, ServiceStarted, {}, envelope=env, msg_id=str(uuid.uuid4()))  # the same event redelivered
    await _publish(svc, ServiceStarted, _started(made, voucher_id))  # the same start published anew
    # A marker after them: once its flag exists, the consumer has handled everything before it.
    await _publish(svc, VoucherStateChanged, _delayed(made, uuid.uuid4()))
    await eventually(lambda: _flags(svc, made["client_id"]), what="the marker handled")

    official = svc.auth("city_official", subject="liisa")
    pending = (await svc.client.get("/v1/start-notices", params={"status": "pending"}, headers=official)).json()
    assert len(pending) == 1
    notice = pending[0]
    assert notice["client_id"] == made["client_id"] and notice["first_name"] == "Matti" and notice["last_name"] == "Meikäläinen"
    assert (notice["started_on"], notice["provider_name"], notice["unit_name"], notice["form"], notice["days_per_week"]) == (
        "2026-12-07", "Työpaja ry", "Puutyöverstas", "individual", 3)
    assert float(notice["hours_per_day"]) == 5.5 and "hetu" not in notice

    one = await svc.client.get(f"/v1/start-notices/{notice['id']}", headers=official)
    assert one.status_code == 200 and one.json()["hetu"] == HETU_1900  # the TE office needs it (DEC-6)
    audit = svc.rt.infra.audit_log
    async with svc.rt.sessionmaker() as s:
        reads = (await s.execute(select(audit.c.actor).where(audit.c.action == "start_notice.read_hetu"))).scalars().all()
        from ktt_decision.notices.models import StartNotice
        row = (await s.execute(select(StartNotice))).scalar_one()
    assert reads == ["liisa"]
    assert HETU_1900 not in repr(vars(row))

    r = await svc.client.get(f"/v1/start-notices/{notice['id']}", headers=svc.auth("provider", provider_id="P1"))
    assert r.status_code == 403
    r = await svc.client.post(f"/v1/start-notices/{notice['id']}/mark-sent", headers=official)
    assert r.status_code == 200 and r.json()["status"] == "sent" and r.json()["sent_on"] == "2026-11-26"
    assert (await svc.client.post(f"/v1/start-notices/{notice['id']}/mark-sent", headers=official)).status_code == 200
    assert (await svc.client.get("/v1/start-notices", params={"status": "pending"}, headers=official)).json() == []
    sent = (await svc.client.get("/v1/start-notices", params={"status": "sent"}, headers=official)).json()
    assert [n["id"] for n in sent] == [notice["id"]]


async def test_data4_no_event_and_no_log_line_carries_the_hetu(decision_service, announce_provider):
    """DATA-4 over a whole client story: push, amend, consent, representative, start, refusal, delay,
    notice read, revoke."""
    svc = decision_service
    root = logging.getLogger()
    saved_handlers, saved_level, saved_config = root.handlers[:], root.level, structlog.get_config()
    stream = io.StringIO()
    configure_logging("decision", json=True, stream=stream)
    try:
        await announce_provider(svc, "P1")
        h = svc.auth("integrator")
        made = (await svc.client.post("/v1/decisions", json=decision_body(), headers=h)).json()
        await svc.client.post("/v1/decisions", json=decision_body(), headers=h)
        await svc.client.post("/v1/decisions", json=decision_body(version=2, form="group"), headers=h)
        await svc.client.post("/v1/clients/lookup", json={"hetu": HETU_1900}, headers=svc.auth("city_official"))
        await svc.client.post(f"/v1/clients/{made['client_id']}/consents", headers=svc.auth("city_official"),
                              json={"provider_id": "P1", "scope": ["plan"], "given_on": "2026-11-20"})
        await svc.client.post(f"/v1/clients/{made['client_id']}/representatives", headers=svc.auth("social_worker"),
                              json={"name": "Maija Meikäläinen", "phone": "+358401111111", "relation": "sister",
                                    "authorised_on": "2026-11-20", "scope": ["choose_provider"]})
        bad = decision_body(source_id="BAD")
        bad["client"]["hetu"] = HETU_1900[:-1] + "A"
        await svc.client.post("/v1/decisions", json=bad, headers=h)
        await _publish(svc, ServiceStarted, _started(made, uuid.uuid4()))
        await _publish(svc, VoucherRefused, _refused(made, uuid.uuid4()))
        await _publish(svc, VoucherStateChanged, _delayed(made, uuid.uuid4()))
        await eventually(lambda: _flags(svc, made["client_id"]), what="events handled")
        notices = (await svc.client.get("/v1/start-notices", headers=svc.auth("city_official"))).json()
        await svc.client.get(f"/v1/start-notices/{notices[0]['id']}", headers=svc.auth("city_official"))
        await svc.client.post(f"/v1/decisions/{made['id']}/revoke", json={"reason": "moved"}, headers=h)
        await eventually(lambda: _all_published(svc), what="outbox published")
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        structlog.configure(**saved_config)
    logged = stream.getvalue()
    assert "consumer" in logged or "HTTP Request" in logged  # the capture saw the service's log lines
    for text in (logged, json.dumps(await _envelopes(svc))):
        assert HETU_1900 not in text and "131052" not in text
        assert not contains_hetu(text)
    assert HETU_MASK not in logged  # nothing hetu-shaped was even offered to the logger
    types = [e["type"].split(".")[2] for e in await _envelopes(svc)]
    assert types == ["DecisionMade", "DecisionAmended", "ConsentRecorded", "RepresentativeAuthorised", "DecisionRevoked"]


async def _envelopes(svc) -> list[dict]:
    outbox = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        return [json.loads(r) for r in (await s.execute(select(outbox.c.envelope).order_by(outbox.c.seq))).scalars()]


async def _all_published(svc) -> bool:
    return await svc.rt.relay.pending_count() == 0


async def test_start_notices_are_paged_by_cursor_and_each_read_notice_is_its_own_audit_row(decision_service):
    """Issue 12 item 9: a list is paged (cursor, at most 1000 a page) and the audit log gets one row per
    notice read, not every client id in one row."""
    svc = decision_service
    made = (await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))).json()
    for _ in range(5):
        await _publish(svc, ServiceStarted, _started(made, uuid.uuid4()))
    await _publish(svc, VoucherStateChanged, _delayed(made, uuid.uuid4()))
    await eventually(lambda: _flags(svc, made["client_id"]), what="the marker handled")

    official = svc.auth("city_official", subject="liisa")
    seen, pages, params = [], 0, {"limit": 2}
    while True:
        r = await svc.client.get("/v1/start-notices", params=params, headers=official)
        assert r.status_code == 200, r.text
        pages += 1
        assert len(r.json()) <= 2
        seen += [n["id"] for n in r.json()]
        if "x-next-cursor" not in r.headers:
            assert "link" not in r.headers
            break
        assert r.headers["link"].endswith('>; rel="next"') and r.headers["x-next-cursor"] in r.headers["link"]
        params = {"limit": 2, "cursor": r.headers["x-next-cursor"]}
    assert pages == 3 and len(seen) == len(set(seen)) == 5
    whole = (await svc.client.get("/v1/start-notices", headers=official)).json()
    assert [n["id"] for n in whole] == seen  # the same order as one page

    audit = svc.rt.infra.audit_log
    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(audit).where(audit.c.action == "start_notice.list"))).all()
    assert len(rows) == 10 and all(len(r.client_ids) == 1 and r.target_id in seen for r in rows)

    for bad in ({"limit": 1001}, {"limit": 0}, {"cursor": "not*base64"}, {"cursor": "bm90IGpzb24"}):
        r = await svc.client.get("/v1/start-notices", params=bad, headers=official)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), (bad, r.text)
