"""ClientErased (DATA-2, issue 13): the daily log's free texts of the erased client (tasks, notes) go from
the entries and from every earlier revision; days, kinds, minutes and revisions stay for billing (BIL-1).
Idempotent through the inbox; another client's log is untouched."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ktt_contracts.decision import ClientErased

from attendance_builders import present, statuses
from ktt_attendance.log.models import LogEntry, LogEntryRevision

MON = dt.date(2027, 1, 18)
TUE = MON + dt.timedelta(days=1)
T0 = dt.datetime(2027, 2, 1, 12, tzinfo=dt.UTC)


async def _raw(att, model) -> list[dict]:
    async with att.svc.rt.sessionmaker() as session:
        return [dict(r) for r in (await session.execute(select(model.__table__))).mappings()]


async def test_the_erased_clients_log_texts_go_in_entries_and_revisions_and_the_days_stay(att):
    a, b = await att.signed(), await att.signed()
    first = await att.post([present(a, MON, tasks="Pekka: woodwork", note="Pekka seemed tired"),
                            present(a, TUE, tasks="painting"), present(b, MON, note="Anna on time")])
    assert statuses(first) == ["accepted"] * 3
    revised = await att.post([present(a, MON, hours=6, tasks="Pekka: woodwork", note="Pekka left at two")])
    assert statuses(revised) == ["revised"]
    entries_before = {(r["client_id"], r["date"]): (r["kind"], r["minutes"], r["revision"]) for r in await _raw(att, LogEntry)}

    consumer = att.svc.rt.consumer("decision")
    env = ClientErased.envelope({"client_id": a["client_id"]}, subject=a["client_id"], correlation_id=None, time=T0)
    assert await consumer.process(env) == "handled"
    assert await consumer.process(env) == "duplicate"  # the inbox drops a redelivery
    again = ClientErased.envelope({"client_id": a["client_id"]}, subject=a["client_id"], correlation_id=None, time=T0)
    assert await consumer.process(again) == "handled"  # published anew: the same values

    entries = await _raw(att, LogEntry)
    revisions = await _raw(att, LogEntryRevision)
    assert "Pekka" not in repr(entries) + repr(revisions)
    theirs = sorted((r["date"], r["tasks"], r["note"]) for r in entries if str(r["client_id"]) == a["client_id"])
    assert theirs == [(MON, "erased", "erased"), (TUE, "erased", None)]  # a note never written stays none
    assert [(r["tasks"], r["note"]) for r in entries if str(r["client_id"]) == b["client_id"]] == [("woodwork", "Anna on time")]
    assert {(r["client_id"], r["date"]): (r["kind"], r["minutes"], r["revision"]) for r in entries} == entries_before
    (old,) = revisions
    assert (old["facts"]["tasks"], old["facts"]["note"], old["facts"]["kind"]) == ("erased", "erased", "present")
    assert old["changes"]["note"] is None and old["changes"]["minutes"] == {"old": 300, "new": 360}
    entry_id = revised["results"][0]["entry_id"]
    r = await att.client.get(f"/v1/daily-log/entries/{entry_id}/revisions", headers=att.official())
    assert r.status_code == 200 and "Pekka" not in r.text
