"""Append-only, tamper-evident audit log of reads and writes of client data (issue 13).

Every row carries its place in the chain (``chain_seq``), the hash of the row before it
(``prev_hash``) and its own hash: sha256 over a canonical JSON encoding of the row's fields and
``prev_hash`` (:func:`chain_hash`). Changing a field, deleting a row or cutting the tail of the
chain (the one-row ``audit_head`` remembers the last hash) is found by :func:`verify_chain`,
``python -m ktt_common.audit verify`` and ``GET /v1/admin/audit/verify``.

Concurrency: :func:`audit` queues the rows on the session; they are chained and written when the
session commits (a ``before_commit`` hook), after locking the head row (``SELECT ... FOR UPDATE``
on PostgreSQL; on SQLite the transaction already holds the database's single write lock from
``BEGIN IMMEDIATE``). The lock is held only for the commit itself, so appends are serialised per
service without holding the head through a request, and a transaction that has the head never
waits for another lock, so no deadlock cycle can run through it. A rolled-back transaction writes
no audit rows and takes no place in the chain.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, Text, bindparam, cast, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ktt_common.auth import Principal
from ktt_common.db import KttSession, statement_for
from ktt_common.infra import InfraTables
from ktt_common.outbox import OUTBOX_AT_COMMIT, runtime_of
from ktt_common.request_context import correlation_id_var

GENESIS = "0" * 64
CHAIN = "audit"
_PENDING = "ktt_audit_pending"
# The fields a row's hash covers (the database's own id is not among them: the chain is ordered by chain_seq).
HASHED_FIELDS = ("chain_seq", "at", "actor", "role", "provider_id", "action", "target_type", "target_id",
                 "client_ids", "correlation_id", "details", "prev_hash")


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash is taken over: its fields as sorted, compact, ASCII JSON, the time
    in UTC with microseconds (what both databases keep)."""
    doc: dict[str, Any] = {k: row.get(k) for k in HASHED_FIELDS}
    at = doc["at"]
    if isinstance(at, dt.datetime):
        doc["at"] = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    doc["chain_seq"] = int(doc["chain_seq"])
    doc["client_ids"] = [str(c) for c in (doc["client_ids"] or [])]
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def chain_hash(row: Mapping[Any, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def _actor(actor: Principal | str) -> tuple[str, str, str | None]:
    if isinstance(actor, Principal):
        return actor.subject, actor.role.value, actor.provider_id
    return actor, "system", None


def _queue(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    infra = runtime_of(session).infra
    pending = session.info.setdefault(_PENDING, (infra, []))
    pending[1].extend(rows)


async def audit(
    session: AsyncSession,
    actor: Principal | str,
    action: str,
    target_type: str,
    target_id: Any = None,
    *,
    client_ids: Iterable[Any] = (),
    details: dict[str, Any] | None = None,
) -> None:
    """Record who did what to which entity and which clients it touched (never a hetu); the row is
    chained and written when the session commits."""
    who, role, provider_id = _actor(actor)
    _queue(session, [{
        "at": dt.datetime.now(dt.UTC), "actor": who, "role": role, "provider_id": provider_id, "action": action,
        "target_type": target_type, "target_id": None if target_id is None else str(target_id),
        "client_ids": [str(c) for c in client_ids], "correlation_id": correlation_id_var.get(), "details": details,
    }])


async def audit_many(
    session: AsyncSession,
    actor: Principal | str,
    action: str,
    target_type: str,
    entries: Iterable[tuple[Any, Iterable[Any], dict[str, Any] | None]],
) -> None:
    """One audit row per (target id, client ids, details), written in one statement at commit: a job
    that creates hundreds of entities records each of them without a round trip apiece."""
    who, role, provider_id = _actor(actor)
    at, correlation_id = dt.datetime.now(dt.UTC), correlation_id_var.get()
    _queue(session, [{"at": at, "actor": who, "role": role, "provider_id": provider_id, "action": action,
                          "target_type": target_type, "target_id": None if target_id is None else str(target_id),
                          "client_ids": [str(c) for c in client_ids], "correlation_id": correlation_id, "details": details}
                     for target_id, client_ids, details in entries])


def _head_query(infra: InfraTables) -> Any:
    head = infra.audit_head
    return statement_for(head, "lock", lambda: select(head.c.last_seq, head.c.last_hash)
                         .where(head.c.name == CHAIN).with_for_update())


def _head_update(infra: InfraTables) -> Any:
    """The head's update, bound as ``head_seq``/``head_hash``."""
    head = infra.audit_head
    return statement_for(head, "update", lambda: update(head).where(head.c.name == CHAIN).values(
        last_seq=bindparam("head_seq", type_=head.c.last_seq.type),
        last_hash=bindparam("head_hash", type_=head.c.last_hash.type)))


def _lock_head(conn: Any, infra: InfraTables) -> tuple[int, str]:
    head = infra.audit_head
    row = conn.execute(_head_query(infra)).first()
    if row is None:  # a database made without the migration that seeds the head
        from sqlalchemy.dialects import postgresql, sqlite

        ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(head)
        conn.execute(ins.values(name=CHAIN, last_seq=0, last_hash=GENESIS).on_conflict_do_nothing())
        row = conn.execute(_head_query(infra)).first()
    return int(row.last_seq), str(row.last_hash)


def _bound(table: Table, prefix: str, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: bindparam(prefix + key, type_=table.c[key].type) for key in keys}


def _append_one(infra: InfraTables, audit_keys: tuple[str, ...], outbox: Table | None,
                outbox_keys: tuple[str, ...]) -> Any:
    """PostgreSQL's one statement for one audit row, the head's update and (with ``outbox``) one outbox row,
    built once per shape and bound as ``audit_*``, ``head_*`` and ``outbox_*`` (issue 15: building it per
    commit, ``.values()`` of some twenty values and two CTEs, cost more than executing it)."""
    def build() -> Any:
        ctes = [_head_update(infra).cte("ktt_audit_head")]
        if outbox is not None:
            ctes.append(insert(outbox).values(_bound(outbox, "outbox_", outbox_keys)).cte("ktt_outbox"))
        return insert(infra.audit_log).values(_bound(infra.audit_log, "audit_", audit_keys)).add_cte(*ctes)

    return statement_for(infra.audit_log, ("append_one", audit_keys, outbox, outbox_keys), build)


def append_rows(conn: Any, infra: InfraTables, rows: list[dict[str, Any]],
                outbox: tuple[Table, list[dict[str, Any]]] | None = None) -> None:
    """Chain ``rows`` onto the head and write them (synchronous connection, inside its transaction), with
    the ``outbox`` rows queued by :func:`ktt_common.outbox.emit_at_commit`. On PostgreSQL one audit row,
    the head's update and one outbox row are one statement (data-modifying CTEs): with the head's lock,
    two round trips at commit instead of three or four. More rows are written as before, an executemany
    each (a multi-row VALUES is not cached by SQLAlchemy: it would be compiled anew every time). Every
    statement is built once and executed with parameters (:func:`ktt_common.db.statement_for`)."""
    table, pending = outbox if outbox else (None, [])
    if rows:
        seq, prev = _lock_head(conn, infra)
        for row in rows:
            seq += 1
            row["chain_seq"], row["prev_hash"] = seq, prev
            prev = row["row_hash"] = chain_hash(row)
        head = {"head_seq": seq, "head_hash": prev}
        if conn.dialect.name == "postgresql" and len(rows) == 1:
            params = {"audit_" + key: value for key, value in rows[0].items()} | head
            with_outbox = table is not None and len(pending) == 1
            if with_outbox:
                params |= {"outbox_" + key: value for key, value in pending[0].items()}
            conn.execute(_append_one(infra, tuple(rows[0]), table if with_outbox else None,
                                     tuple(pending[0]) if with_outbox else ()), params)
            if with_outbox:
                pending = []
        else:
            conn.execute(statement_for(infra.audit_log, "insert", lambda: insert(infra.audit_log)), rows)
            conn.execute(_head_update(infra), head)
    if table is not None and pending:
        conn.execute(statement_for(table, "insert", lambda: insert(table)), pending)


@event.listens_for(KttSession, "before_commit")
def _write_pending(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint's release: the rows wait for the real commit
        return
    pending = session.info.pop(_PENDING, None)
    outbox = session.info.pop(OUTBOX_AT_COMMIT, None)
    if (pending and pending[1]) or outbox:
        infra: InfraTables = pending[0] if pending else session.info["runtime"].infra
        append_rows(session.connection(), infra, pending[1] if pending else [], outbox)


@event.listens_for(KttSession, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    # Only the whole transaction's rollback drops the queued rows; a savepoint rolled back inside a
    # transaction that goes on to commit keeps them (the attempt is recorded, never lost).
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_PENDING, None)
        session.info.pop(OUTBOX_AT_COMMIT, None)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows: int
    first_bad_id: int | None = None
    first_bad_seq: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "first_bad_id": self.first_bad_id,
                "first_bad_seq": self.first_bad_seq, "reason": self.reason}


async def verify_chain(session: AsyncSession, infra: InfraTables, page: int = 2000) -> ChainReport:
    """Walk the chain in order: each row's seq follows the last, its prev_hash is the last row's
    hash and its hash is that of its content; the head names the last row. The first row that
    breaks this is reported (a changed row, or the row after a deleted one)."""
    log, head = infra.audit_log, infra.audit_head
    expected_seq, prev, checked, after = 1, GENESIS, 0, 0
    while True:
        rows = (await session.execute(
            select(log).where(log.c.chain_seq > after).order_by(log.c.chain_seq).limit(page))).mappings().all()
        for row in rows:
            bad = None
            if row["chain_seq"] != expected_seq:
                bad = f"chain_seq {row['chain_seq']} where {expected_seq} was expected (a row is missing)"
            elif row["prev_hash"] != prev:
                bad = "prev_hash is not the hash of the row before (a row was removed or changed)"
            elif row["row_hash"] != chain_hash(row):
                bad = "row_hash does not match the row's content (the row was changed)"
            if bad:
                return ChainReport(False, checked, row["id"], row["chain_seq"], bad)
            checked, expected_seq, prev, after = checked + 1, expected_seq + 1, row["row_hash"], row["chain_seq"]
        if len(rows) < page:
            break
    top = (await session.execute(select(head.c.last_seq, head.c.last_hash).where(head.c.name == CHAIN))).first()
    last_seq, last_hash = (0, GENESIS) if top is None else (int(top.last_seq), top.last_hash)
    if (last_seq, last_hash) != (expected_seq - 1, prev):
        return ChainReport(False, checked, None, last_seq,
                           f"the chain head names row {last_seq} but the chain ends at {expected_seq - 1} "
                           "(rows at the end were removed, or the head was changed)")
    return ChainReport(True, checked)


async def access_log(session: AsyncSession, infra: InfraTables, client_id: Any, limit: int) -> list[dict[str, Any]]:
    """Who read or changed this client's data, newest first ("who has seen my data")."""
    log = infra.audit_log
    needle = f'%"{client_id}"%'  # client ids are canonical UUIDs stored as a JSON array of strings
    rows = (await session.execute(
        select(log.c.id, log.c.at, log.c.actor, log.c.role, log.c.provider_id, log.c.action, log.c.target_type,
               log.c.target_id, log.c.correlation_id)
        .where(cast(log.c.client_ids, Text).like(needle)).order_by(log.c.chain_seq.desc()).limit(limit)
    )).mappings().all()
    return [dict(r) for r in rows]


async def _verify_url(service: str, url: str) -> ChainReport:
    from ktt_common.db import create_engine, create_sessionmaker, new_metadata
    from ktt_common.infra import define_infra_tables

    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await verify_chain(session, define_infra_tables(new_metadata()))
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    from ktt_common.settings import SERVICE_PORTS, load_settings

    parser = argparse.ArgumentParser(prog="python -m ktt_common.audit",
                                     description="Check the audit log's hash chain of each service's database")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="exit 1 naming the first bad row if a chain is broken")
    verify.add_argument("--service", action="append", choices=sorted(SERVICE_PORTS),
                        help="a service (repeatable; default: all five), database from <SERVICE>_DATABASE_URL/DATA_DIR")
    verify.add_argument("--database-url", help="check this database instead (with one --service, or alone)")
    args = parser.parse_args(argv)
    if args.database_url:
        targets = [(args.service[0] if args.service else "database", args.database_url)]
    else:
        # Only the database URL is read here (the production guards on tokens and keys do not apply).
        targets = [(s, load_settings(s, KTT_ENV="development").database_url or "")
                   for s in (args.service or sorted(SERVICE_PORTS))]
    failed = False
    for service, url in targets:
        report = asyncio.run(_verify_url(service, url))
        if report.ok:
            print(f"{service}: ok, {report.rows} rows")
        else:
            failed = True
            print(f"{service}: BROKEN at audit_log id={report.first_bad_id} chain_seq={report.first_bad_seq}: "
                  f"{report.reason} ({report.rows} rows before it are intact)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
