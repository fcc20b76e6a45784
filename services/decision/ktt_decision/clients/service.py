"""Clients: the pseudonymous id <-> hetu mapping, the hetu sealed under the client's own data key
(DATA-4, DATA-2 crypto-shredding), and the client lookup."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, cast

from cryptography.fernet import Fernet
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.db import dialect_name, insert_for_dialect, statement_for
from ktt_common.errors import FieldError, InvalidInput, NotFound
from ktt_common.identifiers import IdentifierError, validate_hetu
from ktt_common.outbox import runtime_of
from ktt_common.pii import ERASED, Erased, PiiVault
from ktt_common.runtime import Runtime

from ktt_decision.clients.models import Client, ClientKey
from ktt_decision.decisions.schemas import DecisionIn
from ktt_decision.sealing import SEALED_AT_WRITE, seal_values


def vault_of(session: AsyncSession) -> PiiVault:
    return vault_for(runtime_of(session))


def vault_for(rt: Runtime) -> PiiVault:
    vault = getattr(rt, "pii_vault", None)
    if vault is None:
        vault = rt.pii_vault = KeyCachingVault(rt.settings.pii_key.get_secret_value())  # type: ignore[attr-defined]
    return vault


class KeyCachingVault(PiiVault):
    """A :class:`PiiVault` that unwraps a client's data key once for the many values sealed or opened
    under it (a push seals about sixteen; issue 15), keeping the last ``SIZE`` keys. An entry is found
    only by the wrapped key, which retention destroys in the database, so erasure holds; the master key
    that unwraps them all is in this process anyway."""

    SIZE = 256

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self._unwrapped: OrderedDict[str, Fernet] = OrderedDict()

    def _data_fernet(self, wrapped_key: str) -> Fernet:
        fernet = self._unwrapped.get(wrapped_key)
        if fernet is None:
            fernet = self._unwrapped[wrapped_key] = super()._data_fernet(wrapped_key)
            if len(self._unwrapped) > self.SIZE:
                self._unwrapped.popitem(last=False)
        return fernet



async def _seal_old_ciphertext(session: AsyncSession, client: Client, hetu: str, now: dt.datetime) -> None:
    """A hetu written before data keys (under the one shared key) is sealed under a key of the
    client's own when the client is next written, so that retention can shred it (DATA-2)."""
    vault = vault_of(session)
    if vault.is_sealed(client.hetu_encrypted) or client.erased_at is not None:
        return
    key = await session.get(ClientKey, client.id)
    if key is None:
        key = ClientKey(client_id=client.id, wrapped_key=vault.new_data_key(), created_at=now)
        session.add(key)
    if key.wrapped_key is not None:
        client.hetu_encrypted = vault.seal(hetu, key.wrapped_key)



async def client_hetu(session: AsyncSession, client: Client) -> str:
    """The client's hetu decrypted under their data key, or ``"erased"`` once the key is destroyed."""
    key = await session.get(ClientKey, client.id)
    try:
        return vault_of(session).open(client.hetu_encrypted, key.wrapped_key if key else None)
    except Erased:
        return ERASED



async def lookup_client(session: AsyncSession, hetu: str, principal: Principal) -> Client:
    rt = runtime_of(session)
    try:
        canonical = validate_hetu(hetu, allow_temporary=rt.settings.hetu_test_mode, field="body.hetu")
    except IdentifierError as exc:
        raise InvalidInput(exc.reason, rule="DEC-3", errors=[FieldError(field=exc.field, message=exc.reason, rule="DEC-3")]) from None
    client = (await session.execute(
        select(Client).where(Client.hetu_lookup == vault_of(session).lookup_hash(canonical))
    )).scalar_one_or_none()
    if client is None:
        raise NotFound("no client with that personal identity code")
    await audit(session, principal, "client.lookup", "client", client.id, client_ids=[client.id])
    return client



async def _client(session: AsyncSession, client_id: uuid.UUID) -> Client:
    client = await session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    return client


def _update_client(client: Client, body: DecisionIn, now: dt.datetime) -> None:
    """The client's name, language and contact data as of the latest push (DEC-3)."""
    c = body.client
    client.first_name, client.last_name, client.language = c.first_name, c.last_name, c.language
    client.municipality, client.phone, client.email, client.address = c.municipality, c.phone, c.email, c.address
    client.interpreter_needed = c.interpreter_needed
    client.updated_at = now



_UPSERTED = ("id", "hetu_lookup", "hetu_encrypted", "created_at", "language", "municipality", "interpreter_needed",
             "updated_at", "first_name", "last_name", "phone", "email", "address")
_LATEST = ("language", "municipality", "interpreter_needed", "updated_at")  # what a push updates of a known client


def client_upsert_ctes() -> tuple[Any, Any]:
    """PostgreSQL: the client's upsert (``client_upsert``, returning the id) and the new client's key insert
    (``client_key_insert``, bound as ``key_*``, writing only when the upsert made the client), as CTEs of one
    statement; built anew on every call (callers keep what they build with :func:`statement_for`)."""
    table, keys = cast("Table", Client.__table__), cast("Table", ClientKey.__table__)
    insert_client = insert_for_dialect("postgresql", table).values(
        {name: bindparam(name, type_=table.c[name].type) for name in _UPSERTED})
    upsert = insert_client.on_conflict_do_update(
        index_elements=["hetu_lookup"], set_={name: insert_client.excluded[name] for name in _LATEST},
    ).returning(table.c.id).cte("client_upsert")
    key_insert = insert(keys).from_select(["client_id", "wrapped_key", "created_at"], select(
        upsert.c.id, bindparam("key_wrapped_key", type_=keys.c.wrapped_key.type),
        bindparam("key_created_at", type_=keys.c.created_at.type),
    ).where(upsert.c.id == bindparam("key_client_id", type_=keys.c.client_id.type)))
    return upsert, key_insert.cte("client_key_insert")


def _client_upsert(dialect: str) -> Any:
    """The client's upsert, built once per dialect and bound by column name (issue 15: building it per push,
    ``.values()`` of thirteen columns and the conflict clause, cost more than executing it). A known client
    gets the latest values of :data:`_LATEST` (``excluded``: what this push sent). On PostgreSQL:
    ``WITH upsert AS (...), key AS (INSERT the key, bound as ``key_*``, if the upsert made the client)
    SELECT id`` (:func:`client_upsert_ctes`)."""
    table = cast("Table", Client.__table__)

    def build() -> Any:
        if dialect == "postgresql":
            upsert, key_insert = client_upsert_ctes()
            return select(upsert.c.id).add_cte(key_insert).execution_options(**SEALED_AT_WRITE)
        insert_client = insert_for_dialect(dialect, table).values(
            {name: bindparam(name, type_=table.c[name].type) for name in _UPSERTED})
        return insert_client.on_conflict_do_update(
            index_elements=["hetu_lookup"], set_={name: insert_client.excluded[name] for name in _LATEST},
        ).returning(table.c.id).execution_options(**SEALED_AT_WRITE)

    return statement_for(table, ("upsert", dialect), build)


def _known_client() -> Any:
    """The client's hetu ciphertext and erasure time, and their wrapped data key, by ``client_id``."""
    table, keys = cast("Table", Client.__table__), cast("Table", ClientKey.__table__)
    return statement_for(table, "known", lambda: select(table.c.hetu_encrypted, table.c.erased_at, keys.c.wrapped_key)
                         .select_from(table.outerjoin(keys, keys.c.client_id == table.c.id))
                         .where(table.c.id == bindparam("client_id", type_=table.c.id.type)))


@dataclass(frozen=True)
class NewClient:
    """The id and data key a client gets when a push creates them, chosen before the write: what is written
    with a new client (a decision) can then be sealed under the key and go in the same statement."""

    id: uuid.UUID
    wrapped: str


def new_client(vault: PiiVault) -> NewClient:
    # A new client gets a data key of their own and the hetu is sealed under it (DATA-2, crypto-shredding).
    return NewClient(uuid.uuid4(), vault.new_data_key())


async def _upsert_client(session: AsyncSession, hetu: str, lookup: str, body: DecisionIn, now: dt.datetime,
                         new: NewClient | None = None,
                         along: tuple[Any, dict[str, Any]] | None = None) -> tuple[uuid.UUID, str | None, bool, Any]:
    """The client of ``lookup``, created (hetu encrypted) or updated with the latest contact data (DEC-3),
    in one statement that also holds the row locked to the end of the transaction: pushes for one client
    run one at a time (PostgreSQL; SQLite has one writer anyway). Returns the client's id, wrapped data
    key, whether this statement created them, and the statement's second column with ``along``; the
    names and contact data are sealed under the key at the write (ktt_decision.sealing). On PostgreSQL a
    new client's key is written by the same statement. ``new``: the id and key a new client gets;
    ``along``: PostgreSQL only, a statement that does this upsert (:func:`client_upsert_ctes`) and more,
    with its other parameters (ktt_decision.decisions.writing)."""
    c = body.client
    personal = {"first_name": c.first_name, "last_name": c.last_name, "phone": c.phone, "email": c.email,
                "address": c.address}
    latest = {"language": c.language, "municipality": c.municipality, "interpreter_needed": c.interpreter_needed,
              "updated_at": now}
    vault = vault_of(session)
    new = new or new_client(vault)
    new_id, wrapped_new = new.id, new.wrapped
    dialect = dialect_name(session)
    postgresql = dialect == "postgresql"
    params = {"id": new_id, "hetu_lookup": lookup, "hetu_encrypted": vault.seal(hetu, wrapped_new), "created_at": now,
              **latest, **seal_values(vault, wrapped_new, Client, personal)}
    if postgresql:  # the new client's key, written by the same statement
        params |= {"key_client_id": new_id, "key_wrapped_key": wrapped_new, "key_created_at": now}
    if along is not None:
        assert postgresql, "one statement for the client and more: PostgreSQL only"
        row = (await session.execute(along[0], params | along[1])).one()
        client_id, more = row[0], row[1]
    else:
        client_id, more = (await session.execute(_client_upsert(dialect), params)).scalar_one(), None
    if client_id == new_id:
        if not postgresql:
            session.add(ClientKey(client_id=client_id, wrapped_key=wrapped_new, created_at=now))
        return client_id, wrapped_new, True, more
    # A known client: their key (None once erased, DATA-2) read with what says whether the hetu needs sealing,
    # in one core statement; the client is loaded (and its sealed values opened) only when it does.
    known = (await session.execute(_known_client(), {"client_id": client_id})).one()
    if vault.is_sealed(known.hetu_encrypted) or known.erased_at is not None:
        wrapped = known.wrapped_key
    else:
        client = await session.get(Client, client_id)
        assert client is not None
        await _seal_old_ciphertext(session, client, hetu, now)
        key = await session.get(ClientKey, client_id)
        wrapped = key.wrapped_key if key is not None else None
    # The latest names and contact data (sealed under the client's key; in clear only for a client without
    # one, which the commit hook then seals).
    values = seal_values(vault, wrapped, Client, personal) if wrapped is not None else personal
    await session.execute(update(Client).where(Client.id == client_id).values(**values)
                          .execution_options(synchronize_session=False))
    return client_id, wrapped, False, more
