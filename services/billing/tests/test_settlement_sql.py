"""The set-based settlement (issue 10's benchmark) on both databases: lines written by INSERT ... SELECT
with ids made by the database, money rounded by SQL as by the pure rule, totals and audit summed by the
database, and the staging table gone after the job."""

from __future__ import annotations

import uuid

from billing_builders import OTHER, PROVIDER, lines_by
from sqlalchemy import select, text

from ktt_billing.settlements import rules
from ktt_billing.settlements.models import SettlementLine
from ktt_common.bulk import cached_row_plans


async def test_coaching_money_rounds_half_up_in_sql_as_the_rule_does_vou_7(feed):
    """VOU-7: paid per approved hour. 0.50 h and 0.25 h at 60.01 €/h are 30.005 € and 15.0025 €: the SQL
    amount rounds half up to the cent exactly as ``rules.amount_cents`` does (3001 and 1500 cents)."""
    a = await feed.agreement(first=None, base=None, hour=6001, approved_hours=10, product_kind="intensive_coaching")
    b = await feed.agreement(first=None, base=None, hour=6001, approved_hours=10, product_kind="intensive_coaching")
    await feed.days(a, [("2026-11-02", "present", 0.5)])
    await feed.days(b, [("2026-11-02", "present", 0.25)])
    await feed.paperwork(a, "2026-11")
    await feed.paperwork(b, "2026-11")
    await feed.run("2026-12-01")
    s = await feed.settlement()
    assert lines_by(s) == sorted([(a["client_id"], "coaching_hour", 0.5, 6001, rules.amount_cents(50, 6001)),
                                  (b["client_id"], "coaching_hour", 0.25, 6001, rules.amount_cents(25, 6001))])
    assert [rules.amount_cents(50, 6001), rules.amount_cents(25, 6001)] == [3001, 1500]
    assert s["total_cents"] == 4501


async def test_lines_get_distinct_random_ids_from_the_database_and_totals_and_audit_from_sql(feed, billing_service):
    """BIL-1: one line per client-day kind, each with its own version-4 id made by the database (no round
    trip through Python); the total and the audit's clients are the database's sums of the same lines."""
    agreements = [await feed.agreement(first=5000 + i, base=4000) for i in range(3)]
    for a in agreements:
        await feed.days(a, [("2026-11-02", "present"), ("2026-11-03", "present"), ("2026-11-04", "absent")])
        await feed.paperwork(a, "2026-11")
    result = await feed.run("2026-12-01")
    assert result["result"]["created"] == 1 and result["result"]["lines"] == 3

    s = await feed.settlement()
    ids = [uuid.UUID(x["id"]) for x in s["lines"]]
    assert len(set(ids)) == 3 and all(i.version == 4 and i.variant == uuid.RFC_4122 for i in ids)
    assert s["total_cents"] == sum(2 * (5000 + i) for i in range(3))
    [created] = await feed.published("InvoiceCreated")
    assert (created["total_cents"], created["line_count"]) == (s["total_cents"], 3)

    rt = billing_service.rt
    async with rt.sessionmaker() as session:
        audit = rt.infra.audit_log
        [(client_ids, details)] = (await session.execute(
            select(audit.c.client_ids, audit.c.details).where(audit.c.action == "settlement.create"))).all()
        stored = (await session.execute(select(SettlementLine.id))).scalars().all()
        # the staging table lived only inside the job's transaction (a temporary table, dropped there)
        if session.bind.dialect.name == "postgresql":
            left = (await session.execute(text("SELECT count(*) FROM pg_class WHERE relname = 'settlement_stage'"))).scalar_one()
        else:
            left = (await session.execute(text("SELECT count(*) FROM sqlite_temp_master WHERE name = 'settlement_stage'"))
                    ).scalar_one()
    assert client_ids == sorted(a["client_id"] for a in agreements)
    assert (details["total_cents"], details["line_count"], details["provider_id"]) == (s["total_cents"], 3, PROVIDER)
    assert sorted(stored) == sorted(ids)
    assert left == 0


async def test_cached_row_plans_lets_postgresql_reuse_plans_inside_and_restores_the_mode(billing_service):
    """The bulk line insert's foreign-key checks may reuse a generic plan (PostgreSQL); the engine's
    ``force_custom_plan`` is back afterwards. On SQLite there is no such setting and the block just runs."""
    async with billing_service.rt.sessionmaker() as session, session.begin():
        postgres = session.bind.dialect.name == "postgresql"
        mode = "SELECT current_setting('plan_cache_mode')" if postgres else "SELECT 'none'"
        before = (await session.execute(text(mode))).scalar_one()
        async with cached_row_plans(session):
            inside = (await session.execute(text(mode))).scalar_one()
        after = (await session.execute(text(mode))).scalar_one()
    if postgres:
        assert (before, inside, after) == ("force_custom_plan", "auto", "force_custom_plan")
    else:
        assert (before, inside, after) == ("none", "none", "none")


async def test_coaching_hours_are_capped_per_decision_across_its_agreements_vou_7(feed):
    """VOU-7, DEC-3: the hours are approved in the client's decision. The client changes provider under
    the same decision (10 h approved): 6 h with the first provider in October leave 4 h for the second in
    November, not another 10. Another client's decision with the same figures is capped on its own."""
    decision = str(uuid.uuid4())
    coaching = dict(first=None, base=None, hour=6000, approved_hours=10, product_kind="intensive_coaching")
    first = await feed.agreement(decision_id=decision, end="2026-10-31", **coaching)
    second = await feed.agreement(provider_id=OTHER, decision_id=decision, start="2026-11-01",
                                  client_id=first["client_id"], **coaching)
    other_client = await feed.agreement(provider_id=OTHER, start="2026-10-01", **coaching)
    await feed.days(first, [("2026-10-05", "present", 6.0)])
    await feed.days(second, [("2026-11-02", "present", 5.0), ("2026-11-03", "present", 2.0)])
    await feed.days(other_client, [("2026-10-05", "present", 6.0), ("2026-11-02", "present", 7.0)])
    for a, month in ((first, "2026-10"), (second, "2026-11"), (other_client, "2026-10"), (other_client, "2026-11")):
        await feed.paperwork(a, month)
    await feed.run("2026-11-01")
    await feed.run("2026-12-01")
    assert lines_by(await feed.settlement("2026-10")) == [(first["client_id"], "coaching_hour", 6.0, 6000, 36000)]
    assert lines_by(await feed.settlement("2026-11", OTHER)) == sorted([
        (second["client_id"], "coaching_hour", 4.0, 6000, 24000),       # 7 h worked, 4 h left of the decision's 10
        (other_client["client_id"], "coaching_hour", 4.0, 6000, 24000),  # its own decision: 6 h + 4 h
    ])


async def test_a_late_change_to_one_agreement_corrects_the_other_agreement_of_the_decision_vou_7(feed):
    """VOU-7 after settlement: October's 6 h with the first provider left 4 h of the decision's 10 for the
    second provider's November. Both months are approved when October is corrected to 4 h: the first
    provider is refunded 6 h and paid 4 h, and the second, whose November may now pay 6 h, is refunded
    4 h and paid 6 h, each in its next settlement."""
    import datetime as dt

    decision = str(uuid.uuid4())
    coaching = dict(first=None, base=None, hour=6000, approved_hours=10, product_kind="intensive_coaching")
    first = await feed.agreement(decision_id=decision, end="2026-10-31", **coaching)
    second = await feed.agreement(provider_id=OTHER, decision_id=decision, start="2026-11-01",
                                  client_id=first["client_id"], **coaching)
    await feed.days(first, [("2026-10-05", "present", 6.0)])
    await feed.days(second, [("2026-11-02", "present", 7.0)])
    await feed.paperwork(first, "2026-10")
    await feed.paperwork(second, "2026-11")
    await feed.run("2026-11-01")
    await feed.run("2026-12-01")
    for month, provider in (("2026-10", PROVIDER), ("2026-11", OTHER)):
        assert (await feed.approve((await feed.settlement(month, provider))["id"])).status_code == 200
    feed.clock.set(dt.date(2026, 12, 10))
    await feed.days(first, [("2026-10-05", "present", 4.0)], revision=2, correction=True)
    await feed.run("2027-01-02")
    c = first["client_id"]
    assert lines_by(await feed.settlement("2026-12", PROVIDER)) == sorted([
        (c, "refund", -6.0, 6000, -36000), (c, "correction", 4.0, 6000, 24000)])
    assert lines_by(await feed.settlement("2026-12", OTHER)) == sorted([
        (c, "refund", -4.0, 6000, -24000), (c, "correction", 6.0, 6000, 36000)])
