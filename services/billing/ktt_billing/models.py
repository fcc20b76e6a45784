"""Every table of the billing service, imported once so the metadata is complete (Alembic, tests)."""

from __future__ import annotations

from ktt_billing.copies import models as _copies  # noqa: F401
from ktt_billing.db import INFRA, Base
from ktt_billing.disputes import models as _disputes  # noqa: F401
from ktt_billing.payments import models as _payments  # noqa: F401
from ktt_billing.settlements import models as _settlements  # noqa: F401

__all__ = ["INFRA", "Base"]
