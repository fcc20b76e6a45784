"""Bearer JWT authentication and per-endpoint role checks.

Roles: city_official, social_worker, provider (token carries provider_id), client (token carries
client_id), integrator, admin. Every endpoint declares who may call it with :func:`require`.

Production tokens come from the city's identity provider: RS256 or ES256, verified with the key
its JWKS document publishes (``JWT_JWKS_URL``), with issuer and audience checked. The shared
HS256 key (``JWT_SECRET``) is accepted only in development and test mode.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt import PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ktt_common.errors import Forbidden, ServiceUnavailable, Unauthorized


class Role(StrEnum):
    CITY_OFFICIAL = "city_official"
    SOCIAL_WORKER = "social_worker"
    PROVIDER = "provider"
    CLIENT = "client"
    INTEGRATOR = "integrator"
    ADMIN = "admin"


OFFICIALS = (Role.CITY_OFFICIAL, Role.SOCIAL_WORKER)


@dataclass(frozen=True)
class Principal:
    """Who calls, as the edge validated it: every claim typed (a client id is a canonical UUID)."""

    subject: str
    role: Role
    provider_id: str | None = None
    client_id: str | None = None
    name: str | None = None


class _Claims(BaseModel):
    """The claims a service acts on. A validly signed token whose claims do not fit is a 401 naming
    the claim, never a 500 further in (issue 13): a ``client_id`` that is no UUID, a ``provider_id``
    that is a list, a ``sub`` that is a number."""

    model_config = ConfigDict(extra="ignore")
    sub: str = Field(min_length=1, max_length=200)
    role: Role
    provider_id: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    client_id: uuid.UUID | None = None
    name: str | None = Field(None, max_length=200)


ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")
DEFAULT_LEEWAY_SECONDS = 30.0


def issue_token(
    secret: Any,
    *,
    role: Role | str,
    subject: str | None = None,
    provider_id: str | None = None,
    client_id: str | None = None,
    name: str | None = None,
    issuer: str = "ktt-dev",
    audience: str = "ktt",
    ttl: dt.timedelta = dt.timedelta(hours=12),
    now: dt.datetime | None = None,
    algorithm: str = "HS256",
    key_id: str | None = None,
) -> str:
    """A token for development and tests: HS256 with the shared secret, or (``algorithm``, a private
    key and ``key_id``) signed as the city's identity provider would sign it."""
    role = Role(role)
    if role is Role.PROVIDER and not provider_id:
        raise ValueError("a provider token needs provider_id")
    if role is Role.CLIENT and not client_id:
        raise ValueError("a client token needs client_id")
    now = now or dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "sub": subject or f"{role.value}-{uuid.uuid4().hex[:8]}",
        "role": role.value,
        "iss": issuer,
        "aud": audience,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    for key, value in (("provider_id", provider_id), ("client_id", client_id), ("name", name)):
        if value:
            claims[key] = value
    return jwt.encode(claims, secret, algorithm=algorithm, headers={"kid": key_id} if key_id else None)


@functools.cache
def jwks_client(url: str, cache_seconds: float = 300.0) -> PyJWKClient:
    """One client per JWKS address and process: it caches the key set and refetches on an unknown ``kid``."""
    return PyJWKClient(url, cache_jwk_set=True, lifespan=cache_seconds, cache_keys=True, timeout=5)


def _verification_key(token: str, secret: str | None, jwks: PyJWKClient | None,
                      algorithms: tuple[str, ...]) -> tuple[Any, str]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise Unauthorized("the bearer token is not a JWT") from None
    alg = header.get("alg")
    if alg == "HS256" and secret:  # development and tests only (settings refuse it in production)
        return secret, alg
    if isinstance(alg, str) and alg in algorithms and jwks is not None:
        try:
            return jwks.get_signing_key_from_jwt(token).key, alg
        except PyJWKClientConnectionError:
            raise ServiceUnavailable("the identity provider's signing keys cannot be fetched; try again shortly") from None
        except (PyJWKClientError, jwt.InvalidTokenError):
            raise Unauthorized("the token is signed with a key the identity provider does not publish") from None
    raise Unauthorized("the token is signed with an algorithm this service does not accept")


# PyJWT's own messages are never shown: they may echo token content and say more than a caller needs.
_DECODE_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired; get a new one"),
    (jwt.ImmatureSignatureError, "the token is not valid yet (issued in the future); check the clocks"),
    (jwt.InvalidAudienceError, "the token is meant for another audience"),
    (jwt.InvalidIssuerError, "the token comes from another issuer"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
    (jwt.exceptions.InvalidIssuedAtError, "the token's claims are malformed: iat"),
    (jwt.exceptions.InvalidSubjectError, "the token's claims are malformed: sub"),
)


def decode_token(token: str, secret: str | None, *, issuer: str, audience: str,
                 leeway: float = DEFAULT_LEEWAY_SECONDS, jwks: PyJWKClient | None = None,
                 algorithms: tuple[str, ...] = ASYMMETRIC_ALGORITHMS) -> Principal:
    """Verify a bearer token and validate its claims into a :class:`Principal` (401 otherwise).

    HS256 with ``secret`` (development and tests); ``algorithms`` (RS256, ES256) with the key the
    identity provider publishes at its JWKS address. ``exp``, ``iat``, ``sub``, ``iss`` and ``aud``
    are required; ``leeway`` seconds of clock skew are tolerated on ``exp`` and ``iat``."""
    key, alg = _verification_key(token, secret, jwks, algorithms)
    try:
        claims = jwt.decode(
            token, key, algorithms=[alg], issuer=issuer, audience=audience, leeway=leeway,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthorized(f"the token lacks the '{exc.claim}' claim") from None
    except (jwt.PyJWTError, ValueError, TypeError) as exc:  # a key of the wrong type for alg, too
        detail = next((text for kind, text in _DECODE_ERRORS if isinstance(exc, kind)), "the bearer token is not valid")
        raise Unauthorized(detail) from None
    if claims.get("role") not in {r.value for r in Role}:
        raise Unauthorized("the token names no known role")
    try:
        typed = _Claims.model_validate(claims)
    except ValidationError as exc:
        names = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        raise Unauthorized(f"the token's claims are malformed: {', '.join(names)}") from None
    principal = Principal(
        subject=typed.sub, role=typed.role, provider_id=typed.provider_id,
        client_id=str(typed.client_id) if typed.client_id else None, name=typed.name,
    )
    if principal.role is Role.PROVIDER and not principal.provider_id:
        raise Unauthorized("a provider token must carry provider_id")
    if principal.role is Role.CLIENT and not principal.client_id:
        raise Unauthorized("a client token must carry client_id")
    return principal


class _VerifiedTokens:
    """Tokens verified lately (issue 15): an integrator sends the same token with every push, and
    verifying it (a signature, the claims, with JWKS a thread hop) costs more than the rest of a replay.
    A token is verified in full once; afterwards it is taken from here until its ``exp`` (with the
    leeway) or for ``TTL`` seconds, whichever comes first, under the same settings only."""

    TTL = 60.0
    SIZE = 4096

    def __init__(self) -> None:
        self._entries: dict[tuple[Any, ...], tuple[Principal, float]] = {}

    def get(self, key: tuple[Any, ...]) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if time.time() >= entry[1]:
            self._entries.pop(key, None)
            return None
        return entry[0]

    def put(self, key: tuple[Any, ...], principal: Principal, token: str, leeway: float) -> None:
        try:
            exp = float(jwt.decode(token, options={"verify_signature": False})["exp"])
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):  # no readable expiry: not cached
            return
        if len(self._entries) >= self.SIZE:
            self._entries.clear()
        self._entries[key] = (principal, min(exp + leeway, time.time() + self.TTL))


_verified = _VerifiedTokens()

_bearer = HTTPBearer(auto_error=False, description="JWT from `make token ROLE=...`")


async def principal_from_token(request: Request, token: str) -> Principal:
    """Verify ``token`` with the service's settings (HS256 in development, the JWKS otherwise)."""
    settings = request.app.state.runtime.settings
    key = (token, id(settings), settings.development, settings.jwt_issuer, settings.jwt_audience,
           settings.jwt_jwks_url)
    cached = _verified.get(key)
    if cached is not None:
        return cached
    jwks = jwks_client(settings.jwt_jwks_url, settings.jwt_jwks_cache_seconds) if settings.jwt_jwks_url else None
    decode = functools.partial(
        decode_token, token,
        settings.jwt_secret.get_secret_value() if settings.development else None,  # HS256: never in production
        issuer=settings.jwt_issuer, audience=settings.jwt_audience, leeway=settings.jwt_leeway_seconds,
        jwks=jwks, algorithms=tuple(settings.jwt_algorithms),
    )
    # A JWKS fetch is blocking I/O (rare: the key set is cached); keep it off the event loop.
    principal = await asyncio.to_thread(decode) if jwks is not None else decode()
    _verified.put(key, principal, token, settings.jwt_leeway_seconds)
    return principal


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send a bearer token in the Authorization header")
    principal = await principal_from_token(request, credentials.credentials)
    request.state.principal = principal
    return principal


def require(*roles: Role) -> Any:
    """Dependency: the caller must hold one of ``roles``; returns the :class:`Principal`."""
    allowed = frozenset(roles)

    async def _check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"role '{principal.role.value}' may not do this; allowed: {', '.join(sorted(r.value for r in allowed))}"
            )
        return principal

    _check.__name__ = "require_" + "_or_".join(sorted(r.value for r in allowed))
    return Depends(_check)


def main(argv: list[str] | None = None) -> None:
    """Print a development token (used by ``make token``); its last output line is the token."""
    from ktt_common.settings import load_settings

    parser = argparse.ArgumentParser(description="Print a development JWT")
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--provider-id")
    parser.add_argument("--client-id")
    parser.add_argument("--subject")
    parser.add_argument("--name")
    parser.add_argument("--hours", type=float, default=12)
    args = parser.parse_args(argv)
    settings = load_settings("token")
    token = issue_token(
        settings.jwt_secret.get_secret_value(), role=args.role, subject=args.subject,
        provider_id=args.provider_id or None, client_id=args.client_id or None, name=args.name,
        issuer=settings.jwt_issuer, audience=settings.jwt_audience, ttl=dt.timedelta(hours=args.hours),
    )
    print(f"# {args.role} token, valid {args.hours:g} h; use: -H 'Authorization: Bearer <token>'")
    print(token)


if __name__ == "__main__":
    main()
