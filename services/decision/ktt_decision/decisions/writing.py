"""The statements that write a new decision (issue 15), built once per dialect and bound by name.

A new decision is its ``decision`` row and its first ``decision_version`` row. On PostgreSQL both are one
statement (data-modifying CTEs); for a push whose client is new too, the client's upsert and data key join
them (:func:`with_new_client`), so that a new client's first decision is written in one round trip."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.db import dialect_name, insert_for, insert_for_dialect, statement_for

from ktt_decision.clients.service import client_upsert_ctes
from ktt_decision.decisions.models import Decision, DecisionVersion
from ktt_decision.sealing import SEALED_AT_WRITE

_INSERTS: dict[str, tuple[Any, Any]] = {}  # per dialect: the statements of insert_decision, built once


def _tables() -> tuple[Table, Table]:
    return cast("Table", Decision.__table__), cast("Table", DecisionVersion.__table__)


def _version_after(made: Any) -> Any:
    """The version's insert from what the decision's insert (the CTE ``made``) returned, bound as ``v_*``."""
    _, v = _tables()
    version = [c for c in v.columns if c.name != "decision_id"]
    return insert(v).from_select(["decision_id", *(c.name for c in version)], select(
        made.c.id, *(bindparam(f"v_{c.name}", type_=c.type) for c in version))).returning(v.c.decision_id)


def _decision_inserts(session: AsyncSession) -> tuple[Any, Any]:
    """(decision + version, None) on PostgreSQL, (decision, version) on SQLite; bound by ``d_``/``v_`` names
    (building ``.values()`` of 24 columns anew cost more than executing them)."""
    name = dialect_name(session)
    if name not in _INSERTS:
        d, v = _tables()
        made = (insert_for(session, d).values({c.name: bindparam(f"d_{c.name}", type_=c.type) for c in d.columns})
                .on_conflict_do_nothing(index_elements=["source_system", "source_id"]).returning(d.c.id))
        if name == "postgresql":  # the version inserted from what the decision's insert returned
            cte = made.cte("decision_insert")
            _INSERTS[name] = (_version_after(cte).add_cte(cte).execution_options(**SEALED_AT_WRITE), None)
        else:
            _INSERTS[name] = (made.execution_options(**SEALED_AT_WRITE), insert(v).values(
                {c.name: bindparam(f"v_{c.name}", type_=c.type) for c in v.columns}).execution_options(**SEALED_AT_WRITE))
    return _INSERTS[name]


def bound(decision: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    """The parameters of the statements here: the decision's columns as ``d_*``, its version's as ``v_*``."""
    return {f"d_{k}": value for k, value in decision.items()} | {f"v_{k}": value for k, value in version.items()}


async def insert_decision(session: AsyncSession, decision: dict[str, Any], version: dict[str, Any]) -> bool:
    """Insert a new ``decision`` and its first ``version`` (sealed by the caller); False, and nothing written,
    when one with its (source_system, source_id) exists. PostgreSQL: one statement; SQLite: two."""
    first, second = _decision_inserts(session)
    if second is None:
        return (await session.execute(first, bound(decision, version))).first() is not None
    if (await session.execute(first, {f"d_{k}": value for k, value in decision.items()})).first() is None:
        return False
    await session.execute(second, {f"v_{k}": value for k, value in version.items()})
    return True


def with_new_client() -> Any:
    """PostgreSQL: the client's upsert (:func:`ktt_decision.clients.service.client_upsert_ctes`) and, when it
    made the client (its id is the ``key_client_id`` bound for the new client's key), the decision and its first
    version (``d_*``, ``v_*``, the decision's ``client_id`` taken from the upsert). Selects the client's id and
    the decision's id: NULL for a known client (nothing of the decision written: the caller checks DEC-4 against
    the client's other decisions first) and when a concurrent push made this decision (ON CONFLICT DO NOTHING)."""
    d, _ = _tables()

    def build() -> Any:
        upsert, key_insert = client_upsert_ctes()
        columns = [c for c in d.columns if c.name != "client_id"]
        made = (insert_for_dialect("postgresql", d).from_select(
            [*(c.name for c in columns), "client_id"],
            select(*(bindparam(f"d_{c.name}", type_=c.type) for c in columns), upsert.c.id)
            .where(upsert.c.id == bindparam("key_client_id", type_=d.c.client_id.type)))
            .on_conflict_do_nothing(index_elements=["source_system", "source_id"]).returning(d.c.id)
            .cte("decision_insert"))
        version = _version_after(made).cte("version_insert")
        return (select(upsert.c.id, select(version.c.decision_id).scalar_subquery())
                .add_cte(key_insert, made, version).execution_options(**SEALED_AT_WRITE))

    return statement_for(d, "with_new_client", build)
