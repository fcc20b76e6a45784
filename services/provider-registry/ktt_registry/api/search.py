"""Public search: no login (PRV-4)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from ktt_common.deps import SessionDep
from ktt_common.errors import Problem

from ktt_registry.policy import authorize
from ktt_registry.schemas_search import SearchHit
from ktt_registry.service.search import SearchFilters, search

router = APIRouter(prefix="/v1", tags=["search"], responses={422: {"model": Problem}})


@router.get(
    "/providers/search", response_model=list[SearchHit], summary="Search approved providers (public, no login)",
    openapi_extra={"security": []}, dependencies=[authorize("search.search_providers")],
)
async def search_providers(
    session: SessionDep,
    language: str | None = Query(None, pattern=r"^[A-Za-z]{2}$", description="A language served at the unit, e.g. sv"),
    accessible: bool | None = Query(None, description="Step-free access"),
    form: Literal["individual", "group"] | None = None,
    theme: Literal["immigrants", "young_people", "language_training", "it_skills"] | None = None,
    has_free_places: bool | None = None,
    postal_code: str | None = Query(None, pattern=r"^\d{5}$"),
    district: str | None = Query(None, max_length=100),
) -> list[SearchHit]:
    return await search(session, SearchFilters(language=language, accessible=accessible, form=form, theme=theme,
                                                has_free_places=has_free_places, postal_code=postal_code, district=district))
