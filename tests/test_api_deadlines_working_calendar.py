"""Deadlines: urgent tasks on a continuous clock, ordinary ones on the 2026 working calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gis.deadlines import DEFAULT_DEADLINE, default_calendar, due_at

CN = ZoneInfo("Asia/Shanghai")


def _cn(*args: int) -> datetime:
    return datetime(*args, tzinfo=CN)


def test_deadline_urgent_fire_runs_through_a_holiday_night() -> None:
    created = _cn(2026, 10, 1, 3, 0)  # National Day, 3 a.m.
    assert due_at(created, "fire", "urgent") == _cn(2026, 10, 1, 3, 30)


def test_deadline_normal_skips_lunch_break() -> None:
    # Monday 11:00 + 2 working hours = 1 h before lunch + 1 h after 13:30.
    assert due_at(_cn(2026, 3, 2, 11, 0), "fire", "normal") == _cn(2026, 3, 2, 14, 30)


def test_deadline_normal_starts_at_opening_time() -> None:
    assert due_at(_cn(2026, 3, 2, 6, 45), "fire", "normal") == _cn(2026, 3, 2, 10, 30)


def test_deadline_normal_skips_the_national_day_holiday() -> None:
    # Wed 30 Sep 17:00: half an hour left that day; 1–7 Oct are holidays; Thu 8 Oct 08:30 + 1.5 h.
    assert due_at(_cn(2026, 9, 30, 17, 0), "fire", "normal") == _cn(2026, 10, 8, 10, 0)


def test_deadline_normal_counts_a_make_up_sunday() -> None:
    # Fri 18 Sep 16:30: one hour that day; Sat 19 off; Sun 20 Sep is a make-up working day (调休).
    assert due_at(_cn(2026, 9, 18, 16, 30), "fire", "normal") == _cn(2026, 9, 20, 9, 30)


def test_deadline_normal_over_a_weekend_without_make_up_day() -> None:
    # Fri 6 Mar 17:00: half an hour; Sat/Sun off; Mon 9 Mar 08:30 + 1.5 h.
    assert due_at(_cn(2026, 3, 6, 17, 0), "fire", "normal") == _cn(2026, 3, 9, 10, 0)


def test_deadline_unknown_category_gets_two_working_days() -> None:
    created = _cn(2026, 3, 2, 8, 30)  # Monday opening
    assert DEFAULT_DEADLINE.normal == timedelta(hours=15)
    assert due_at(created, "something_new", "normal") == _cn(2026, 3, 3, 17, 30)


def test_deadline_calendar_knows_spring_festival_and_its_make_up_days() -> None:
    calendar = default_calendar()
    assert calendar.is_working_day(date(2026, 2, 14))  # Saturday, make-up day
    assert not calendar.is_working_day(date(2026, 2, 16))  # Monday, 春节
    assert calendar.is_working_day(date(2026, 2, 24))  # Tuesday after the holiday
    assert not calendar.is_working_day(date(2026, 3, 7))  # an ordinary Saturday


def test_deadline_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(datetime(2026, 3, 2, 9, 0), "fire", "normal")
