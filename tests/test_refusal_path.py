"""DEC-9 across real services on one real nats-server: a client whose service never starts is
flagged for the case worker (VOU-3 delay), a client who refuses the voucher is not (VOU-4: the
client's right to another arrangement). Only public APIs and the services' own events."""

from __future__ import annotations

from ktt_common.testing import eventually, see_the_day
from tests.helpers import HETU_2023_SIGN, decision_body


async def test_dec9_a_delayed_voucher_is_flagged_a_refused_voucher_is_not(start) -> None:
    async with start("decision") as decision, start("voucher") as voucher:
        pusher, official = decision.auth("integrator"), voucher.auth("city_official")
        refusing = (await decision.client.post("/v1/decisions", json=decision_body(source_id="R"), headers=pusher)).json()
        late_body = decision_body(source_id="L", received_on="2026-11-26")
        late_body["client"]["hetu"] = HETU_2023_SIGN
        late = (await decision.client.post("/v1/decisions", json=late_body, headers=pusher)).json()

        async def voucher_of(made: dict):  # type: ignore[no-untyped-def]
            r = await voucher.client.get("/v1/vouchers", params={"decision_id": made["id"]}, headers=official)
            return r.json()[0] if r.status_code == 200 and r.json() else None

        refused = await eventually(lambda: voucher_of(refusing), what="the first voucher issued")
        late_voucher = await eventually(lambda: voucher_of(late), what="the second voucher issued")

        # The first client refuses the voucher (VOU-4); the city will arrange KTT otherwise.
        r = await voucher.client.post(f"/v1/vouchers/{refused['id']}/refuse", json={"reason": "the city's own unit"},
                                      headers=official)
        assert r.status_code == 200, r.text
        # The second never starts: the nightly job marks the voucher delayed after the 14 days (VOU-3).
        see_the_day(voucher.rt.clock, "2026-12-11")  # OPS-1: the job's date has come
        r = await voucher.client.post("/v1/admin/jobs/vouchers-delayed/run", params={"date": "2026-12-11"},
                                      headers=voucher.auth("admin"))
        assert r.status_code == 200, r.text

        async def flags(made: dict) -> list[dict]:
            r = await decision.client.get(f"/v1/clients/{made['client_id']}/flags", headers=decision.auth("social_worker"))
            assert r.status_code == 200, r.text
            return r.json()

        [flag] = await eventually(lambda: flags(late), what="the delay flagged")
        assert flag["kind"] == "not_started" and flag["voucher_id"] == late_voucher["id"] and "VOU-3" in flag["reason"]
        assert flag["details"]["state"] == "delayed"
        # The refusal was published before the delay on the same stream: it has been handled, and flagged nothing.
        assert await flags(refusing) == []
        got = await decision.client.get(f"/v1/decisions/{refusing['id']}", headers=decision.auth("city_official"))
        assert got.json()["status"] == "active"  # the decision stands (VOU-4)
