"""``Idempotency-Key`` on every create (issue 12 item 8).

A client that sends ``POST`` with an ``Idempotency-Key`` header and retries (a timeout, a dropped
connection) gets the first answer again, byte for byte, with ``Idempotency-Replayed: true``,
and nothing is done twice. The key is the caller's own: it is scoped by the verified principal
(or, for the public voucher link, by the link in the path), so two callers never see each
other's answers. The same key with a different body, or on another route, is a 422 problem
(``idempotency-key-reused``); the same key while the first request is still running is a 409.
A 5xx (or an answer over 1 MB) is not kept, so a retry runs again; a first request that never
answered (its process died) is taken over by a retry after two minutes. Keys are purged by the platform job ``bus-retention``
after ``IDEMPOTENCY_RETENTION_DAYS``.

Applied as a middleware to every ``POST`` under ``/v1/`` except the admin calls, so a new create
is covered without anyone remembering to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ktt_common.auth import principal_from_token
from ktt_common.db import affected
from ktt_common.errors import DomainError, FieldError, problem_response
from ktt_common.logging import get_logger

log = get_logger(__name__)

HEADER = "idempotency-key"
_HEADER_BYTES = HEADER.encode("latin-1")
MAX_KEY_LENGTH = 200
MAX_STORED_BODY = 1_000_000
ABANDONED_AFTER = dt.timedelta(minutes=2)  # a first request without an answer after this died with its process
_FIELD = [FieldError(field="header.Idempotency-Key", message="see detail")]


class IdempotencyKeyReused(DomainError):
    status = 422
    slug = "idempotency-key-reused"
    title = "The Idempotency-Key was used for another request"


class IdempotencyKeyInFlight(DomainError):
    status = 409
    slug = "idempotency-key-in-flight"
    title = "A request with this Idempotency-Key is still being processed"


class InvalidIdempotencyKey(DomainError):
    status = 400
    slug = "invalid-idempotency-key"
    title = "The Idempotency-Key header is not valid"


def applies(method: str, path: str) -> bool:
    """Whether the middleware honours ``Idempotency-Key`` on a request (``path`` may be a route template:
    the OpenAPI document declares the header by the same test, see :func:`openapi_parameter`)."""
    return method == "POST" and path.startswith("/v1/") and not path.startswith("/v1/admin/")


def openapi_parameter() -> dict[str, Any]:
    """The header as an OpenAPI parameter, declared on every operation :func:`applies` to (ktt_common.openapi)."""
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": (
            "Optional key of this create, chosen by the caller (e.g. a UUID), 1-"
            f"{MAX_KEY_LENGTH} printable characters. A retry with the same key and the same body gets the "
            "first answer again (with `Idempotency-Replayed: true`) and nothing is done twice; the same key "
            "with another body or route is a 422 (`idempotency-key-reused`), while the first request is "
            "still running a 409 (`idempotency-key-in-flight`), an invalid key a 400. Keys are the caller's "
            "own and kept for IDEMPOTENCY_RETENTION_DAYS."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    }


# The answers the header itself can cause, documented with it (as problems, by ktt_common.openapi).
OPENAPI_RESPONSES = {
    "400": "Problem details (RFC 9457); also an invalid Idempotency-Key (invalid-idempotency-key)",
    "409": "Problem details (RFC 9457); also a request with this Idempotency-Key still running (idempotency-key-in-flight)",
    "422": "Problem details (RFC 9457); also an Idempotency-Key first sent with another request (idempotency-key-reused)",
}


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or not applies(scope["method"], scope["path"])
                or not any(k.lower() == _HEADER_BYTES for k, _ in scope["headers"])):
            await self.app(scope, receive, send)  # no key: nothing to keep (decoding every header cost more)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key = headers[HEADER]
        from starlette.requests import Request  # the request as the app sees it (state, app)

        request = Request(scope, receive)
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            await self._problem(request, send, InvalidIdempotencyKey(
                f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} printable characters", errors=_FIELD))
            return
        principal = await self._principal(request, headers)
        if principal is None:  # no valid token: the endpoint answers 401 as always, nothing is kept
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        digest = hashlib.sha256(headers.get("content-type", "").encode() + b"\0" + body).hexdigest()
        route = f"POST {scope['path']}"
        rt = request.app.state.runtime
        table = rt.infra.idempotency_key
        now = rt.clock.now()
        async with rt.sessionmaker() as session:
            try:
                async with session.begin():
                    await session.execute(insert(table).values(
                        key=key, principal=principal, request=route[:300], request_hash=digest, created_at=now))
                first = True
            except IntegrityError:
                first = False
            if not first:
                async with session.begin():
                    row = (await session.execute(
                        select(table).where(table.c.key == key, table.c.principal == principal))).first()
                    if row is not None and row.status is None and row.created_at < now - ABANDONED_AFTER:
                        # The first request's process died before it answered: this retry takes its place.
                        took = await session.execute(
                            update(table).where(table.c.key == key, table.c.principal == principal,
                                                table.c.status.is_(None), table.c.created_at == row.created_at)
                            .values(request=route[:300], request_hash=digest, created_at=now))
                        first = bool(took.rowcount)
        if not first:
            if row is None:  # purged between the two statements: extremely unlikely; ask for a retry
                await self._problem(request, send, IdempotencyKeyInFlight("retry the request", errors=_FIELD))
            elif row.status is None:
                await self._problem(request, send, IdempotencyKeyInFlight(
                    "the first request with this Idempotency-Key has not finished; retry shortly", errors=_FIELD))
            elif row.request != route[:300] or row.request_hash != digest:
                await self._problem(request, send, IdempotencyKeyReused(
                    "this Idempotency-Key was first sent with another request (a different body or route); "
                    "use a new key for a new request", errors=_FIELD))
            else:
                await _replay(send, row.status, row.media_type, row.body or "")
            return
        await self._first(scope, receive_again(body, receive), send, table, rt, key, principal)

    async def _first(self, scope: Scope, receive: Receive, send: Send, table: Any, rt: Any, key: str, principal: str) -> None:
        status: int | None = None
        media_type: str | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, media_type
            if message["type"] == "http.response.start":
                status = message["status"]
                media_type = next((v.decode("latin-1") for k, v in message.get("headers", [])
                                   if k.lower() == b"content-type"), None)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        keep = False
        try:
            await self.app(scope, receive, capture)
            payload = b"".join(chunks)
            keep = status is not None and status < 500 and len(payload) <= MAX_STORED_BODY
            if keep:
                try:
                    text = payload.decode("utf-8")
                except UnicodeDecodeError:
                    keep = False
                else:
                    async with rt.sessionmaker() as session, session.begin():
                        await session.execute(update(table).where(table.c.key == key, table.c.principal == principal)
                                              .values(status=status, media_type=media_type, body=text))
        finally:
            if not keep:  # a server error (or an answer too large to keep) is not an answer: a retry runs again
                async with rt.sessionmaker() as session, session.begin():
                    await session.execute(delete(table).where(table.c.key == key, table.c.principal == principal,
                                                              table.c.status.is_(None)))

    async def _principal(self, request: Any, headers: dict[str, str]) -> str | None:
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            try:
                p = await principal_from_token(request, auth[7:].strip())
            except DomainError:
                return None
            return f"{p.role.value}|{p.subject}|{p.provider_id or ''}|{p.client_id or ''}"[:300]
        path = request.url.path
        if path.startswith("/v1/voucher-links/"):  # the link's token in the path is the credential
            token = path.split("/")[3]
            return "voucher-link|" + hashlib.sha256(token.encode()).hexdigest()
        return None

    async def _problem(self, request: Any, send: Send, error: DomainError) -> None:
        base = getattr(request.app.state, "problem_base", None)
        body = error.problem(request.url.path, base) if base else error.problem(request.url.path)
        response = problem_response(body)
        await response(request.scope, request.receive, send)


def receive_again(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` (already read from ``receive``) as the whole request body, then
    whatever the client sends next (a disconnect), for an app called after a middleware read the body."""
    given = False

    async def again() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(parts)
        elif message["type"] == "http.disconnect":
            return b"".join(parts)


async def _replay(send: Send, status: int, media_type: str | None, body: str) -> None:
    payload = body.encode("utf-8")
    headers = [(b"content-length", str(len(payload)).encode()), (b"idempotency-replayed", b"true")]
    if media_type:
        headers.append((b"content-type", media_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def purge_idempotency_keys(session: Any, table: Any, before: dt.datetime) -> int:
    return affected(await session.execute(delete(table).where(table.c.created_at < before)))


__all__ = ["OPENAPI_RESPONSES", "IdempotencyMiddleware", "applies", "openapi_parameter", "purge_idempotency_keys"]
