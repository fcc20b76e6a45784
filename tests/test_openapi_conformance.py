"""Issue 17 items 1 and 5: every service's OpenAPI document passes openapi-spec-validator and says
what the server sends (RFC 9457 problems as application/problem+json); errors provoked here match
the documented response; problem titles, JSON positions and the configurable problem base."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from tests.helpers import decision_body
from ktt_common.openapi import HTTP_METHODS, PROBLEM_REF, documented_media_types
from ktt_common.serve import SERVICE_MODULES, service_module
from ktt_common.testing import run_service, service_settings

SERVICES = sorted(SERVICE_MODULES)


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                yield path, method, op


def _media_type(response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


def assert_documented(doc, response, method: str, path: str) -> None:
    """The response's status is documented for the operation, with the media type it was sent as."""
    types = documented_media_types(doc, method, path, response.status_code)
    assert types, f"{method.upper()} {path} answered {response.status_code}, which its OpenAPI does not document"
    assert _media_type(response) in types, f"{method.upper()} {path} {response.status_code}: sent {_media_type(response)}, documented {types}"


@pytest.mark.parametrize("service", SERVICES)
async def test_openapi_document_is_valid_and_documents_problems(service, databases, nats_server, tmp_path):
    settings = service_settings(service, database_url=await databases(service), nats_url=nats_server.url, data_dir=tmp_path,
                                public_url=f"https://{service}.ktt.example")
    async with run_service(service_module(service).create_app, settings) as svc:
        doc = (await svc.client.get("/openapi.json")).json()
    validate(doc)  # openapi-spec-validator: the third-party check generated clients rely on

    assert doc["servers"] == [{"url": f"https://{service}.ktt.example", "description": "This service (KTT_PUBLIC_URL)"}]
    ids = [op["operationId"] for _p, _m, op in _operations(doc)]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9]*", i) for i in ids), [i for i in ids if not re.fullmatch(r"[a-z][A-Za-z0-9]*", i)]
    assert not [k for k in doc["components"]["schemas"] if k.startswith("Body_")]  # named after operationIds
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    declared_tags = [t["name"] for t in doc["tags"]]
    assert len(declared_tags) == len(set(declared_tags))
    for path, method, op in _operations(doc):
        assert op.get("tags") and set(op["tags"]) <= set(declared_tags), f"{method} {path} has no declared tag"
        assert "500" in op["responses"]
        for code, response in op["responses"].items():
            if code[0] in "45":
                assert response["content"] == {"application/problem+json": {"schema": {"$ref": PROBLEM_REF}}}, f"{method} {path} {code}"
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "rule", "errors"} <= set(problem["properties"])
    assert set(doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}
    assert "503" in doc["paths"]["/readyz"]["get"]["responses"]
    admin = doc["paths"]["/v1/admin/dead-letters/{letter_id}/replay"]["post"]["responses"]
    assert {"403", "404", "409"} <= set(admin)
    assert doc["paths"]["/healthz"]["get"]["operationId"] == "healthz"
    if service == "decision":
        assert doc["paths"]["/v1/decisions"]["post"]["operationId"] == "pushDecision"
    assert_idempotency_key_documented(doc)


def assert_idempotency_key_documented(doc) -> None:
    """Issue 12 item 8: every create (a POST under /v1/ outside the admin calls, where the middleware honours
    the header) declares the optional Idempotency-Key header and its problems; no other operation does."""
    creates = 0
    for path, method, op in _operations(doc):
        declared = [p for p in op.get("parameters", []) if p["in"] == "header" and p["name"].lower() == "idempotency-key"]
        if method == "post" and path.startswith("/v1/") and not path.startswith("/v1/admin/"):
            creates += 1
            assert len(declared) == 1, f"POST {path} does not declare Idempotency-Key once: {declared}"
            assert declared[0]["required"] is False and declared[0]["description"]
            assert declared[0]["schema"] == {"type": "string", "minLength": 1, "maxLength": 200}
            assert {"400", "409", "422"} <= set(op["responses"]), f"POST {path}: {sorted(op['responses'])}"
        else:
            assert not declared, f"{method.upper()} {path} does not honour Idempotency-Key but declares it"
    assert creates > 0


async def test_provoked_errors_match_their_documented_responses(databases, nats_server, tmp_path):
    from ktt_decision.app import create_app

    settings = service_settings("decision", database_url=await databases("decision"), nats_url=nats_server.url, data_dir=tmp_path,
                                problem_base_uri="https://problems.example.org/ktt")
    async with run_service(create_app, settings) as svc:
        doc = (await svc.client.get("/openapi.json")).json()
        c, integrator = svc.client, svc.auth("integrator") | {"content-type": "application/json"}

        r = await c.post("/v1/decisions", content=b'{\n  "source_system": "x",\n  "version": ,\n}', headers=integrator)
        assert r.status_code == 422
        assert_documented(doc, r, "post", "/v1/decisions")
        problem = r.json()
        assert problem["type"] == "https://problems.example.org/ktt/invalid-input"  # KTT_PROBLEM_BASE_URI
        assert problem["errors"][0]["field"] == "body" and problem["errors"][0]["type"] == "json_invalid"
        assert "line 3, column 14" in problem["detail"] and "body.3" not in problem["detail"]

        r = await c.post("/v1/decisions", json=decision_body())  # no token
        assert r.status_code == 401
        assert_documented(doc, r, "post", "/v1/decisions")

        r = await c.post("/v1/admin/jobs/no-such-job/run", params={"date": "2026-12-01"}, headers=svc.auth("admin"))
        assert r.status_code == 404 and r.json()["type"].startswith("https://problems.example.org/ktt/")
        assert_documented(doc, r, "post", "/v1/admin/jobs/{job}/run")

        r = await c.post("/v1/admin/jobs/no-such-job/run", headers=svc.auth("city_official"))
        assert r.status_code == 403
        assert_documented(doc, r, "post", "/v1/admin/jobs/{job}/run")

        letter = "00000000-0000-4000-8000-000000000000"
        r = await c.post(f"/v1/admin/dead-letters/{letter}/replay", headers=svc.auth("admin"))
        assert r.status_code == 404
        assert_documented(doc, r, "post", "/v1/admin/dead-letters/{letter_id}/replay")

        r = await c.get("/metrics")
        assert r.status_code == 200
        assert_documented(doc, r, "get", "/metrics")

        # about:blank problems carry the HTTP status phrase as their title (RFC 9457 section 4.2)
        r = await c.get("/v1/no-such-route")
        assert r.status_code == 404 and r.json()["type"] == "about:blank" and r.json()["title"] == "Not Found"
        r = await c.put("/v1/decisions", headers=integrator)
        assert r.status_code == 405 and r.json()["title"] == "Method Not Allowed"
        assert _media_type(r) == "application/problem+json"
