"""Is a new payload schema compatible with a published one? (issue 12 item 4)

Producers and consumers deploy independently and consumers replay stored events, so a change
is compatible only when every event valid under one schema stays valid under the other for the
fields both know. Allowed: a new optional field, a changed description. Breaking: a removed
field; a new required field (stored events lack it); a field no longer required (consumers of
the old version need it); any change of a field's type, format, enum values or constant. A
breaking change needs a new event version (``v2``) beside the old one.
"""

from __future__ import annotations

import json
from typing import Any

Schema = dict[str, Any]


def _resolve(schema: Schema, root: Schema) -> Schema:
    seen = 0
    while "$ref" in schema and seen < 50:
        schema = root.get("$defs", {}).get(schema["$ref"].rsplit("/", 1)[-1], {})
        seen += 1
    return schema


def _variants(schema: Schema, root: Schema) -> list[Schema]:
    schema = _resolve(schema, root)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return [v for alt in alternatives for v in _variants(alt, root)]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _variants(schema["allOf"][0], root)
    return [schema]


def _signature(schema: Schema) -> str:
    kind = schema.get("type") or ("object" if "properties" in schema else "any")
    parts = [json.dumps(kind, sort_keys=True)]
    if "format" in schema:
        parts.append(f"format={schema['format']}")
    if "enum" in schema:
        parts.append("enum=" + json.dumps(sorted(json.dumps(v) for v in schema["enum"])))
    if "const" in schema:
        parts.append("const=" + json.dumps(schema["const"]))
    return " ".join(parts)


def _first(variants: list[Schema], kind: str) -> Schema | None:
    return next((v for v in variants if v.get("type") == kind or (kind == "object" and "properties" in v)), None)


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """What in ``new`` breaks readers or writers of ``old`` (both full JSON schemas with $defs)."""
    return _compare(old, old, new, new, "data", 0)


def _compare(old: Schema, old_root: Schema, new: Schema, new_root: Schema, path: str, depth: int) -> list[str]:
    if depth > 30:
        return []
    ov, nv = _variants(old, old_root), _variants(new, new_root)
    problems: list[str] = []
    old_sig, new_sig = sorted({_signature(v) for v in ov}), sorted({_signature(v) for v in nv})
    if old_sig != new_sig:
        problems.append(f"{path}: type changed from {' | '.join(old_sig)} to {' | '.join(new_sig)}")
    oo, no = _first(ov, "object"), _first(nv, "object")
    if oo is not None and no is not None:
        old_props, new_props = oo.get("properties", {}), no.get("properties", {})
        old_req, new_req = set(oo.get("required", [])), set(no.get("required", []))
        for name, spec in old_props.items():
            where = f"{path}.{name}"
            if name not in new_props:
                problems.append(f"{where}: removed")
                continue
            if name in old_req and name not in new_req:
                problems.append(f"{where}: no longer required (consumers of the published version need it)")
            problems += _compare(spec, old_root, new_props[name], new_root, where, depth + 1)
        for name in new_props.keys() - old_props.keys():
            if name in new_req:
                problems.append(f"{path}.{name}: new required field (events already published lack it): make it optional")
    oa, na = _first(ov, "array"), _first(nv, "array")
    if oa is not None and na is not None:
        problems += _compare(oa.get("items", {}), old_root, na.get("items", {}), new_root, f"{path}[]", depth + 1)
    return problems
