"""Named leases: one holder at a time per name and service database, until the lease expires.

A lease is one row (name, holder, expires_at) taken by compare-and-set, so it works the same on
SQLite and PostgreSQL and survives a crashed holder (its lease simply runs out). The outbox relay
holds ``outbox-relay`` so that only one replica publishes (order holds); the job scheduler holds
``scheduler`` so that one replica runs the daily jobs. Leases use real time, never the
(development) business clock, which can jump.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from ktt_common.db import affected, dialect_name

if TYPE_CHECKING:
    from ktt_common.runtime import Runtime


def new_holder_id() -> str:
    """Who holds a lease: host, process and a random part (two runtimes in one process differ)."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, rt: Runtime, name: str, ttl_seconds: float, holder: str | None = None) -> None:
        self.rt = rt
        self.name = name
        self.ttl = dt.timedelta(seconds=ttl_seconds)
        self.holder = holder or new_holder_id()

    async def acquire(self, now: dt.datetime | None = None) -> bool:
        """Take or renew the lease; False while another holder's lease runs."""
        now = now or dt.datetime.now(dt.UTC)
        table = self.rt.infra.lease
        async with self.rt.sessionmaker() as session, session.begin():
            ins = postgresql.insert(table) if dialect_name(session) == "postgresql" else sqlite.insert(table)
            created = await session.execute(
                ins.values(name=self.name, holder=self.holder, expires_at=now + self.ttl).on_conflict_do_nothing()
            )
            if affected(created) == 1:
                return True
            taken = await session.execute(
                update(table)
                .where(table.c.name == self.name, or_(table.c.holder == self.holder, table.c.expires_at < now))
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            return affected(taken) == 1

    async def release(self) -> None:
        table = self.rt.infra.lease
        async with self.rt.sessionmaker() as session, session.begin():
            await session.execute(delete(table).where(table.c.name == self.name, table.c.holder == self.holder))
