"""Calls to the five services with the user's own token (never their databases).

A service that cannot be reached, times out or answers 5xx becomes :class:`Unavailable`, which a
page shows as a readable message; 401/403/404 pass through as :class:`Refused` so the page can say
"not found" or "not allowed" without showing anything of what was asked for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ktt_console.settings import ConsoleSettings


class Unavailable(Exception):
    def __init__(self, service: str, why: str) -> None:
        super().__init__(f"{service}: {why}")
        self.service = service
        self.why = why


class Refused(Exception):
    def __init__(self, service: str, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{service}: {status}")
        self.service = service
        self.status = status
        self.problem = problem


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Upstream:
    """One pooled HTTP client for the console process; each call carries the caller's bearer token."""

    def __init__(self, settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.client = httpx.AsyncClient(timeout=settings.upstream_timeout_seconds, transport=transport)

    async def close(self) -> None:
        await self.client.aclose()

    async def call(self, service: str, method: str, path: str, token: str, *, params: dict[str, Any] | None = None,
                   json: Any = None, content: bytes | None = None, content_type: str | None = None,
                   accept_statuses: tuple[int, ...] = ()) -> Answer:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        url = self.settings.url_of(service) + path
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            r = await self.client.request(method, url, params=clean, json=json, content=content, headers=headers)
        except httpx.TimeoutException:
            raise Unavailable(service, "timeout") from None
        except httpx.TransportError:
            raise Unavailable(service, "unreachable") from None
        try:
            body = r.json() if r.content else None
        except ValueError:
            body = r.text
        if r.status_code >= 500:
            raise Unavailable(service, f"HTTP {r.status_code}")
        if r.status_code in accept_statuses or r.is_success:
            return Answer(r.status_code, body)
        raise Refused(service, r.status_code, body if isinstance(body, dict) else {"detail": str(body)[:300]})

    async def get(self, service: str, path: str, token: str, **params: Any) -> Any:
        return (await self.call(service, "GET", path, token, params=params)).body

    async def items(self, service: str, path: str, token: str, **params: Any) -> list[dict[str, Any]]:
        """A list endpoint's rows, whether it answers a plain list or a page ``{"items": [...]}``."""
        body = await self.get(service, path, token, **params)
        if isinstance(body, dict) and "items" in body:
            return list(body["items"])
        return list(body or [])
