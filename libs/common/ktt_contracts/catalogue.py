"""The event catalogue, generated from the contracts: ``docs/asyncapi.json`` (AsyncAPI 3.0) and
``docs/events.md``. ``make docs`` writes them; a test fails when they are stale.

Run: ``python -m ktt_contracts.catalogue [--write]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ktt_common.events import Envelope, EventType, stream_name
from ktt_contracts import CATALOGUE

REPO = Path(__file__).resolve().parents[3]
ASYNCAPI_PATH = REPO / "docs" / "asyncapi.json"
MARKDOWN_PATH = REPO / "docs" / "events.md"


def consumers_by_type() -> dict[str, list[str]]:
    """Which services consume each event type, read from their ServiceSpecs."""
    from ktt_common.inbox import durable_name
    from ktt_common.serve import SERVICE_MODULES, service_module

    found: dict[str, list[str]] = {}
    for service in SERVICE_MODULES:
        for sub in service_module(service).SPEC.subscriptions:
            for type_name in sub.handlers:
                found.setdefault(type_name, []).append(f"{service} ({durable_name(service, sub.producer)})")
    return found


def _message_name(et: EventType[Any]) -> str:
    return f"{et.name}V{et.version}"


NON_EMPTY = {"type": "string", "minLength": 1}


def envelope_schema() -> dict[str, Any]:
    """The CloudEvents 1.0 envelope every producer sends (issue 17 item 4): strict. The attribute
    set is closed (the ``correlationid`` extension included); ``data`` is typed per message."""
    described = Envelope.model_json_schema()["properties"]
    return {
        "title": "CloudEventEnvelope",
        "description": Envelope.__doc__,
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "datacontenttype", "dataschema", "data"],
        "additionalProperties": False,
        "properties": {
            "specversion": {"const": "1.0", "description": "CloudEvents version"},
            "id": {**NON_EMPTY, "description": described["id"]["description"]},
            "source": {**NON_EMPTY, "pattern": "^/ktt/[a-z-]+$", "description": described["source"]["description"]},
            "type": {**NON_EMPTY, "pattern": r"^ktt\.[a-z_-]+\.[A-Za-z]+\.v[0-9]+$",
                     "description": described["type"]["description"]},
            "subject": {"anyOf": [NON_EMPTY, {"type": "null"}], "description": described["subject"]["description"]},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "dataschema": {"type": "string", "format": "uri", "description": described["dataschema"]["description"]},
            "correlationid": {"anyOf": [{"type": "string"}, {"type": "null"}],
                              "description": "Extension attribute: the request or job that caused the event"},
            "data": {"type": "object"},
        },
    }


def headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["Nats-Msg-Id"],
        "properties": {"Nats-Msg-Id": {**NON_EMPTY, "description": "JetStream de-duplication key = the envelope's id"}},
    }


def closed(schema: Any) -> Any:
    """``additionalProperties: false`` on every object schema a payload model produced (not on
    free-form maps, which already say what their values are). See docs/decisions.md: the
    document binds producers; consumers stay tolerant readers."""
    if isinstance(schema, dict):
        out = {k: closed(v) for k, v in schema.items()}
        if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [closed(v) for v in schema]
    return schema


def message(et: EventType[Any], payload_ref: str) -> dict[str, Any]:
    """One event type as an AsyncAPI message: the strict envelope with this type's ``type``,
    ``dataschema`` and payload."""
    return {
        "name": et.name,
        "title": f"{et.name} v{et.version}",
        "summary": et.description,
        "contentType": "application/cloudevents+json",
        "headers": headers_schema(),
        "payload": {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEventEnvelope"},
                {"type": "object", "properties": {
                    "type": {"const": et.type},
                    "source": {"const": f"/ktt/{et.service}"},
                    "dataschema": {"const": et.dataschema},
                    "data": {"$ref": payload_ref},
                }},
            ]
        },
    }


def payload_schemas(et: EventType[Any]) -> dict[str, Any]:
    """The payload's schema and its nested models, closed, by component name."""
    payload_schema = et.payload.model_json_schema(ref_template="#/components/schemas/{model}")
    found = {name: closed(d) for name, d in payload_schema.pop("$defs", {}).items()}
    found[et.payload.__name__] = closed(payload_schema)
    return found


def asyncapi() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEventEnvelope": envelope_schema()}
    for et in sorted(CATALOGUE, key=lambda e: e.type):
        name = _message_name(et)
        schemas.update(payload_schemas(et))
        messages[name] = message(et, f"#/components/schemas/{et.payload.__name__}")
        channel_id = et.subject.replace(".", "_")
        channels[channel_id] = {
            "address": et.subject,
            "description": f"JetStream stream {stream_name(et.service)}",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"publish{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"Published by the {et.service} service through its outbox",
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "KTT voucher system events",
            "version": "1.0.0",
            "description": "Every event published on NATS JetStream. Envelopes are CloudEvents 1.0 in structured "
                           "JSON mode; events carry the pseudonymous client id, never a personal identity code (DATA-4).",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def markdown() -> str:
    consumers = consumers_by_type()
    lines = [
        "# Event catalogue",
        "",
        "Generated by `make docs` from `libs/common/ktt_contracts` (do not edit by hand; a test checks it).",
        "The machine-readable form is [asyncapi.json](asyncapi.json).",
        "",
        "Every event is a CloudEvents 1.0 envelope (`specversion`, `id`, `source`, `type`, `subject`, `time`,",
        "`datacontenttype`, `correlationid`, `data`), published through the producer's transactional outbox",
        "with `Nats-Msg-Id` = `id`.",
        "",
        "| type | subject | stream | consumed by | description |",
        "|---|---|---|---|---|",
    ]
    for et in sorted(CATALOGUE, key=lambda e: e.type):
        lines.append(f"| `{et.type}` | `{et.subject}` | `{stream_name(et.service)}` | "
                     f"{', '.join(consumers.get(et.type, [])) or '—'} | {et.description} |")
    for et in sorted(CATALOGUE, key=lambda e: e.type):
        lines += ["", f"## {et.name} v{et.version}", "", et.description, "", "| field | type | required | description |",
                  "|---|---|---|---|"]
        schema = et.payload.model_json_schema()
        required = set(schema.get("required", []))
        for field, spec in schema["properties"].items():
            kind = spec.get("type") or " or ".join(str(a.get("type", a.get("$ref", "?"))) for a in spec.get("anyOf", []))
            if "enum" in spec:
                kind = " / ".join(f"`{v}`" for v in spec["enum"])
            if spec.get("format"):
                kind = f"{kind} ({spec['format']})"
            lines.append(f"| `{field}` | {kind} | {'yes' if field in required else 'no'} | {spec.get('description', '')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="write docs/asyncapi.json and docs/events.md")
    args = parser.parse_args(argv)
    api_text = json.dumps(asyncapi(), indent=2, sort_keys=False, default=str) + "\n"
    md_text = markdown()
    if args.write:
        ASYNCAPI_PATH.parent.mkdir(parents=True, exist_ok=True)
        ASYNCAPI_PATH.write_text(api_text)
        MARKDOWN_PATH.write_text(md_text)
        print(f"wrote {ASYNCAPI_PATH.relative_to(REPO)} and {MARKDOWN_PATH.relative_to(REPO)}")
    else:
        print(md_text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
