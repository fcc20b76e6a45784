"""Use cases of products (PRV-4) and their Typake-set voucher values (VOU-1, VOU-6, VOU-7, PRV-13)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import Conflict, FieldError, refuse
from ktt_common.outbox import emit
from ktt_contracts.registry import (
    PriceListChanged,
    PriceListChangedPayload,
    PriceVersion,
    ProductChanged,
    ProductChangedPayload,
)

from ktt_registry import rules
from ktt_registry.models import Product, ProductValue
from ktt_registry.schemas import ProductIn, ProductOut, ProductPatch, ValueOut, ValuesIn
from ktt_registry.service.common import now, own_product, own_provider, today


def form_of(kind: str) -> str:
    return "group" if kind == "group" else "individual"


def _euros(cents: int | None) -> Decimal | None:
    return None if cents is None else (Decimal(cents) / 100).quantize(Decimal("0.01"))


def value_out(v: ProductValue) -> ValueOut:
    return ValueOut(version=v.version, effective_from=v.effective_from, day_value_first_year=_euros(v.day_value_first_year_cents),
                    base_day_value=_euros(v.base_day_value_cents), hour_value=_euros(v.hour_value_cents),
                    reason=v.reason, set_by=v.set_by)


def price_version(v: ProductValue) -> PriceVersion:
    return PriceVersion(version=v.version, effective_from=v.effective_from, day_value_first_year_cents=v.day_value_first_year_cents,
                        base_day_value_cents=v.base_day_value_cents, hour_value_cents=v.hour_value_cents,
                        reason=v.reason, set_by=v.set_by)


async def versions_of(session: AsyncSession, product_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ProductValue]]:
    found: dict[uuid.UUID, list[ProductValue]] = {pid: [] for pid in product_ids}
    if product_ids:
        rows = (await session.execute(
            select(ProductValue).where(ProductValue.product_id.in_(product_ids)).order_by(ProductValue.version)
        )).scalars().all()
        for v in rows:
            found[v.product_id].append(v)
    return found


def current(versions: list[ProductValue], on: dt.date) -> ProductValue | None:
    chosen = rules.value_in_force([(v.version, v.effective_from) for v in versions], on)
    return next((v for v in versions if v.version == chosen), None)


def product_out(p: Product, versions: list[ProductValue], on: dt.date) -> ProductOut:
    cur = current(versions, on)
    return ProductOut(id=p.id, provider_id=p.provider_id, kind=p.kind, form=form_of(p.kind), name=p.name,
                      description=p.description, tasks=list(p.tasks), themes=list(p.themes), active=p.active,
                      current_value=value_out(cur) if cur else None)


async def _emit_product(session: AsyncSession, p: Product) -> None:
    await emit(session, ProductChanged, ProductChangedPayload(
        provider_id=p.provider_id, product_id=p.id, kind=p.kind, form=form_of(p.kind), name=p.name,
        description=p.description, tasks=list(p.tasks), themes=list(p.themes), active=p.active, changed_on=today(session),
    ), subject=str(p.id), revision_of=f"product:{p.id}")


async def create_product(session: AsyncSession, provider_id: str, body: ProductIn, principal: Principal) -> Product:
    """PRV-4: what the provider offers, with its tasks, themes and a plain-language description."""
    provider = await own_provider(session, principal, provider_id)
    t = now()
    product = Product(id=uuid.uuid4(), provider_id=provider.id, kind=body.kind, name=body.name, description=body.description,
                      tasks=list(body.tasks), themes=sorted(set(body.themes)), active=True, created_at=t, updated_at=t)
    session.add(product)
    await session.flush()
    await _emit_product(session, product)
    await audit(session, principal, "product.create", "product", product.id)
    return product


async def patch_product(session: AsyncSession, product_id: uuid.UUID, body: ProductPatch, principal: Principal) -> Product:
    product = await own_product(session, principal, product_id)
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "description", "tasks", "themes", "active"):
        if key in changes and changes[key] is None:
            refuse([FieldError(field=f"body.{key}", rule="PRV-4", message=f"{key} cannot be removed")])
    if "themes" in changes:
        changes["themes"] = sorted(set(changes["themes"]))
    for key, value in changes.items():
        setattr(product, key, value)
    product.updated_at = now()
    await _emit_product(session, product)
    await audit(session, principal, "product.update", "product", product.id, details={"fields": sorted(changes)})
    return product


async def set_values(session: AsyncSession, product_id: uuid.UUID, body: ValuesIn, principal: Principal) -> ProductValue:
    """VOU-1: Typake sets a product's voucher values as a new version effective from a date; earlier
    versions are never overwritten, and each change publishes PriceListChanged."""
    product = await own_product(session, principal, product_id)
    errors: list[FieldError] = []
    cents: dict[str, int | None] = {}
    for name in ("day_value_first_year", "base_day_value", "hour_value"):
        amount = getattr(body, name)
        cents[name] = None
        if amount is not None:
            cents[name], e = rules.to_cents(amount, f"body.{name}")
            errors += e
    if not errors:
        errors += rules.check_values_for_kind(product.kind, cents["day_value_first_year"], cents["base_day_value"], cents["hour_value"])
    if body.effective_from < today(session):
        errors.append(FieldError(field="body.effective_from", rule="VOU-1", message=(
            f"values take effect from today ({today(session)}) or later; past values are never rewritten")))
    refuse(errors)
    latest = (await session.execute(select(func.max(ProductValue.version)).where(ProductValue.product_id == product.id))).scalar_one()
    value = ProductValue(
        id=uuid.uuid4(), product_id=product.id, version=(latest or 0) + 1, effective_from=body.effective_from,
        day_value_first_year_cents=cents["day_value_first_year"], base_day_value_cents=cents["base_day_value"],
        hour_value_cents=cents["hour_value"], reason=body.reason, set_by=principal.subject, created_at=now(),
    )
    try:
        async with session.begin_nested():
            session.add(value)
    except IntegrityError:
        raise Conflict("another value was set for this product at the same moment; send yours again") from None
    versions = (await versions_of(session, [product.id]))[product.id]
    await emit(session, PriceListChanged, PriceListChangedPayload(
        provider_id=product.provider_id, product_id=product.id, product_kind=product.kind,
        new_version=price_version(value), versions=[price_version(v) for v in versions],
    ), subject=str(product.id))
    await audit(session, principal, "product.values", "product", product.id,
                details={"version": value.version, "effective_from": body.effective_from.isoformat()})
    return value


async def list_products(session: AsyncSession, provider_id: str, principal: Principal) -> list[ProductOut]:
    await own_provider(session, principal, provider_id)
    products = (await session.execute(select(Product).where(Product.provider_id == provider_id).order_by(Product.name))).scalars().all()
    versions = await versions_of(session, [p.id for p in products])
    return [product_out(p, versions[p.id], today(session)) for p in products]


async def list_values(session: AsyncSession, product_id: uuid.UUID, principal: Principal) -> list[ValueOut]:
    product = await own_product(session, principal, product_id)
    return [value_out(v) for v in (await versions_of(session, [product.id]))[product.id]]
