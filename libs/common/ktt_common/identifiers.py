"""Finnish identifiers: hetu (personal identity code) and Y-tunnus, validated by python-stdnum.

Never log, publish or put in a URL what these functions accept (DATA-4); :func:`mask_hetu`
is the one filter every log line goes through.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.fi import hetu as _hetu
from stdnum.fi import ytunnus as _ytunnus

# DDMMYY, century sign (+, -, A-F and, since 2023, U-Y), individual number, control character.
# Also masked: lower-case signs (stdnum accepts them) and a code right after an escaped
# newline or tab in an already-rendered JSON string ("...\\n131052-308T").
HETU_PATTERN = re.compile(
    r"(?:(?<![0-9A-Za-z])|(?<=\\[nrtfbv]))([0-3]\d[01]\d\d\d)[-+A-FU-Ya-fu-y](\d{3})[0-9A-Ya-y](?![0-9A-Za-z])"
)
HETU_MASK = "******-****"


@dataclass(frozen=True)
class IdentifierError(ValueError):
    field: str
    reason: str

    def __str__(self) -> str:
        return self.reason


def validate_hetu(value: str, *, allow_temporary: bool = False, field: str = "hetu") -> str:
    """Return the compact, upper-case hetu or raise :class:`IdentifierError` saying what is wrong."""
    if not isinstance(value, str):
        raise IdentifierError(field, "a personal identity code must be a string")
    # Refused, not normalised: a person is matched on exactly the code the population register
    # holds. NFKC tells full-width digits, ligatures and other look-alikes from plain ASCII.
    if unicodedata.normalize("NFKC", value) != value or not value.isascii():
        raise IdentifierError(field, "the personal identity code holds characters that are not plain ASCII (full-width "
                                     "digits, look-alike letters); send plain digits and letters in the form DDMMYYCNNNX")
    try:
        return _hetu.validate(value.strip(), allow_temporary=allow_temporary)
    except InvalidChecksum:
        raise IdentifierError(field, "the control character of the personal identity code does not match") from None
    except InvalidComponent:
        if allow_temporary is False and _hetu.is_valid(value.strip(), allow_temporary=True):
            raise IdentifierError(
                field, "temporary personal identity codes (individual number 900-999) are accepted only in test mode"
            ) from None
        raise IdentifierError(field, "the personal identity code has an impossible date, century sign or individual number") from None
    except (InvalidFormat, InvalidLength):
        raise IdentifierError(field, "a personal identity code has the form DDMMYYCNNNX, e.g. with century sign - , A or Y") from None
    except ValidationError:
        raise IdentifierError(field, "not a valid personal identity code") from None


_CENTURY = {"+": 1800, **dict.fromkeys("-UVWXY", 1900), **dict.fromkeys("ABCDEF", 2000)}


def hetu_birth_date(hetu: str) -> dt.date:
    """The birth date a valid (compact, upper-case) hetu encodes: DDMMYY and the century sign."""
    return dt.date(_CENTURY[hetu[6]] + int(hetu[4:6]), int(hetu[2:4]), int(hetu[0:2]))


def validate_business_id(value: str, *, field: str = "business_id") -> str:
    """Return the Y-tunnus in its canonical NNNNNNN-C form or raise :class:`IdentifierError`."""
    try:
        return _ytunnus.format(_ytunnus.validate(value))
    except InvalidChecksum:
        raise IdentifierError(field, "the check digit of the business ID (Y-tunnus) does not match") from None
    except ValidationError:
        raise IdentifierError(field, "a business ID (Y-tunnus) has the form 1234567-8") from None


def mask_hetu(text: str) -> str:
    """Replace anything shaped like a hetu with a mask (DATA-4)."""
    return HETU_PATTERN.sub(HETU_MASK, text)


# The characters a match consumes, without the look-arounds: several times faster to scan for,
# so large event payloads (the daily log's batches) are checked quickly; every candidate is then
# confirmed by HETU_PATTERN at its position (look-behinds see the text before it).
_HETU_CANDIDATE = re.compile(r"[0-3]\d[01]\d\d\d[-+A-FU-Ya-fu-y]\d{3}[0-9A-Ya-y]")

# Faster, for text in Latin-1 (which has no decimal digit outside ASCII for HETU_PATTERN's \d to
# take): its bytes mapped to a "shape", every digit to 0 and every letter A-Z, a-z to L (other bytes
# kept). A match starts with six digits, a sign (-, + or a letter) and three digits, so its shape starts
# with 000000-000, 000000+000 or 000000L000; only where the shape does is the pattern tried, on the
# bytes (one byte a character: the same positions, and a byte >= 0x80 is none of [0-9A-Za-z] either
# way). Measured: half the time of the candidate scan. Other text (a euro sign, curly quotes) takes
# the candidate scan: finding out whether it holds a digit outside ASCII costs more than that scan.
_SHAPE = bytes.maketrans(b"0123456789" + bytes(range(65, 91)) + bytes(range(97, 123)), b"0" * 10 + b"L" * 52)
_SHAPE_CANDIDATE = re.compile(rb"000000(?=[-+L]000)")
_HETU_BYTES = re.compile(HETU_PATTERN.pattern.encode())


def contains_hetu(text: str) -> bool:
    """Exactly ``HETU_PATTERN.search(text) is not None``, found faster."""
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        pass
    else:
        return any(_HETU_BYTES.match(data, candidate.start())
                   for candidate in _SHAPE_CANDIDATE.finditer(data.translate(_SHAPE)))
    pos = 0
    while (candidate := _HETU_CANDIDATE.search(text, pos)) is not None:
        if HETU_PATTERN.match(text, candidate.start()):
            return True
        pos = candidate.start() + 1
    return False
