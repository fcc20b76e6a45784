"""The registry's migrations carry existing data forward."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from ktt_common.db import create_engine
from ktt_common.migrations import upgrade
from ktt_common.serve import service_dir


async def test_0003_keeps_the_insurance_already_recorded_as_the_first_policy_period(empty_database):
    """PRV-10: providers recorded before policy periods were kept lose no insurance (and so no approval)."""
    url = await empty_database()
    await upgrade(url, service_dir("provider-registry"), "0002")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for pid, business_id, until in (("P1", "0204819-8", dt.date(2027, 12, 31)), ("P2", "1234567-1", None)):
                await conn.execute(text(
                    "INSERT INTO provider (id, name, business_id, legal_form, registration_register, registration_number, "
                    "registration_date, data_protection_officer, contact, payment_terms_days, iban, insurance_insurer, "
                    "insurance_policy_number, insurance_valid_from, insurance_valid_until, status, status_changed_on, applied_on, "
                    "created_at, updated_at) VALUES (:id, :name, :bid, 'registered_association', 'avi', 'AVI-1', :d, '{}', '{}', "
                    "14, 'FI2112345600000785', :insurer, :number, :vfrom, :until, 'approved', :d, :d, :t, :t)"),
                    {"id": pid, "name": f"Provider {pid}", "bid": business_id, "d": dt.date(2026, 1, 15),
                     "insurer": "LähiTapiola" if until else None, "number": "VAS-77" if until else None,
                     "vfrom": dt.date(2026, 1, 1) if until else None, "until": until,
                     "t": dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)})
        await upgrade(url, service_dir("provider-registry"))
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT provider_id, insurer, policy_number, valid_from, valid_until, recorded_by FROM insurance_policy"))).all()
    finally:
        await engine.dispose()
    assert [tuple(str(v) for v in r) for r in rows] == [  # raw SQL: SQLite answers dates as text
        ("P1", "LähiTapiola", "VAS-77", "2026-01-01", "2027-12-31", "migration 0003")]
