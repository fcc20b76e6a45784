"""A retry of a decision push answered from the index before the body is parsed (issue 15).

Client information systems retry freely, so most pushes of a busy day are the same request again.
:class:`ReplayFirstRoute` (the route class of ``POST /v1/decisions``) looks at the raw request first:

1. the caller is authorised as the endpoint's own dependency would (a cached token, the policy's roles);
2. the JSON body is read as is (no ``DecisionIn``): its ``source_system``, ``source_id`` and ``version``
   and a keyed hash of its bytes (:func:`body_hash`);
3. one unlocked read (on PostgreSQL a plain asyncpg connection: one round trip, no BEGIN, none of
   SQLAlchemy's execution around it) finds the decision by ``(source_system, source_id)`` with the stored
   version of that number and the client's data key.

When that version was stored from a body with the same hash, the answer is the one the endpoint gives to
a replay (200, the decision as it is now, ``Location``), serialised by the route's own response field,
without validation, sealing, a transaction or an audit entry (a replay was never audited). Anything else
(no token, another role, another body, a body in another spelling, a JSON error, another content type)
goes to the endpoint unchanged, which answers exactly as before. Once the router has sent a push to this route,
the shared request context (ktt_common.app.RequestContext) offers the next ones to
:meth:`ReplayFirstRoute.answer_early` before the rest of the HTTP layer (routing, exception wrappers,
idempotency); a push with an ``Idempotency-Key`` is not offered (the idempotency middleware keeps its answer).
What the read learnt travels with the request (:class:`Probe`): a push of a decision that did not exist skips
the service's own look-up.

The hash is an HMAC (a key derived from ``PII_KEY``) of bytes that hold the hetu, so it reveals nothing
without the key; retention clears it together with the rest of the client's data (clients/jobs.py).
"""

from __future__ import annotations

import hashlib
import hmac
import types
import weakref
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, cast

from fastapi import Request, Response
from fastapi.routing import APIRoute, serialize_response
from fastapi.security.utils import get_authorization_scheme_param
from prometheus_client import Counter
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql

from ktt_common.auth import principal_from_token
from ktt_common.pii import PiiVault
from ktt_common.runtime import Runtime

from ktt_decision.clients.models import ClientKey
from ktt_decision.clients.service import vault_for
from ktt_decision.decisions.models import Decision, DecisionVersion
from ktt_decision.policy import POLICY
from ktt_decision.sealing import open_values

PROBE = "ktt_decision_probe"  # the request.state attribute
CHECKED = "ktt_decision_replay_checked"  # request.state: answer_early looked and found no replay
FAST_REPLAYS = Counter("ktt_decision_fast_replays_total",
                       "Decision pushes answered as replays from the body-hash index, before parsing (issue 15)")
_ROLES = POLICY["decision.push_decision"].roles
_D, _V, _K = Decision.__table__, DecisionVersion.__table__, ClientKey.__table__
_QUERY = (
    select(*_D.c, _V.c.body_hash, _K.c.wrapped_key)
    .select_from(_D.outerjoin(_V, (_V.c.decision_id == _D.c.id) & (_V.c.version == bindparam("version")))
                 .outerjoin(_K, _K.c.client_id == _D.c.client_id))
    .where(_D.c.source_system == bindparam("source_system"), _D.c.source_id == bindparam("source_id"))
)
_PG_COMPILED = _QUERY.compile(dialect=postgresql.asyncpg.dialect(paramstyle="numeric_dollar"))  # type: ignore[no-untyped-call]
_PG_SQL, _PG_ORDER = str(_PG_COMPILED), tuple(_PG_COMPILED.positiontup or ())
_BODY_KEYS: weakref.WeakKeyDictionary[PiiVault, bytes] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Probe:
    """What the look-up before parsing learnt: the body's hash, and whether no decision had its source."""

    source_system: str
    source_id: str
    version: int
    body_hash: str
    absent: bool

    def absent_for(self, source_system: str, source_id: str) -> bool:
        """No decision had this source (as validated: ``DecisionIn`` strips whitespace) a moment ago."""
        return self.absent and (self.source_system, self.source_id) == (source_system, source_id)


def body_hash(vault: PiiVault, body: bytes) -> str:
    """HMAC-SHA256 of the request body under a key derived from ``PII_KEY`` for this purpose only."""
    key = _BODY_KEYS.get(vault)
    if key is None:
        key = _BODY_KEYS[vault] = vault.lookup_hash("ktt-decision-push-body-v1").encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


async def _look_up(rt: Runtime, source_system: str, source_id: str, version: int) -> Mapping[str, Any] | None:
    """The decision of this source with that version's body hash and the client's wrapped key, by name.

    On PostgreSQL through the runtime's plain asyncpg pool (:meth:`Runtime.driver_pool`): the same
    statement, compiled once, without SQLAlchemy's execution around it, which was half of a replay's
    look-up (issue 15); on SQLite through the engine."""
    if rt.engine.dialect.name == "postgresql":
        pool = await rt.driver_pool()
        async with pool.acquire() as conn:
            record = await conn.fetchrow(_PG_SQL, *(
                {"version": version, "source_system": source_system, "source_id": source_id}[name]
                for name in _PG_ORDER))
        return cast("Mapping[str, Any] | None", record)
    async with rt.engine.connect() as conn:
        row = (await conn.execute(_QUERY, {"source_system": source_system, "source_id": source_id,
                                           "version": version})).first()
    return None if row is None else {**{c.name: row._mapping[c] for c in _D.c}, "body_hash": row.body_hash,
                                     "wrapped_key": row.wrapped_key}


def _is_json(request: Request) -> bool:
    """The body would be parsed as JSON by FastAPI (strict content type); stricter is fine: it only
    means the full path."""
    value = request.headers.get("content-type")
    return value is not None and value.split(";", 1)[0].strip().lower() == "application/json"


async def _authorised(request: Request) -> bool:
    """The endpoint's dependency would pass (anything else is left to it, to refuse as it does)."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if not token or scheme.lower() != "bearer":
        return False
    try:
        principal = await principal_from_token(request, token)
    except Exception:  # noqa: BLE001 - the endpoint verifies again and refuses as it does
        return False
    if principal.role not in _ROLES:
        return False
    request.state.principal = principal
    return True


async def replay_answer(request: Request, route: APIRoute) -> Response | None:
    """The replay's answer when this exact body was stored as that version; else None (and a Probe)."""
    if request.method != "POST" or not _is_json(request) or not await _authorised(request):
        return None
    raw = await request.body()
    try:
        data = await request.json()  # kept on the request: FastAPI does not parse it again
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    source_system, source_id, version = data.get("source_system"), data.get("source_id"), data.get("version")
    if not (isinstance(source_system, str) and isinstance(source_id, str) and type(version) is int):
        return None
    rt: Runtime = request.app.state.runtime
    vault = vault_for(rt)
    digest = body_hash(vault, raw)
    try:
        row = await _look_up(rt, source_system, source_id, version)
    except Exception:  # noqa: BLE001 - the database is busy or gone: the endpoint answers as it does
        return None
    if row is None or row["body_hash"] != digest:
        setattr(request.state, PROBE, Probe(source_system, source_id, version, digest, absent=row is None))
        return None
    values = open_values(vault, row["wrapped_key"], Decision, {c.name: row[c.name] for c in _D.c})
    content = await serialize_response(
        field=route.response_field, response_content=types.SimpleNamespace(**values),
        include=route.response_model_include, exclude=route.response_model_exclude,
        by_alias=route.response_model_by_alias, exclude_unset=route.response_model_exclude_unset,
        exclude_defaults=route.response_model_exclude_defaults, exclude_none=route.response_model_exclude_none,
        dump_json=True,
    )
    response = Response(content=content, media_type="application/json", status_code=200)
    response.headers.raw.append((b"location", f"/v1/decisions/{values['id']}".encode("latin-1")))
    FAST_REPLAYS.inc()
    return response


def probe_of(request: Request) -> Probe | None:
    probe = getattr(request.state, PROBE, None)
    return probe if isinstance(probe, Probe) else None


class ReplayFirstRoute(APIRoute):
    """An APIRoute whose handler answers a replay (:func:`replay_answer`) before FastAPI parses the body.

    The shared request context (ktt_common.app.RequestContext) offers a push to :meth:`answer_early`
    before the rest of the HTTP layer (routing, exception wrappers, idempotency) once it has seen the
    router choose this route; a push it does not answer comes here with that noted, and is not looked
    up a second time."""

    async def answer_early(self, request: Request) -> Response | None:
        answer = await replay_answer(request, self)
        if answer is None:
            setattr(request.state, CHECKED, True)
        return answer

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def replay_first(request: Request) -> Response:
            if getattr(request.state, CHECKED, False):  # offered early already: not a replay of a stored body
                return await handler(request)
            answer = await replay_answer(request, self)
            return answer if answer is not None else await handler(request)

        return replay_first
