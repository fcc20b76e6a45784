"""ClientErased (DATA-2, issue 13): the registry neutralises the erased client's feedback texts (PRV-12)
and keeps kind, rating, dates and status for the quality figures (QUA-1); idempotent through the inbox."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from ktt_contracts.decision import ClientErased

from ktt_registry.models import Feedback

from registry_builders import approved_provider, official
from test_values_subcontractors_feedback_api import BUSINESS_IDS

T0 = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)


async def test_the_erased_clients_feedback_texts_go_and_the_quality_figures_stay(registry):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    erased, kept = str(uuid.uuid4()), str(uuid.uuid4())
    url = "/v1/providers/P1/feedback"
    for cid, comment in ((erased, "Liisa says the instructor shouted at her"), (kept, "fine")):
        r = await svc.client.post(url, json={"kind": "complaint", "comment": comment, "unit_id": p["unit"]["id"]},
                                  headers=svc.auth("client", client_id=cid))
        assert r.status_code == 201, r.text
    r = await svc.client.post(url, json={"kind": "feedback", "rating": 4, "comment": "Liisa liked it"},
                              headers=svc.auth("client", client_id=erased))
    assert r.status_code == 201, r.text
    complaint = (await svc.client.get("/v1/providers/P1/feedback", headers=official(svc))).json()
    mine = next(f for f in (complaint["items"] if isinstance(complaint, dict) else complaint)
                if f["client_id"] == erased and f["kind"] == "complaint")
    status_url = f"/v1/feedback/{mine['id']}/status"
    assert (await svc.client.put(status_url, json={"status": "being_handled"}, headers=official(svc))).status_code == 200
    r = await svc.client.put(status_url, json={"status": "resolved", "resolution": "Liisa moved to another unit"},
                             headers=official(svc))
    assert r.status_code == 200, r.text
    quality = {"from": "2026-11-01", "to": "2026-11-30"}
    before = (await svc.client.get("/v1/providers/P1/quality", params=quality, headers=official(svc))).json()

    consumer = svc.rt.consumer("decision")
    env = ClientErased.envelope({"client_id": erased}, subject=erased, correlation_id=None, time=T0)
    assert await consumer.process(env) == "handled"
    assert await consumer.process(env) == "duplicate"  # the inbox drops a redelivery
    again = ClientErased.envelope({"client_id": erased}, subject=erased, correlation_id=None, time=T0)
    assert await consumer.process(again) == "handled"  # published anew: the same values

    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(Feedback.__table__).order_by(Feedback.received_on, Feedback.kind))).mappings().all()
    theirs = sorted((r["kind"], r["rating"], r["status"], r["comment"], r["resolution"]) for r in rows
                    if str(r["client_id"]) == erased)
    assert theirs == [("complaint", None, "resolved", "erased", "erased"), ("feedback", 4, None, "erased", None)]
    assert [r["comment"] for r in rows if str(r["client_id"]) == kept] == ["fine"]
    assert "Liisa" not in repr(rows)
    after = (await svc.client.get("/v1/providers/P1/quality", params=quality, headers=official(svc))).json()
    assert after == before  # QUA-1 figures stay
