"""Retention (DATA-2): a client's personal data is erased when the retention period after their last
decision has passed, by destroying the client's own data key (crypto-shredding).

The hetu ciphertext stays where it is, in the database and in every backup, and can never be read
again; the keyed lookup hash is replaced, so the hetu finds no client. The names and contact data
kept in clear beside it (the client row, the decisions' and versions' frozen copies, start
notices) are overwritten. Pseudonymous ids, dates and money figures stay for the accounts.
``ClientErased`` (the pseudonymous id only, through the outbox) tells the other services to
neutralise their copies (ktt_common.erasure and each service's ``erasure`` module).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit_many
from ktt_common.outbox import emit
from ktt_common.pii import ERASED
from ktt_contracts.decision import ClientErased, ClientErasedPayload

from ktt_decision.clients.models import Client, ClientKey
from ktt_decision.clients.service import vault_of
from ktt_decision.decisions.models import Decision, DecisionVersion
from ktt_decision.decisions.service import settings_of
from ktt_decision.notices.models import StartNotice
from ktt_decision.representatives.models import Representative
from ktt_decision.sealing import seal_clients

RULE = "DATA-2"
PERSONAL = ("first_name", "last_name", "phone", "email", "address")


def retention_cutoff(run_date: dt.date, years: int) -> dt.date:
    """A client whose last decision ended before this date is past retention on ``run_date``."""
    try:
        return run_date.replace(year=run_date.year - years)
    except ValueError:  # 29 February in a year without one
        return run_date.replace(year=run_date.year - years, day=28)


def _erase_copy(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {**data, **{k: (ERASED if k in ("first_name", "last_name") else None) for k in PERSONAL if k in data}}


async def erase_past_retention(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    years = settings_of(session).retention_years
    cutoff = retention_cutoff(run_date, years)
    last = (select(Decision.client_id, func.max(Decision.period_end).label("last_end"))
            .group_by(Decision.client_id).subquery())
    rows = (await session.execute(
        select(Client, last.c.last_end).join(last, last.c.client_id == Client.id)
        .where(last.c.last_end < cutoff, Client.erased_at.is_(None)).order_by(Client.id).with_for_update(of=Client)
    )).all()
    now = dt.datetime.now(dt.UTC)
    erased = []
    for client, last_end in rows:
        key = await session.get(ClientKey, client.id)
        if key is None:
            session.add(ClientKey(client_id=client.id, wrapped_key=None, created_at=now, erased_at=now))
        else:
            key.wrapped_key, key.erased_at = None, now  # the shredding: nothing can unwrap the data key now
        if not client.hetu_encrypted.startswith("k1:"):  # an old ciphertext under the shared key: drop it
            client.hetu_encrypted = ERASED
        client.hetu_lookup = f"erased:{client.id.hex}"  # the hetu finds no one any more
        client.first_name = client.last_name = ERASED
        client.phone = client.email = client.address = None
        client.erased_at = now
        for decision in (await session.execute(select(Decision).where(Decision.client_id == client.id))).scalars():
            decision.client_data = _erase_copy(decision.client_data)
            for version in (await session.execute(
                    select(DecisionVersion).where(DecisionVersion.decision_id == decision.id))).scalars():
                version.content = {**version.content, "client": _erase_copy(version.content.get("client"))}
                version.body_hash = None  # a retry is no longer recognised by its bytes (decisions/reading.py)
        for notice in (await session.execute(select(StartNotice).where(StartNotice.client_id == client.id))).scalars():
            notice.first_name = notice.last_name = ERASED
        for rep in (await session.execute(select(Representative).where(Representative.client_id == client.id))).scalars():
            rep.name_key = f"erased:{rep.id}"  # the keyed hash of the name goes too; the rest is sealed (sealing.py)
        # The copies in the other services go too (DATA-2): one event, the pseudonymous id only.
        await emit(session, ClientErased, ClientErasedPayload(client_id=client.id), subject=str(client.id))
        erased.append((client.id, [client.id], {"last_period_end": last_end.isoformat(), "retention_years": years,
                                               "rule": RULE}))
    await audit_many(session, "retention-job", "client.erase", "client", erased)
    return {"erased": len(erased), "cutoff": cutoff.isoformat(), "retention_years": years}


async def seal_existing(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """DATA-2: rows written before sealing, sealed under each client's data key (ktt_decision.sealing)."""
    vault = vault_of(session)

    def clear(column: Any) -> Any:
        return column.not_like("k1:%") & (column != ERASED)
    # Candidates found cheaply: a client whose row, start notices or representatives hold clear text (rows
    # from before sealing come together with their decisions); each is then sealed whole.
    candidates = union(
        select(Client.id).where(Client.erased_at.is_(None), clear(Client.first_name)),
        select(StartNotice.client_id).where(clear(StartNotice.first_name)),
        select(Representative.client_id).where(clear(Representative.name)),
    ).subquery()
    ids = list((await session.execute(select(candidates.c[0]).distinct())).scalars())
    rewritten = await session.run_sync(lambda s: seal_clients(s, vault, ids))
    return {"clients": len(ids), "rows_sealed": rewritten}
