"""Fuzzing sweep (issue 13): schemathesis, as a library, generates requests from every service's
OpenAPI document (valid and invalid bodies, queries and path parameters); each is sent with a real
token of a role (rotating through the roles, so requests get past 401 and into the handlers), to
the service running in process on a real database and NATS, on both databases.

Asserted for every response: no 5xx; every error (4xx) is ``application/problem+json`` and its
body conforms to the document's Problem schema. Generation is bounded (``MAX_EXAMPLES`` per
operation, derandomized, no shrinking) so the sweep stays within a few minutes; a failure lists
every offending request (method, path, role, status, body).
"""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from jsonschema import Draft202012Validator
from schemathesis import openapi
from schemathesis.core import NOT_SET

from ktt_common.serve import SERVICE_MODULES, service_module
from ktt_common.testing import run_service, service_settings

SERVICES = sorted(SERVICE_MODULES)
MAX_EXAMPLES = 6
CLIENT_ID = "6f1c0e64-0d7e-4c1f-9d55-1c4a3b2e7f10"
ROLES: list[tuple[str, dict[str, str]]] = [
    ("city_official", {}), ("social_worker", {}), ("integrator", {}), ("provider", {"provider_id": "P1"}),
    ("client", {"client_id": CLIENT_ID}), ("admin", {}),
]


def generated_cases(operation) -> list:
    """MAX_EXAMPLES cases of one operation, the same every run (derandomized, no example database)."""
    cases: list = []

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy())
    def collect(case) -> None:
        cases.append(case)

    collect()
    return cases


def problem_validator(doc: dict) -> Draft202012Validator:
    """The document's Problem schema, its references resolved within the document."""
    return Draft202012Validator({"$ref": "#/components/schemas/Problem", "components": doc["components"]})


async def fuzz(svc) -> tuple[int, list[str]]:
    doc = (await svc.client.get("/openapi.json")).json()
    validator = problem_validator(doc)
    sent, failures = 0, []
    operations = [result.ok() for result in openapi.from_dict(doc).get_all_operations()]
    for i, operation in enumerate(operations):
        for j, case in enumerate(generated_cases(operation)):
            role, claims = ROLES[(i + j) % len(ROLES)]
            headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            headers["Authorization"] = f"Bearer {svc.token(role, **claims)}"
            kwargs: dict = {"params": case.query or None, "headers": headers}
            if case.body is not NOT_SET:
                if "json" not in (case.media_type or ""):
                    continue
                kwargs["content"] = json.dumps(case.body).encode()
                headers["Content-Type"] = case.media_type
            try:
                r = await svc.client.request(case.method.upper(), case.formatted_path, **kwargs)
            except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeEncodeError):
                continue  # a header or URL the HTTP client itself will not send
            sent += 1
            where = f"{case.method.upper()} {case.formatted_path} as {role} -> {r.status_code}"
            if r.status_code >= 500:
                failures.append(f"{where}: {r.text[:300]} (body {str(case.body)[:300]}, query {case.query})")
            elif r.status_code >= 400:
                media = r.headers.get("content-type", "").split(";")[0].strip()
                if media != "application/problem+json":
                    failures.append(f"{where}: error sent as {media!r}")
                    continue
                errors = [e.message for e in validator.iter_errors(r.json())]
                if errors:
                    failures.append(f"{where}: problem does not match the Problem schema: {errors[:3]}")
    return sent, failures


@pytest.mark.timeout(600)
@pytest.mark.parametrize("service", SERVICES)
async def test_fuzzed_requests_get_no_5xx_and_every_error_is_a_documented_problem(service, databases, nats_server,
                                                                                  tmp_path):
    settings_ = service_settings(service, database_url=await databases(service), nats_url=nats_server.url,
                                 data_dir=tmp_path)
    async with run_service(service_module(service).create_app, settings_) as svc:
        sent, failures = await fuzz(svc)
    assert sent >= 20, f"only {sent} fuzzed requests were sent"
    assert not failures, f"{len(failures)} of {sent} fuzzed requests failed:\n" + "\n".join(failures[:40])
