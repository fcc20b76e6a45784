"""Pure rules of the daily log and of agreement schedules, at their boundaries and as properties
over date ranges (ATT-3, ATT-9, AGR-6, AGR-11, AGR-12, AGR-14)."""

from __future__ import annotations

import bisect
import datetime as dt

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from ktt_attendance.agreements import rules as ar
from ktt_attendance.log import rules

D = dt.date


def test_hours_4_to_8_at_the_boundaries():
    assert rules.hours_problem(240) is None and rules.hours_problem(480) is None
    assert "3.5 h" in rules.hours_problem(210)
    assert rules.hours_problem(481) is not None and rules.hours_problem(None) is not None
    assert rules.minutes(4, None, None) == 240
    assert rules.minutes(None, dt.time(9), dt.time(13, 30)) == 270
    assert rules.minutes(4.5, dt.time(9), dt.time(14)) == 270  # hours given: breaks left out


def test_future_days_are_refused_today_is_not():
    assert rules.future_problem(D(2027, 1, 29), D(2027, 1, 29)) is None
    assert rules.future_problem(D(2027, 1, 30), D(2027, 1, 29)) is not None
    assert rules.future_problem(D.max, D(2027, 1, 29)) is not None


def test_authorised_absences_need_their_certificates():
    """ATT-3: sickness always with a certificate; doctor's visits and a child's illness with one too."""
    assert rules.authorised("sick_with_certificate", True)
    assert not rules.authorised("sick_with_certificate", False)
    assert not rules.authorised("sick_without_certificate", True)
    assert rules.authorised("doctor_visit", True) and not rules.authorised("doctor_visit", False)
    assert rules.authorised("job_interview", False) and rules.authorised("other_authorised", False)
    assert not rules.authorised("unauthorised", True) and not rules.authorised("sent_away_influence", True)


def test_not_organised_defaults_to_the_public_holiday_and_refuses_a_false_one():
    assert rules.not_organised_problem(D(2026, 12, 6), None) == ("public_holiday", None)
    assert rules.not_organised_problem(D(2026, 12, 7), None) == ("provider_closure", None)
    assert rules.not_organised_problem(D(2026, 12, 7), "public_holiday")[1] is not None
    assert rules.not_organised_problem(D(2026, 12, 25), "provider_closure") == ("provider_closure", None)


def test_the_fifth_day_of_a_calendar_week_is_refused():
    week = rules.ClientDays.of([D(2027, 1, 18), D(2027, 1, 19), D(2027, 1, 20)])
    assert week.problem(D(2027, 1, 21)) is None
    week.add(D(2027, 1, 21))
    assert week.problem(D(2027, 1, 22))[0] == "ATT-9"
    assert week.problem(D(2027, 1, 25)) is None  # the next ISO week
    week.remove(D(2027, 1, 18))
    assert week.problem(D(2027, 1, 22)) is None


def _five_a_week(first: dt.date, n: int) -> list[dt.date]:
    out, day = [], first
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def test_the_231st_day_in_12_months_is_refused():
    """ATT-9 / AGR-11 at its boundary (the days would come from before the weekly limit held)."""
    history = _five_a_week(D(2026, 1, 5), 229)
    nxt = _five_a_week(history[-1] + dt.timedelta(days=1), 2)
    assert rules.twelve_month_problem(history, nxt[0]) is None            # the 230th
    assert "231" in rules.twelve_month_problem(history + [nxt[0]], nxt[1])  # the 231st
    # 12 months after the first day, the window has moved on.
    assert rules.twelve_month_problem(history + [nxt[0]], D(2027, 1, 5)) is None


def _brute(days: list[dt.date], day: dt.date) -> bool:
    """Any window [s, s + 12 months) holding ``day`` with more than 230 days, tried from every day."""
    all_days = sorted(days + [day])
    for s in {day - dt.timedelta(days=i) for i in range(0, 367)}:
        end = s + relativedelta(months=12)
        if s <= day < end and bisect.bisect_left(all_days, end) - bisect.bisect_left(all_days, s) > 230:
            return True
    return False


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=700), min_size=200, max_size=500, unique=True),
       st.integers(min_value=0, max_value=700))
def test_the_12_month_window_agrees_with_trying_every_window(offsets, at):
    base = D(2026, 1, 1)
    days = sorted(base + dt.timedelta(days=o) for o in offsets if o != at)
    day = base + dt.timedelta(days=at)
    assert (rules.twelve_month_problem(days, day) is not None) == _brute(days, day)


def test_add_months_never_overflows():
    assert rules.add_months(D(9999, 12, 31), 12) == D.max
    assert rules.add_months(D(1, 1, 1), -12) == D.min
    assert rules.add_months(D(2024, 2, 29), 12) == D(2025, 2, 28)


PERIOD = {
    "start": "2026-12-07", "end": "2027-05-31",
    "schedule": [{"weekday": "fri", "start": "09:00", "end": "14:00"}], "schedule_from": "2027-01-04",
    "earlier_schedules": [{"start": "2026-12-07", "end": "2027-01-03",
                           "schedule": [{"weekday": "mon", "start": "09:00", "end": "14:00"}]}],
}
CONTINUATION = {"start": "2027-06-01", "end": "2027-11-30",
                "schedule": [{"weekday": "tue", "start": "09:00", "end": "15:00"}]}


def test_the_schedule_in_force_on_a_day_follows_reviews_and_continuations():
    """AGR-12: before schedule_from the earlier schedule applies; a continuation has its own."""
    segments = ar.schedule_segments([PERIOD, CONTINUATION])
    assert ar.is_scheduled(segments, D(2026, 12, 7)) and ar.is_scheduled(segments, D(2027, 1, 3) - dt.timedelta(days=6))
    assert not ar.is_scheduled(segments, D(2026, 12, 11))  # a Friday under the old schedule
    assert ar.is_scheduled(segments, D(2027, 1, 8)) and not ar.is_scheduled(segments, D(2027, 1, 4))
    assert ar.is_scheduled(segments, D(2027, 6, 1)) and not ar.is_scheduled(segments, D(2027, 6, 4))
    assert not ar.is_scheduled(segments, D(2027, 12, 7)) and not ar.is_scheduled(segments, D.max)
    assert ar.scheduled_days(segments, D(2026, 12, 28), D(2027, 1, 10)) == [D(2026, 12, 28), D(2027, 1, 8)]


@settings(max_examples=80, deadline=None)
@given(st.dates(min_value=D(2026, 11, 1), max_value=D(2027, 12, 31)))
def test_a_day_is_scheduled_exactly_when_the_projected_days_hold_it(day):
    segments = ar.schedule_segments([PERIOD, CONTINUATION])
    assert ar.is_scheduled(segments, day) == (day in ar.scheduled_days(segments, day, day))
    assert ar.is_scheduled(segments, day) == (day in ar.scheduled_days(segments, D(2026, 12, 1), D(2027, 12, 31)))


def test_in_force_from_the_start_to_the_end_or_the_end_day():
    assert ar.in_force(D(2027, 1, 1), D(2027, 6, 30), None, D(2027, 1, 1))
    assert ar.in_force(D(2027, 1, 1), D(2027, 6, 30), None, D(2027, 6, 30))
    assert not ar.in_force(D(2027, 1, 1), D(2027, 6, 30), None, D(2026, 12, 31))
    assert ar.in_force(D(2027, 1, 1), D(2027, 6, 30), D(2027, 2, 1), D(2027, 2, 1))
    assert not ar.in_force(D(2027, 1, 1), D(2027, 6, 30), D(2027, 2, 1), D(2027, 2, 2))
    assert not ar.in_force(D(2027, 1, 1), D(2027, 6, 30), D(2026, 12, 31), D(2027, 1, 1))  # ended before it started
    assert not ar.in_force(None, None, None, D(2027, 1, 1))


def test_a_day_out_of_force_is_named_by_its_rule_the_visit_before_the_start_is_agr_16():
    start, end = D(2027, 1, 1), D(2027, 6, 30)
    assert ar.out_of_force_problem(D(2027, 1, 1), start, end, None) is None
    rule, message = ar.out_of_force_problem(D(2026, 12, 31), start, end, None)
    assert rule == "AGR-16" and "free of charge" in message and "2027-01-01" in message
    assert ar.out_of_force_problem(D(2027, 7, 1), start, end, None)[0] == "AGR-4"
    assert ar.out_of_force_problem(D(2027, 2, 2), start, end, D(2027, 2, 1))[0] == "AGR-13"
    assert ar.out_of_force_problem(D(2027, 7, 1), start, end, D(2027, 2, 1))[0] == "AGR-4"


@settings(max_examples=300)
@given(st.dates(D(2026, 1, 1), D(2028, 12, 31)), st.integers(0, 400), st.one_of(st.none(), st.integers(-30, 400)),
       st.dates(D(2025, 12, 1), D(2029, 1, 31)))
def test_out_of_force_agrees_with_in_force(start, length, ended_after, day):
    """AGR-4 / AGR-13 / AGR-16: a day is refused exactly when the agreement does not bind it."""
    end = start + dt.timedelta(days=length)
    ended_on = None if ended_after is None else start + dt.timedelta(days=ended_after)
    problem = ar.out_of_force_problem(day, start, end, ended_on)
    assert (problem is None) == ar.in_force(start, end, ended_on, day)
    if problem is not None:
        assert problem[0] == ("AGR-16" if day < start else "AGR-13" if ended_on is not None and day <= end else "AGR-4")


def test_a_deviation_is_recorded_at_the_latest_the_day_before():
    start, last = D(2027, 1, 1), D(2027, 6, 30)
    assert ar.deviation_problem(D(2027, 2, 6), D(2027, 2, 5), start, last) is None
    assert "today" in ar.deviation_problem(D(2027, 2, 5), D(2027, 2, 5), start, last)
    assert ar.deviation_problem(D(2027, 7, 1), D(2027, 2, 5), start, last) is not None
    assert ar.deviation_problem(D.max, D(2027, 2, 5), start, last) is not None
    assert ar.deviation_problem(D.min, D(2027, 2, 5), start, last) is not None


# --- alerts (ATT-4, ATT-5, AGR-9) ---------------------------------------------------------------

from ktt_attendance.alerts import rules as alert_rules  # noqa: E402

MISSED = alert_rules.Day("absent", False, "unauthorised")
SICK = alert_rules.Day("absent", True, "sick_with_certificate")
HERE = alert_rules.Day("present")


def test_no_show_needs_five_working_days_and_skips_holidays():
    mon_thu = [d for d in (D(2026, 12, 1) + dt.timedelta(days=i) for i in range(60)) if d.weekday() < 4]
    log = {d: MISSED for d in (D(2026, 12, 21), D(2026, 12, 22), D(2026, 12, 23), D(2026, 12, 28))}
    assert alert_rules.no_show_working_days(mon_thu, log) == []
    log[D(2026, 12, 29)] = MISSED
    [episode] = alert_rules.no_show_working_days(mon_thu, log)
    assert episode.since == D(2026, 12, 21) and D(2026, 12, 24) not in episode.days


def test_sick_leave_over_14_days_and_group_sessions_in_a_row():
    every_day = [D(2027, 3, 1) + dt.timedelta(days=i) for i in range(30)]
    fourteen = {d: SICK for d in every_day[:14]}
    assert alert_rules.long_sick_leaves(every_day, fourteen) == []
    assert alert_rules.long_sick_leaves(every_day, {d: SICK for d in every_day[:15]})[0].since == D(2027, 3, 1)
    sessions = every_day[:6]
    assert alert_rules.no_show_group_sessions(sessions, {sessions[0]: MISSED, sessions[1]: MISSED, sessions[2]: HERE,
                                                         sessions[3]: MISSED}) == []
    assert len(alert_rules.no_show_group_sessions(sessions, {d: MISSED for d in sessions})) == 1  # one run, however long


@settings(max_examples=80, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=200), max_size=40), st.integers(2, 6), st.integers(7, 60))
def test_repeated_absence_windows_reach_the_threshold_and_never_share_a_day(offsets, threshold, window):
    log = {D(2027, 1, 1) + dt.timedelta(days=o): MISSED for o in offsets}
    episodes = alert_rules.repeated_absences(log, threshold, window)
    seen: set[dt.date] = set()
    for ep in episodes:
        assert len(ep.days) == threshold and (ep.days[-1] - ep.days[0]).days < window
        assert not seen & set(ep.days)
        seen |= set(ep.days)
    # No window of unreported days is left that would reach the threshold after the last episode.
    rest = sorted(d for d in log if not episodes or d > episodes[-1].days[-1])
    assert all((rest[i + threshold - 1] - rest[i]).days >= window for i in range(len(rest) - threshold + 1))
