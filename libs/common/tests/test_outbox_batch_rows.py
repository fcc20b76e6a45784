"""emit_many's rows (``_batch_rows``: one envelope template per event type, each payload validated and
serialised once, one DATA-4 scan over the batch): byte for byte the envelopes :func:`emit` writes, and
a personal identity code anywhere in any event of a batch refuses the batch (DATA-4)."""

from __future__ import annotations

import datetime as dt
import types
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ktt_common.outbox import _batch_rows, _outbox_row

import ktt_probe as probe

WHEN = dt.datetime(2027, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
HETU = "131052-308T"  # a valid code (the checksum holds)


def _runtime() -> types.SimpleNamespace:
    return types.SimpleNamespace(settings=types.SimpleNamespace(service="probe"), clock=types.SimpleNamespace(now=lambda: WHEN))


_EVENTS = st.lists(st.tuples(
    st.text(max_size=30).filter(lambda note: "-" not in note and "+" not in note),  # no hetu-shaped notes here
    st.one_of(st.none(), st.text(alphabet="abc-1234ä€\"\\\n", max_size=20)),
    st.one_of(st.none(), st.text(alphabet="xyz-59é\t", min_size=1, max_size=12)),
    st.booleans()), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(events=_EVENTS)
def test_batch_rows_are_byte_for_byte_the_rows_of_emit(events):
    batch = [(probe.ProbeHappened, probe.ProbePayload(item=uuid.uuid4(), note=note) if as_model
              else {"item": str(uuid.uuid4()), "note": note}, subject) for note, subject, _, as_model in events]
    correlations = [correlation for _, _, correlation, _ in events]
    rows = _batch_rows("probe", batch, correlations, WHEN)
    assert len(rows) == len(batch) and len({row["event_id"] for row in rows}) == len(rows)
    for row, (event_type, payload, subject), correlation in zip(rows, batch, correlations):
        envelope, expected = _outbox_row(_runtime(), event_type, payload, subject, correlation)
        # Only the fresh event id differs; the rest of the row is the same too.
        assert row["envelope"] == expected["envelope"].replace(envelope.id, str(row["event_id"]))
        assert row["event_id"].version == 4
        assert {k: v for k, v in row.items() if k not in ("envelope", "event_id", "created_at")} == \
               {k: v for k, v in expected.items() if k not in ("envelope", "event_id", "created_at")}


@pytest.mark.parametrize("where", ["payload", "subject", "correlation id"])
@pytest.mark.parametrize("position", [0, 3, 6])
def test_a_personal_identity_code_in_any_event_of_a_batch_refuses_the_batch(where, position):
    """DATA-4: the batch is scanned as one text; a code in the first, a middle or the last event,
    in its payload, subject or correlation id, is found and the event named."""
    batch = [(probe.ProbeHappened, {"item": str(uuid.uuid4()), "note": f"day {i} 2027-03-0{i}"}, str(uuid.uuid4())) for i in range(7)]
    correlations: list[str | None] = ["c-1"] * 7
    if where == "payload":
        batch[position] = (probe.ProbeHappened, {"item": str(uuid.uuid4()), "note": f"asiakas {HETU} soitti"}, None)
    elif where == "subject":
        batch[position] = (probe.ProbeHappened, {"item": str(uuid.uuid4())}, f"client:{HETU}")
    else:
        correlations[position] = f"ticket\\n{HETU}"  # right after an escaped newline, as it sits in JSON
    with pytest.raises(ValueError, match=f"DATA-4: refusing to publish {probe.ProbeHappened.type}"):
        _batch_rows("probe", batch, correlations, WHEN)
    assert _batch_rows("probe", batch[:position] + batch[position + 1:], ["c-1"] * 6, WHEN)  # the rest passes


def test_a_payload_that_breaks_its_contract_is_refused():
    with pytest.raises(ValidationError):
        _batch_rows("probe", [(probe.ProbeHappened, {"item": "not a uuid"}, None)], [None], WHEN)


def test_another_services_event_is_refused():
    with pytest.raises(ValueError, match="may not publish"):
        _batch_rows("billing", [(probe.ProbeHappened, {"item": str(uuid.uuid4())}, None)], [None], WHEN)
