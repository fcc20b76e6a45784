"""The bus mechanisms, each through a real nats-server and a real database (SQLite and PostgreSQL).

Every test here fails if its mechanism breaks: the outbox losing an event while NATS is down,
the inbox letting a redelivery repeat an effect, the relay's retries not being deduplicated,
a poison message looping instead of being parked, a restarted consumer losing or repeating.
"""

from __future__ import annotations

import uuid

import nats.errors
import pytest

from sqlalchemy import func, select, update

from ktt_common.events import Envelope
from ktt_common.openapi import documented_media_types
from ktt_common.outbox import emit
from ktt_common.testing import eventually

import ktt_probe as probe


async def _emit_probe(rt, note: str = "") -> Envelope:
    async with rt.sessionmaker() as session, session.begin():
        return await emit(session, probe.ProbeHappened, probe.ProbePayload(item=uuid.uuid4(), note=note))


async def _count(rt, table, *where) -> int:
    async with rt.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def test_outbox_keeps_event_while_nats_is_down_and_delivers_once_after(start_probe, nats_server, probe_switch):
    async with start_probe() as svc:
        rt = svc.rt
        nats_server.stop()
        await eventually(lambda: not rt.bus.connected, what="bus to notice NATS is down")

        env = await _emit_probe(rt, "while down")  # the state change commits although NATS is down
        assert await _count(rt, rt.infra.outbox, rt.infra.outbox.c.published_at.is_(None)) == 1
        assert await _count(rt, probe.effects) == 0
        r = await svc.client.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["nats"] == "disconnected"
        # Issue 17: a problem (status-phrase title), sent as the OpenAPI document says.
        assert r.json()["title"] == "Service Unavailable" and "nats" in r.json()["detail"]
        doc = (await svc.client.get("/openapi.json")).json()
        assert documented_media_types(doc, "get", "/readyz", 503) == {"application/problem+json"}
        assert r.headers["content-type"] == "application/problem+json"

        nats_server.start()  # same port, same JetStream store
        await eventually(lambda: _count(rt, probe.effects), timeout=20, what="effect after NATS came back")

        async def all_marked() -> bool:
            # The consumer can handle the event before the relay's commit marks the row published.
            return await _count(rt, rt.infra.outbox, rt.infra.outbox.c.published_at.is_(None)) == 0

        await eventually(all_marked, what="the relay to mark the event published")
        # Exactly once: give the consumer every chance to repeat, then count.
        await _emit_probe(rt, "marker")
        await eventually(lambda: _count(rt, probe.effects, probe.effects.c.event_id != env.id), what="marker handled")
        assert await _count(rt, probe.effects, probe.effects.c.event_id == env.id) == 1
        r = await svc.client.get("/readyz")
        assert r.status_code == 200


async def test_streams_not_ready_after_a_reconnect_are_retried_until_they_are(start_probe, nats_server, probe_switch):
    """A server that comes back before its streams answer (a cluster electing a stream leader; seen
    in the scale-out test): the first stream checks after the reconnect fail. The bus keeps trying,
    and the consumers go on, where one failed check used to leave the service connected to NATS but
    never consuming again."""
    async with start_probe() as svc:
        rt = svc.rt
        real_add_stream = rt.bus.js.add_stream
        failures = {"left": 0}

        async def add_stream_not_ready_yet(*args, **kwargs):
            if failures["left"] > 0:
                failures["left"] -= 1
                raise nats.errors.TimeoutError  # what add_stream raises while no leader answers
            return await real_add_stream(*args, **kwargs)

        rt.bus.js.add_stream = add_stream_not_ready_yet  # the real server stays behind it
        nats_server.stop()
        await eventually(lambda: not rt.bus.connected, what="bus to notice NATS is down")
        failures["left"] = 3
        nats_server.start()
        await eventually(lambda: rt.bus.connected, timeout=20, what="the streams ensured after three failed checks")
        assert failures["left"] == 0
        env = await _emit_probe(rt, "after the reconnect")
        await eventually(lambda: _count(rt, probe.effects, probe.effects.c.event_id == env.id), timeout=20,
                         what="an event published and consumed after the reconnect")


async def test_same_event_delivered_twice_has_one_effect(start_probe, probe_switch):
    async with start_probe() as svc:
        rt = svc.rt
        env = await _emit_probe(rt)
        await eventually(lambda: _count(rt, probe.effects), what="first delivery handled")
        # Deliver the very same event again under another message id, as a redelivery
        # after the stream's duplicate window would be.
        ack = await rt.bus.publish(probe.ProbeHappened.subject, env.model_dump_json().encode(), msg_id=str(uuid.uuid4()))
        assert not ack.duplicate
        marker = await _emit_probe(rt, "marker")
        await eventually(lambda: _count(rt, probe.effects, probe.effects.c.event_id == marker.id), what="marker handled")
        assert await _count(rt, probe.effects, probe.effects.c.event_id == env.id) == 1
        assert probe_switch.calls == 2  # the duplicate never reached the handler
        # And directly: the inbox answers 'duplicate' without running the handler.
        assert await rt.consumer("probe").process(env) == "duplicate"


async def test_relay_retry_is_reported_duplicate_by_jetstream(start_probe, probe_switch):
    async with start_probe() as svc:
        rt = svc.rt
        outbox = rt.infra.outbox
        env = await _emit_probe(rt)
        await eventually(lambda: _count(rt, outbox, outbox.c.published_at.is_not(None)), what="published")
        before = (await rt.bus.stream_info("probe")).state.messages
        # Simulate a relay that crashed after NATS took the event but before it marked the row.
        async with rt.sessionmaker() as session, session.begin():
            await session.execute(update(outbox).values(published_at=None))
        # Publishing the same row again: JetStream recognises the Nats-Msg-Id.
        ack = await rt.bus.publish(probe.ProbeHappened.subject, env.model_dump_json().encode(), msg_id=env.id)
        assert ack.duplicate is True
        await rt.relay.publish_pending()
        assert await _count(rt, outbox, outbox.c.published_at.is_(None)) == 0
        assert (await rt.bus.stream_info("probe")).state.messages == before
        # The consumer handles the one message on its own schedule (it may still be gathering): wait for
        # its effect, then there is exactly one, as the duplicate never reached the stream.
        await eventually(lambda: _count(rt, probe.effects), what="the event handled")
        assert await _count(rt, probe.effects) == 1


async def test_failing_handler_is_parked_after_the_cap_and_replayable(start_probe, probe_switch):
    probe_switch.failing = True
    async with start_probe() as svc:
        rt = svc.rt
        admin = svc.auth("admin")
        env = await _emit_probe(rt, "poison")
        dl = rt.infra.dead_letter
        await eventually(lambda: _count(rt, dl), timeout=20, what="message parked")
        assert probe_switch.calls == rt.settings.consumer_max_deliver  # tried exactly up to the cap
        assert await _count(rt, probe.effects) == 0  # each failed attempt was rolled back

        r = await svc.client.get("/v1/admin/dead-letters", headers=admin)
        assert r.status_code == 200
        [letter] = r.json()
        assert letter["event_id"] == env.id and letter["deliveries"] == rt.settings.consumer_max_deliver
        assert "told to fail" in letter["error"]

        r = await svc.client.post(f"/v1/admin/dead-letters/{letter['id']}/replay", headers=admin)
        assert r.status_code == 409 and "failed again" in r.json()["detail"]

        probe_switch.failing = False
        r = await svc.client.post(f"/v1/admin/dead-letters/{letter['id']}/replay", headers=admin)
        assert r.status_code == 200 and r.json()["outcome"] == "handled"
        assert await _count(rt, probe.effects, probe.effects.c.event_id == env.id) == 1
        r = await svc.client.post(f"/v1/admin/dead-letters/{letter['id']}/replay", headers=admin)
        assert r.status_code == 409  # replayed once only
        assert (await svc.client.get("/v1/admin/dead-letters", headers=admin)).json() == []
        assert (await svc.client.get("/v1/admin/dead-letters", headers=svc.auth("city_official"))).status_code == 403


@pytest.mark.off_contract_events("a body that is not JSON")
async def test_not_an_envelope_is_parked_at_once(start_probe, probe_switch):
    async with start_probe() as svc:
        rt = svc.rt
        await rt.bus.publish(probe.ProbeHappened.subject, b"{not json", msg_id=str(uuid.uuid4()))
        await eventually(lambda: _count(rt, rt.infra.dead_letter), what="poison parked")
        assert probe_switch.calls == 0
        async with rt.sessionmaker() as session:
            row = (await session.execute(select(rt.infra.dead_letter))).one()
        assert row.deliveries == 1 and "not a valid event envelope" in row.error


async def test_restarted_consumer_resumes_without_losing_or_repeating(start_probe, probe_switch):
    async with start_probe() as first:
        url = first.database_url
        emitted = [await _emit_probe(first.rt, f"first-{i}") for i in range(20)]
        await eventually(lambda: _count(first.rt, probe.effects), what="some handled before the stop")
    # The service is down; its events keep arriving in the stream (published by another instance).
    async with start_probe(database_url=url, **{}) as second:
        emitted += [await _emit_probe(second.rt, f"second-{i}") for i in range(20)]
        ids = [e.id for e in emitted]
        await eventually(lambda: _all_handled(second.rt, ids),
                         timeout=20, what="every event handled")
        assert await _count(second.rt, probe.effects) == len(ids)
        async with second.rt.sessionmaker() as session:
            per_event = (await session.execute(
                select(probe.effects.c.event_id, func.count()).group_by(probe.effects.c.event_id)
            )).all()
        assert {eid for eid, _ in per_event} == set(ids)
        assert all(n == 1 for _, n in per_event)
        # The same durable consumer carried on: everything in the stream is acknowledged.
        runner = second.rt.consumer("probe")
        stream = await second.rt.bus.stream_info("probe")
        await eventually(lambda: _acked_all(second.rt, runner.name, stream.state.last_seq), what="all acked")


async def _acked_all(rt, name, last_seq) -> bool:
    info = await rt.bus.js.consumer_info("KTT_PROBE", name)
    return info.ack_floor.stream_seq == last_seq and info.num_ack_pending == 0


async def _all_handled(rt, ids) -> bool:
    return await _count(rt, probe.effects) >= len(ids)
