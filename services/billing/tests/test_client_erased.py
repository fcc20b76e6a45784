"""ClientErased (DATA-2, issue 13): billing neutralises the free text of the erased client's disputes
(reason, answer) and keeps the lines' ids, quantities and money figures; idempotent through the inbox."""

from __future__ import annotations

from sqlalchemy import select

from ktt_contracts.decision import ClientErased

from ktt_billing.disputes.models import Dispute
from ktt_billing.settlements.models import SettlementLine

from billing_builders import PROVIDER, envelope, lines_by
from test_corrections import settled_november


async def _dispute(svc, settlement: dict, line: dict, reason: str) -> dict:
    url = f"/v1/settlements/{settlement['id']}/lines/{line['id']}/disputes"
    r = await svc.client.post(url, json={"reason": reason, "claimed_quantity": 4},
                              headers=svc.auth("provider", provider_id=PROVIDER))
    assert r.status_code == 201, r.text
    return r.json()


async def test_the_erased_clients_dispute_texts_go_and_the_figures_stay(feed, billing_service):
    svc = billing_service
    a, nov = await settled_november(feed)
    b = await feed.agreement()
    await feed.days(b, [("2026-12-01", "present")])
    mine = await _dispute(svc, nov, nov["lines"][0], "Matti was ill on the 5th, doctor Virtanen confirmed")
    r = await svc.client.post(f"/v1/disputes/{mine['id']}/resolve", json={"outcome": "rejected",
                              "answer": "Matti's certificate came late"}, headers=svc.auth("city_official"))
    assert r.status_code == 200, r.text
    async with svc.rt.sessionmaker() as s:
        lines_before = [(x.id, x.quantity_centi, x.amount_cents) for x in (await s.execute(
            select(SettlementLine).order_by(SettlementLine.id))).scalars()]

    env = envelope(ClientErased, {"client_id": a["client_id"]})
    consumer = svc.rt.consumer("decision")
    assert await consumer.process(env) == "handled"
    assert await consumer.process(env) == "duplicate"  # redelivered: the inbox drops it
    # Published again (a second retention run would not, but a replayed outbox might): the same values.
    assert await consumer.process(envelope(ClientErased, {"client_id": a["client_id"]})) == "handled"
    # Another client's erasure touches nothing of this one.
    assert await consumer.process(envelope(ClientErased, {"client_id": b["client_id"]})) == "handled"

    async with svc.rt.sessionmaker() as s:
        raw = (await s.execute(select(Dispute.__table__))).mappings().all()
        lines_after = [(x.id, x.quantity_centi, x.amount_cents) for x in (await s.execute(
            select(SettlementLine).order_by(SettlementLine.id))).scalars()]
    assert [(d["reason"], d["answer"], d["state"], d["claimed_quantity_centi"]) for d in raw] == [
        ("erased", "erased", "rejected", 400)]
    assert "Matti" not in repr(raw)
    assert lines_after == lines_before  # DATA-2: ids and money figures stay for the accounts
    assert lines_by(await feed.settlement("2026-11")) == lines_by(nov)
