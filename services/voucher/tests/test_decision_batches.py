"""Issue 15: the voucher service issues the vouchers of a fetched batch of DecisionMade in one
transaction, one statement per table, through a real nats-server and database. A bad message in the
batch (a payload of the wrong shape, a revocation before its decision) does not keep the good ones
from being issued and is parked as always; a redelivered batch changes nothing; order holds.

The service runs without its background tasks: the test fetches from the service's real durable
consumer itself, so it knows which messages form the batch."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from ktt_common.events import Envelope
from ktt_common.testing import RunningService, eventually, run_service, service_settings
from ktt_contracts.decision import DecisionAmended, DecisionMade, DecisionRevoked
from ktt_voucher.app import create_app
from ktt_voucher.vouchers.models import Voucher, VoucherEvent

from .conftest import decision_facts


def _made(**overrides: Any) -> Envelope:
    facts = decision_facts(**overrides)
    return DecisionMade.envelope(facts, subject=facts["decision_id"], correlation_id=f"corr-{facts['decision_id']}",
                                 time=dt.datetime.now(dt.UTC))


class Batches:
    def __init__(self, svc: RunningService, psub: Any) -> None:
        self.svc, self.rt, self.psub = svc, svc.rt, psub
        self.runner = svc.rt.consumer("decision")
        self.commits = 0
        self.sql: list[str] = []

    async def publish(self, envs: list[Envelope], *, anew: bool = False) -> None:
        for env in envs:
            subject = f"ktt.decision.{env.type.split('.')[2]}"
            await self.rt.bus.publish(subject, env.model_dump_json().encode(), str(uuid.uuid4()) if anew else env.id)

    async def publish_raw(self, subject: str, data: bytes) -> None:
        await self.rt.bus.publish(subject, data, str(uuid.uuid4()))

    async def handle(self, n: int) -> None:
        """Fetch ``n`` messages from the durable consumer and hand them to the runner as one fetch."""
        msgs: list[Any] = []
        while len(msgs) < n:
            msgs += await self.psub.fetch(batch=n - len(msgs), timeout=5)
        self.commits, self.sql = 0, []
        engine = self.rt.engine.sync_engine
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "before_cursor_execute", self._statement)
        try:
            await self.runner.handle_fetched(msgs)
        finally:
            event.remove(engine, "commit", self._commit)
            event.remove(engine, "before_cursor_execute", self._statement)

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.sql.append(" ".join(statement.split()).upper())

    def inserts_into(self, table: str) -> int:
        return sum(1 for s in self.sql if s.startswith((f"INSERT INTO {table.upper()} ", f'INSERT INTO "{table.upper()}" ')))

    async def count(self, table: Any, *where: Any) -> int:
        async with self.rt.sessionmaker() as session:
            return (await session.execute(select(func.count()).select_from(table).where(*where))).scalar_one()

    async def outbox(self) -> list[Envelope]:
        ob = self.rt.infra.outbox
        async with self.rt.sessionmaker() as session:
            rows = (await session.execute(select(ob.c.envelope).order_by(ob.c.seq))).scalars().all()
        return [Envelope.model_validate_json(r) for r in rows]

    async def all_acked(self) -> bool:
        info = await self.rt.bus.js.consumer_info("KTT_DECISION", self.runner.name)
        last = (await self.rt.bus.stream_info("decision")).state.last_seq
        return bool(info.ack_floor.stream_seq == last and info.num_ack_pending == 0)


@pytest.fixture
async def batches(databases: Callable[..., Any], nats_server: Any, tmp_path: Path, clock: Any) -> AsyncIterator[Batches]:
    url = await databases("voucher")
    settings = service_settings("voucher", database_url=url, nats_url=nats_server.url, data_dir=tmp_path,
                                run_background=False)
    async with run_service(create_app, settings, clock) as svc:
        svc.rt.bus.start()
        assert await svc.rt.bus.wait_ready(15)
        psub = await svc.rt.consumer("decision")._bind()
        try:
            yield Batches(svc, psub)
        finally:
            await psub.unsubscribe()


async def test_a_batch_of_decisions_gives_its_vouchers_in_one_transaction(batches):
    envs = [_made() for _ in range(20)]
    await batches.publish(envs)
    await batches.handle(20)
    assert batches.commits == 1
    # One statement per table, whatever the batch size: inbox keys, vouchers, their history, their events.
    assert [batches.inserts_into(t) for t in ("inbox", "voucher", "voucher_event", "outbox")] == [1, 1, 1, 1]
    assert await batches.count(Voucher) == 20
    assert await batches.count(VoucherEvent, VoucherEvent.kind == "issued", VoucherEvent.to_state == "issued") == 20
    issued = [e for e in await batches.outbox() if e.type == DecisionMade.type.replace("decision.DecisionMade", "voucher.VoucherIssued")]
    assert [e.data["decision_id"] for e in issued] == [e.data["decision_id"] for e in envs]  # in stream order
    # Each VoucherIssued carries the correlation id of its own decision, and the facts of its voucher.
    assert [e.correlationid for e in issued] == [e.correlationid for e in envs]
    async with batches.rt.sessionmaker() as session:
        vouchers = {v.id: v for v in (await session.execute(select(Voucher))).scalars()}
    for e in issued:
        v = vouchers[uuid.UUID(e.data["voucher_id"])]
        assert (str(v.decision_id), v.number, v.state, v.valid_to.isoformat()) == (
            e.data["decision_id"], e.data["number"], "issued", "2027-11-30")
    await eventually(batches.all_acked, what="every message acked")


async def test_a_redelivered_batch_changes_nothing(batches):
    envs = [_made() for _ in range(8)]
    await batches.publish(envs)
    await batches.handle(8)
    before = await batches.outbox()
    await batches.publish(envs, anew=True)  # the same events again under new message ids
    await batches.handle(8)
    assert batches.commits == 1 and batches.inserts_into("voucher") == 0
    assert await batches.count(Voucher) == 8 and await batches.count(VoucherEvent) == 8
    assert [e.id for e in await batches.outbox()] == [e.id for e in before]
    # The same decision under a new event id (a re-push published anew) is harmless too: no second voucher.
    again = DecisionMade.envelope(envs[0].data, subject=envs[0].subject, correlation_id=None, time=dt.datetime.now(dt.UTC))
    await batches.publish([again, _made()])
    await batches.handle(2)
    assert batches.commits == 1
    assert await batches.count(Voucher) == 9 and len(await batches.outbox()) == 9
    await eventually(batches.all_acked, what="every message acked")


@pytest.mark.off_contract_events("a DecisionMade whose payload misses its fields")
async def test_bad_messages_do_not_keep_the_good_ones_of_their_batch_from_being_issued(batches):
    good = [_made() for _ in range(4)]
    orphan = decision_facts()  # revoked before (without) its DecisionMade: the handler refuses it
    revoked = DecisionRevoked.envelope({"decision_id": orphan["decision_id"], "client_id": orphan["client_id"],
                                        "revoked_on": "2026-11-27", "reason": "moved away"},
                                       subject=orphan["decision_id"], correlation_id=None, time=dt.datetime.now(dt.UTC))
    await batches.publish(good[:2] + [revoked])
    broken = _made().model_dump(mode="json")
    broken["data"] = {"decision_id": broken["data"]["decision_id"]}
    await batches.publish_raw(DecisionMade.subject, Envelope.model_validate(broken).model_dump_json().encode())
    await batches.publish(good[2:])
    await batches.handle(6)
    # The broken payload is parked at once; the batch's transaction failed on the revocation, and
    # each message then had its own: the four vouchers are issued.
    assert await batches.count(Voucher) == 4
    assert {e.data["decision_id"] for e in await batches.outbox()} == {e.data["decision_id"] for e in good}
    dl = batches.rt.infra.dead_letter
    async with batches.rt.sessionmaker() as session:
        [letter] = (await session.execute(select(dl))).all()
    assert letter.deliveries == 1 and "payload does not match" in letter.error
    # The revocation comes back after its backoff and is parked at the delivery cap, as without batches.
    while await batches.count(dl) < 2:
        await batches.handle(1)
    async with batches.rt.sessionmaker() as session:
        letter = (await session.execute(select(dl).where(dl.c.event_id == revoked.id))).one()
    assert letter.deliveries == batches.rt.settings.consumer_max_deliver and "no voucher yet" in letter.error
    assert await batches.count(Voucher) == 4
    await eventually(batches.all_acked, what="every message acked")


async def test_events_of_a_batch_apply_in_stream_order(batches):
    first, second = _made(), _made()
    facts = dict(first.data)
    amended = DecisionAmended.envelope(
        {**facts, "version": 2, "previous_version": 1, "period_end": "2027-05-31",
         "changes": {"period_end": {"old": facts["period_end"], "new": "2027-05-31"}}},
        subject=facts["decision_id"], correlation_id=None, time=dt.datetime.now(dt.UTC))
    await batches.publish([first, amended, second])
    await batches.handle(3)
    assert batches.commits == 1
    async with batches.rt.sessionmaker() as session:
        voucher = (await session.execute(select(Voucher).where(Voucher.decision_id == uuid.UUID(facts["decision_id"])))).scalar_one()
        kinds = (await session.execute(select(VoucherEvent.kind).where(VoucherEvent.voucher_id == voucher.id)
                                       .order_by(VoucherEvent.at))).scalars().all()
    # Issued from version 1, then moved by the amendment (had the amendment come first, it would
    # have issued the voucher from version 2 with no change recorded).
    assert list(kinds) == ["issued", "validity_changed"]
    assert (voucher.decision_version, voucher.valid_to) == (2, dt.date(2027, 5, 31))
    assert await batches.count(Voucher) == 2
