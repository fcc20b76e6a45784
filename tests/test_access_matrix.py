"""Access matrix (issue 13 sweep; issue 12 item 7): every route of every service, generated from its
OpenAPI document, is called with no token, a bad token, each role, and a provider and a client of
another tenant, and the answer is compared with the service's declared table (``<pkg>/policy.py``).

- every route names exactly one action, and every action of the table is some route's: a route
  missing from the table (or a stale entry) fails here;
- no token and a bad token: 401 (public actions: never 401/403);
- a role the action does not name: 403, before anything is looked up;
- a role the action names: never 401 or 403. Path parameters name another tenant (another
  provider's id, another client's id), so a provider or client reaching into someone else's data
  must get the answer of a missing resource (404), never a 403 that confirms it exists (DATA-3).

The admin role's limits (issue 13 defect 6) follow from the same tables: admin is named only by
the operating calls and the registry's provider reads (``tests/test_admin_role.py``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.routing import APIRoute

from ktt_common.admin import access_log_router, admin_router
from ktt_common.auth import Role
from ktt_common.policy import route_actions
from ktt_common.serve import SERVICE_MODULES, service_module
from ktt_common.testing import run_service, service_settings

MINE_PROVIDER = "P-MINE-1"
THEIR_PROVIDER = "P-THEIRS-2"
MINE_CLIENT = str(uuid.UUID("11111111-1111-4111-8111-111111111111"))
THEIR_CLIENT = "22222222-2222-4222-8222-222222222222"
SOME_ID = "33333333-3333-4333-8333-333333333333"

CALLERS: dict[str, dict[str, Any]] = {
    "city_official": {"role": Role.CITY_OFFICIAL},
    "social_worker": {"role": Role.SOCIAL_WORKER},
    "integrator": {"role": Role.INTEGRATOR},
    "admin": {"role": Role.ADMIN},
    "provider (another tenant's ids)": {"role": Role.PROVIDER, "provider_id": MINE_PROVIDER},
    "client (another client's ids)": {"role": Role.CLIENT, "client_id": MINE_CLIENT},
}


def policy_of(service: str) -> Any:
    pkg = service_module(service).__name__.split(".")[0]
    return __import__(f"{pkg}.policy", fromlist=["POLICY"]).POLICY


def declared_routes(service: str) -> dict[str, list[str]]:
    """``"METHOD /path"`` → the actions its dependencies name."""
    out: dict[str, list[str]] = {}
    for router in [admin_router(), access_log_router(), *service_module(service).SPEC.routers]:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for method in route.methods:
                    out[f"{method} {route.path}"] = route_actions(route)
    return out


def concrete(path: str, operation: dict[str, Any]) -> str:
    """Another tenant's ids in every path parameter, and plausible values in the rest."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        schema = next((p.get("schema", {}) for p in operation.get("parameters", []) if p["name"] == name), {})
        if name == "provider_id":
            return THEIR_PROVIDER
        if name == "client_id":
            return THEIR_CLIENT
        if schema.get("format") == "uuid":
            return SOME_ID
        if schema.get("type") == "integer":
            return "1"
        if "month" in name:
            return "2026-11"
        return "X1"
    return re.sub(r"\{([^}]+)\}", value, path)


@pytest.mark.parametrize("service", sorted(SERVICE_MODULES))
async def test_access_matrix(service, databases, nats_server, tmp_path):
    policy = policy_of(service)
    routes = declared_routes(service)
    settings = service_settings(service, database_url=await databases(service), nats_url=nats_server.url,
                                data_dir=tmp_path)
    async with run_service(service_module(service).create_app, settings) as svc:
        spec = (await svc.client.get("/openapi.json")).json()
        problems: list[str] = []
        used: set[str] = set()
        calls = 0
        for path, methods in spec["paths"].items():
            if not path.startswith("/v1/"):
                continue
            for method, operation in methods.items():
                key = f"{method.upper()} {path}"
                actions = routes.get(key)
                if actions is None or len(actions) != 1 or actions[0] not in policy.actions:
                    problems.append(f"{key}: names {actions!r}, not exactly one declared action")
                    continue
                name = actions[0]
                used.add(name)
                action = policy[name]
                if action.public != (operation.get("security") == []):
                    problems.append(f"{key}: public in the table is {action.public}, in the document "
                                    f"security={operation.get('security')!r}")
                url = concrete(path, operation)

                async def call(headers: dict[str, str]) -> int:
                    nonlocal calls
                    calls += 1
                    r = await svc.client.request(method.upper(), url, headers=headers)
                    if r.status_code >= 500:
                        problems.append(f"{key} ({name}): {r.status_code} {r.text[:200]}")
                    if r.status_code >= 400:
                        assert r.headers["content-type"].startswith("application/problem+json"), key
                    return r.status_code

                no_token = await call({})
                bad_token = await call({"Authorization": "Bearer not-a-token"})
                if action.public:
                    if no_token in (401, 403):
                        problems.append(f"{key} ({name}) is public but answers {no_token} without a token")
                    continue
                if no_token != 401 or bad_token != 401:
                    problems.append(f"{key} ({name}): no token {no_token}, bad token {bad_token}; want 401")
                for caller, claims in CALLERS.items():
                    role = claims["role"]
                    status = await call(svc.auth(role.value, **{k: v for k, v in claims.items() if k != "role"}))
                    if not action.allows(role) and status != 403:
                        problems.append(f"{key} ({name}): {caller} got {status}; the table refuses it (403)")
                    if action.allows(role) and status in (401, 403):
                        problems.append(f"{key} ({name}): {caller} got {status}; the table lets it in "
                                        "(another tenant's resource is a 404, DATA-3)")
        stale = sorted(set(policy.actions) - used)
        assert not stale, f"declared actions no route names: {stale}"
        assert not problems, "\n".join(problems)
        assert calls >= 5 * len(used)


# --- the declared tables as a document -----------------------------------------------------------

ACCESS_DOC = __import__("pathlib").Path(__file__).resolve().parent.parent / "docs" / "access.md"
ROLE_COLUMNS = [Role.CITY_OFFICIAL, Role.SOCIAL_WORKER, Role.INTEGRATOR, Role.PROVIDER, Role.CLIENT, Role.ADMIN]


def render_access_doc() -> str:
    """docs/access.md: every route of every service with its action and who may call it."""
    lines = ["# Who may do what", "",
             "Generated from each service's declared table (`<pkg>/policy.py`) by",
             "`.venv/bin/python tests/test_access_matrix.py --write`; `tests/test_access_matrix.py` calls every",
             "route with every role and fails when the answer differs, and fails when this file is stale.",
             "A provider (✓ own) sees and changes only its own provider's rows, a client only its own; another",
             "tenant's resource answers 404 like a missing one (DATA-3). `public`: no login (the voucher link's",
             "token is the credential). The `/v1/admin/*` calls are admin only in every service.", ""]
    for service in sorted(SERVICE_MODULES):
        policy = policy_of(service)
        lines += [f"## {service}", "", "| route | action | " + " | ".join(r.value for r in ROLE_COLUMNS) + " |",
                  "|---|---|" + "---|" * len(ROLE_COLUMNS)]
        for key, actions in sorted(declared_routes(service).items(), key=lambda kv: (kv[0].split(" ")[1], kv[0])):
            if key.split(" ")[1].startswith("/v1/admin/") or len(actions) != 1:
                continue
            action = policy[actions[0]]
            if action.public:
                cells = ["public"] + [""] * (len(ROLE_COLUMNS) - 1)
            else:
                cells = [("✓ own" if r in (Role.PROVIDER, Role.CLIENT) else "✓") if r in action.roles else ""
                         for r in ROLE_COLUMNS]
            lines.append(f"| `{key}` | `{actions[0]}` | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def test_docs_access_table_is_current():
    assert ACCESS_DOC.read_text(encoding="utf-8") == render_access_doc(), \
        "docs/access.md is stale: run .venv/bin/python tests/test_access_matrix.py --write"


if __name__ == "__main__":
    import sys

    if "--write" in sys.argv:
        ACCESS_DOC.write_text(render_access_doc(), encoding="utf-8")
        print(f"wrote {ACCESS_DOC}")
