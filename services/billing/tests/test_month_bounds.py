"""Found by the fuzzing sweep (tests/test_fuzz.py, issue 13): a month outside the date bounds was
a 500 on the reconciliation (year 0 reached date arithmetic). Every month query is YYYY-MM within
1900-01..2199-12 and anything else is a 422 problem naming the field."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1899-12", "2200-01"])
@pytest.mark.parametrize("path", ["/v1/reconciliation", "/v1/settlements"])
async def test_a_month_outside_the_bounds_is_a_422_problem(billing_service, month, path):
    r = await billing_service.client.get(path, params={"month": month}, headers=billing_service.auth("city_official"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "query.month" in r.text


async def test_a_month_within_the_bounds_is_answered(billing_service):
    r = await billing_service.client.get("/v1/reconciliation", params={"month": "2199-12"},
                                         headers=billing_service.auth("city_official"))
    assert r.status_code == 200 and r.json() == []
