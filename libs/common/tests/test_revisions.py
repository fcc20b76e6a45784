"""ktt_common.revisions.supersedes: copies never go backwards (issue 12 item 3)."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from ktt_common.revisions import supersedes

times = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC))
revisions = st.none() | st.integers(1, 2**62)
events = st.lists(st.tuples(revisions, times), min_size=1, max_size=12)


def _apply(sequence):
    applied_rev, applied_time = None, None
    for rev, time in sequence:
        if supersedes(rev, time, applied_rev, applied_time):
            applied_rev, applied_time = rev, time
    return applied_rev, applied_time


@given(events)
def test_the_highest_revision_wins_in_any_order(sequence):
    numbered = [rev for rev, _ in sequence if rev is not None]
    for order in itertools.islice(itertools.permutations(sequence), 24):
        rev, _time = _apply(order)
        if numbered:
            assert rev == max(numbered)


@given(st.lists(times, min_size=1, max_size=10))
def test_without_revisions_the_latest_time_wins(stamps):
    assert _apply([(None, t) for t in stamps])[1] == max(stamps)


def test_a_first_copy_is_always_applied_and_replays_are_harmless():
    now = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    assert supersedes(None, now, None, None) and supersedes(3, now, None, None)
    assert supersedes(3, now, 3, now)  # the same event again: applied again, same values
    assert not supersedes(2, now + dt.timedelta(days=1), 3, now)
    assert not supersedes(None, now + dt.timedelta(days=1), 3, now)
    assert supersedes(1, now - dt.timedelta(days=1), None, now)
