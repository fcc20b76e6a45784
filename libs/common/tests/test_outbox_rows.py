"""emit_many builds each envelope once (payload JSON put straight into the envelope's JSON); what it
writes must be exactly what emit writes, with the same DATA-4 refusal of a personal identity code."""

from __future__ import annotations

import datetime as dt
import json
import types
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ktt_common.outbox import _fast_row, _outbox_row
from ktt_common.request_context import correlation_id_var

import ktt_probe as probe

WHEN = dt.datetime(2027, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)


def _runtime(service: str = "probe") -> types.SimpleNamespace:
    clock = types.SimpleNamespace(now=lambda: WHEN)
    return types.SimpleNamespace(settings=types.SimpleNamespace(service=service), clock=clock)


@settings(max_examples=100, deadline=None)
@given(note=st.text(max_size=40), subject=st.one_of(st.none(), st.text(max_size=20)),
       correlation=st.one_of(st.none(), st.text(min_size=1, max_size=20)), as_model=st.booleans())
def test_envelope_built_once_is_byte_for_byte_the_envelope_of_emit(note, subject, correlation, as_model):
    item = uuid.uuid4()
    payload = probe.ProbePayload(item=item, note=note) if as_model else {"item": str(item), "note": note}
    try:
        envelope, slow = _outbox_row(_runtime(), probe.ProbeHappened, payload, subject, correlation)
    except ValueError:  # DATA-4: a hetu-shaped note; the one-pass row refuses it alike
        with pytest.raises(ValueError, match="DATA-4"):
            _fast_row(_runtime(), probe.ProbeHappened, payload, subject, correlation or correlation_id_var.get(), WHEN)
        return
    fast = _fast_row(_runtime(), probe.ProbeHappened, payload, subject, correlation or correlation_id_var.get(), WHEN)
    # Only the fresh event id differs.
    assert fast["envelope"].replace(str(fast["event_id"]), envelope.id) == slow["envelope"]
    assert json.loads(fast["envelope"])["data"] == envelope.data
    assert {k: v for k, v in fast.items() if k not in ("envelope", "event_id", "created_at")} == \
           {k: v for k, v in slow.items() if k not in ("envelope", "event_id", "created_at")}


def test_a_personal_identity_code_in_a_payload_is_refused():
    payload = {"item": str(uuid.uuid4()), "note": "asiakas 131052-308T"}
    with pytest.raises(ValueError, match="DATA-4"):
        _fast_row(_runtime(), probe.ProbeHappened, payload, None, None, WHEN)


def test_another_services_event_is_refused():
    with pytest.raises(ValueError, match="may not publish"):
        _fast_row(_runtime("billing"), probe.ProbeHappened, {"item": str(uuid.uuid4())}, None, None, WHEN)
