"""Pure rules of refusals and interruptions (DEC-9): which facts are flags."""

from __future__ import annotations

NOT_STARTED = "not_started"



INTERRUPTED = "interrupted"



UNAUTHORISED_ABSENCE = "unauthorised_absence"



# AGR-13 / DEC-9: an early end for unsuitability, by mutual decision, or by the client. Compared as
# strings: the voucher service's EndKind grows (client_terminated) without this service changing.
INTERRUPTING_END_KINDS = frozenset({"unsuitable", "mutual", "client_terminated"})



def voucher_state_flag(state: str, previous_state: str) -> tuple[str, str] | None:
    """DEC-9 / VOU-3: (kind, reason) when a voucher's new state means the client did not start KTT.

    Delayed: no contact or no start within the VOU-3 deadlines. Expired from issued or delayed:
    the voucher was never used. Refused (VOU-4) is the client's right and is not a refusal of
    KTT; it never comes through here."""
    if state == "delayed":
        return NOT_STARTED, ("VOU-3: the service did not start within 14 days of the decision (or the client did "
                             "not contact a provider within 7); the case worker checks why (a queue or another "
                             "valid reason, §9.5)")
    if state == "expired" and previous_state in ("issued", "delayed"):
        return NOT_STARTED, (f"the voucher expired unused (it was {previous_state}): the client never started the "
                             "service; the case worker checks why (§9.5)")
    return None



def agreement_end_flag(end_kind: str) -> str | None:
    """DEC-9 / AGR-13: an agreement ended early for unsuitability, by mutual decision or by the
    client is an interruption; a fixed term, a change of provider, a revoked or shortened
    decision or the provider's removal are not."""
    return INTERRUPTED if end_kind in INTERRUPTING_END_KINDS else None



def absence_flag(reason: str, authorised: bool) -> str | None:
    """DEC-9 / ATT-7: not coming on an activity day without a valid reason counts; illness does
    not (a sickness with a certificate never flags, ATT-3). The attendance service decides
    ``authorised`` (sickness without a certificate is unauthorised, ATT-3)."""
    if reason == "sick_with_certificate" or authorised:
        return None
    return UNAUTHORISED_ABSENCE
