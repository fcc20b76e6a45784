"""ktt_common.pii: encrypted hetu storage and the keyed lookup hash."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.fernet import InvalidToken
from hypothesis import given
from hypothesis import strategies as st

from ktt_common.pii import PiiVault

KEY = "test-pii-key"
HETU = "131052-308T"


@pytest.fixture
def vault() -> PiiVault:
    return PiiVault(KEY)


def test_encrypt_decrypt_round_trip(vault: PiiVault) -> None:
    token = vault.encrypt(HETU)
    assert isinstance(token, str)
    assert vault.decrypt(token) == HETU


def test_ciphertext_does_not_contain_the_plaintext(vault: PiiVault) -> None:
    token = vault.encrypt(HETU)
    assert HETU not in token
    assert "131052" not in token
    assert "308T" not in token


def test_two_encryptions_differ(vault: PiiVault) -> None:
    first, second = vault.encrypt(HETU), vault.encrypt(HETU)
    assert first != second
    assert vault.decrypt(first) == vault.decrypt(second) == HETU


def test_another_key_cannot_decrypt(vault: PiiVault) -> None:
    token = vault.encrypt(HETU)
    with pytest.raises(InvalidToken):
        PiiVault("another-key").decrypt(token)
    assert PiiVault(KEY).decrypt(token) == HETU  # the same key in a new instance can


def test_tampered_ciphertext_is_refused(vault: PiiVault) -> None:
    token = vault.encrypt(HETU)
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    with pytest.raises(InvalidToken):
        vault.decrypt(flipped)


def test_lookup_hash_is_deterministic(vault: PiiVault) -> None:
    assert vault.lookup_hash(HETU) == vault.lookup_hash(HETU)
    assert vault.lookup_hash(HETU) == PiiVault(KEY).lookup_hash(HETU)
    assert len(vault.lookup_hash(HETU)) == 64
    int(vault.lookup_hash(HETU), 16)  # hex


def test_lookup_hash_differs_per_key(vault: PiiVault) -> None:
    assert vault.lookup_hash(HETU) != PiiVault("another-key").lookup_hash(HETU)


def test_lookup_hash_differs_per_value(vault: PiiVault) -> None:
    assert vault.lookup_hash(HETU) != vault.lookup_hash("131052A308T")


def test_lookup_hash_is_not_a_plain_hash(vault: PiiVault) -> None:
    digest = vault.lookup_hash(HETU)
    assert HETU not in digest
    assert digest != hashlib.sha256(HETU.encode()).hexdigest()
    assert digest != hashlib.sha256((KEY + HETU).encode()).hexdigest()
    assert digest != hashlib.sha256((HETU + KEY).encode()).hexdigest()


def test_lookup_hash_uses_a_derived_key(vault: PiiVault) -> None:
    # the lookup hash is not an HMAC under the raw PII_KEY: it uses a derived key
    assert vault.lookup_hash(HETU) != hmac.new(KEY.encode(), HETU.encode(), hashlib.sha256).hexdigest()


@given(st.text(max_size=64))
def test_round_trip_any_text(value: str) -> None:
    vault = PiiVault(KEY)
    assert vault.decrypt(vault.encrypt(value)) == value
    assert vault.lookup_hash(value) == PiiVault(KEY).lookup_hash(value)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ktt_common.identifiers import HETU_PATTERN, contains_hetu  # noqa: E402

_PIECES = st.sampled_from(["131052-308T", "131052W308T", "010190A123B", "x", "\\n", "\\t", "-", "A", "9", " ", "\"", "0", "31",
                           "1310", "52-308", "T", "ä", "2027-03-01", "123456-789"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_contains_hetu_finds_exactly_what_the_pattern_finds(text):
    """DATA-4: the fast scan of contains_hetu never disagrees with HETU_PATTERN."""
    assert contains_hetu(text) == (HETU_PATTERN.search(text) is not None)
