"""A posted batch gathers the alert rules' timelines from what it already holds (its agreements, the
entries it loaded and wrote) and reads only the log outside its days; the alerts it raises must be
exactly those the timelines read back from the database make due (``evaluation.timelines_from_db``,
the slow path), batch after batch, whatever the batches hold."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from attendance_builders import MON_TO_THU, absent, closed, present
from ktt_attendance.alerts import evaluation
from ktt_attendance.alerts.models import Alert

D = dt.date
MON_WED = [{"weekday": d, "start": "09:00", "end": "14:00"} for d in ("mon", "wed")]
FIRST, TODAY = D(2027, 1, 4), D(2027, 6, 30)
KINDS = [("present", 30), ("unauthorised", 25), ("sick_with_certificate", 18), ("sick_without_certificate", 5),
         ("job_interview", 5), ("closure", 12), ("unknown_day", 5)]


def _scheduled(weekdays: set[int]) -> list[dt.date]:
    out, day = [], FIRST
    while day < TODAY:
        if day.weekday() in weekdays:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def _entry(facts: dict[str, Any], day: dt.date, kind: str) -> dict[str, Any]:
    if kind == "present":
        return present(facts, day)
    if kind == "closure":
        return closed(facts, day, not_organised_reason="provider_closure")
    if kind == "sick_with_certificate":
        return absent(facts, day, kind, certificate=True)
    return absent(facts, day, kind)


def _batch(rng: random.Random, agreements: list[tuple[dict[str, Any], list[dt.date]]]) -> list[dict[str, Any]]:
    """Runs of one kind over a stretch of an agreement's scheduled days, a few agreements a batch."""
    entries: dict[tuple[str, dt.date], dict[str, Any]] = {}
    for facts, days in rng.sample(agreements, rng.randint(1, len(agreements))):
        i = rng.randrange(len(days))
        end = min(len(days), i + rng.randint(1, 30))
        while i < end:
            kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
            run = rng.randint(1, 8)
            for day in days[i:min(end, i + run)]:
                if kind != "unknown_day" and rng.random() < 0.9:
                    entries[(facts["agreement_id"], day)] = _entry(facts, day, kind)
            i += run
    return list(entries.values())


async def _alerts(att: Any) -> dict[str, dict[str, Any]]:
    async with att.svc.rt.sessionmaker() as session:
        return {key: details for key, details in (await session.execute(select(Alert.key, Alert.details))).all()}


async def _due_from_db(att: Any, changed: list[tuple[Any, dt.date]]) -> dict[str, dict[str, Any]]:
    """The slow path: the changed agreements' timelines read back from the database."""
    async with att.svc.rt.sessionmaker() as session:
        timelines = await evaluation.timelines_from_db(session, changed)
    return {d.key: d.details for t in timelines for d in evaluation.due(t, TODAY, att.svc.rt.settings)}


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_batch_raises_exactly_the_alerts_its_log_read_back_makes_due(att, seed):
    att.clock.set(TODAY)
    rng = random.Random(seed)
    agreements = []
    for form, schedule, weekdays in (("individual", MON_TO_THU, {0, 1, 2, 3}), ("individual", MON_TO_THU, {0, 1, 2, 3}),
                                     ("group", MON_WED, {0, 2}), ("group", MON_WED, {0, 2})):
        facts = await att.signed(start=FIRST, end=D(2027, 12, 31), form=form, product_kind=form, schedule=schedule)
        agreements.append((facts, _scheduled(weekdays)))
    stored: dict[tuple[str, str], str] = {}  # (agreement, day) -> kind as stored
    raised_kinds: set[str] = set()
    for _ in range(25):
        entries = _batch(rng, agreements)
        before = await _alerts(att)
        answer = await att.post(entries)
        changed = []
        for entry, result in zip(entries, answer["results"], strict=True):
            if result["status"] not in ("accepted", "revised"):
                continue
            key = (entry["agreement_id"], entry["date"])
            if entry["kind"] != "present" or stored.get(key, "present") != "present":
                changed.append((uuid.UUID(entry["agreement_id"]), D.fromisoformat(entry["date"])))
            stored[key] = entry["kind"]
        now = await _alerts(att)
        due = await _due_from_db(att, changed)
        new = {key: details for key, details in now.items() if key not in before}
        # What the batch raised is what the slow path makes due, detail for detail; and nothing the
        # slow path makes due is missing.
        assert {key: due.get(key) for key in new} == new
        assert set(due) <= set(now)
        raised_kinds |= {key.split(":")[0] for key in new}
    # The batches were varied enough to raise every rule's alert.
    assert raised_kinds >= {"no_show_working_days", "no_show_group_sessions", "long_sick_leave", "repeated_absences",
                            "continuity_broken"}
