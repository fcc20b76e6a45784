"""Bearer JWT authentication and per-endpoint role checks.

Roles: city_official, social_worker, provider (token carries provider_id), client (token carries
client_id), integrator, admin. Every endpoint declares who may call it with :func:`require`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ktt_common.errors import Forbidden, Unauthorized


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
    subject: str
    role: Role
    provider_id: str | None = None
    client_id: str | None = None
    name: str | None = None


def issue_token(
    secret: str,
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
) -> str:
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
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_token(token: str, secret: str, *, issuer: str, audience: str) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=issuer, audience=audience,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired; get a new one") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"the bearer token is not valid: {exc}") from None
    try:
        role = Role(claims.get("role"))
    except ValueError:
        raise Unauthorized("the token names no known role") from None
    principal = Principal(
        subject=str(claims["sub"]), role=role, provider_id=claims.get("provider_id"),
        client_id=claims.get("client_id"), name=claims.get("name"),
    )
    if role is Role.PROVIDER and not principal.provider_id:
        raise Unauthorized("a provider token must carry provider_id")
    if role is Role.CLIENT and not principal.client_id:
        raise Unauthorized("a client token must carry client_id")
    return principal


_bearer = HTTPBearer(auto_error=False, description="JWT from `make token ROLE=...`")


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send a bearer token in the Authorization header")
    settings = request.app.state.runtime.settings
    principal = decode_token(
        credentials.credentials, settings.jwt_secret.get_secret_value(),
        issuer=settings.jwt_issuer, audience=settings.jwt_audience,
    )
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
