"""Products (PRV-4) and their voucher values, set only by Typake (VOU-1)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_registry.policy import authorize
from ktt_registry.schemas import ProductIn, ProductOut, ProductPatch, ValueOut, ValuesIn
from ktt_registry.service import products as svc
from ktt_registry.service.common import today

router = APIRouter(prefix="/v1", tags=["products"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})



@router.post("/providers/{provider_id}/products", response_model=ProductOut, status_code=status.HTTP_201_CREATED,
             summary="Add a product (PRV-4)")
async def create_product(provider_id: str, body: ProductIn, session: SessionDep,
                         principal: Principal = authorize("products.create_product")) -> ProductOut:
    product = await svc.create_product(session, provider_id, body, principal)
    return svc.product_out(product, [], today(session))


@router.get("/providers/{provider_id}/products", response_model=list[ProductOut], summary="A provider's products with current values")
async def list_products(provider_id: str, session: SessionDep,
                        principal: Principal = authorize("products.list_products")) -> list[ProductOut]:
    return await svc.list_products(session, provider_id, principal)


@router.patch("/products/{product_id}", response_model=ProductOut, summary="Change a product's description, tasks or themes (PRV-4)")
async def patch_product(product_id: uuid.UUID, body: ProductPatch, session: SessionDep,
                        principal: Principal = authorize("products.patch_product")) -> ProductOut:
    product = await svc.patch_product(session, product_id, body, principal)
    versions = (await svc.versions_of(session, [product.id]))[product.id]
    return svc.product_out(product, versions, today(session))


@router.post("/products/{product_id}/values", response_model=ValueOut, status_code=status.HTTP_201_CREATED,
             summary="Set new voucher values from a date (city official only; a new version, never an overwrite)")
async def set_values(product_id: uuid.UUID, body: ValuesIn, session: SessionDep,
                     principal: Principal = authorize("products.set_values")) -> ValueOut:
    return svc.value_out(await svc.set_values(session, product_id, body, principal))


@router.get("/products/{product_id}/values", response_model=list[ValueOut], summary="Every version of a product's values")
async def list_values(product_id: uuid.UUID, session: SessionDep,
                      principal: Principal = authorize("products.list_values")) -> list[ValueOut]:
    return await svc.list_values(session, product_id, principal)
