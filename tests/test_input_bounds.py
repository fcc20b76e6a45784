"""Sweep over every service's request schemas (issue 13, defects 2 and 4): every date, integer and
number a client can send has a range, every e-mail address is validated as one, and every integer
and boolean in a body is read strictly.

Generated from the OpenAPI documents and the routes' body models, so a new endpoint is held to it
without anyone remembering to add a test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from ktt_common.bounds import INT32_MAX, MAX_DATE, MIN_DATE
from ktt_common.serve import SERVICE_MODULES, service_module
from ktt_common.testing import service_settings

SERVICES = sorted(SERVICE_MODULES)

# (path, parameter) left to their owner: the admin job date is bounded by the jobs' own rules
# (issue 13 defect 1, ktt_common.jobs), not by this sweep.
# The outbox sequence is the table's BIGINT key, bounded by the route itself (1..2^62, no arithmetic on it):
# a 32-bit cap would make rows past 2^31 unreachable for a retry.
EXEMPT_PARAMETERS = {("/v1/admin/jobs/{job}/run", "date"), ("/v1/admin/outbox/{seq}/retry", "seq")}
# Body fields judged per row instead: a daily-log batch keeps its good entries, and an entry dated
# 9999-12-31 or 0001-01-01 is that row's ATT-1 / AGR-16 rejection, not a malformed batch.
EXEMPT_BODY_FIELDS = {("/v1/daily-log", "body.entries[].date")}


def _manually_parsed_bodies() -> dict[str, type[BaseModel]]:
    """Bodies a route reads itself (JSON or CSV) and only names in OpenAPI: their schemas by name."""
    from ktt_attendance.log.schemas import EntryIn

    return {"EntryIn": EntryIn}


def _openapi(service: str, tmp_path: Path) -> dict[str, Any]:
    spec = _app(service, tmp_path).openapi()
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name, model in _manually_parsed_bodies().items():
        if name not in schemas:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[name] = schema
    return spec


def _app(service: str, tmp_path: Path) -> Any:
    settings = service_settings(service, database_url=f"sqlite+aiosqlite:///{tmp_path}/{service}.db",
                                nats_url="nats://127.0.0.1:1", data_dir=tmp_path)
    return service_module(service).create_app(settings)


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _leaves(spec: dict[str, Any], schema: dict[str, Any], where: str, seen: frozenset[str] = frozenset()):
    """Every (where, leaf schema) of a request schema, through refs, unions, arrays and objects."""
    ref = schema.get("$ref")
    if ref:
        if ref in seen:
            return
        seen = seen | {ref}
    schema = _resolve(spec, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _leaves(spec, option, where, seen)
    if schema.get("type") == "array" and "items" in schema:
        yield from _leaves(spec, schema["items"], where + "[]", seen)
    for name, prop in (schema.get("properties") or {}).items():
        yield from _leaves(spec, prop, f"{where}.{name}", seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _leaves(spec, extra, where + ".*", seen)
    yield where, schema


def _unbounded(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        if low is None or high is None:
            return f"{kind} without minimum and maximum"
        if kind == "integer" and (high > INT32_MAX or low < -INT32_MAX):
            return f"integer range {low}..{high} beyond 32 bits"
    if kind == "string" and schema.get("format") in ("date", "date-time"):
        if schema.get("formatMinimum") != MIN_DATE.isoformat() or schema.get("formatMaximum") != MAX_DATE.isoformat():
            return f"{schema['format']} without the shared bounds (use ktt_common.bounds.BoundedDate)"
    return None


@pytest.mark.parametrize("service", SERVICES)
def test_every_date_integer_and_number_a_client_sends_has_a_range(service: str, tmp_path: Path) -> None:
    spec = _openapi(service, tmp_path)
    problems = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                if (path, parameter["name"]) in EXEMPT_PARAMETERS:
                    continue
                for where, leaf in _leaves(spec, parameter.get("schema", {}), f"{parameter['in']}.{parameter['name']}"):
                    if why := _unbounded(leaf):
                        problems.append(f"{method.upper()} {path} {where}: {why}")
            for content in (operation.get("requestBody") or {}).get("content", {}).values():
                for where, leaf in _leaves(spec, content.get("schema", {}), "body"):
                    if (path, where) in EXEMPT_BODY_FIELDS:
                        continue
                    if why := _unbounded(leaf):
                        problems.append(f"{method.upper()} {path} {where}: {why}")
                    if where.endswith("email") and leaf.get("type") == "string" and leaf.get("format") != "email":
                        problems.append(f"{method.upper()} {path} {where}: an e-mail address not validated as one "
                                        "(use ktt_common.bounds.Email)")
    assert not problems, "\n".join(sorted(set(problems)))


def _routes(routes: list[Any]):
    for route in routes:
        inner = getattr(route, "original_router", None)  # an included router
        if inner is not None:
            yield from _routes(inner.routes)
        else:
            yield route


def _body_models(app: Any) -> list[type[BaseModel]]:
    models = []
    for route in _routes(app.routes):
        field = getattr(route, "body_field", None)
        annotation = getattr(getattr(field, "field_info", None), "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            models.append(annotation)
    return models


def _strict_locs(spec: dict[str, Any], schema: dict[str, Any], path: tuple[Any, ...], seen: frozenset[str] = frozenset()):
    """Where the schema wants an integer or a boolean (array items as index 0)."""
    ref = schema.get("$ref")
    if ref:
        if ref in seen:
            return
        seen = seen | {ref}
    schema = _resolve(spec, schema)
    for option in schema.get("anyOf", []) + schema.get("allOf", []) + schema.get("oneOf", []):
        yield from _strict_locs(spec, option, path, seen)
    if schema.get("type") in ("integer", "boolean"):
        yield path
    if schema.get("type") == "array" and "items" in schema:
        yield from _strict_locs(spec, schema["items"], (*path, 0), seen)
    for name, prop in (schema.get("properties") or {}).items():
        yield from _strict_locs(spec, prop, (*path, name), seen)


def _nest(value: Any, loc: tuple[Any, ...]) -> Any:
    for key in reversed(loc):
        value = [value] if isinstance(key, int) else {key: value}
    return value


@pytest.mark.parametrize("service", SERVICES)
def test_every_integer_and_boolean_in_a_body_refuses_a_string(service: str, tmp_path: Path) -> None:
    """Issue 13 defect 4: ``"version": "1"`` or ``"interpreter_needed": "yes"`` is a 422, never read as 1 or true."""
    app = _app(service, tmp_path)
    models = _body_models(app)
    assert len(models) >= 2, "no request bodies found: the sweep would check nothing"
    loose = []
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        spec = {"components": {"schemas": schema.get("$defs", {})}}
        for loc in _strict_locs(spec, schema, ()):
            payload = _nest("1", loc)
            try:
                model.model_validate(payload)
                errors: list[dict[str, Any]] = []
            except ValidationError as exc:
                errors = exc.errors()
            if not any(tuple(e["loc"][: len(loc)]) == loc and e["type"] in ("int_type", "bool_type") for e in errors):
                loose.append(f"{model.__name__}.{'.'.join(map(str, loc))}")
    assert not loose, "read loosely (use ktt_common.bounds): " + ", ".join(sorted(set(loose)))
