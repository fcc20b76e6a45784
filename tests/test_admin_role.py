"""The admin role operates the platform (jobs, clock, bus) and reads no client data (issue 13
defect 6). The README's role table ("The APIs at a glance") names admin only for the operating
calls; every other route of every service refuses an admin token with 403 before it looks at
anything. Generated from the OpenAPI documents, so a new route that lets admin in fails here
unless it is declared below."""

from __future__ import annotations

import re

import pytest

from ktt_common.serve import SERVICE_MODULES, service_module
from ktt_common.testing import run_service, service_settings

# Routes admin may call beyond /v1/admin/*: the provider registry's own data (providers, units,
# products, staff, inspections, subcontractors), which is about providers, not clients.
ADMIN_MAY_READ = {
    "provider-registry": {
        "GET /v1/providers", "GET /v1/providers/{provider_id}", "GET /v1/providers/{provider_id}/status-history",
        "GET /v1/providers/{provider_id}/units", "GET /v1/units/{unit_id}", "GET /v1/units/{unit_id}/instructors",
        "GET /v1/providers/{provider_id}/products", "GET /v1/products/{product_id}/values",
        "GET /v1/providers/{provider_id}/staff", "GET /v1/units/{unit_id}/inspections",
        "GET /v1/providers/{provider_id}/subcontractors", "GET /v1/providers/{provider_id}/social-guidance",
        "GET /v1/providers/{provider_id}/insurance",
    },
}


@pytest.mark.parametrize("service", sorted(SERVICE_MODULES))
async def test_admin_reads_no_client_data(service, databases, nats_server, tmp_path):
    settings = service_settings(service, database_url=await databases(service), nats_url=nats_server.url,
                                data_dir=tmp_path)
    async with run_service(service_module(service).create_app, settings) as svc:
        spec = (await svc.client.get("/openapi.json")).json()
        admin = svc.auth("admin")
        let_in, checked = set(), 0
        for path, methods in spec["paths"].items():
            if not path.startswith("/v1/") or path.startswith("/v1/admin/"):
                continue
            concrete = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)
            for method, operation in methods.items():
                if operation.get("security") == []:  # public: the provider search, the voucher link
                    continue
                checked += 1
                r = await svc.client.request(method.upper(), concrete, headers=admin)
                assert r.status_code < 500, f"{method.upper()} {path}: {r.status_code}"
                if r.status_code != 403:
                    let_in.add(f"{method.upper()} {path}")
        assert checked >= 5
        assert let_in == ADMIN_MAY_READ.get(service, set()), (
            f"admin let into: {sorted(let_in - ADMIN_MAY_READ.get(service, set()))}; "
            f"declared but refused: {sorted(ADMIN_MAY_READ.get(service, set()) - let_in)}")
        # ... and admin still operates the platform.
        assert (await svc.client.get("/v1/admin/jobs", headers=admin)).status_code == 200
        assert (await svc.client.get("/v1/admin/outbox", headers=admin)).status_code == 200
