"""Payment batches: approved (or settled) settlements, numbered when made, exported as an ISO 20022
pain.001 credit transfer (sepaxml) and a purchase-ledger CSV; a provider without valid payment details is
held with that reason, never silently skipped; a batch marked paid marks its settlements paid."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import Conflict, InvalidInput, NotFound
from ktt_common.events import EventType
from ktt_common.outbox import emit_many, runtime_of
from ktt_contracts import billing as ev

from ktt_billing.copies.models import ProviderCopy
from ktt_billing.payments import rules
from ktt_billing.payments.models import PaymentBatch, PaymentItem
from ktt_billing.settings import BillingSettings
from ktt_billing.settlements import service as settlements
from ktt_billing.settlements.models import Settlement

PAYABLE = ("approved", "settled")


async def create_batch(session: AsyncSession, settlement_ids: list[uuid.UUID], execution_date: dt.date,
                       who: Principal, today: dt.date) -> PaymentBatch:
    if execution_date < today:
        raise InvalidInput(f"execution_date {execution_date} is in the past; use {today} or later")
    found = (await session.execute(select(Settlement).where(Settlement.id.in_(settlement_ids))
                                   .order_by(Settlement.provider_id, Settlement.month).with_for_update())).scalars().all()
    missing = set(settlement_ids) - {s.id for s in found}
    if missing:
        raise NotFound(f"no settlements {', '.join(sorted(map(str, missing)))}")
    wrong = [s for s in found if s.state not in PAYABLE or s.payment_batch_id is not None]
    if wrong:
        raise Conflict("only approved settlements not yet in a batch can be paid: " + ", ".join(
            f"{s.id} is {s.state}" + (" and already in a batch" if s.payment_batch_id else "") for s in wrong))
    providers = {p.provider_id: p for p in (await session.execute(
        select(ProviderCopy).where(ProviderCopy.provider_id.in_({s.provider_id for s in found})))).scalars().all()}
    number = int((await session.execute(select(func.coalesce(func.max(PaymentBatch.number), 0)))).scalar_one()) + 1
    batch = PaymentBatch(id=uuid.uuid4(), number=number, state="created", created_on=today, created_by=who.subject,
                         execution_date=execution_date, total_cents=0, held=[])
    items: list[PaymentItem] = []
    held: list[dict[str, Any]] = []
    events: list[tuple[EventType[Any], dict[str, Any], str]] = []
    for s in found:
        provider = providers.get(s.provider_id)
        problem = rules.payment_details_problem(provider)
        if problem is None and s.total_cents <= 0:
            problem = "nothing to pay: the total is not positive (it is set off in a later settlement)"
        if problem:
            reasons = [r for r in (s.hold_reasons or []) if r.get("rule") != "PAY"] + [{"rule": "PAY", "reason": problem}]
            s.held, s.hold_reasons = True, reasons
            held.append({"settlement_id": str(s.id), "provider_id": s.provider_id, "reason": problem})
            events.append((ev.InvoiceHeld, {**settlements.facts(s, await settlements.line_count(session, s.id)),
                                            "held_on": today, "reasons": reasons}, str(s.id)))
            continue
        assert provider is not None
        s.held, s.hold_reasons, s.payment_batch_id = False, [], batch.id
        items.append(PaymentItem(id=uuid.uuid4(), batch_id=batch.id, settlement_id=s.id, provider_id=s.provider_id,
                                 provider_name=provider.name, supplier_number=provider.supplier_number or "",
                                 business_id=provider.business_id, iban=provider.iban.replace(" ", "").upper(),
                                 reference=s.reference, amount_cents=s.total_cents, month=s.month,
                                 due_date=rules.due_date(execution_date, provider.payment_terms_days)))
    if not items:
        raise Conflict("no settlement can be paid: " + "; ".join(f"{h['settlement_id']}: {h['reason']}" for h in held))
    batch.total_cents = sum(i.amount_cents for i in items)
    batch.held = held
    session.add(batch)
    session.add_all(items)
    await session.flush()
    events.append((ev.PaymentBatchCreated, {
        "payment_batch_id": batch.id, "number": number, "created_on": today, "execution_date": execution_date,
        "settlement_ids": [i.settlement_id for i in items], "total_cents": batch.total_cents,
        "held_settlement_ids": [h["settlement_id"] for h in held]}, str(batch.id)))
    await emit_many(session, events)
    await audit(session, who, "payment_batch.create", "payment_batch", batch.id,
                details={"number": number, "total_cents": batch.total_cents, "held": held})
    return batch


async def get(session: AsyncSession, batch_id: uuid.UUID) -> tuple[PaymentBatch, list[PaymentItem]]:
    batch = (await session.execute(select(PaymentBatch).where(PaymentBatch.id == batch_id))).scalar_one_or_none()
    if batch is None:
        raise NotFound(f"no payment batch {batch_id}")
    items = (await session.execute(select(PaymentItem).where(PaymentItem.batch_id == batch_id)
                                   .order_by(PaymentItem.provider_id, PaymentItem.month))).scalars().all()
    return batch, list(items)


async def mark_paid(session: AsyncSession, batch_id: uuid.UUID, who: Principal, today: dt.date) -> PaymentBatch:
    batch, items = await get(session, batch_id)
    if batch.state == "paid":
        raise Conflict(f"payment batch {batch.number} was already marked paid on {batch.paid_on}")
    batch.state, batch.paid_on = "paid", today
    found = (await session.execute(select(Settlement).where(Settlement.id.in_([i.settlement_id for i in items])))).scalars().all()
    events: list[tuple[EventType[Any], dict[str, Any], str]] = []
    for s in found:
        s.state, s.paid_on = "paid", today
        events.append((ev.InvoicePaid, {**settlements.facts(s, await settlements.line_count(session, s.id)),
                                        "paid_on": today, "payment_batch_id": batch.id}, str(s.id)))
    await emit_many(session, events)
    await audit(session, who, "payment_batch.paid", "payment_batch", batch.id)
    return batch


def pain001(session_settings: BillingSettings, batch: PaymentBatch, items: list[PaymentItem]) -> bytes:
    """The batch as an ISO 20022 pain.001.001.03 credit transfer, validated against the schema sepaxml ships."""
    from sepaxml import SepaTransfer

    config = {"name": session_settings.debtor_name, "IBAN": session_settings.debtor_iban,
              "BIC": session_settings.debtor_bic, "batch": True, "currency": "EUR"}
    sepa = SepaTransfer(config, clean=True)
    sepa.msg_id = f"KTT-BATCH-{batch.number:06d}"
    for i in items:
        sepa.add_payment({"name": i.provider_name, "IBAN": i.iban, "amount": i.amount_cents,
                          "execution_date": batch.execution_date, "endtoend_id": i.reference,
                          "description": f"KTT palveluseteli {i.month} viite {i.reference}"})
    xml: bytes = sepa.export(validate=True, pretty_print=True)
    return xml


LEDGER_COLUMNS = ["supplier_number", "business_id", "provider_name", "iban", "reference", "amount", "amount_cents",
                  "due_date", "month", "settlement_id"]


def ledger_csv(items: list[PaymentItem]) -> str:
    """The purchase-ledger CSV: supplier number, Y-tunnus, IBAN, reference, amount (euros with a point and
    in cents) and the due date from the payment terms."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LEDGER_COLUMNS)
    for i in items:
        writer.writerow([i.supplier_number, i.business_id, i.provider_name, i.iban, i.reference,
                         f"{i.amount_cents // 100}.{i.amount_cents % 100:02d}", i.amount_cents, i.due_date.isoformat(),
                         i.month, str(i.settlement_id)])
    return out.getvalue()


def settings_of(session: AsyncSession) -> object:
    return runtime_of(session).settings
