"""The thin vertical slice: a decision POSTed to the decision service becomes a voucher."""

from __future__ import annotations

from ktt_common.testing import eventually
from tests.helpers import decision_body


async def test_decision_becomes_voucher(start) -> None:
    async with start("decision") as decision, start("voucher") as voucher:
        r = await decision.client.post("/v1/decisions", json=decision_body(), headers=decision.auth("integrator"))
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["version"] == 1 and made["status"] == "active"

        async def voucher_visible():
            r = await voucher.client.get("/v1/vouchers", params={"decision_id": made["id"]}, headers=voucher.auth("city_official"))
            return r.json() if r.status_code == 200 and r.json() else None

        vouchers = await eventually(voucher_visible, what="voucher issued")
        assert len(vouchers) == 1
        v = vouchers[0]
        assert v["client_id"] == made["client_id"]
        assert v["valid_from"] == "2026-12-01" and v["valid_to"] == "2027-11-30"
        assert v["state"] == "issued" and v["type"] == "regular"
