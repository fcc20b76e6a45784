"""A settled month is never edited: changes after settlement become refund and correction lines in the
next open settlement; disputes; reconciliation of paid and realised days."""

from __future__ import annotations

import pytest

from billing_builders import OTHER, PROVIDER, lines_by

NOV = [("2026-11-02", "present"), ("2026-11-03", "present"), ("2026-11-04", "present")]


async def settled_november(feed, **agreement):
    a = await feed.agreement(**agreement)
    await feed.days(a, NOV)
    await feed.paperwork(a, "2026-11")
    await feed.run("2026-12-01")
    nov = await feed.settlement("2026-11")
    assert (await feed.approve(nov["id"])).status_code == 200
    await feed.run("2026-12-08")
    assert (await feed.settlement("2026-11"))["state"] == "settled"
    feed.clock.set(__import__("datetime").date(2026, 12, 10))
    return a, nov


async def december(feed, a):
    await feed.paperwork(a, "2026-12")
    await feed.run("2027-01-01")
    return await feed.settlement("2026-12")


async def test_a_late_entry_after_settlement_is_refunded_and_corrected_in_the_next_settlement(feed):
    a, nov = await settled_november(feed)
    await feed.days(a, [("2026-11-05", "present")], correction=True)
    await feed.days(a, [("2026-12-01", "present")])
    dec = await december(feed, a)
    c = a["client_id"]
    assert lines_by(dec) == sorted([(c, "day_first_year", 1.0, 5000, 5000), (c, "refund", -3.0, 5000, -15000),
                                    (c, "correction", 4.0, 5000, 20000)])
    assert all(x["service_month"] == "2026-11" for x in dec["lines"] if x["kind"] in ("refund", "correction"))
    assert dec["total_cents"] == 10000
    assert lines_by(await feed.settlement("2026-11")) == lines_by(nov)  # the settled month is untouched


async def test_a_changed_entry_after_settlement(feed):
    a, _ = await settled_november(feed)
    await feed.days(a, [("2026-11-03", "absent")], revision=2, correction=True)
    dec = await december(feed, a)
    c = a["client_id"]
    assert lines_by(dec) == sorted([(c, "refund", -3.0, 5000, -15000), (c, "correction", 2.0, 5000, 10000)])


async def test_a_removed_entry_after_settlement(feed):
    """Every day of the month turned out not organised: the refund stands alone."""
    a, _ = await settled_november(feed)
    await feed.days(a, [(d, "not_organised") for d, _ in NOV], revision=2, correction=True)
    dec = await december(feed, a)
    assert lines_by(dec) == [(a["client_id"], "refund", -3.0, 5000, -15000)]


async def test_a_cancelling_pair_leaves_no_lines(feed):
    a, _ = await settled_november(feed)
    await feed.days(a, [("2026-11-03", "absent")], revision=2, correction=True)
    await feed.days(a, [("2026-11-03", "present")], revision=3, correction=True)
    await feed.days(a, [("2026-12-01", "present")])
    dec = await december(feed, a)
    assert lines_by(dec) == [(a["client_id"], "day_first_year", 1.0, 5000, 5000)]


async def test_reconciliation_lists_differences_with_their_cause(feed, billing_service):
    a, _ = await settled_november(feed)
    await feed.days(a, [("2026-11-05", "present")], correction=True)
    official = billing_service.auth("city_official")
    r = await billing_service.client.get("/v1/reconciliation", params={"month": "2026-11"}, headers=official)
    [row] = r.json()
    assert (row["realised_days"], row["paid_days"], row["difference"]) == (4, 3, -1)
    assert row["cause"].startswith("correction_pending")
    dec = await december(feed, a)
    assert (await feed.approve(dec["id"])).status_code == 200
    [row] = (await billing_service.client.get("/v1/reconciliation", params={"month": "2026-11"}, headers=official)).json()
    assert (row["realised_days"], row["paid_days"], row["cause"]) == (4, 4, None)
    r = await billing_service.client.get("/v1/reconciliation", params={"month": "2026-11", "provider_id": OTHER},
                                         headers=billing_service.auth("provider", provider_id=PROVIDER))
    assert r.status_code == 403 and r.json()["rule"] == "DATA-3"


@pytest.mark.parametrize("outcome", ["accepted", "rejected"])
async def test_a_dispute_accepted_becomes_a_correction_and_a_rejected_one_changes_nothing(feed, billing_service, outcome):
    a, nov = await settled_november(feed)
    line = nov["lines"][0]
    me = billing_service.auth("provider", provider_id=PROVIDER)
    url = f"/v1/settlements/{nov['id']}/lines/{line['id']}/disputes"
    r = await billing_service.client.post(url, json={"reason": "the 5th was realised too", "claimed_quantity": 4},
                                          headers=me)
    assert r.status_code == 201, r.text
    dispute = r.json()
    assert dispute["state"] == "open"
    again = await billing_service.client.post(url, json={"reason": "again"}, headers=me)
    assert again.status_code == 409
    other = await billing_service.client.post(url, json={"reason": "not mine"},
                                              headers=billing_service.auth("provider", provider_id=OTHER))
    assert other.status_code == 404
    r = await billing_service.client.post(f"/v1/disputes/{dispute['id']}/resolve",
                                          json={"outcome": outcome, "answer": "checked against the log"},
                                          headers=billing_service.auth("city_official"))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == outcome
    assert lines_by(await feed.settlement("2026-11")) == lines_by(nov)
    listed = (await billing_service.client.get("/v1/settlements", params={"month": "2026-12"},
                                               headers=billing_service.auth("city_official"))).json()
    if outcome == "rejected":
        assert listed == []
        return
    dec = await feed.settlement("2026-12")
    c = a["client_id"]
    assert lines_by(dec) == sorted([(c, "refund", -3.0, 5000, -15000), (c, "correction", 4.0, 5000, 20000)])
    assert {x["dispute_id"] for x in dec["lines"]} == {dispute["id"]}
    # the dispute's lines survive the next computation and are not corrected twice
    await feed.paperwork(a, "2026-12")
    await feed.run("2027-01-01")
    assert lines_by(await feed.settlement("2026-12")) == lines_by(dec)
    r = await billing_service.client.post(f"/v1/disputes/{dispute['id']}/resolve",
                                          json={"outcome": "rejected", "answer": "again"},
                                          headers=billing_service.auth("city_official"))
    assert r.status_code == 409
