"""Alerts for the city (ATT-4, ATT-5, ATT-13, AGR-9)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession


async def after_batch(session: AsyncSession, agreement_ids: Iterable[uuid.UUID]) -> None:
    """Evaluate the alert rules for the agreements a batch changed (filled in with the alerts)."""
    return None
