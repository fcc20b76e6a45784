"""Tokens from the city's identity provider (issue 12 item 6, issue 17 item 2) and malformed claims
(issue 13 defect 5): RS256/ES256 verified against a real JWKS document served over HTTP, keys made
with ``cryptography``; the shared HS256 key only outside production; clock-skew leeway; ``iat``
required; PyJWT's own error text never in a 401."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import jwt
import pytest

from ktt_common.auth import Role, decode_token, issue_token, jwks_client
from ktt_common.errors import ServiceUnavailable, Unauthorized
from ktt_common.testing import IDP_AUDIENCE as AUD
from ktt_common.testing import IDP_ISSUER as ISS
from ktt_common.testing import IdentityProvider, signing_key


@pytest.fixture
def idp(identity_provider: IdentityProvider) -> IdentityProvider:
    return identity_provider


DEV_SECRET = "a-development-secret-long-enough-for-hs256-0123456789"


def verify(idp: IdentityProvider, token: str, **over: Any) -> Any:
    kwargs: dict[str, Any] = {"issuer": ISS, "audience": AUD, "jwks": jwks_client(idp.url)}
    kwargs.update(over)
    return decode_token(token, kwargs.pop("secret", None), **kwargs)


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1"])
def test_identity_provider_tokens_verify_against_its_jwks(idp: IdentityProvider, kid: str) -> None:
    client = str(uuid.uuid4())
    principal = verify(idp, idp.token(kid, role="client", client_id=client, sub="citizen-7"))
    assert (principal.role, principal.client_id, principal.subject) == (Role.CLIENT, client, "citizen-7")
    assert idp.requests >= 1


def test_the_key_set_is_cached(idp: IdentityProvider) -> None:
    for _ in range(3):
        verify(idp, idp.token())
    assert idp.requests == 1


def test_a_token_signed_by_another_key_under_a_published_kid_is_refused(idp: IdentityProvider) -> None:
    forger = signing_key("rsa-forger")
    with pytest.raises(Unauthorized, match="signature does not verify"):
        verify(idp, idp.token("rsa-1", key=forger))


def test_an_unknown_kid_is_refused(idp: IdentityProvider) -> None:
    stranger = signing_key("rsa-forger")
    token = jwt.encode({"sub": "x", "role": "admin", "iss": ISS, "aud": AUD, "iat": 0, "exp": 2**31},
                       stranger, algorithm="RS256", headers={"kid": "rsa-unknown"})
    with pytest.raises(Unauthorized, match="key the identity provider does not publish"):
        verify(idp, token)


@pytest.mark.parametrize(("claim", "value", "message"), [("iss", "https://evil.example", "another issuer"),
                                                         ("aud", "another-api", "another audience")])
def test_issuer_and_audience_are_checked(idp: IdentityProvider, claim: str, value: str, message: str) -> None:
    with pytest.raises(Unauthorized, match=message):
        verify(idp, idp.token(**{claim: value}))


def test_hs256_is_refused_without_the_development_secret(idp: IdentityProvider) -> None:
    """In production no secret is passed: a token signed with the shared key is refused outright."""
    token = issue_token(DEV_SECRET, role="admin", issuer=ISS, audience=AUD)
    with pytest.raises(Unauthorized, match="algorithm this service does not accept"):
        verify(idp, token)
    assert verify(idp, token, secret=DEV_SECRET).role is Role.ADMIN  # development and tests


def test_an_unsigned_token_or_an_unlisted_algorithm_is_refused(idp: IdentityProvider) -> None:
    unsigned = jwt.encode({"sub": "x", "role": "admin", "iss": ISS, "aud": AUD, "iat": 0, "exp": 2**31}, None,
                          algorithm="none")
    with pytest.raises(Unauthorized, match="algorithm"):
        verify(idp, unsigned, secret=DEV_SECRET)
    with pytest.raises(Unauthorized, match="algorithm"):
        verify(idp, idp.token("ec-1"), algorithms=("RS256",))


def test_the_jwks_unreachable_is_a_503_not_a_401(idp: IdentityProvider) -> None:
    token = idp.token()
    idp.server.shutdown()
    idp.server.server_close()
    with pytest.raises(ServiceUnavailable) as info:
        verify(idp, token, jwks=jwt.PyJWKClient(idp.url, timeout=2))
    assert info.value.status == 503


# --- clock skew and iat (issue 17 item 2) ------------------------------------------------------

def _at(offset_seconds: int) -> int:
    return int(dt.datetime.now(dt.UTC).timestamp()) + offset_seconds


def test_default_leeway_is_30_seconds_either_way(idp: IdentityProvider) -> None:
    assert verify(idp, idp.token(iat=_at(20))).subject == "u-1"  # the IdP's clock runs 20 s ahead
    assert verify(idp, idp.token(exp=_at(-20))).subject == "u-1"  # expired 20 s ago by our clock
    with pytest.raises(Unauthorized, match="not valid yet"):
        verify(idp, idp.token(iat=_at(60)))
    with pytest.raises(Unauthorized, match="expired"):
        verify(idp, idp.token(exp=_at(-60)))


def test_leeway_is_configurable(idp: IdentityProvider) -> None:
    with pytest.raises(Unauthorized, match="expired"):
        verify(idp, idp.token(exp=_at(-5)), leeway=0)
    assert verify(idp, idp.token(exp=_at(-100)), leeway=120).subject == "u-1"


@pytest.mark.parametrize("claim", ["iat", "exp", "sub"])
def test_iat_exp_and_sub_are_required(idp: IdentityProvider, claim: str) -> None:
    with pytest.raises(Unauthorized, match=f"lacks the '{claim}' claim"):
        verify(idp, idp.token(**{claim: None}))


# --- malformed claims: a 401 naming the claim (issue 13 defect 5) --------------------------------

@pytest.mark.parametrize(("claims", "named"), [
    ({"role": "client", "client_id": "not-a-uuid"}, "client_id"),
    ({"role": "provider", "provider_id": ["P1", "P2"]}, "provider_id"),
    ({"role": "provider", "provider_id": {"$ne": ""}}, "provider_id"),
    ({"role": "provider", "provider_id": "P1' OR '1'='1"}, "provider_id"),
    ({"role": "client", "client_id": 12345}, "client_id"),
    ({"sub": 42}, "sub"),
    ({"name": "x" * 5000}, "name"),
])
def test_malformed_claims_are_a_401_naming_the_claim(idp: IdentityProvider, claims: dict[str, Any], named: str) -> None:
    with pytest.raises(Unauthorized) as info:
        verify(idp, idp.token(**claims))
    assert info.value.detail == f"the token's claims are malformed: {named}"


# --- PyJWT's own text is never shown (issue 17 item 2) -------------------------------------------

LIBRARY_PHRASES = ("Not enough segments", "Signature verification failed", "Invalid audience", "Invalid issuer",
                   "Signature has expired", "Token is missing", "Invalid header", "Invalid crypto padding",
                   "The token is not yet valid", "Unable to find a signing key", "Expecting value")


@pytest.mark.parametrize("token", [
    "abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.", "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIn0.e30.c2ln",
])
def test_401_details_are_our_own_words(idp: IdentityProvider, token: str) -> None:
    with pytest.raises(Unauthorized) as info:
        verify(idp, token, secret=DEV_SECRET)
    assert not any(phrase.lower() in info.value.detail.lower() for phrase in LIBRARY_PHRASES), info.value.detail
