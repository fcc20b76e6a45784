"""Access control in one place per service (issue 12 item 7, DATA-3).

Each service declares its actions in one module (``<pkg>/policy.py``): an action name, the roles
that may do it, and whether it is public (no login: the provider search, the voucher link whose
token is the credential). Every endpoint names exactly one action with ``POLICY.authorize(name)``;
the access-matrix sweep (``tests/test_access_matrix.py``) reads the table and every service's
OpenAPI document and calls every route with every kind of caller.

Rows are scoped by role, not by action: a provider principal sees its own provider's rows and a
client principal its own rows. :func:`scope_rows` adds that filter to a query, so a list is
filtered in the database; a single resource of another tenant is a 404 with the same body as a
missing one (:func:`not_found_unless_own`), never a 403 that confirms it exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends
from sqlalchemy import Select, Uuid
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.auth import OFFICIALS, Principal, Role, current_principal
from ktt_common.errors import Forbidden, NotFound

ALL_ROLES = frozenset(Role)
RowT = TypeVar("RowT")


@dataclass(frozen=True)
class Action:
    """Who may do one thing: ``roles`` (empty and ``public`` for calls without a login)."""

    roles: frozenset[Role]
    public: bool = False

    def allows(self, role: Role) -> bool:
        return self.public or role in self.roles


def allow(*roles: Role | tuple[Role, ...]) -> Action:
    flat: set[Role] = set()
    for r in roles:
        flat.update(r if isinstance(r, tuple) else (r,))
    if not flat:
        raise ValueError("an action names at least one role (or use public())")
    return Action(frozenset(flat))


def public() -> Action:
    return Action(frozenset(), public=True)


# The platform's operating calls (``/v1/admin/*``), the same in every service: admin only.
ADMIN_ACTIONS: dict[str, Action] = {
    "admin.jobs.list": allow(Role.ADMIN),
    "admin.jobs.run": allow(Role.ADMIN),
    "admin.clock.read": allow(Role.ADMIN),
    "admin.clock.set": allow(Role.ADMIN),
    "admin.dead_letters.list": allow(Role.ADMIN),
    "admin.dead_letters.replay": allow(Role.ADMIN),
    "admin.outbox.read": allow(Role.ADMIN),
    "admin.outbox.retry": allow(Role.ADMIN),
    "admin.audit.verify": allow(Role.ADMIN),
    # Every service's "who has seen this client's data" (DATA-3): the city's officials.
    "client.access_log.read": allow(OFFICIALS),
}


class Policy:
    """A service's declared table of who may do what."""

    def __init__(self, service: str, actions: Mapping[str, Action], *, with_admin: bool = True) -> None:
        overlap = set(actions) & set(ADMIN_ACTIONS)
        if overlap:
            raise ValueError(f"actions declared twice: {sorted(overlap)}")
        self.service = service
        self.actions: dict[str, Action] = {**actions, **(ADMIN_ACTIONS if with_admin else {})}

    def __getitem__(self, name: str) -> Action:
        return self.actions[name]

    def authorize(self, name: str) -> Any:
        """Dependency for one endpoint: the caller may do ``name``; returns the :class:`Principal`
        (``None`` for a public action). Refusal: 401 without a valid token, 403 for a role the
        action does not name."""
        return Depends(authorizer(name, self.actions[name]))


ACTION_ATTRIBUTE = "__ktt_action__"
_admin_policy = Policy("admin", {}, with_admin=True)


def authorizer(name: str, action: Action) -> Any:
    if action.public:
        async def _public() -> None:
            return None
        fn: Any = _public
    else:
        allowed = action.roles

        async def _check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
            if principal.role not in allowed:
                raise Forbidden(f"role '{principal.role.value}' may not do this ({name}); "
                                f"allowed: {', '.join(sorted(r.value for r in allowed))}")
            return principal
        fn = _check
    fn.__name__ = "authorize_" + name.replace(".", "_").replace("-", "_")
    setattr(fn, ACTION_ATTRIBUTE, name)
    return fn


def admin_authorize(name: str) -> Any:
    """The admin router's actions (declared in :data:`ADMIN_ACTIONS`)."""
    return _admin_policy.authorize(name)


def route_actions(route: Any) -> list[str]:
    """Every action named in a FastAPI route's dependency tree (the sweep wants exactly one)."""
    found: list[str] = []
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        name = getattr(dep.call, ACTION_ATTRIBUTE, None)
        if name:
            found.append(name)
        stack.extend(dep.dependencies)
    return found


# --- row scoping ---------------------------------------------------------------------------------

def scope_rows(query: Any, principal: Principal | None, *, provider_column: Any = None,
               client_column: Any = None) -> Any:
    """Add the tenant filter for the caller (DATA-3): ``provider_column = :provider_id`` for a
    provider, ``client_column = :client_id`` for a client; officials and integrators unfiltered.
    A role the query has no column for sees nothing (fail closed)."""
    if principal is None:
        return query
    if principal.role is Role.PROVIDER:
        return query.where(provider_column == principal.provider_id) if provider_column is not None \
            else query.where(False)
    if principal.role is Role.CLIENT:
        if client_column is None:
            return query.where(False)
        client_id = principal.client_id
        return query.where(client_column == (uuid.UUID(client_id) if isinstance(client_column.type, Uuid) else client_id))
    return query


async def one_scoped(session: AsyncSession, query: Select[RowT], principal: Principal | None, *, detail: str,
                     provider_column: Any = None, client_column: Any = None, rule: str | None = None) -> RowT:
    """The one row ``query`` selects, scoped to the caller in the same query (:func:`scope_rows`): another
    tenant's row is not found by the database, so it is answered exactly as a missing one, a 404 with
    ``detail`` (DATA-3, issue 12 item 7), never a 403 and never a check after loading. ``query`` may join
    the table that carries the tenant column (e.g. a group through its unit)."""
    scoped = scope_rows(query, principal, provider_column=provider_column, client_column=client_column)
    row: RowT | None = (await session.execute(scoped)).scalar_one_or_none()
    if row is None:
        raise NotFound(detail, rule=rule)
    return row


def owns(principal: Principal | None, *, provider_id: str | None = None, client_id: Any = None) -> bool:
    """Whether a provider or client principal owns a row (others: always)."""
    if principal is None:
        return True
    if principal.role is Role.PROVIDER:
        return provider_id is not None and provider_id == principal.provider_id
    if principal.role is Role.CLIENT:
        return client_id is not None and str(client_id) == principal.client_id
    return True


def not_found_unless_own(principal: Principal | None, detail: str, *, provider_id: str | None = None,
                         client_id: Any = None, rule: str | None = "DATA-3") -> None:
    """Another tenant's resource is answered exactly as a missing one (404), never 403 (DATA-3)."""
    if not owns(principal, provider_id=provider_id, client_id=client_id):
        raise NotFound(detail, rule=rule)


def described(policy: Policy) -> Iterable[tuple[str, str]]:
    """(action, roles) rows for documentation."""
    for name, action in sorted(policy.actions.items()):
        yield name, "public" if action.public else ", ".join(sorted(r.value for r in action.roles))


__all__ = ["ADMIN_ACTIONS", "ALL_ROLES", "OFFICIALS", "Action", "Policy", "admin_authorize", "allow", "not_found_unless_own",
           "one_scoped", "owns", "public", "route_actions", "scope_rows"]
