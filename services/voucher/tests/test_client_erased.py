"""ClientErased (DATA-2, issue 13): the voucher service neutralises the erased client's personal data —
the agreement's personal content (AGR-7), the client's signature, end and refusal reasons (AGR-13,
AGR-15), notices, voucher reasons (VOU-4, DEC-7) and representatives' names (VOU-9) — and keeps ids,
states, dates and the frozen money figures (VOU-6, BIL-6). Idempotent through the inbox; another
client's data is untouched."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from pathlib import Path

from sqlalchemy import select

from ktt_common.testing import eventually
from ktt_contracts.decision import ClientErased, DecisionRevoked, RepresentativeAuthorised

from ktt_voucher.agreements.models import (Agreement, AgreementNotification, AgreementPeriod, ProviderRefusal,
                                           RepresentativeCopy)
from ktt_voucher.vouchers.models import Voucher, VoucherEvent

sys.path.insert(0, str(Path(__file__).parent))
from test_agreements import clock, publish, svc, world  # noqa: F401  (fixtures and builders shared)

T0 = dt.datetime(2026, 12, 30, 12, tzinfo=dt.UTC)
NAME = "Pertti Keinonen"


async def _raw(svc, model) -> list[dict]:
    async with svc.rt.sessionmaker() as s:
        return [dict(r) for r in (await s.execute(select(model.__table__))).mappings()]


async def test_the_erased_clients_texts_go_and_ids_dates_and_values_stay(svc, world):
    provider = await world.provider()
    voucher, other = await world.voucher(), await world.voucher()
    cid = str(voucher.client_id)
    signed = await world.signed(voucher, provider, goals=f"{NAME} learns a daily rhythm",
                                client_contact={"phone": "+358405555555"})
    kept = await world.signed(other, provider, goals="Anna learns woodwork")
    r = await svc.client.post("/v1/provider-refusals", json={"voucher_number": voucher.number,
                              "reason": f"{NAME} cannot lift heavy things"}, headers=world.auth(provider))
    assert r.status_code == 201, r.text
    rep = {"representative_id": str(uuid.uuid4()), "client_id": cid, "name": "Riitta Keinonen",
           "scope": ["handle_voucher"], "authorised_on": "2026-11-26"}
    await publish(svc, RepresentativeAuthorised, rep)
    await publish(svc, DecisionRevoked, {"decision_id": str(voucher.decision_id), "client_id": cid,
                                         "revoked_on": "2026-12-20", "reason": f"{NAME} moved to Tampere"})

    async def settled() -> bool:
        reps, agreements = await _raw(svc, RepresentativeCopy), await _raw(svc, Agreement)
        return len(reps) == 1 and any(a["state"] == "ended" for a in agreements)
    await eventually(settled, what="representative copied and agreement ended")
    before = {a["id"]: (a["state"], a["start_date"], a["ended_on"], a["day_value_first_year_cents"],
                        a["base_day_value_cents"]) for a in await _raw(svc, Agreement)}
    assert NAME in repr(await _raw(svc, Agreement)) + repr(await _raw(svc, Voucher))  # there was something to erase

    consumer = svc.rt.consumer("decision")
    env = ClientErased.envelope({"client_id": cid}, subject=cid, correlation_id=None, time=T0)
    assert await consumer.process(env) == "handled"
    assert await consumer.process(env) == "duplicate"  # the inbox drops a redelivery
    again = ClientErased.envelope({"client_id": cid}, subject=cid, correlation_id=None, time=T0)
    assert await consumer.process(again) == "handled"  # published anew: the same values

    tables = {m: await _raw(svc, m) for m in (Agreement, AgreementPeriod, AgreementNotification, ProviderRefusal,
                                               RepresentativeCopy, Voucher, VoucherEvent)}
    assert NAME not in repr(tables) and "Riitta" not in repr(tables) and "+358405555555" not in repr(tables)
    agreements = {str(a["id"]): a for a in tables[Agreement]}
    mine = agreements[signed["id"]]
    assert (mine["content"]["goals"], mine["content"]["client_contact"], mine["content"]["tasks"]) == ("erased", None, [])
    assert mine["content"]["instructor"]["name"] == "Ohjaaja Olli"  # the provider's staff are not the client
    assert mine["client_signature"]["name"] == "erased" and mine["client_signature"]["signed_on"] == "2026-11-26"
    assert mine["end_reason"] in (None, "erased")
    assert agreements[kept["id"]]["content"]["goals"] == "Anna learns woodwork"
    assert {a["id"]: (a["state"], a["start_date"], a["ended_on"], a["day_value_first_year_cents"],
                      a["base_day_value_cents"]) for a in tables[Agreement]} == before  # VOU-6: values stay
    assert [r["name"] for r in tables[RepresentativeCopy]] == ["erased"]
    assert [r["reason"] for r in tables[ProviderRefusal]] == ["erased"]
    vouchers = {str(v["client_id"]): v for v in tables[Voucher]}
    assert vouchers[cid]["state"] == "revoked" and vouchers[cid]["state_reason"] == "erased"
    assert vouchers[cid]["number"] == voucher.number and vouchers[cid]["valid_from"] == voucher.valid_from
    periods = [p for p in tables[AgreementPeriod] if str(p["agreement_id"]) == signed["id"]]
    assert periods and all(p["goals"] == "erased" for p in periods)
    r = await svc.client.get(f"/v1/agreements/{signed['id']}", headers=svc.auth("city_official"))
    assert r.status_code == 200 and NAME not in r.text  # still readable, nothing personal left
