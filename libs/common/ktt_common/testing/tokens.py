"""The city's identity provider: a JWKS document on a real local HTTP port, and the keys behind it."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

# --- the city's identity provider ------------------------------------------------------------

IDP_ISSUER, IDP_AUDIENCE = "https://idp.example.test", "ktt-api"
_TEST_KEYS: dict[str, Any] = {}


def signing_key(kind: str) -> Any:
    """Keys made once per test session (an RSA key takes a while to generate)."""
    if kind not in _TEST_KEYS:
        _TEST_KEYS[kind] = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind.startswith("rsa")
                            else ec.generate_private_key(ec.SECP256R1()))
    return _TEST_KEYS[kind]


class IdentityProvider:
    """A JWKS document on a real local HTTP port, and the private keys behind it."""

    def __init__(self) -> None:
        self.rsa = signing_key("rsa")
        self.ec = signing_key("ec")
        self.keys = {"rsa-1": (self.rsa, "RS256"), "ec-1": (self.ec, "ES256")}
        self.requests = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests += 1
                body = json.dumps(provider.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid, (key, alg) in self.keys.items():
            algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
            jwk = json.loads(algorithm.to_jwk(key.public_key()))
            out.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
        return {"keys": out}

    def token(self, kid: str = "rsa-1", *, key: Any = None, **claims: Any) -> str:
        private, alg = self.keys[kid]
        now = int(dt.datetime.now(dt.UTC).timestamp())
        body: dict[str, Any] = {"sub": "u-1", "role": "city_official", "iss": IDP_ISSUER, "aud": IDP_AUDIENCE,
                                "iat": now, "exp": now + 600}
        body.update(claims)
        return jwt.encode({k: v for k, v in body.items() if v is not None}, key or private, algorithm=alg,
                          headers={"kid": kid})
