"""Pure rules added for rule fidelity (AGR-18, AGR-10, AGR-13, PRV-6/PRV-7, AGR-1), at their
boundaries and as properties over ranges of dates."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, strategies as st

from ktt_voucher.agreements.rules import (
    MAX_DAYS_PER_WEEK, ScheduleDay, check_continuation_in_time, continuation_deadline, days_per_week_problem,
    end_date_problems, in_force_until, month_closed, overlap, place_problem, replacement_end, same_person,
    schedule_reduction,
)

T = dt.time
dates = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31))


def day(weekday: str, start: str = "10:00", end: str = "14:00") -> ScheduleDay:
    return ScheduleDay(weekday, T.fromisoformat(start), T.fromisoformat(end))


# --- AGR-18 ---------------------------------------------------------------------------------------

def test_agr18_in_force_until_by_state():
    start, end = dt.date(2027, 1, 4), dt.date(2027, 5, 31)
    assert in_force_until("draft", end, None) is None and in_force_until("withdrawn", end, start) is None
    assert in_force_until("signed", end, None) == end and in_force_until("active", end, None) == end
    assert in_force_until("ended", end, dt.date(2027, 2, 1)) == dt.date(2027, 2, 1)


def test_agr18_replacement_ends_the_day_before_and_the_two_never_share_a_day():
    old_start, new_start = dt.date(2027, 1, 4), dt.date(2027, 2, 1)
    assert replacement_end(new_start) == dt.date(2027, 1, 31)
    assert overlap(old_start, dt.date(2027, 2, 1), new_start, dt.date(2027, 5, 31))  # one shared day
    assert not overlap(old_start, replacement_end(new_start), new_start, dt.date(2027, 5, 31))


@given(dates, st.integers(0, 400), dates, st.integers(0, 400))
def test_agr18_overlap_is_symmetric_and_means_a_shared_day(a, a_len, b, b_len):
    a_end, b_end = a + dt.timedelta(days=a_len), b + dt.timedelta(days=b_len)
    shared = max(a, b) <= min(a_end, b_end)
    assert overlap(a, a_end, b, b_end) == overlap(b, b_end, a, a_end) == shared


@given(dates, dates)
def test_agr18_an_agreement_replaced_before_its_start_binds_no_day(start, new_start):
    ended_on = replacement_end(new_start)
    if ended_on < start:
        assert not overlap(start, ended_on, start, start)


def test_agr18_four_days_in_a_calendar_week_across_agreements_five_refused():
    week = [dt.date(2027, 1, 11) + dt.timedelta(days=i) for i in range(5)]  # Mon-Fri
    assert days_per_week_problem(week[:MAX_DAYS_PER_WEEK]) is None
    problem = days_per_week_problem(week)
    assert problem is not None and problem.rule == "AGR-18" and "2027-01-11" in problem.message
    # Sun 10.1. and Mon 11.1. are in different calendar weeks.
    spread = [dt.date(2027, 1, 7), dt.date(2027, 1, 8), dt.date(2027, 1, 9), dt.date(2027, 1, 10), dt.date(2027, 1, 11)]
    assert days_per_week_problem(spread) is None


@given(st.lists(dates, max_size=60))
def test_agr18_weekly_verdict_matches_a_count_by_iso_week(days):
    counts: dict[tuple[int, int], int] = {}
    for d in set(days):
        counts[d.isocalendar()[:2]] = counts.get(d.isocalendar()[:2], 0) + 1
    assert (days_per_week_problem(days) is None) == all(c <= MAX_DAYS_PER_WEEK for c in counts.values())


# --- AGR-10 / REP-3 ---------------------------------------------------------------------------------

def test_rep3_a_continuation_seven_days_before_the_end_is_in_time_six_is_not():
    end = dt.date(2027, 5, 31)
    assert continuation_deadline(end) == dt.date(2027, 5, 24)
    assert check_continuation_in_time(dt.date(2027, 5, 24), end) is None
    late = check_continuation_in_time(dt.date(2027, 5, 25), end)
    assert late is not None and late.rule == "REP-3"


def test_agr10_reductions_are_named_increases_are_not():
    three = [day("mon"), day("tue"), day("wed")]
    assert schedule_reduction(three, three + [day("thu")]) is None
    # Fewer days is a drop even when the week's hours stay (12 h -> 12 h on longer days).
    assert schedule_reduction(three, [day("mon", "09:00", "15:00"), day("tue", "09:00", "15:00")]) == "days a week from 3 to 2"
    assert "days a week from 3 to 2" in schedule_reduction(three, three[:2])
    shorter = schedule_reduction([day("mon", "09:00", "15:00")], [day("mon", "10:00", "14:00")])
    assert "hours a week from 6 to 4" in shorter and "shortest day" in shorter


# --- AGR-13 ------------------------------------------------------------------------------------------

def test_agr13_a_month_closes_after_the_third_of_the_next():
    assert not month_closed(dt.date(2026, 12, 31), dt.date(2027, 1, 3))
    assert month_closed(dt.date(2026, 12, 1), dt.date(2027, 1, 4))
    assert not month_closed(dt.date(2027, 2, 28), dt.date(2027, 3, 3)) and month_closed(dt.date(2027, 2, 28), dt.date(2027, 3, 4))


@given(dates, st.integers(0, 120))
def test_agr13_closed_months_property(day_, offset):
    today = day_ + dt.timedelta(days=offset)
    next_month = (day_.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    assert month_closed(day_, today) == (today >= next_month.replace(day=4))


def test_agr13_end_dates_inside_the_term_and_open_months():
    start, end, today = dt.date(2026, 12, 7), dt.date(2027, 5, 31), dt.date(2027, 1, 10)
    assert end_date_problems(dt.date(2027, 1, 10), start, end, today) == []
    assert [p.rule for p in end_date_problems(dt.date(2026, 12, 6), start, end, today)] == ["AGR-13", "AGR-13"]  # before start, closed
    assert len(end_date_problems(dt.date(2027, 6, 1), start, end, today)) == 1


# --- PRV-6 / PRV-7 -------------------------------------------------------------------------------------

@given(st.integers(-3, 30), st.integers(0, 30))
def test_prv6_prv7_a_place_is_free_only_beyond_those_ahead_in_the_queue(free, ahead):
    assert (place_problem(free, ahead) is None) == (free > ahead)
    assert place_problem(None, ahead) is None


def test_agr1_signer_names_compare_as_people_write_them():
    assert same_person("Vastuu Henkilö", "henkilö  vastuu") and same_person(" Ville Vastaava ", "ville vastaava")
    assert not same_person("Ville Vastaava", "Ville") and not same_person(None, "x") and not same_person("", "")
