"""Authentication at the edge of a running service (issue 12 item 6, issue 13 defect 5): a service
in production mode takes the identity provider's RS256/ES256 tokens, verified against its JWKS over
HTTP, and refuses the shared development key; a validly signed token with malformed claims is a
401 problem, never a 500."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from pydantic import SecretStr

from ktt_common.auth import issue_token
from ktt_common.settings import DEV_JWT_SECRET
from ktt_common.testing import IDP_AUDIENCE, IDP_ISSUER, IdentityProvider, run_service, service_settings
from ktt_decision.app import create_app as create_decision
from ktt_voucher.app import create_app as create_voucher


async def test_production_service_takes_identity_provider_tokens_only(
        identity_provider: IdentityProvider, databases: Any, nats_server: Any, tmp_path: Path) -> None:
    settings = service_settings(
        "decision", database_url=await databases("decision"), nats_url=nats_server.url, data_dir=tmp_path,
        environment="production", jwt_jwks_url=identity_provider.url, jwt_issuer=IDP_ISSUER,
        jwt_audience=IDP_AUDIENCE, pii_key=SecretStr("a-production-pii-key-0123456789"))
    assert not settings.development
    missing = f"/v1/decisions/{uuid.uuid4()}"
    async with run_service(create_decision, settings) as svc:
        for kid in ("rsa-1", "ec-1"):
            r = await svc.client.get(missing, headers={"Authorization": f"Bearer {identity_provider.token(kid)}"})
            assert r.status_code == 404, r.text  # authenticated; the decision just does not exist
        dev = issue_token(DEV_JWT_SECRET, role="city_official", issuer=IDP_ISSUER, audience=IDP_AUDIENCE)
        r = await svc.client.get(missing, headers={"Authorization": f"Bearer {dev}"})
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        assert "algorithm" in r.json()["detail"]
        stale = identity_provider.token(iat=None)
        r = await svc.client.get(missing, headers={"Authorization": f"Bearer {stale}"})
        assert r.status_code == 401 and r.json()["detail"] == "the token lacks the 'iat' claim"


@pytest.mark.parametrize(("role", "claims", "named"), [
    ("client", {"client_id": "not-a-uuid"}, "client_id"),
    ("provider", {"provider_id": ["P1", "P2"]}, "provider_id"),
    ("provider", {"provider_id": 7}, "provider_id"),
])
async def test_malformed_claims_are_a_401_not_a_500(role: str, claims: dict[str, Any], named: str,
                                                     databases: Any, nats_server: Any, tmp_path: Path) -> None:
    settings = service_settings("voucher", database_url=await databases("voucher"), nats_url=nats_server.url,
                                data_dir=tmp_path)
    token = jwt.encode({"sub": "x", "role": role, "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
                        "iat": 1_700_000_000, "exp": 4_000_000_000, **claims}, DEV_JWT_SECRET, algorithm="HS256")
    async with run_service(create_voucher, settings) as svc:
        r = await svc.client.get("/v1/agreements", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == f"the token's claims are malformed: {named}"
