"""Who reads billing data: officials, integrators, and a provider for its own settlements only (DATA-3).
The scope is applied in the query, so a list is filtered in the database."""

from __future__ import annotations

from typing import Any

from ktt_common.auth import Principal, Role
from ktt_common.errors import Forbidden

# Who may read: ktt_billing.policy (not admin: settlement lines name clients, DATA-3, issue 13).


def provider_scope(q: Any, column: Any, principal: Principal, requested: str | None) -> Any:
    if principal.role is Role.PROVIDER:
        if requested and requested != principal.provider_id:
            raise Forbidden("a provider sees only its own settlements (DATA-3): leave provider_id out or use your own",
                            rule="DATA-3")
        return q.where(column == principal.provider_id)
    return q.where(column == requested) if requested else q
