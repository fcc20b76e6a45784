"""What every one of the five services offers: health, readiness, metrics, OpenAPI, auth on
every business endpoint, admin jobs and the development clock, and migrations that match."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ktt_common.migrations import check_sync
from ktt_common.serve import SERVICE_MODULES, service_dir, service_module
from ktt_common.settings import DEV_JWT_SECRET, SERVICE_PORTS
from ktt_common.testing import run_service, service_settings

SERVICES = sorted(SERVICE_MODULES)


@pytest.mark.parametrize("service", SERVICES)
async def test_health_ready_metrics_and_openapi(service, databases, nats_server, tmp_path):
    settings = service_settings(service, database_url=await databases(service), nats_url=nats_server.url, data_dir=tmp_path)
    async with run_service(service_module(service).create_app, settings) as svc:
        assert (await svc.client.get("/healthz")).json() == {"status": "ok", "service": service}
        ready = await svc.client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
        metrics = await svc.client.get("/metrics")
        assert metrics.status_code == 200
        assert re.search(rf'ktt_http_requests_total{{method="GET",route="/healthz",service="{service}",status="200"}} [1-9][0-9]*\.0', metrics.text)
        assert f'ktt_nats_connected{{service="{service}"}} 1.0' in metrics.text
        spec = (await svc.client.get("/openapi.json")).json()
        assert spec["info"]["title"]
        assert (await svc.client.get("/docs")).status_code == 200
        # Every business and admin endpoint refuses a caller without a token, except those declared public.
        for path, methods in spec["paths"].items():
            if not path.startswith("/v1/"):
                continue
            concrete = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)
            for method, operation in methods.items():
                r = await svc.client.request(method.upper(), concrete)
                if operation.get("security") == []:  # declared public in OpenAPI (e.g. the provider search)
                    assert r.status_code not in (401, 403) and r.status_code < 500, f"public {method.upper()} {path} answered {r.status_code}"
                    continue
                assert r.status_code == 401, f"{method.upper()} {path} answered {r.status_code} without a token"
                assert r.headers["content-type"] == "application/problem+json"


def test_ports_are_the_documented_ones():
    assert SERVICE_PORTS == {"decision": 8001, "voucher": 8002, "provider-registry": 8003, "attendance": 8004, "billing": 8005}


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_models(service, databases):
    """alembic check: the models declare nothing that the migrations do not create."""
    import asyncio

    url = await databases(service)
    await asyncio.to_thread(check_sync, url, service_dir(service))


async def test_admin_can_run_a_job_for_a_date_and_others_cannot(start_probe_like):
    svc = start_probe_like
    r = await svc.client.get("/v1/admin/jobs", headers=svc.auth("admin"))
    assert r.status_code == 200 and isinstance(r.json(), list)
    r = await svc.client.post("/v1/admin/jobs/no-such-job/run", params={"date": "2026-12-01"}, headers=svc.auth("admin"))
    assert r.status_code == 404 and "no job" in r.json()["detail"]
    r = await svc.client.post("/v1/admin/jobs/no-such-job/run", headers=svc.auth("city_official"))
    assert r.status_code == 403
    r = await svc.client.post("/v1/admin/jobs/x/run", params={"date": "2026-02-30"}, headers=svc.auth("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.date"


@pytest.fixture
async def start_probe_like(databases, nats_server, tmp_path):
    from ktt_voucher.app import create_app

    settings = service_settings("voucher", database_url=await databases("voucher"), nats_url=nats_server.url, data_dir=tmp_path)
    async with run_service(create_app, settings) as svc:
        yield svc


async def test_development_clock_is_shared_by_all_services_and_refused_in_production(databases, nats_server, tmp_path, monkeypatch,
                                                                                     identity_provider):
    from ktt_decision.app import create_app as decision_app
    from ktt_voucher.app import create_app as voucher_app

    common = dict(nats_url=nats_server.url, data_dir=tmp_path, environment="development")
    dec = service_settings("decision", database_url=await databases("decision"), **common)
    vou = service_settings("voucher", database_url=await databases("voucher"), **common)
    async with run_service(decision_app, dec) as d, run_service(voucher_app, vou) as v:
        r = await d.client.post("/v1/admin/clock", json={"date": "2027-06-01"}, headers=d.auth("admin"))
        assert r.status_code == 200 and r.json()["today"] == "2027-06-01"
        seen = await v.client.get("/v1/admin/clock", headers=v.auth("admin"))
        assert seen.json()["today"] == "2027-06-01"  # the other service sees the same time
        assert v.rt.clock.today() == dt.date(2027, 6, 1)
        r = await v.client.post("/v1/admin/clock", json={"reset": True}, headers=v.auth("admin"))
        assert abs(r.json()["offset_seconds"]) < 1
        assert abs((d.rt.clock.now() - dt.datetime.now(dt.UTC)).total_seconds()) < 5
        assert (await d.client.post("/v1/admin/clock", json={"date": "2027-06-01"}, headers=d.auth("city_official"))).status_code == 403

    from ktt_common.testing import IDP_AUDIENCE, IDP_ISSUER

    monkeypatch.setenv("PII_KEY", "production-pii-key")
    prod = service_settings("decision", database_url=await databases("decision"), nats_url=nats_server.url,
                            data_dir=tmp_path, environment="production", jwt_jwks_url=identity_provider.url,
                            jwt_issuer=IDP_ISSUER, jwt_audience=IDP_AUDIENCE, pii_key="production-pii-key")
    async with run_service(decision_app, prod) as p:
        from ktt_common.auth import issue_token

        token = identity_provider.token(role="admin")
        r = await p.client.post("/v1/admin/clock", json={"date": "2027-06-01"}, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and "development mode" in r.json()["detail"]
        dev_token = issue_token(DEV_JWT_SECRET, role="admin", issuer=IDP_ISSUER, audience=IDP_AUDIENCE)
        r = await p.client.get("/v1/admin/clock", headers={"Authorization": f"Bearer {dev_token}"})
        assert r.status_code == 401  # the development key signs nothing in production
