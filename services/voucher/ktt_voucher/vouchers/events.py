"""What vouchers learn from the decision service: a decision made issues the voucher (DEC-1), amended
changes its validity, revoked revokes it and ends its agreements (DEC-7). The subscription
``from_decision`` is the service's one subscription to that producer; ``agreements/events.py``
adds the consent and representative copies to it.

Every handler runs inside the inbox transaction (a redelivered event is not handled twice) and is
also safe on its own when the same fact arrives under a new event id, or out of order.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.events import Envelope
from ktt_common.inbox import Subscription
from ktt_contracts.decision import (
    DecisionAmended,
    DecisionAmendedPayload,
    DecisionMade,
    DecisionMadePayload,
    DecisionRevoked,
    DecisionRevokedPayload,
)

from ktt_voucher.agreements import ending as agreement_ending
from ktt_voucher.agreements.models import Agreement
from ktt_voucher.vouchers import service
from ktt_voucher.vouchers.rules import FINAL_STATES

from_decision = Subscription(producer="decision")


class VoucherNotYetIssued(Exception):
    """A revocation arrived before its DecisionMade: retried (and parked if it never comes)."""


@from_decision.on(DecisionMade)
async def on_decision_made(session: AsyncSession, envelope: Envelope, payload: DecisionMadePayload) -> None:
    """DEC-1 / VOU-1: exactly one voucher per decision, valid inside the decision period."""
    await service.issue_voucher(session, payload, actor=f"event:{DecisionMade.name}", correlation_id=envelope.correlationid)


@from_decision.on_batch(DecisionMade)
async def on_decisions_made(session: AsyncSession, batch: list[tuple[Envelope, DecisionMadePayload]]) -> None:
    """The same for a run of DecisionMade in one transaction (issue 15): one statement per table."""
    await service.issue_vouchers(session, [(payload, envelope.correlationid) for envelope, payload in batch],
                                 actor=f"event:{DecisionMade.name}")


@from_decision.on(DecisionAmended)
async def on_decision_amended(session: AsyncSession, envelope: Envelope, payload: DecisionAmendedPayload) -> None:
    """DEC-7: the voucher's validity (and, before use, its type) follows the amended decision.
    A version not above the applied one is ignored."""
    outcome = await service.apply_amendment(session, payload, actor=f"event:{DecisionAmended.name}",
                                            correlation_id=envelope.correlationid)
    if outcome != "ignored":
        # AGR-4: agreements end at the latest with the decision.
        await agreement_ending.follow_shortened_decision(session, payload.decision_id, payload.period_end,
                                                          actor=f"event:{DecisionAmended.name}")
        if "approved_hours" in payload.changes:
            # VOU-7: the approved coaching hours reach the agreements on the decision's voucher.
            await agreement_ending.publish_changed(session, Agreement.decision_id == payload.decision_id, "approved_hours")


@from_decision.on(DecisionRevoked)
async def on_decision_revoked(session: AsyncSession, envelope: Envelope, payload: DecisionRevokedPayload) -> None:
    """DEC-1 / DEC-7: a revoked decision revokes its voucher from any non-final state."""
    voucher = await service.voucher_of_decision(session, payload.decision_id)
    if voucher is None:
        raise VoucherNotYetIssued(f"decision {payload.decision_id} has no voucher yet; retrying after DecisionMade")
    # DEC-7 / AGR-13: whatever is attached to the voucher follows: its agreements end.
    await agreement_ending.end_open_agreements(
        session, Agreement.decision_id == payload.decision_id, kind="decision_revoked", reason=payload.reason,
        on=payload.revoked_on, actor=f"event:{DecisionRevoked.name}",
    )
    if voucher.state in FINAL_STATES:
        return  # already revoked (a replay), or refused/cancelled before: those records stand
    await service.transition(
        session, voucher, "revoked", reason=payload.reason, actor=f"event:{DecisionRevoked.name}",
        on_date=payload.revoked_on,
        correlation_id=envelope.correlationid,
    )


SUBSCRIPTIONS = [from_decision]
