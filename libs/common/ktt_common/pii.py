"""Storage of personal data that a database dump does not reveal, and that can be erased for good.

Envelope encryption with crypto-shredding (issue 13, DATA-2): each client's personal data is
encrypted (Fernet: AES-128-CBC with HMAC-SHA256) under that client's own random data key; the data
key is stored wrapped (Fernet-encrypted) under a master key derived from ``PII_KEY`` with HKDF
(SHA-256, from ``cryptography``). Destroying a client's wrapped key makes every copy of their
ciphertext unreadable, in backups too; :meth:`PiiVault.open` then raises :class:`Erased`.

A ciphertext under a data key is marked ``k1:``. Older ciphertexts (no mark) were encrypted under
one key derived from ``PII_KEY`` by HMAC-SHA256; they stay readable and are re-sealed under the
client's data key when the client is next written.

The hetu is found through a keyed hash (HMAC-SHA256 under a key derived from ``PII_KEY``) that
serves as the unique lookup index. Its derivation is unchanged: the index holds one hash per
client and a new derivation would need every hetu decrypted and hashed again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEALED = "k1:"
ERASED = "erased"


class Erased(Exception):
    """The client's data key was destroyed (retention, DATA-2): the data can never be read again."""


def _legacy_derive(key: str, purpose: bytes) -> bytes:
    return hmac.new(key.encode(), purpose, hashlib.sha256).digest()


def _hkdf(key: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key.encode())


class PiiVault:
    def __init__(self, key: str) -> None:
        self._master = Fernet(base64.urlsafe_b64encode(_hkdf(key, b"ktt-pii-master-key-v2")))
        self._legacy = Fernet(base64.urlsafe_b64encode(_legacy_derive(key, b"ktt-pii-encryption-v1")))
        self._lookup_key = _legacy_derive(key, b"ktt-pii-lookup-v1")

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._lookup_key, value.encode(), hashlib.sha256).hexdigest()

    def new_data_key(self) -> str:
        """A fresh random data key for one client, wrapped under the master key (what is stored)."""
        return self._master.encrypt(Fernet.generate_key()).decode()

    def _data_fernet(self, wrapped_key: str) -> Fernet:
        return Fernet(self._master.decrypt(wrapped_key.encode()))

    def seal(self, value: str, wrapped_key: str) -> str:
        """``value`` encrypted under the client's data key."""
        return SEALED + self._data_fernet(wrapped_key).encrypt(value.encode()).decode()

    def open(self, token: str, wrapped_key: str | None) -> str:
        """Decrypt a client's ciphertext; :class:`Erased` when their key was destroyed."""
        if token == ERASED:
            raise Erased("the personal data was erased")
        if token.startswith(SEALED):
            if wrapped_key is None:
                raise Erased("the client's data key was destroyed")
            return self._data_fernet(wrapped_key).decrypt(token[len(SEALED):].encode()).decode()
        return self._legacy.decrypt(token.encode()).decode()

    @staticmethod
    def is_sealed(token: str) -> bool:
        return token.startswith(SEALED)


__all__ = ["ERASED", "Erased", "InvalidToken", "PiiVault"]
