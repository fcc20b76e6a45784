"""ClientErased (DATA-2): billing erases the personal free text it keeps on a client whose retention
period has passed. Billing's copies are pseudonymous facts and figures (ids, days, hours, values;
BIL-1..BIL-6), which stay for the accounts; the only free text about a client is in the disputes
of the client's settlement lines (the provider's reason, the official's answer), neutralised here.
Idempotent: handled twice, the same values."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.erasure import erase_columns, record_erasure
from ktt_common.events import Envelope
from ktt_common.inbox import Subscription
from ktt_contracts.decision import ClientErased, ClientErasedPayload

from ktt_billing.disputes.models import Dispute
from ktt_billing.settlements.models import SettlementLine

FROM_DECISION = Subscription("decision")


@FROM_DECISION.on(ClientErased)
async def on_client_erased(session: AsyncSession, envelope: Envelope, payload: ClientErasedPayload) -> None:
    lines = select(SettlementLine.id).where(SettlementLine.client_id == payload.client_id)
    counts = {"dispute": await erase_columns(session, Dispute, Dispute.line_id.in_(lines), "reason", "answer")}
    await record_erasure(session, "billing", envelope, payload.client_id, counts)
