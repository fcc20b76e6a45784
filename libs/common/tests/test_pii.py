"""ktt_common.pii: encrypted hetu storage and the keyed lookup hash."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from ktt_common.pii import ERASED, Erased, PiiVault

KEY = "test-pii-key"
HETU = "131052-308T"


@pytest.fixture
def vault() -> PiiVault:
    return PiiVault(KEY)


@pytest.fixture
def data_key(vault: PiiVault) -> str:
    return vault.new_data_key()


def test_seal_open_round_trip(vault: PiiVault, data_key: str) -> None:
    token = vault.seal(HETU, data_key)
    assert isinstance(token, str) and vault.is_sealed(token)
    assert vault.open(token, data_key) == HETU


def test_ciphertext_and_wrapped_key_do_not_contain_the_plaintext(vault: PiiVault, data_key: str) -> None:
    token = vault.seal(HETU, data_key)
    for text in (token, data_key):
        assert HETU not in text and "131052" not in text and "308T" not in text


def test_two_encryptions_differ(vault: PiiVault, data_key: str) -> None:
    first, second = vault.seal(HETU, data_key), vault.seal(HETU, data_key)
    assert first != second
    assert vault.open(first, data_key) == vault.open(second, data_key) == HETU


def test_each_client_has_its_own_key(vault: PiiVault, data_key: str) -> None:
    other = vault.new_data_key()
    assert other != data_key
    with pytest.raises(InvalidToken):
        vault.open(vault.seal(HETU, data_key), other)


def test_another_master_key_cannot_unwrap(vault: PiiVault, data_key: str) -> None:
    token = vault.seal(HETU, data_key)
    with pytest.raises(InvalidToken):
        PiiVault("another-key").open(token, data_key)
    assert PiiVault(KEY).open(token, data_key) == HETU  # the same PII_KEY in a new instance can


def test_a_destroyed_key_erases_the_data(vault: PiiVault, data_key: str) -> None:
    """Crypto-shredding (DATA-2): without the client's wrapped key the ciphertext is unreadable."""
    token = vault.seal(HETU, data_key)
    with pytest.raises(Erased):
        vault.open(token, None)
    with pytest.raises(Erased):
        vault.open(ERASED, data_key)


def test_the_master_key_is_derived_with_hkdf(data_key: str) -> None:
    # The wrapped key opens under Fernet(HKDF-SHA256(PII_KEY, info)) and not under the raw key.
    master = Fernet(base64.urlsafe_b64encode(
        HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ktt-pii-master-key-v2").derive(KEY.encode())))
    assert len(base64.urlsafe_b64decode(master.decrypt(data_key.encode()))) == 32


def test_old_ciphertexts_stay_readable(vault: PiiVault) -> None:
    """Ciphertexts written before data keys (one HMAC-derived key) open without a data key."""
    legacy = Fernet(base64.urlsafe_b64encode(hmac.new(KEY.encode(), b"ktt-pii-encryption-v1", hashlib.sha256).digest()))
    token = legacy.encrypt(HETU.encode()).decode()
    assert not vault.is_sealed(token)
    assert vault.open(token, None) == HETU


def test_tampered_ciphertext_is_refused(vault: PiiVault, data_key: str) -> None:
    token = vault.seal(HETU, data_key)
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    with pytest.raises(InvalidToken):
        vault.open(flipped, data_key)


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
    key = vault.new_data_key()
    assert vault.open(vault.seal(value, key), key) == value
    assert vault.lookup_hash(value) == PiiVault(KEY).lookup_hash(value)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ktt_common.identifiers import HETU_PATTERN, contains_hetu  # noqa: E402

# Latin-1 text takes the byte-shape scan, other text (the euro sign, Arabic-Indic digits that \d also
# takes) the candidate scan; runs of zeros and letters are what the shape scan turns every digit and
# letter into.
_PIECES = st.sampled_from(["131052-308T", "131052W308T", "010190A123B", "x", "\\n", "\\t", "-", "A", "9", " ", "\"", "0", "31",
                           "1310", "52-308", "T", "ä", "2027-03-01", "123456-789", "€", "\u0663", "\u0661\u0663", "0000000",
                           "L", "+", "u", "Z", "{", "}", "é1", "\ud800", "131052+308T", "010190y123b"])


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.lists(_PIECES, max_size=30).map("".join), st.text(alphabet="0123-+AaUyZ\u0663\\nä x", max_size=40)))
def test_contains_hetu_finds_exactly_what_the_pattern_finds(text):
    """DATA-4: the fast scan of contains_hetu never disagrees with HETU_PATTERN."""
    assert contains_hetu(text) == (HETU_PATTERN.search(text) is not None)


@pytest.mark.parametrize("text", ["latin-1 ä", "ascii", "beyond latin-1 €"])
@pytest.mark.parametrize("sign", list("+-ABCDEFUVWXYabcdefuvwxy"))
def test_contains_hetu_finds_every_century_sign(sign, text):
    """DATA-4: each sign the pattern takes, in each path of the scan (Latin-1 bytes, or the text)."""
    code = f"010190{sign}123B"
    assert HETU_PATTERN.search(code) and contains_hetu(f"{text} {code}.") and contains_hetu(f'{{"note":"{code}"}}{text}')
    assert not contains_hetu(f"{text} 9{code}") and not contains_hetu(f"{text} {code}9")
