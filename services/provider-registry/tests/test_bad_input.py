"""Bad input to the registry's newer endpoints is always a 4xx problem, never a 500."""

from __future__ import annotations

import uuid

from registry_builders import BUSINESS_IDS, approved_provider, as_provider, official

NOWHERE = str(uuid.uuid4())


async def test_bad_input_is_refused_with_a_problem_never_a_500(registry):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    unit = p["unit"]["id"]
    calls = [
        ("POST", f"/v1/units/{unit}/inspections", {"inspected_on": "2026-02-30", "inspector": "x", "outcome": "approved"}),
        ("POST", f"/v1/units/{unit}/inspections", {"inspected_on": "2026-11-01", "inspector": "", "outcome": None}),
        ("POST", f"/v1/units/{unit}/inspections", ["not", "an", "object"]),
        ("POST", f"/v1/units/{NOWHERE}/inspections", {"inspected_on": "2026-11-01", "inspector": "x", "outcome": "approved"}),
        ("POST", "/v1/units/not-a-uuid/inspections", {}),
        ("PUT", f"/v1/inspections/{NOWHERE}/avi-statement", {"given_on": "2026-11-01"}),
        ("PUT", f"/v1/inspections/{NOWHERE}/avi-statement", {"given_on": 20261101}),
        ("POST", "/v1/providers/P1/social-guidance", {"name": "x", "qualification": "social_worker", "registration_number": "<script>",
                                                       "availability": "always"}),
        ("POST", "/v1/providers/NOPE/social-guidance", {"name": "x", "qualification": "social_worker", "registration_number": "123",
                                                         "availability": "always"}),
        ("POST", f"/v1/social-guidance/{NOWHERE}/end", None),
        ("PUT", "/v1/providers/P1/staff", {"staff": [{"name": "x", "role": "y" * 101, "qualification": "z"}]}),
        ("PUT", "/v1/providers/P1/staff", {"staff": [{"name": "x", "role": "yy", "qualification": "zz", "unit_id": NOWHERE}]}),
        ("PUT", "/v1/providers/P1/staff", {"staff": "everyone"}),
        ("PUT", "/v1/providers/P1/insurance", {"insurer": "x", "policy_number": "y", "valid_from": "2026-13-01", "valid_until": "2027-01-01"}),
        ("PUT", "/v1/providers/P1/insurance", {"insurer": "x", "policy_number": "y", "valid_from": "0001-01-01", "valid_until": "9999-12-31"}),
        ("GET", "/v1/providers/NOPE/insurance", None),
        ("GET", "/v1/alerts?open=maybe", None),
        ("GET", "/v1/alerts?kind=fire", None),
        ("POST", f"/v1/alerts/{NOWHERE}/acknowledge", None),
        ("POST", "/v1/alerts/x/acknowledge", None),
        ("GET", "/v1/approved-list?format=pdf", None),
        ("POST", "/v1/providers/P1/quality-records", {"kind": "annual_report", "year": 99999}),
        ("POST", "/v1/providers/P1/quality-records", {"kind": "visit", "summary": "x", "occurred_on": "yesterday"}),
        ("POST", "/v1/providers/P1/quality-records", {"kind": "visit", "summary": "x", "unit_id": "nope"}),
        ("GET", "/v1/providers/P1/quality-records?kind=audit", None),
        ("GET", "/v1/providers/P1/quality?from=2026-12-01&to=2026-11-01", None),
        ("POST", "/v1/providers/P1/feedback", {"kind": "ombudsman_complaint", "comment": None}),
        ("POST", "/v1/admin/jobs/insurance-expiry/run?date=2026-02-30", None),
    ]
    for method, path, body in calls:
        headers = svc.auth("admin") if "/admin/" in path else official(svc) if "quality?" in path or "alerts" in path \
            or "inspections" in path or "approved-list" in path else as_provider(svc, "P1")
        r = await svc.client.request(method, path, json=body, headers=headers)
        assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json", (method, path)
