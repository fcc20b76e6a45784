"""ClientErased (DATA-2): the voucher service erases what it keeps on a client whose retention period
has passed, the decision service having destroyed the client's data key.

Neutralised: the representatives' names (VOU-9 copies), free-text reasons on vouchers and their
history (VOU-4 refusals, DEC-7 revocations), the agreement's personal content (goals, tasks, the
client's contact, assessment texts, parallel services, work cards: AGR-7), the client's signature,
end reasons and proposals (AGR-13), change reasons (AGR-10), notices sent about the client and
providers' refusal reasons (AGR-15). Kept: every id, state, date and the frozen money figures
(VOU-6, BIL-6), which billing and the accounts need. Idempotent: handled twice, the same values.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.erasure import erase_columns, erased_text, record_erasure, scrub
from ktt_common.events import Envelope
from ktt_contracts.decision import ClientErased, ClientErasedPayload

from ktt_voucher.agreements.models import (
    Agreement,
    AgreementChange,
    AgreementNotification,
    AgreementPeriod,
    ProviderRefusal,
    RepresentativeCopy,
)
from ktt_voucher.vouchers.events import from_decision
from ktt_voucher.vouchers.models import Voucher, VoucherEvent

# AGR-7 items of an agreement's content that are about the client as a person.
PERSONAL_CONTENT = ("tasks", "goals", "client_contact", "assessment_justification", "assessment_content",
                    "parallel_services", "work_cards")


@from_decision.on(ClientErased)
async def on_client_erased(session: AsyncSession, envelope: Envelope, payload: ClientErasedPayload) -> None:
    cid = payload.client_id
    counts = {
        "representative_copy": await erase_columns(session, RepresentativeCopy, RepresentativeCopy.client_id == cid,
                                                   "name"),
        "voucher": await erase_columns(session, Voucher, Voucher.client_id == cid, "state_reason"),
        "voucher_event": await erase_columns(
            session, VoucherEvent, VoucherEvent.voucher_id.in_(select(Voucher.id).where(Voucher.client_id == cid)),
            "reason"),
        "agreement_notification": await erase_columns(
            session, AgreementNotification, AgreementNotification.client_id == cid, "message"),
        "provider_refusal": await erase_columns(session, ProviderRefusal, ProviderRefusal.client_id == cid, "reason"),
    }
    agreements = (await session.execute(
        select(Agreement).where(Agreement.client_id == cid).with_for_update())).scalars().all()
    ids = [a.id for a in agreements]
    for agreement in agreements:
        agreement.content = scrub(agreement.content, PERSONAL_CONTENT)
        agreement.client_signature = scrub(agreement.client_signature, ("name", "place"))
        agreement.end_proposal = scrub(agreement.end_proposal, ("reason",))
        agreement.start_override_reason = erased_text(agreement.start_override_reason)
        agreement.end_reason = erased_text(agreement.end_reason)
    counts["agreement"] = len(agreements)
    if ids:
        counts["agreement_period"] = await erase_columns(session, AgreementPeriod, AgreementPeriod.agreement_id.in_(ids),
                                                         "goals")
        changes = (await session.execute(
            select(AgreementChange).where(AgreementChange.agreement_id.in_(ids)))).scalars().all()
        for change in changes:
            change.goals, change.reduction_reason = erased_text(change.goals), erased_text(change.reduction_reason)
            change.tasks = None if change.tasks is None else []
            change.client_signature = scrub(change.client_signature, ("name", "place"))
        counts["agreement_change"] = len(changes)
    await record_erasure(session, "voucher", envelope, cid, counts)
