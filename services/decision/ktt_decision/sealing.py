"""Names, contact data and personal free text sealed under the client's own data key (DATA-2, DATA-4;
issue 13: backups hold nothing readable once the key is destroyed).

Stored sealed (``k1:`` + Fernet token under the client's data key, ktt_common.pii): the client row's
names and contact data, the same in each decision's and version's frozen copy of the client, a
decision's extension justification and revocation reason, start notices' names, representatives'
name, contact data and relation (VOU-9), and refusal/interruption flags' reasons (DEC-9).

How, without touching each write and read path:

- **Write**: a writer that holds the client's key seals at the write itself (:func:`seal_values`; the
  decision push does, so its clear text never reaches the table or its WAL). Any other statement or
  flush that writes one of these tables with a value in clear notes the clients it touches
  (``do_orm_execute`` for core statements, ``before_flush`` for the ORM). Before the transaction
  commits (``before_commit``, after a flush), the touched clients' values still in clear are sealed by
  core UPDATEs. In-memory objects keep the clear text (sessions do not expire on commit), so the
  answer to the request is unchanged; nothing in clear is ever committed.
- **Read**: ``load``/``refresh`` hooks open the sealed values of each loaded object in place (not as a
  change). A destroyed key (retention) reads as ``erased``.
- **Existing rows**: the job ``seal-personal-data`` seals the values of every client that still has
  some in clear (idempotent; a migration cannot, it does not hold ``PII_KEY``); it runs with the daily
  jobs, and finds nothing to do once the rows from before sealing are done.

Values equal to the marker ``erased`` and values already sealed are left as they are.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, attributes

from ktt_common.db import KttSession
from ktt_common.pii import ERASED, Erased, PiiVault

from ktt_decision.clients.models import Client, ClientKey
from ktt_decision.decisions.models import Decision, DecisionVersion
from ktt_decision.flags.models import ClientFlag
from ktt_decision.notices.models import StartNotice
from ktt_decision.representatives.models import Representative

PERSON = ("first_name", "last_name", "phone", "email", "address")  # inside the JSON copies of the client
_TOUCHED = "ktt_seal_touched"
_KEYS = "ktt_seal_keys"
_RESTORE = "ktt_seal_restore"
SEALED_AT_WRITE = {"ktt_sealed_at_write": True}  # execution options of a writer's statement sealed by seal_values


@dataclass(frozen=True)
class Sealed:
    model: Any
    client: str  # the attribute naming the client (``id`` for the client row itself)
    texts: tuple[str, ...] = ()
    json: tuple[str, ...] = ()  # JSON columns holding a client copy (``client_data``) or a version's content


TABLES = [
    Sealed(Client, "id", texts=PERSON),
    Sealed(Decision, "client_id", texts=("extension_justification", "revoked_reason"), json=("client_data",)),
    Sealed(DecisionVersion, "decision_id", json=("content",)),
    Sealed(StartNotice, "client_id", texts=("first_name", "last_name")),
    Sealed(Representative, "client_id", texts=("name", "phone", "email", "relation")),
    Sealed(ClientFlag, "client_id", texts=("reason",)),
]
BY_TABLE = {s.model.__table__.name: s for s in TABLES}
BY_CLASS = {s.model: s for s in TABLES}


def _vault(session: Session) -> PiiVault | None:
    rt = session.info.get("runtime")
    if rt is None or getattr(rt.settings, "service", None) != "decision":
        return None
    from ktt_decision.clients.service import vault_of

    return vault_of(cast(AsyncSession, session))  # it reads only session.info, which both kinds share


NAME_KEY = "h1:"


def representative_name_key(session: AsyncSession | Session, name: str) -> str:
    """The natural key of a representative's name (VOU-9: case and spacing aside), as a keyed hash, so
    the name is not kept in clear beside its sealed copy."""
    from ktt_decision.clients.service import vault_of
    from ktt_decision.representatives import rules

    return NAME_KEY + vault_of(cast(AsyncSession, session)).lookup_hash("representative:" + rules.name_key(name))


def _clear(value: Any) -> bool:
    return isinstance(value, str) and value != ERASED and not PiiVault.is_sealed(value)


# --- sealing and opening one value, one JSON copy ----------------------------------------------------

def _seal_json(vault: PiiVault, wrapped: str, column: str, data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    def seal_person(copy: Any) -> Any:
        if not isinstance(copy, dict):
            return copy
        return {k: vault.seal(v, wrapped) if k in PERSON and _clear(v) else v for k, v in copy.items()}
    if column == "client_data":
        return seal_person(data)
    out = dict(data)  # a version's content: the client copy, the justifications
    out["client"] = seal_person(out.get("client"))
    if _clear(out.get("extension_justification")):
        out["extension_justification"] = vault.seal(out["extension_justification"], wrapped)
    return out


def seal_values(vault: PiiVault, wrapped: str, model: Any, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` of a row of ``model`` with its personal columns sealed under the client's key ``wrapped``:
    for writers that hold the key, so that the clear text never reaches the table (nor its WAL)."""
    spec = BY_CLASS[model]
    out = dict(values)
    for name in spec.texts:
        if _clear(out.get(name)):
            out[name] = vault.seal(out[name], wrapped)
    for name in spec.json:
        if name in out:
            out[name] = _seal_json(vault, wrapped, name, out[name])
    return out


def _holds_clear(spec: Sealed, params: dict[str, Any]) -> bool:
    """Does a write's parameters hold a personal value in clear (else it needs no sealing before commit)?"""
    if any(_clear(params.get(name)) for name in spec.texts):
        return True
    for name in spec.json:
        data = params.get(name)
        if isinstance(data, dict):
            copy = data if name == "client_data" else data.get("client")
            if isinstance(copy, dict) and any(_clear(copy.get(k)) for k in PERSON):
                return True
            if name != "client_data" and _clear(data.get("extension_justification")):
                return True
    return False


def _open(vault: PiiVault, wrapped: str | None, value: Any) -> Any:
    if not (isinstance(value, str) and PiiVault.is_sealed(value)):
        return value
    try:
        return vault.open(value, wrapped)
    except Erased:
        return ERASED


def _open_json(vault: PiiVault, wrapped: str | None, column: str, data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    def open_person(copy: Any) -> Any:
        if not isinstance(copy, dict):
            return copy
        return {k: _open(vault, wrapped, v) if k in PERSON else v for k, v in copy.items()}
    if column == "client_data":
        return open_person(data)
    out = dict(data)
    out["client"] = open_person(out.get("client"))
    if "extension_justification" in data:
        out["extension_justification"] = _open(vault, wrapped, data["extension_justification"])
    return out


def _needs_open(spec: Sealed, obj: Any) -> bool:
    state = attributes.instance_state(obj)
    for name in spec.texts + spec.json:
        if name in state.dict:
            value = state.dict[name]
            if isinstance(value, str) and PiiVault.is_sealed(value):
                return True
            if isinstance(value, dict) and "k1:" in repr(value):
                return True
    return False


# --- keys -------------------------------------------------------------------------------------------

def _client_of(session: Session, spec: Sealed, obj: Any) -> uuid.UUID | None:
    value = attributes.instance_state(obj).dict.get(spec.client)
    if spec.model is DecisionVersion and value is not None:
        return session.connection().execute(select(Decision.client_id).where(Decision.id == value)).scalar_one_or_none()
    return value


def _wrapped_key(session: Session, client_id: uuid.UUID) -> str | None:
    cache: dict[uuid.UUID, str | None] = session.info.setdefault(_KEYS, {})
    if client_id not in cache:
        cache[client_id] = session.connection().execute(
            select(ClientKey.wrapped_key).where(ClientKey.client_id == client_id)).scalar_one_or_none()
    return cache[client_id]


# --- read: open what is loaded ------------------------------------------------------------------------

def _on_load(obj: Any, context: Any, *_: Any) -> None:
    spec = BY_CLASS.get(type(obj))
    session = getattr(context, "session", None)
    if spec is None or session is None or not _needs_open(spec, obj):
        return
    vault = _vault(session)
    if vault is None:
        return
    client_id = _client_of(session, spec, obj)
    wrapped = None if client_id is None else _wrapped_key(session, client_id)
    state = attributes.instance_state(obj)
    loaded = {name: state.dict[name] for name in spec.texts + spec.json if name in state.dict}
    for name, value in open_values(vault, wrapped, spec.model, loaded).items():
        attributes.set_committed_value(obj, name, value)


def open_values(vault: PiiVault, wrapped: str | None, model: Any, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` of a row of ``model`` with its sealed personal columns opened (``erased`` without a key)."""
    spec = BY_CLASS[model]
    return {name: _open(vault, wrapped, value) if name in spec.texts
            else _open_json(vault, wrapped, name, value) if name in spec.json else value
            for name, value in values.items()}


for _spec in TABLES:
    event.listen(_spec.model, "load", _on_load)
    event.listen(_spec.model, "refresh", _on_load)


# --- write: note the touched clients, seal them before commit ---------------------------------------------

def _touch(session: Session, kind: str, value: Any) -> None:
    if value is not None:
        session.info.setdefault(_TOUCHED, set()).add((kind, value if not isinstance(value, str) or kind == "lookup"
                                                      else uuid.UUID(value)))


def _note_params(session: Session, table: str, params: dict[str, Any]) -> None:
    if not _holds_clear(BY_TABLE[table], params):
        return  # sealed at the write (seal_values), or no personal column written
    if table == "client":
        _touch(session, "client", params.get("id"))
        _touch(session, "lookup", params.get("hetu_lookup"))
    elif table == "decision_version":
        _touch(session, "decision", params.get("decision_id"))
    elif table == "decision":
        _touch(session, "client", params.get("client_id"))
        _touch(session, "decision", params.get("id"))
    else:
        _touch(session, "client", params.get("client_id"))


@event.listens_for(KttSession, "do_orm_execute")
def _on_execute(state: Any) -> None:
    if not (state.is_insert or state.is_update) or state.execution_options.get("ktt_sealed_at_write"):
        return  # a statement whose writer sealed its values (seal_values) needs no compiling to be read
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if not isinstance(table, str) or table not in BY_TABLE or _vault(state.session) is None:
        return
    try:
        compiled = state.statement.compile(dialect=state.session.get_bind().dialect).params
    except Exception:  # noqa: BLE001 - a statement we cannot read: fall back to sealing every touched table
        compiled = {}
    _note_params(state.session, table, compiled)
    params = state.parameters
    for p in (params if isinstance(params, list) else [params] if isinstance(params, dict) else []):
        _note_params(state.session, table, p)


def _pending_key(session: Session, client_id: uuid.UUID) -> str | None:
    """The client's wrapped key: one added in this session and not flushed yet, else the stored one."""
    for obj in session.new:
        if isinstance(obj, ClientKey) and obj.client_id == client_id:
            return obj.wrapped_key
    return _wrapped_key(session, client_id)


def _seal_in_flush(session: Session, vault: PiiVault, spec: Sealed, obj: Any, new: bool) -> bool:
    """Seal the personal values this flush writes of ``obj`` (new, or changed) under its client's key, and
    remember the clear ones to put back in memory after the flush; False when no key is known yet."""
    client_id = _client_of(session, spec, obj)
    wrapped = None if client_id is None else _pending_key(session, client_id)
    if wrapped is None:
        return False
    state = attributes.instance_state(obj)
    restore = session.info.setdefault(_RESTORE, [])
    for name in spec.texts + spec.json:
        if name not in state.dict or not (new or state.attrs[name].history.has_changes()):
            continue
        value = state.dict[name]
        sealed = (vault.seal(value, wrapped) if _clear(value) else value) if name in spec.texts \
            else _seal_json(vault, wrapped, name, value)
        if sealed != value:
            setattr(obj, name, sealed)
            restore.append((obj, name, value))
    return True


@event.listens_for(KttSession, "before_flush")
def _on_flush(session: Session, *_: Any) -> None:
    """ORM writes are sealed at the flush when the client's key is known; the rest is noted for the commit."""
    vault = _vault(session)
    if vault is None:
        return
    new = set(session.new)
    for obj in list(new) + list(session.dirty):
        spec = BY_CLASS.get(type(obj))
        if spec is not None and not _seal_in_flush(session, vault, spec, obj, obj in new):
            value = attributes.instance_state(obj).dict.get(spec.client)
            _touch(session, "decision" if spec.model is DecisionVersion else "client", value)


@event.listens_for(KttSession, "after_flush_postexec")
def _reopen_after_flush(session: Session, _context: Any) -> None:
    """What a flush sealed reads in clear again in memory (the request's answer is unchanged)."""
    for obj, name, value in session.info.pop(_RESTORE, []):
        attributes.set_committed_value(obj, name, value)


def _resolve(session: Session, touched: set[tuple[str, Any]]) -> set[uuid.UUID]:
    conn = session.connection()
    clients = {v for k, v in touched if k == "client"}
    lookups = [v for k, v in touched if k == "lookup"]
    decisions = [v for k, v in touched if k == "decision"]
    if lookups:
        clients |= set(conn.execute(select(Client.id).where(Client.hetu_lookup.in_(lookups))).scalars())
    if decisions:
        clients |= set(conn.execute(select(Decision.client_id).where(Decision.id.in_(decisions))).scalars())
    if not clients:
        return set()
    # Only clients that exist: an upsert names the id it would have given a new client.
    return set(conn.execute(select(Client.id).where(Client.id.in_(clients))).scalars())


def seal_clients(session: Session, vault: PiiVault, client_ids: set[uuid.UUID] | list[uuid.UUID]) -> int:
    """Seal every value of these clients still in clear; returns how many rows were rewritten."""
    conn = session.connection()
    rewritten = 0
    for client_id in sorted(client_ids):
        wrapped = conn.execute(select(ClientKey.wrapped_key).where(ClientKey.client_id == client_id)).first()
        if wrapped is None:  # a client from before data keys: give them one (their hetu is re-sealed on the next push)
            key = vault.new_data_key()
            conn.execute(insert(ClientKey).values(client_id=client_id, wrapped_key=key,
                                                             created_at=dt.datetime.now(dt.UTC)))
        elif wrapped[0] is None:
            continue  # erased: the retention job overwrote the values
        else:
            key = wrapped[0]
        decision_ids = list(conn.execute(select(Decision.id).where(Decision.client_id == client_id)).scalars())
        for spec in TABLES:
            table = spec.model.__table__
            pk = list(table.primary_key.columns)
            if spec.model is DecisionVersion:
                if not decision_ids:
                    continue
                where = table.c.decision_id.in_(decision_ids)
            else:
                where = table.c[spec.client] == client_id
            cols = [table.c[n] for n in spec.texts + spec.json]
            for row in conn.execute(select(*pk, *cols).where(where)).mappings():
                values: dict[str, Any] = {}
                for n in spec.texts:
                    if _clear(row[n]):
                        values[n] = vault.seal(row[n], key)
                for n in spec.json:
                    sealed = _seal_json(vault, key, n, row[n])
                    if sealed != row[n]:
                        values[n] = sealed
                if spec.model is Representative:
                    name_key = conn.execute(select(table.c.name_key).where(table.c.id == row["id"])).scalar_one()
                    if not name_key.startswith((NAME_KEY, "erased:")):  # a key from before: hashed like the new ones
                        values["name_key"] = NAME_KEY + vault.lookup_hash("representative:" + name_key)
                if values:
                    conn.execute(update(table).where(*(c == row[c.name] for c in pk)).values(**values))
                    rewritten += 1
    return rewritten


@event.listens_for(KttSession, "before_commit")
def _seal_before_commit(session: Session) -> None:
    if session.in_nested_transaction() or not session.info.get(_TOUCHED):
        return
    vault = _vault(session)
    if vault is None:
        return
    session.flush()  # the ORM's pending writes first, so that nothing in clear is flushed after the sealing
    touched = session.info.pop(_TOUCHED, set())
    seal_clients(session, vault, _resolve(session, touched))
    session.info.pop(_KEYS, None)


@event.listens_for(KttSession, "after_soft_rollback")
def _forget(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_TOUCHED, None)
        session.info.pop(_KEYS, None)
        session.info.pop(_RESTORE, None)
