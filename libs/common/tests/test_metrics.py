"""Issue 17 item 6: what an operator alerts on, read from /metrics with Prometheus' own parser
after provoking each state through the real bus and database: the outbox backlog and the age of
its oldest row (NATS down), a parked outbox row (too large for NATS), a dead letter (a handler
that keeps failing), consumer lag (a stopped consumer), each job's last success; no duplicate
``_created`` series; every known route labelled by its template, never ``unmatched``."""

from __future__ import annotations

import asyncio
import time
import uuid

from prometheus_client.parser import text_string_to_metric_families

from ktt_common.outbox import emit
from ktt_common.testing import eventually

import ktt_probe as probe


async def _emit_probe(rt, note: str = ""):
    async with rt.sessionmaker() as session, session.begin():
        return await emit(session, probe.ProbeHappened, probe.ProbePayload(item=uuid.uuid4(), note=note))


async def _scrape(svc) -> dict[tuple[str, frozenset], float]:
    r = await svc.client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def _value(samples, name: str, **labels) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_operator_gauges_follow_the_states_they_report(start_probe, nats_server, probe_switch):
    async with start_probe(outbox_max_attempts=2) as svc:
        rt, admin = svc.rt, svc.auth("admin")
        consumer = rt.consumer("probe").name
        await eventually(lambda: rt.consumer("probe").bound, what="consumer bound")

        first = await _scrape(svc)
        assert _value(first, "ktt_outbox_backlog", service="probe") == 0
        assert _value(first, "ktt_outbox_oldest_age_seconds", service="probe") == 0
        assert _value(first, "ktt_outbox_parked_rows", service="probe") == 0
        assert _value(first, "ktt_dead_letters_waiting", service="probe", consumer=consumer) == 0
        assert _value(first, "ktt_consumer_lag_messages", service="probe", consumer=consumer) == 0
        assert _value(first, "ktt_job_last_success_timestamp_seconds", service="probe", job="count-effects") is None
        assert not [name for name, _ in first if name.endswith("_created")]  # no duplicate _created series

        # NATS down: the outbox fills, and its oldest row ages.
        nats_server.stop()
        await eventually(lambda: not rt.bus.connected, what="bus to notice NATS is down")
        for i in range(3):
            await _emit_probe(rt, f"while down {i}")

        async def backlog_ageing():
            s = await _scrape(svc)
            return (_value(s, "ktt_outbox_backlog", service="probe") == 3
                    and 0 < _value(s, "ktt_outbox_oldest_age_seconds", service="probe") < 600)

        await eventually(backlog_ageing, what="backlog of 3 with an age")
        nats_server.start()

        async def backlog_drained():
            s = await _scrape(svc)
            return (_value(s, "ktt_outbox_backlog", service="probe") == 0
                    and _value(s, "ktt_outbox_oldest_age_seconds", service="probe") == 0)

        await eventually(backlog_drained, timeout=20, what="backlog drained after NATS came back")

        # A row NATS never takes is parked after OUTBOX_MAX_ATTEMPTS (2 here).
        await _emit_probe(rt, "x" * 1_100_000)

        async def one_parked():
            return _value(await _scrape(svc), "ktt_outbox_parked_rows", service="probe") == 1

        await eventually(one_parked, timeout=20, what="parked outbox row counted")

        # A handler that keeps failing: a dead letter.
        probe_switch.failing = True
        await _emit_probe(rt, "poison")

        async def one_dead_letter():
            return _value(await _scrape(svc), "ktt_dead_letters_waiting", service="probe", consumer=consumer) == 1

        await eventually(one_dead_letter, timeout=30, what="dead letter counted")
        probe_switch.failing = False

        # A consumer that stopped (a crashed instance): it falls behind by exactly what was published since.
        runner = rt.consumer("probe")
        runner.stop()
        await eventually(lambda: not runner.bound, what="consumer stopped")
        for i in range(5):
            await _emit_probe(rt, f"behind {i}")

        async def behind_by_five():
            s = await _scrape(svc)
            return (_value(s, "ktt_consumer_lag_messages", service="probe", consumer=consumer) == 5
                    and _value(s, "ktt_consumer_ack_pending_messages", service="probe", consumer=consumer) == 0)

        await eventually(behind_by_five, what="consumer lag of five")
        runner.stopping = False  # the instance comes back
        rt._tasks.append(asyncio.create_task(runner.run()))  # stopped with the service at the end

        async def caught_up():
            s = await _scrape(svc)
            return (_value(s, "ktt_consumer_lag_messages", service="probe", consumer=consumer) == 0
                    and _value(s, "ktt_consumer_ack_pending_messages", service="probe", consumer=consumer) == 0)

        await eventually(caught_up, timeout=20, what="consumer caught up")

        # A job's last success: the wall-clock time its run finished.
        before = time.time()
        r = await svc.client.post("/v1/admin/jobs/count-effects/run", headers=admin)
        assert r.status_code == 200, r.text
        stamp = _value(await _scrape(svc), "ktt_job_last_success_timestamp_seconds", service="probe", job="count-effects")
        assert stamp is not None and before - 1 <= stamp <= time.time() + 1


async def test_routes_are_labelled_by_template_never_unmatched_when_known(start_probe):
    async with start_probe() as svc:
        admin = svc.auth("admin")
        letter = uuid.uuid4()
        assert (await svc.client.post(f"/v1/admin/dead-letters/{letter}/replay", headers=admin)).status_code == 404
        assert (await svc.client.get("/v1/admin/dead-letters", headers=svc.auth("city_official"))).status_code == 403
        assert (await svc.client.delete("/healthz")).status_code == 405  # a known path, a method it does not take
        assert (await svc.client.get("/no/such/path")).status_code == 404
        s = await _scrape(svc)
        requests = {(dict(labels)["route"], dict(labels)["status"]) for name, labels in s
                    if name == "ktt_http_requests_total" and dict(labels)["service"] == "probe"}
        assert ("/v1/admin/dead-letters/{letter_id}/replay", "404") in requests
        assert ("/v1/admin/dead-letters", "403") in requests
        assert ("/healthz", "405") in requests
        assert ("unmatched", "404") in requests
        assert not [r for r in requests if str(letter) in r[0]]  # never a concrete id as a label
        assert not [name for name, _ in s if name.endswith("_created")]
