"""Who is looking at the page.

Development (KTT_ENV development/test): the log-in page mints a development token with
:func:`ktt_common.auth.issue_token` for the role (and provider or client id) picked, kept in an
HttpOnly, SameSite=Strict cookie. Production (KTT_ENV unset): the console mints nothing; it takes
the identity provider's bearer token from the ``Authorization`` header (set by the city's sign-in
proxy) and verifies it as every service does (JWKS, issuer, audience).

Form posts carry a CSRF token bound to the session token (HMAC), and a post whose ``Origin`` is
another site is refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from urllib.parse import urlsplit

from fastapi import Request

from ktt_common.auth import Principal, decode_token, issue_token, jwks_client
from ktt_common.errors import DomainError
from ktt_console.settings import ConsoleSettings

COOKIE = "ktt_console_session"
LANG_COOKIE = "ktt_console_lang"
LOGIN_ROLES = ("city_official", "social_worker", "provider")


class Key:
    """The CSRF key: CONSOLE_CSRF_KEY (shared by replicas) or one made per process."""

    def __init__(self) -> None:
        configured = os.environ.get("CONSOLE_CSRF_KEY")
        self.value = configured.encode() if configured else secrets.token_bytes(32)


def token_of(request: Request, settings: ConsoleSettings) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    if settings.development:  # the minted development cookie; production tokens come only in the header
        return request.cookies.get(COOKIE) or None
    return None


def principal_of(token: str, settings: ConsoleSettings) -> Principal | None:
    jwks = jwks_client(settings.jwt_jwks_url, settings.jwt_jwks_cache_seconds) if settings.jwt_jwks_url else None
    try:
        return decode_token(
            token, settings.jwt_secret.get_secret_value() if settings.development else None,
            issuer=settings.jwt_issuer, audience=settings.jwt_audience, leeway=settings.jwt_leeway_seconds,
            jwks=jwks, algorithms=tuple(settings.jwt_algorithms),
        )
    except DomainError:
        return None


def mint(settings: ConsoleSettings, role: str, provider_id: str | None, client_id: str | None) -> str:
    """A development token (refused outside development: the identity provider issues production tokens)."""
    if not settings.development:
        raise PermissionError("the console mints tokens only in development")
    return issue_token(settings.jwt_secret.get_secret_value(), role=role, provider_id=provider_id or None,
                       client_id=client_id or None, subject=f"console-{role}-{secrets.token_hex(4)}",
                       issuer=settings.jwt_issuer, audience=settings.jwt_audience, ttl=dt.timedelta(hours=8))


def csrf_token(key: Key, session_token: str) -> str:
    return hmac.new(key.value, session_token.encode(), hashlib.sha256).hexdigest()[:40]


def csrf_ok(key: Key, session_token: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(key, session_token), str(given))


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")
