"""Every table of the attendance service, gathered for Alembic (``migrations/env.py``) and the app.

Each sub-domain keeps its own tables in its ``models.py``; importing them here registers them on
the one metadata."""

from __future__ import annotations

from ktt_attendance.agreements import models as _agreements  # noqa: F401
from ktt_attendance.alerts import models as _alerts  # noqa: F401
from ktt_attendance.base import INFRA, Base
from ktt_attendance.clients import models as _clients  # noqa: F401
from ktt_attendance.log import models as _log  # noqa: F401
from ktt_attendance.months import models as _months  # noqa: F401
from ktt_attendance.notices import models as _notices  # noqa: F401
from ktt_attendance.reports import models as _reports  # noqa: F401

__all__ = ["INFRA", "Base"]
