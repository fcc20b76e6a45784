"""Monthly settlements end to end on the real consumers, real NATS and real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from billing_builders import OTHER, PROVIDER, lines_by
from ktt_contracts import agreement


async def test_a_month_computed_by_hand_equals_the_settlement_to_the_cent_bil_1_bil_6_vou_7(feed):
    """Two clients. A crosses the one-year line on 16.11 (first-year 50.00 €/day before, base 40.00 €/day
    from it), has an absence and a not_organised day, and 11.25 coaching hours against 10 approved (60.00 €/h).
    B (45.00 €/day) has an absence and a not_organised day, and an interrupted service: ended on 5.11, a day
    posted after the end is not paid (BIL-5)."""
    a = await feed.agreement(base_value_from="2026-11-16", first=5000, base=4000, hour=6000, approved_hours=10)
    b = await feed.agreement(first=4500, base=3800, unit_id=a["unit_id"])
    await feed.days(a, [("2026-11-02", "present"), ("2026-11-03", "present", 4.25), ("2026-11-04", "present"),
                        ("2026-11-09", "absent"), ("2026-11-10", "not_organised"), ("2026-11-16", "present"),
                        ("2026-11-17", "present", 7.0), ("2026-11-18", "present"), ("2026-11-19", "absent")])
    await feed.days(b, [("2026-11-02", "present"), ("2026-11-03", "present"), ("2026-11-04", "absent"),
                        ("2026-11-05", "present"), ("2026-11-06", "present"), ("2026-11-10", "not_organised")])
    assert await feed.deliver("voucher", agreement.AgreementEnded, dict(
        agreement_id=b["agreement_id"], voucher_id=b["voucher_id"], client_id=b["client_id"], provider_id=PROVIDER,
        unit_id=b["unit_id"], ended_on="2026-11-05", kind="mutual", reason="moved", early=True)) == "handled"
    await feed.paperwork(a, "2026-11")
    await feed.follow_up(b, "2026-11")
    result = await feed.run("2026-12-01")
    assert result["result"]["month"] == "2026-11" and result["result"]["created"] == 1

    s = await feed.settlement()
    assert lines_by(s) == sorted([
        (a["client_id"], "day_first_year", 3.0, 5000, 15000),   # 2., 3., 4.11
        (a["client_id"], "day_base", 3.0, 4000, 12000),         # 16., 17., 18.11
        (a["client_id"], "coaching_hour", 10.0, 6000, 60000),  # 11.25 h worked, 10 approved
        (b["client_id"], "day_first_year", 3.0, 4500, 13500),   # 2., 3., 5.11; 6.11 is after the end
    ])
    assert s["total_cents"] == s["totals"]["total_cents"] == 100500
    assert s["totals"]["client_fee_cents"] == 0
    assert s["state"] == "under_review" and not s["held"]
    day_base = next(x for x in s["lines"] if x["kind"] == "day_base")
    assert (day_base["date_from"], day_base["date_to"]) == ("2026-11-16", "2026-11-18")
    [created] = await feed.published("InvoiceCreated")
    assert created["total_cents"] == 100500 and created["line_count"] == 4

    r = await feed.approve(s["id"])
    assert r.status_code == 200 and r.json()["state"] == "approved"
    [approved] = await feed.published("InvoiceApproved")
    assert approved["approved_by"] == "official-1"
    # running the job again the same day changes nothing and publishes nothing new
    await feed.run("2026-12-01")
    assert len(await feed.published()) == 2


async def test_coaching_hours_are_capped_across_months_vou_7(feed):
    a = await feed.agreement(first=None, base=None, hour=6000, approved_hours=10, product_kind="intensive_coaching")
    await feed.days(a, [("2026-10-05", "present", 6.0), ("2026-11-02", "present", 3.5), ("2026-11-03", "present", 2.0)])
    await feed.paperwork(a, "2026-10")
    await feed.paperwork(a, "2026-11")
    await feed.run("2026-11-01")
    await feed.run("2026-12-01")
    assert lines_by(await feed.settlement("2026-10")) == [(a["client_id"], "coaching_hour", 6.0, 6000, 36000)]
    assert lines_by(await feed.settlement("2026-11")) == [(a["client_id"], "coaching_hour", 4.0, 6000, 24000)]


async def test_duplicate_and_reordered_events_are_billed_once(feed):
    a = await feed.agreement()
    await feed.paperwork(a, "2026-11")
    assert await feed.days(a, [("2026-11-02", "present"), ("2026-11-03", "present")], revision=1) == "handled"
    # the same batch again under a new event id, and a newer revision overtaken by an older one
    assert await feed.days(a, [("2026-11-02", "present"), ("2026-11-03", "present")], revision=1) == "handled"
    assert await feed.days(a, [("2026-11-03", "absent")], revision=3) == "handled"
    assert await feed.days(a, [("2026-11-03", "present")], revision=2) == "handled"
    # an exact redelivery is a duplicate in the inbox
    from billing_builders import envelope
    from ktt_contracts import attendance
    import uuid
    env = envelope(attendance.AttendanceRecorded, dict(
        batch_id=str(uuid.uuid4()), agreement_id=a["agreement_id"], client_id=a["client_id"], provider_id=PROVIDER,
        unit_id=a["unit_id"], product_kind="individual", recorded_on="2026-11-30",
        days=[dict(entry_id=str(uuid.uuid4()), date="2026-11-04", kind="present", realised=True, revision=1,
                   correction=False)]))
    assert await feed.svc.rt.consumer("attendance").process(env) == "handled"
    assert await feed.svc.rt.consumer("attendance").process(env) == "duplicate"
    # the agreement signed twice, and an older change arriving after a newer one
    assert await feed.deliver("voucher", agreement.AgreementSigned, {**a, "values": {**a["values"],
                              "day_value_first_year_cents": 5000}}) == "handled"
    await feed.run("2026-12-01")
    await feed.run("2026-12-01")
    s = await feed.settlement()
    assert lines_by(s) == [(a["client_id"], "day_first_year", 2.0, 5000, 10000)]  # 2.11 and 4.11; 3.11 absent (rev 3)
    assert len(await feed.published("InvoiceCreated")) == 1


async def test_held_until_the_month_is_confirmed_then_released_bil_2(feed):
    a = await feed.agreement()
    await feed.days(a, [("2026-11-02", "present")])
    await feed.follow_up(a, "2026-11")
    await feed.run("2026-12-01")
    s = await feed.settlement()
    assert s["held"] and s["state"] == "draft"
    assert [h["rule"] for h in s["hold_reasons"]] == ["BIL-2"] and a["unit_id"] in s["hold_reasons"][0]["reason"]
    r = await feed.approve(s["id"])
    assert r.status_code == 409 and r.json()["rule"] == "BIL-2"
    [held] = await feed.published("InvoiceHeld")
    assert held["reasons"][0]["rule"] == "BIL-2"
    # the late confirmation arrives: released at once, under review
    assert await feed.confirm(a, "2026-11", confirmed_on="2026-12-05") == "handled"
    s = await feed.settlement()
    assert not s["held"] and s["state"] == "under_review" and s["hold_reasons"] == []
    assert len(await feed.published("InvoiceReleased")) == 1
    assert (await feed.approve(s["id"])).status_code == 200


async def test_held_until_the_monthly_follow_up_is_submitted_bil_3(feed):
    a = await feed.agreement()
    await feed.days(a, [("2026-11-02", "present")])
    await feed.confirm(a, "2026-11")
    await feed.run("2026-12-01")
    s = await feed.settlement()
    assert s["held"] and [h["rule"] for h in s["hold_reasons"]] == ["BIL-3"]
    assert s["hold_reasons"][0]["agreement_id"] == a["agreement_id"]
    await feed.follow_up(a, "2026-11", submitted_on="2026-12-06")
    s = await feed.settlement()
    assert not s["held"] and s["state"] == "under_review"


async def test_settled_on_the_settlement_day_not_before(feed):
    a = await feed.agreement()
    await feed.days(a, [("2026-11-02", "present")])
    await feed.paperwork(a, "2026-11")
    await feed.run("2026-12-01")
    s = await feed.settlement()
    assert (await feed.approve(s["id"])).status_code == 200
    await feed.run("2026-12-07")
    assert (await feed.settlement())["state"] == "approved"
    await feed.run("2026-12-08")
    s = await feed.settlement()
    assert s["state"] == "settled" and s["settled_on"] == "2026-12-08"
    assert len(await feed.published("InvoiceSettled")) == 1
    await feed.run("2026-12-09")
    assert len(await feed.published("InvoiceSettled")) == 1


async def test_a_provider_reads_only_its_own_settlements_data_3(feed, billing_service):
    mine = await feed.agreement()
    theirs = await feed.agreement(provider_id=OTHER)
    for a in (mine, theirs):
        await feed.days(a, [("2026-11-02", "present")])
        await feed.paperwork(a, "2026-11")
    await feed.run("2026-12-01")
    other = await feed.settlement(provider_id=OTHER)
    me = billing_service.auth("provider", provider_id=PROVIDER)
    r = await billing_service.client.get("/v1/settlements", headers=me)
    assert [s["provider_id"] for s in r.json()] == [PROVIDER]
    r = await billing_service.client.get("/v1/settlements", params={"provider_id": OTHER}, headers=me)
    assert r.status_code == 403 and r.json()["rule"] == "DATA-3"
    r = await billing_service.client.get(f"/v1/settlements/{other['id']}", headers=me)
    assert r.status_code == 404 and r.json()["rule"] == "DATA-3"
    r = await billing_service.client.post(f"/v1/settlements/{other['id']}/approve", headers=me)
    assert r.status_code == 403


async def test_bad_input_never_500(billing_service):
    official = billing_service.auth("city_official")
    for path, params in (("/v1/settlements", {"month": "2026-13"}), ("/v1/settlements", {"state": "bogus"}),
                         ("/v1/settlements/not-a-uuid", {})):
        r = await billing_service.client.get(path, params=params, headers=official)
        assert r.status_code == 422, (path, r.text)
    r = await billing_service.client.get("/v1/settlements/00000000-0000-0000-0000-000000000000", headers=official)
    assert r.status_code == 404
    r = await billing_service.client.get("/v1/settlements")
    assert r.status_code == 401


async def test_concurrent_runs_never_share_a_running_number_and_each_creation_is_audited(feed, billing_service):
    """Two runs creating settlements at the same time (PostgreSQL and SQLite): the second waits for the
    first to commit, so the running numbers behind the payment references differ; two whole job runs at
    once create each provider's month once. Each settlement the job creates has its audit entry."""
    import asyncio
    import datetime as dt

    from sqlalchemy import select

    from ktt_billing.settlements import service
    from ktt_billing.settlements.models import Settlement

    rt = billing_service.rt
    mine, theirs = await feed.agreement(), await feed.agreement(provider_id=OTHER)
    for a in (mine, theirs):
        await feed.days(a, [("2026-11-02", "present"), ("2026-12-07", "present")])
        await feed.paperwork(a, "2026-11")
        await feed.paperwork(a, "2026-12")

    async def compute(provider_id: str) -> None:
        async with rt.sessionmaker() as session, session.begin():
            await service.compute_month(session, "2026-11", dt.date(2026, 12, 1), [provider_id])

    async with rt.sessionmaker() as session:
        async with session.begin():
            await service.compute_month(session, "2026-11", dt.date(2026, 12, 1), [PROVIDER])
            other = asyncio.create_task(compute(OTHER))
            await asyncio.sleep(0.5)
            assert not other.done()  # waiting for the first to commit, not reading the same max(seq)
        await other

    # two whole job runs at once (December): one settlement per provider and month, numbers distinct
    results = await asyncio.gather(feed.run("2027-01-02"), feed.run("2027-01-02"))
    assert sorted(r["result"]["created"] for r in results) == [0, 2]
    async with rt.sessionmaker() as session:
        rows = (await session.execute(select(Settlement.provider_id, Settlement.month, Settlement.seq,
                                             Settlement.reference))).all()
        audit = rt.infra.audit_log
        entries = (await session.execute(select(audit.c.actor, audit.c.role, audit.c.target_id, audit.c.client_ids,
                                                audit.c.details).where(audit.c.action == "settlement.create"))).all()
    assert sorted((p, m) for p, m, _, _ in rows) == sorted([(PROVIDER, "2026-11"), (PROVIDER, "2026-12"),
                                                            (OTHER, "2026-11"), (OTHER, "2026-12")])
    assert sorted(seq for _, _, seq, _ in rows) == [1, 2, 3, 4]
    assert len({ref for *_, ref in rows}) == 4
    by_id = {str(e.target_id): e for e in entries}
    async with rt.sessionmaker() as session:
        ids = {str(i): p for i, p in (await session.execute(select(Settlement.id, Settlement.provider_id))).all()}
    assert set(by_id) == set(ids)  # one entry per settlement created, none twice
    for sid, e in by_id.items():
        assert (e.actor, e.role) == ("job:settle-month", "system")
        client = mine["client_id"] if ids[sid] == PROVIDER else theirs["client_id"]
        assert e.client_ids == [client] and e.details["provider_id"] == ids[sid] and e.details["line_count"] == 1
