"""The OpenAPI document every service publishes, made to say what the server does (issue 17 item 1).

FastAPI's generated document is finished here, centrally, for all five services:

- every 4xx/5xx response carries the RFC 9457 problem schema under ``application/problem+json``
  (the media type the error handlers send), including responses declared with a description
  only (admin 403/404/409, ``/readyz`` 503) and FastAPI's own 422;
- every operation says it may answer 500 with a problem (an unexpected error; nothing saved);
- every operation that honours ``Idempotency-Key`` (every create, ``ktt_common.idempotency.applies``)
  declares the optional header and the 400/409/422 problems it can cause (issue 12 item 8);
- ``operationId`` is the route function's name in camelCase (``push_decision`` ->
  ``pushDecision``), made unique within the document by a numeric suffix in route order;
- the top-level ``tags`` list names every tag used, and ``servers`` names KTT_PUBLIC_URL.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from collections.abc import Iterable
from typing import Any

from fastapi.openapi.utils import get_openapi

from ktt_common.errors import PROBLEM_MEDIA_TYPE, Problem
from ktt_common.idempotency import OPENAPI_RESPONSES, applies, openapi_parameter

PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

TAG_DESCRIPTIONS = {
    "health": "Liveness, readiness and Prometheus metrics (no token needed)",
    "admin": "Operator endpoints: daily jobs, the development clock, dead letters, parked outbox rows",
}


def camel_operation_id(name: str) -> str:
    """``push_decision`` -> ``pushDecision``; ``readyz`` -> ``readyz``."""
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", name) if p]
    if not parts:
        return "operation"
    return parts[0][:1].lower() + parts[0][1:] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def is_error_status(code: str) -> bool:
    return code[:1] in ("4", "5") or code == "default"


def unique_operation_ids(operations: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str], str]:
    """(path, method, function name) in route order -> a unique camelCase operationId per operation."""
    ops = list(operations)
    wanted = [camel_operation_id(name) for _p, _m, name in ops]
    taken = set(wanted)
    seen: Counter[str] = Counter()
    ids: dict[tuple[str, str], str] = {}
    for (path, method, _name), base in zip(ops, wanted):
        seen[base] += 1
        op_id = base
        if seen[base] > 1:  # the first keeps the plain name; later ones get the first free suffix
            n = seen[base]
            while f"{base}{n}" in taken:
                n += 1
            op_id = f"{base}{n}"
            taken.add(op_id)
        ids[(path, method)] = op_id
    return ids


def raw_operation_id(route: Any) -> str:
    """FastAPI's ``generate_unique_id_function``: the function's name; ``conform`` makes it unique.

    FastAPI also names response-schema titles and combined-body (``Body_…``) models after it; no
    route has such a body today, and tests/test_openapi_conformance.py keeps it so."""
    return str(route.name)


def declare_idempotency_key(op: dict[str, Any]) -> None:
    """The optional ``Idempotency-Key`` header and the answers it can cause, once per operation."""
    parameters = op.setdefault("parameters", [])
    if not any(p.get("in") == "header" and str(p.get("name", "")).lower() == "idempotency-key" for p in parameters):
        parameters.append(openapi_parameter())
    responses = op.setdefault("responses", {})
    for code, description in OPENAPI_RESPONSES.items():
        responses.setdefault(code, {"description": description})


def conform(doc: dict[str, Any], server_url: str | None = None) -> dict[str, Any]:
    """Finish a FastAPI-generated document in place (see the module docstring) and return it."""
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in problem_schema.pop("$defs", {}).items():
        components.setdefault(name, schema)
    components.setdefault("Problem", problem_schema)

    ids = unique_operation_ids((path, method, str(op.get("operationId") or f"{method}_{path}"))
                               for path, item in doc.get("paths", {}).items()
                               for method, op in item.items() if method in HTTP_METHODS)
    tags_used: list[str] = []
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            if (path, method) in ids:
                op["operationId"] = ids[(path, method)]
            responses = op.setdefault("responses", {})
            responses.setdefault("500", {"description": "Unexpected error; nothing was saved and the error is logged"})
            if applies(method.upper(), path):
                declare_idempotency_key(op)
            for code, response in responses.items():
                if is_error_status(str(code)):
                    response["content"] = json.loads(json.dumps(PROBLEM_CONTENT))
                    response.setdefault("description", "Problem details (RFC 9457)")
            for tag in op.get("tags", []):
                if tag not in tags_used:
                    tags_used.append(tag)
    doc["tags"] = [{"name": t, **({"description": TAG_DESCRIPTIONS[t]} if t in TAG_DESCRIPTIONS else {})} for t in tags_used]
    if server_url:
        doc["servers"] = [{"url": server_url, "description": "This service (KTT_PUBLIC_URL)"}]
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 body, replaced by Problem above
        if f'"#/components/schemas/{unused}"' not in json.dumps(doc):
            components.pop(unused, None)
    return doc


def install_openapi(app: Any, server_url: str | None) -> None:
    """Replace ``app.openapi`` by the conforming document, built once on first request. The app must
    be created with ``generate_unique_id_function=raw_operation_id``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            with warnings.catch_warnings():  # same function names in two routers: conform() renames them
                warnings.filterwarnings("ignore", message="Duplicate Operation ID")
                doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = conform(doc, server_url)
        schema: dict[str, Any] = app.openapi_schema
        return schema

    app.openapi = openapi


def documented_media_types(doc: dict[str, Any], method: str, path: str, status: int) -> set[str]:
    """The media types ``doc`` declares for ``method path`` answering ``status`` (or its default)."""
    responses = doc["paths"][path][method.lower()]["responses"]
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if response is None:
        return set()
    return set(response.get("content", {}))
