"""Every list endpoint is paginated with a maximum page size (issue 12 item 9), read from every
service's OpenAPI document: a GET answering a JSON array (or a page object) takes ``limit`` with a
maximum of at most 1000, and ``cursor`` (the shared ``ktt_common.pagination``) or, in the
attendance service's documented page objects, ``offset``. A list that is bounded by its parent
(one client's consents, one unit's instructors) or computed rather than stored is declared below
with the reason; a new list endpoint in neither place fails here."""

from __future__ import annotations

import pytest

from ktt_common.serve import SERVICE_MODULES, service_module
from ktt_common.testing import service_settings

BOUNDED = {
    "decision": {
        "/v1/decisions": "one client's decisions (client_id is required)",
        "/v1/clients/{client_id}/consents": "one client's consents",
        "/v1/clients/{client_id}/plan": "the plans of one client's active decisions",
        "/v1/clients/{client_id}/representatives": "one client's representatives",
        "/v1/clients/{client_id}/flags": "one client's flags",
    },
    "voucher": {
        "/v1/agreements/{agreement_id}/changes": "one agreement's changes",
        "/v1/voucher-links/{token}/agreements": "one client's agreements",
        "/v1/agreements/{agreement_id}/notifications": "one agreement's notifications",
        "/v1/deadlines": "computed per client or office from open items; not a stored list (not yet paged)",
    },
    "provider-registry": {
        "/v1/providers/search": "public search: approved providers only",
        "/v1/providers/{provider_id}/status-history": "one provider's history",
        "/v1/providers/{provider_id}/units": "one provider's units",
        "/v1/units/{unit_id}/instructors": "one unit's instructors",
        "/v1/providers/{provider_id}/social-guidance": "one provider's social guidance",
        "/v1/units/{unit_id}/inspections": "one unit's inspections",
        "/v1/providers/{provider_id}/products": "one provider's products",
        "/v1/products/{product_id}/values": "one product's value versions",
        "/v1/units/{unit_id}/queues/{product_id}": "one unit's queue for one product",
        "/v1/providers/{provider_id}/subcontractors": "one provider's subcontractors",
        "/v1/providers/{provider_id}/feedback": "one provider's feedback (not yet paged)",
        "/v1/providers/{provider_id}/quality-records": "one provider's quality records (not yet paged)",
        "/v1/alerts": "one open alert per provider and kind at a time (not yet paged)",
        "/v1/approved-list": "the whole approved list is the document the TE office receives",
    },
    "attendance": {
        "/v1/daily-log/entries/{entry_id}/revisions": "one entry's revisions",
        "/v1/agreements/{agreement_id}/deviations": "one agreement's deviations",
        "/v1/allowances": "computed per month from the log (not yet paged)",
    },
    "billing": {
        "/v1/settlements": "capped at 1000 rows (not yet paged: its order mixes directions)",
        "/v1/reconciliation": "computed per month and provider",
    },
}
EVERY_SERVICE = {"/v1/admin/jobs": "this service's jobs", "/v1/admin/dead-letters": "has limit; operators' view",
                 "/v1/clients/{client_id}/access-log": "has limit (at most 1000), newest first; one client's audit rows"}


def is_list(operation: dict) -> bool:
    schema = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
    names = {p["name"] for p in operation.get("parameters", [])}
    return schema.get("type") == "array" or "limit" in names or "offset" in names


@pytest.mark.parametrize("service", sorted(SERVICE_MODULES))
def test_every_list_endpoint_is_paginated_or_declared_bounded(service, tmp_path):
    settings = service_settings(service, database_url="sqlite+aiosqlite://", nats_url="nats://127.0.0.1:1",
                                data_dir=tmp_path)
    doc = service_module(service).create_app(settings, configure_logs=False).openapi()
    bounded = {**BOUNDED[service], **EVERY_SERVICE}
    problems, paged = [], []
    for path, methods in doc["paths"].items():
        operation = methods.get("get")
        if operation is None or not path.startswith("/v1/") or not is_list(operation):
            continue
        if path in bounded:
            continue
        params = {p["name"]: p for p in operation.get("parameters", [])}
        limit = params.get("limit", {}).get("schema", {})
        if not limit or not 1 <= limit.get("maximum", 10**9) <= 1000:
            problems.append(f"{path}: no limit with a maximum of at most 1000")
        if "cursor" not in params and not (service == "attendance" and "offset" in params):
            problems.append(f"{path}: no cursor")
        paged.append(path)
    stale = sorted(p for p in BOUNDED[service] if p not in doc["paths"])
    assert not stale, f"declared lists that no longer exist: {stale}"
    assert not problems, "\n".join(problems)
    assert paged, "every service has at least one paged list"
