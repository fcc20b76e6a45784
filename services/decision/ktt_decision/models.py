"""Every table of the decision service, gathered for Alembic (``migrations/env.py``) and the app.

Each sub-domain keeps its own tables in its ``models.py``; importing them here registers them on
the one metadata (one database, one migration history)."""

from __future__ import annotations

from ktt_decision.base import INFRA, Base
from ktt_decision.clients import models as _clients  # noqa: F401
from ktt_decision.consents import models as _consents  # noqa: F401
from ktt_decision.decisions import models as _decisions  # noqa: F401
from ktt_decision.flags import models as _flags  # noqa: F401
from ktt_decision.notices import models as _notices  # noqa: F401
from ktt_decision.providers import models as _providers  # noqa: F401
from ktt_decision.representatives import models as _representatives  # noqa: F401

__all__ = ["INFRA", "Base"]
