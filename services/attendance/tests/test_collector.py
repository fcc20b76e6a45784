"""A posted batch holds the cyclic garbage collector off while it runs, and leaves it as it was."""

from __future__ import annotations

import gc

import pytest

from attendance_builders import present
from ktt_attendance.log import collector


def test_held_off_turns_the_collector_off_and_on_again_even_on_an_error():
    assert gc.isenabled()
    with collector.held_off():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector.held_off():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off():
    gc.disable()
    try:
        with collector.held_off():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_a_batch_good_or_malformed_leaves_the_collector_on(att):
    facts = await att.signed()
    answer = await att.post([present(facts, "2027-01-11"), present(facts, "2027-01-12", hours=3.5)])
    assert [r["status"] for r in answer["results"]] == ["accepted", "rejected"]
    assert gc.isenabled()
    await att.post([{"agreement_id": facts["agreement_id"], "date": "not a day", "kind": "present"}], expect=422)
    assert gc.isenabled()


def test_every_tenth_batch_ends_with_a_full_collection():
    full = []

    def seen(phase, info):
        if phase == "stop" and info["generation"] == 2:
            full.append(info)

    gc.callbacks.append(seen)
    try:
        for _ in range(collector.FULL_EVERY):
            collector.after_batch()
    finally:
        gc.callbacks.remove(seen)
    assert len(full) == 1
