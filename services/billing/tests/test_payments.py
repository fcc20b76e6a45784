"""Payment batches: pain.001 valid against its schema with the right sums, a purchase-ledger CSV, holds for
providers without valid payment details, and marking paid."""

from __future__ import annotations

import csv
import io
import os
import xml.etree.ElementTree as ET

import sepaxml
import xmlschema

from billing_builders import OTHER, PROVIDER
from ktt_billing.payments import rules

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
THIRD = "prov-3"


def test_payment_details_rules():
    class P:
        supplier_number, business_id, iban = "S-1", "1572860-0", "FI4950009420028730"
    assert rules.payment_details_problem(P()) is None
    P.iban = "FI4950009420028731"
    assert "IBAN" in rules.payment_details_problem(P())
    assert rules.payment_details_problem(None).startswith("no payment details")


async def approved(feed, provider_id, days):
    a = await feed.agreement(provider_id=provider_id)
    await feed.days(a, [(f"2026-11-{d:02d}", "present") for d in days])
    await feed.paperwork(a, "2026-11")
    return a


async def test_a_batch_exports_a_valid_pain001_and_ledger_and_is_marked_paid(feed, billing_service):
    await feed.provider(PROVIDER, terms=14)
    await feed.provider(OTHER, supplier_number="S-2002", terms=30)
    await feed.provider(THIRD, iban="FI00BAD")
    for provider_id, days in ((PROVIDER, [2, 3]), (OTHER, [2, 3, 4]), (THIRD, [2])):
        await approved(feed, provider_id, days)
    await feed.run("2026-12-01")
    ids = []
    for provider_id in (PROVIDER, OTHER, THIRD):
        s = await feed.settlement(provider_id=provider_id)
        assert (await feed.approve(s["id"])).status_code == 200
        ids.append(s["id"])
    official = billing_service.auth("city_official")
    r = await billing_service.client.post("/v1/payment-batches", json={"settlement_ids": ids, "execution_date": "2026-12-10"},
                                          headers=official)
    assert r.status_code == 201, r.text
    batch = r.json()
    assert batch["number"] == 1 and batch["total_cents"] == 10000 + 15000
    assert [(h["provider_id"], "IBAN" in h["reason"]) for h in batch["held"]] == [(THIRD, True)]
    held = await feed.settlement(provider_id=THIRD)
    assert held["held"] and held["hold_reasons"][-1]["rule"] == "PAY"
    [created] = await feed.published("PaymentBatchCreated")
    assert created["held_settlement_ids"] == [ids[2]]

    xml = await billing_service.client.get(f"/v1/payment-batches/{batch['id']}/pain001", headers=official)
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    schema = xmlschema.XMLSchema(os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.03.xsd"))
    schema.validate(xml.text)
    root = ET.fromstring(xml.content)
    assert root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", NS).text == "2"
    assert root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", NS).text == "250.00"
    amounts = sorted(e.text for e in root.iter("{%s}InstdAmt" % NS["p"]))
    assert amounts == ["100.00", "150.00"]

    ledger = await billing_service.client.get(f"/v1/payment-batches/{batch['id']}/ledger.csv", headers=official)
    rows = list(csv.DictReader(io.StringIO(ledger.text)))
    assert [(x["supplier_number"], x["amount"], x["due_date"]) for x in rows] == [
        ("S-1001", "100.00", "2026-12-24"), ("S-2002", "150.00", "2027-01-09")]
    assert all(x["business_id"] == "1572860-0" and x["reference"] for x in rows)

    # the same settlement cannot be paid twice
    again = await billing_service.client.post("/v1/payment-batches", json={"settlement_ids": ids[:1]}, headers=official)
    assert again.status_code == 409
    r = await billing_service.client.post(f"/v1/payment-batches/{batch['id']}/mark-paid", headers=official)
    assert r.status_code == 200 and r.json()["state"] == "paid"
    assert (await feed.settlement(provider_id=PROVIDER))["state"] == "paid"
    assert len(await feed.published("InvoicePaid")) == 2
    assert (await billing_service.client.post(f"/v1/payment-batches/{batch['id']}/mark-paid",
                                              headers=official)).status_code == 409
    # once the provider's account is fixed, its settlement goes into the next batch
    await feed.provider(THIRD, event=__import__("ktt_contracts.registry", fromlist=["x"]).ProviderChanged)
    r = await billing_service.client.post("/v1/payment-batches", json={"settlement_ids": ids[2:]}, headers=official)
    assert r.status_code == 201 and r.json()["number"] == 2 and r.json()["held"] == []


async def test_payment_batches_refuse_bad_input_and_other_roles(billing_service):
    official = billing_service.auth("city_official")
    for body in ({}, {"settlement_ids": []}, {"settlement_ids": ["x"]}):
        assert (await billing_service.client.post("/v1/payment-batches", json=body, headers=official)).status_code == 422
    r = await billing_service.client.post("/v1/payment-batches", json={"settlement_ids": ["00000000-0000-0000-0000-000000000000"]},
                                          headers=official)
    assert r.status_code == 404
    r = await billing_service.client.post("/v1/payment-batches", json={"settlement_ids": []},
                                          headers=billing_service.auth("provider", provider_id=PROVIDER))
    assert r.status_code in (403, 422)
    assert (await billing_service.client.get("/v1/payment-batches/00000000-0000-0000-0000-000000000000/pain001",
                                             headers=official)).status_code == 404
