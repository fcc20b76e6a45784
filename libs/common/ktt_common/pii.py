"""Storage of personal identity codes that a database dump does not reveal.

The hetu is encrypted (Fernet: AES-128-CBC with HMAC-SHA256) under a key derived from
``PII_KEY``, and found through a keyed hash (HMAC-SHA256 under a second derived key) that
serves as the unique lookup index. Without ``PII_KEY`` neither can be reversed or brute-forced
from the dump alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet


def _derive(key: str, purpose: bytes) -> bytes:
    return hmac.new(key.encode(), purpose, hashlib.sha256).digest()


class PiiVault:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(key, b"ktt-pii-encryption-v1")))
        self._lookup_key = _derive(key, b"ktt-pii-lookup-v1")

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._lookup_key, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()
