"""Pure rules of vouchers."""

from __future__ import annotations

import secrets

from stdnum import luhn

# Crockford's base 32: no I, L, O or U, so a number read aloud or typed is hard to get wrong.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_PREFIX = "KTT"


def new_voucher_number() -> str:
    """VOU-1: a unique, human-friendly identifier with a check character, e.g. KTT-7K3M-9QX2-D."""
    body = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    check = luhn.calc_check_digit(body, NUMBER_ALPHABET)
    return f"{NUMBER_PREFIX}-{body[:4]}-{body[4:]}-{check}"


def is_valid_voucher_number(number: str) -> bool:
    """True when the number has the KTT-XXXX-XXXX-C shape and its check character matches."""
    compact = number.strip().upper().replace("-", "").replace(" ", "")
    if not compact.startswith(NUMBER_PREFIX) or len(compact) != len(NUMBER_PREFIX) + 9:
        return False
    body = compact[len(NUMBER_PREFIX):]
    if any(c not in NUMBER_ALPHABET for c in body):
        return False
    return luhn.is_valid(body, NUMBER_ALPHABET)
