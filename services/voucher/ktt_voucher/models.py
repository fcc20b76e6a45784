"""Every table of the voucher service, gathered for Alembic (``migrations/env.py``) and the app.

Each sub-domain keeps its own tables in its ``models.py``; importing them here registers them on
the one metadata (one database, one migration history)."""

from __future__ import annotations

from ktt_voucher.agreements import models as _agreements  # noqa: F401
from ktt_voucher.base import INFRA, Base
from ktt_voucher.vouchers import models as _vouchers  # noqa: F401

__all__ = ["INFRA", "Base"]
