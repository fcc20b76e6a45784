"""Validate a published message against the AsyncAPI document (issue 17 item 4): its headers
(``Nats-Msg-Id``) and its body (the strict CloudEvents envelope with the payload of its type,
``additionalProperties: false`` throughout), with the third-party ``jsonschema`` validator.

The test plugin (``ktt_common.testing``) reads every message of every stream of each test's
nats-server and checks it with :class:`EventValidator`, so the whole suite holds every event any
test publishes to the document."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from ktt_common.events import EventType
from ktt_contracts.catalogue import _message_name, asyncapi, envelope_schema, headers_schema, message, payload_schemas

_LOCAL_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$")


def format_checker() -> FormatChecker:
    """jsonschema's checks, except ``time``: Pydantic labels ``datetime.time`` fields
    ``format: time`` and writes a wall-clock time (``09:00:00``, ISO 8601), while jsonschema reads
    the format as RFC 3339 ``full-time``, which demands an offset. A schedule's opening hours have
    none, so ``time`` here is ISO 8601's local time with an optional offset."""
    checker = FormatChecker()
    checker.checks("time")(lambda value: not isinstance(value, str) or bool(_LOCAL_TIME.match(value)))
    return checker


class EventValidator:
    def __init__(self, extra_types: Iterable[EventType[Any]] = ()) -> None:
        doc = asyncapi()
        components = doc["components"]
        self.names: dict[str, str] = {}
        for name, msg in components["messages"].items():
            for part in msg["payload"]["allOf"]:
                if "type" in part.get("properties", {}):
                    self.names[part["properties"]["type"]["const"]] = name
        for et in extra_types:  # test-only producers (the probe service)
            name = _message_name(et)
            components["schemas"].update(payload_schemas(et))
            components["messages"][name] = message(et, f"#/components/schemas/{et.payload.__name__}")
            self.names[et.type] = name
        checker = format_checker()
        self._bodies = {
            name: Draft202012Validator({"components": components, "$ref": f"#/components/messages/{name}/payload"},
                                       format_checker=checker)
            for name in set(self.names.values())
        }
        self._envelope = Draft202012Validator(envelope_schema(), format_checker=checker)
        self._headers = Draft202012Validator(headers_schema())

    def errors(self, headers: Mapping[str, str] | None, body: bytes) -> list[str]:
        """What is wrong with one message ([] when it matches the document)."""
        found = [f"header: {e.message}" for e in self._headers.iter_errors(dict(headers or {}))]
        try:
            envelope = json.loads(body)
        except ValueError as exc:
            return found + [f"body is not JSON: {exc}"]
        type_name = envelope.get("type") if isinstance(envelope, dict) else None
        name = self.names.get(type_name) if isinstance(type_name, str) else None
        validator = self._bodies[name] if name else self._envelope
        if name is None:
            found.append(f"type {envelope.get('type') if isinstance(envelope, dict) else None!r} is not in the catalogue")
        for error in validator.iter_errors(envelope):
            where = "/".join(str(p) for p in error.absolute_path) or "(envelope)"
            found.append(f"{where}: {error.message}")
        return found
