"""Builders shared by the cross-service tests."""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx

# Valid example codes (checksums computed; individual numbers 002-899 are real-person range,
# so these are generated for tests only and belong to nobody we know of).
HETU_1900 = "131052-308T"
HETU_2023_SIGN = "131052W308T"  # the same digits with a 2023 century sign: a different person


def decision_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source_system": "effica",
        "source_id": "EFF-2026-000123",
        "version": 1,
        "decided_on": "2026-11-25",
        "decided_by": "Liisa Virkailija",
        "client": {"hetu": HETU_1900, "first_name": "Matti", "last_name": "Meikäläinen", "language": "fi",
                   "municipality": "Turku", "phone": "+358401234567", "email": "matti@example.fi",
                   "address": "Aurakatu 1, 20100 Turku", "interpreter_needed": False},
        "case_worker": {"name": "Liisa Virkailija", "phone": "+35822620000",
                        "email": "liisa.virkailija@example.fi", "office": "typake"},
        "plan": {"type": "activation_plan", "reference": "AS-2026-77", "date": "2026-11-20"},
        "benefit_basis": "labour_market_subsidy",
        "period": {"start": "2026-12-01", "end": "2027-11-30"},
        "form": "individual",
        "special": {"kind": "none"},
        "extension_justification": None,
    }
    body = copy.deepcopy(body)
    for key, value in overrides.items():
        body[key] = value
    return body


async def every_stream_message(nats_url: str) -> list[tuple[str, bytes, dict[str, str]]]:
    """Every message JetStream holds on the server, from every stream: (subject, data, headers)."""
    import nats

    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        found: list[tuple[str, bytes, dict[str, str]]] = []
        for info in await js.streams_info():
            name = info.config.name
            if name is None or not info.state.messages:
                continue
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                msg = await js.get_msg(name, seq)
                found.append((msg.subject or "", msg.data or b"", dict(msg.headers or {})))
        return found
    finally:
        await nc.close()


# Anything shaped like a hetu, overlapping matches too, with no word boundary required around it.
_HETU_CANDIDATE = re.compile(r"(?=([0-9]{6}[-+A-FU-Ya-fu-y][0-9]{3}[0-9A-Ya-y]))")


def valid_hetus_in(text: str) -> list[str]:
    """Every substring of ``text`` shaped like a hetu whose checksum python-stdnum accepts (DATA-4)."""
    from stdnum.fi import hetu

    return [m.group(1) for m in _HETU_CANDIDATE.finditer(text) if hetu.is_valid(m.group(1).upper())]


class HttpRecorder:
    """httpx event hooks that keep every URL requested and every response body of a test client."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.bodies: list[tuple[str, str]] = []

    def attach(self, client: httpx.AsyncClient) -> None:
        async def on_request(request: httpx.Request) -> None:
            self.urls.append(str(request.url))

        async def on_response(response: httpx.Response) -> None:
            await response.aread()
            where = f"{response.request.method} {response.request.url} -> {response.status_code}"
            self.bodies.append((where, response.content.decode("utf-8", "replace") + " " + str(dict(response.headers))))

        client.event_hooks = {"request": [on_request], "response": [on_response]}
