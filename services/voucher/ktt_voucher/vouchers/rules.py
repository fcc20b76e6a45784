"""Pure rules of vouchers: facts in, verdict out. Each cites its rule ID (../shared/DOMAIN.md)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Literal

from stdnum import luhn

# Crockford's base 32: no I, L, O or U, so a number read aloud or typed is hard to get wrong.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_PREFIX = "KTT"
NUMBER_BODY_LENGTH = 8

State = Literal["issued", "in_use", "delayed", "expired", "cancelled", "refused", "revoked"]
STATES: tuple[State, ...] = ("issued", "in_use", "delayed", "expired", "cancelled", "refused", "revoked")


def new_voucher_number() -> str:
    """VOU-1: a unique, human-friendly identifier with a check character, e.g. KTT-7K3M-9QX2-D."""
    body = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_BODY_LENGTH))
    check = luhn.calc_check_digit(body, NUMBER_ALPHABET)
    return format_number(body + check)


def format_number(compact: str) -> str:
    """``7K3M9QX2D`` (body + check) -> ``KTT-7K3M-9QX2-D``."""
    return f"{NUMBER_PREFIX}-{compact[:4]}-{compact[4:8]}-{compact[8:]}"


NumberProblem = Literal["malformed", "bad_check_character"]


@dataclass(frozen=True)
class ParsedNumber:
    """The outcome of reading a typed voucher number, without any database lookup (VOU-5)."""

    number: str | None  # canonical KTT-XXXX-XXXX-C when the shape is right
    problem: NumberProblem | None

    @property
    def formatted(self) -> str | None:
        """Alias of ``number`` (the canonical form)."""
        return self.number


def parse_voucher_number(raw: str) -> ParsedNumber:
    """VOU-5: read a number as a person types it: dashes, spaces and case do not matter, and the
    ``KTT`` prefix may be left out. A wrong shape is ``malformed``; a right shape whose check
    character does not match is ``bad_check_character`` (Luhn mod 32 catches every
    single-character substitution and most swaps of neighbours)."""
    compact = raw.strip().upper().replace("-", "").replace(" ", "")
    if compact.startswith(NUMBER_PREFIX) and len(compact) == len(NUMBER_PREFIX) + NUMBER_BODY_LENGTH + 1:
        compact = compact[len(NUMBER_PREFIX):]
    if len(compact) != NUMBER_BODY_LENGTH + 1 or any(c not in NUMBER_ALPHABET for c in compact):
        return ParsedNumber(None, "malformed")
    if not luhn.is_valid(compact, NUMBER_ALPHABET):
        return ParsedNumber(format_number(compact), "bad_check_character")
    return ParsedNumber(format_number(compact), None)


def is_valid_voucher_number(number: str) -> bool:
    """True when the number has the KTT-XXXX-XXXX-C shape and its check character matches."""
    return parse_voucher_number(number).problem is None


# --- states (VOU-1, VOU-3, VOU-4, DEC-1, DEC-7) --------------------------------------------------

# The explicit transition table: from-state -> the states it may go to, each with its rule.
TRANSITIONS: dict[str, dict[str, str]] = {
    "issued": {
        "in_use": "VOU-3: the client's service started",
        "delayed": "VOU-3: no service started within 14 days of the decision",
        "expired": "VOU-1: the validity window ended",
        "cancelled": "VOU-1: the city cancelled the voucher",
        "refused": "VOU-4: the client refused the voucher",
        "revoked": "DEC-1/DEC-7: the decision was revoked",
    },
    "delayed": {
        "in_use": "VOU-3: the client's service started late",
        "expired": "VOU-1: the validity window ended",
        "cancelled": "VOU-1: the city cancelled the voucher",
        "refused": "VOU-4: the client refused the voucher",
        "revoked": "DEC-1/DEC-7: the decision was revoked",
    },
    "in_use": {
        "expired": "VOU-1: the validity window ended",
        "cancelled": "VOU-1: the city cancelled the voucher",
        "revoked": "DEC-1/DEC-7: the decision was revoked",
    },
    # An expired voucher can still be revoked, so that the record shows its decision fell.
    "expired": {"revoked": "DEC-1/DEC-7: the decision was revoked"},
    "cancelled": {},
    "refused": {},
    "revoked": {},
}
FINAL_STATES = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
ACTIVE_STATES = frozenset({"issued", "delayed", "in_use"})


def transition_refusal(current: str, target: str) -> str | None:
    """None when a voucher in ``current`` may go to ``target``; otherwise why not, in plain words."""
    if current not in TRANSITIONS:
        return f"unknown state '{current}'"
    if target not in TRANSITIONS:
        return f"unknown state '{target}'"
    if current == target:
        return f"the voucher is already {target}"
    if target in TRANSITIONS[current]:
        return None
    if target == "refused" and current == "in_use":
        return "VOU-4: the service has already started; report an interruption (DEC-9) instead of a refusal"
    if target == "refused":
        return f"VOU-4: a {current} voucher can no longer be refused; only an issued or delayed one can"
    if current in FINAL_STATES:
        return f"the voucher is {current}, a final state; nothing changes it any more"
    allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
    return f"a {current} voucher cannot become {target}; it can become: {allowed}"


def can_transition(current: str, target: str) -> bool:
    return transition_refusal(current, target) is None


# --- deadlines (VOU-3) ---------------------------------------------------------------------

CONTACT_DAYS = 7  # VOU-3: the client contacts a provider within 7 days of receiving the decision
START_DAYS = 14  # VOU-3: the service starts at the latest 14 days after the voucher decision


def contact_deadline(decided_on: dt.date) -> dt.date:
    """VOU-3: the last day for the client to contact a provider (calendar days, 'vuorokautta')."""
    return decided_on + dt.timedelta(days=CONTACT_DAYS)


def start_deadline(decided_on: dt.date) -> dt.date:
    """VOU-3: the last day on which the service may start. 'Viimeistään 14 vuorokauden kuluessa'
    means the 14th calendar day after the decision is still in time; day 15 is late."""
    return decided_on + dt.timedelta(days=START_DAYS)


def is_delayed(state: str, decided_on: dt.date, today: dt.date) -> bool:
    """VOU-3: an issued voucher whose service has not started by its start deadline is delayed."""
    return state == "issued" and today > start_deadline(decided_on)


def delay_reason(state: str, received_on: dt.date, contacted_on: dt.date | None, today: dt.date) -> str | None:
    """VOU-3: why an issued voucher is delayed on ``today``, or None. Both deadlines count from
    the day the client received the decision: no contact with a provider by day 7 (a contact
    recorded later does not undo the miss), or no service started by day 14."""
    if state != "issued":
        return None
    if today > start_deadline(received_on):
        return f"VOU-3: no service started by {start_deadline(received_on).isoformat()}"
    if today > contact_deadline(received_on) and (contacted_on is None or contacted_on > contact_deadline(received_on)):
        return f"VOU-3: no contact with a provider by {contact_deadline(received_on).isoformat()}"
    return None


def is_expired(state: str, valid_to: dt.date, today: dt.date) -> bool:
    """VOU-1: an active voucher whose last valid day has passed is expired."""
    return state in ACTIVE_STATES and today > valid_to


# --- provider check (VOU-5) ----------------------------------------------------------------

CheckReason = Literal[
    "malformed", "bad_check_character", "unknown_number", "not_yet_valid", "expired", "revoked", "refused", "cancelled",
]

CHECK_REASON_TEXT: dict[str, str] = {
    "malformed": "The number does not have the shape KTT-XXXX-XXXX-X; check how it was typed.",
    "bad_check_character": "The check character does not match: the number was probably mistyped.",
    "unknown_number": "No voucher has this number.",
    "not_yet_valid": "The voucher is not valid yet; see valid_from.",
    "expired": "The voucher's validity has ended.",
    "revoked": "The voucher was revoked with its decision.",
    "refused": "The client refused the voucher.",
    "cancelled": "The voucher was cancelled.",
}


def check_verdict(state: str, valid_from: dt.date, valid_to: dt.date, today: dt.date) -> CheckReason | None:
    """VOU-5: None when the voucher is valid today, else the reason it is not."""
    if state in ("revoked", "refused", "cancelled"):
        return state  # type: ignore[return-value]
    if state == "expired" or today > valid_to:
        return "expired"
    if today < valid_from:
        return "not_yet_valid"
    return None


# --- amendments (DEC-7) --------------------------------------------------------------------

@dataclass(frozen=True)
class AmendmentVerdict:
    apply: bool  # False: an older or replayed version; ignore it
    valid_from: dt.date
    valid_to: dt.date
    type: str
    validity_changed: bool
    type_changed: bool


def amendment_verdict(
    *, applied_version: int, state: str, valid_from: dt.date, valid_to: dt.date, type_: str,
    new_version: int, period_start: dt.date, period_end: dt.date, voucher_kind: str,
) -> AmendmentVerdict:
    """DEC-7: an amended decision moves the voucher's validity to the new decision period (the
    validity is always inside the decision period, VOU-1). A version not above the one applied
    is ignored (events may arrive late or twice). The type follows the decision's voucher kind
    only while the voucher is not yet in use. A voucher in a final state, or expired, keeps its
    facts (an expired voucher is not revived: the city issues a new decision)."""
    if new_version <= applied_version:
        return AmendmentVerdict(False, valid_from, valid_to, type_, False, False)
    if state in FINAL_STATES or state == "expired":
        return AmendmentVerdict(True, valid_from, valid_to, type_, False, False)
    new_type = voucher_kind if state in ("issued", "delayed") else type_
    return AmendmentVerdict(
        True, period_start, period_end, new_type,
        validity_changed=(period_start, period_end) != (valid_from, valid_to),
        type_changed=new_type != type_,
    )
