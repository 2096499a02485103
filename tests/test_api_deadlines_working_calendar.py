"""Deadlines: urgent tasks on a continuous clock, ordinary ones on the working calendar
(chinese-calendar plus the project's data file), which says how far it reaches."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from gis.deadlines import DEFAULT_DEADLINE, due_at
from gis.settings import Settings
from gis.work_calendar import WARN_DAYS, WorkingMoment, coverage_warning, load_work_calendar

CN = ZoneInfo("Asia/Shanghai")
CALENDAR = load_work_calendar(Settings().work_calendar_path)


def _cn(*args: int) -> datetime:
    return datetime(*args, tzinfo=CN)


def test_deadline_urgent_fire_runs_through_a_holiday_night() -> None:
    created = _cn(2026, 10, 1, 3, 0)  # National Day, 3 a.m.
    assert due_at(created, "fire", "urgent", CALENDAR) == (_cn(2026, 10, 1, 3, 30), False)


def test_deadline_normal_skips_lunch_break() -> None:
    # Monday 11:00 + 2 working hours = 1 h before lunch + 1 h after 13:30.
    assert due_at(_cn(2026, 3, 2, 11, 0), "fire", "normal", CALENDAR) == (
        _cn(2026, 3, 2, 14, 30),
        False,
    )


def test_deadline_normal_starts_at_opening_time() -> None:
    assert due_at(_cn(2026, 3, 2, 6, 45), "fire", "normal", CALENDAR) == (
        _cn(2026, 3, 2, 10, 30),
        False,
    )


def test_deadline_normal_skips_the_national_day_holiday() -> None:
    # Wed 30 Sep 17:00: half an hour left that day; 1–7 Oct are holidays; Thu 8 Oct 08:30 + 1.5 h.
    assert due_at(_cn(2026, 9, 30, 17, 0), "fire", "normal", CALENDAR) == (
        _cn(2026, 10, 8, 10, 0),
        False,
    )


def test_deadline_normal_counts_a_make_up_sunday() -> None:
    # Fri 18 Sep 16:30: one hour that day; Sat 19 off; Sun 20 Sep is a make-up working day (调休).
    assert due_at(_cn(2026, 9, 18, 16, 30), "fire", "normal", CALENDAR) == (
        _cn(2026, 9, 20, 9, 30),
        False,
    )


def test_deadline_normal_over_a_weekend_without_make_up_day() -> None:
    # Fri 6 Mar 17:00: half an hour; Sat/Sun off; Mon 9 Mar 08:30 + 1.5 h.
    assert due_at(_cn(2026, 3, 6, 17, 0), "fire", "normal", CALENDAR) == (
        _cn(2026, 3, 9, 10, 0),
        False,
    )


def test_deadline_unknown_category_gets_two_working_days() -> None:
    created = _cn(2026, 3, 2, 8, 30)  # Monday opening
    assert DEFAULT_DEADLINE.normal == timedelta(hours=15)
    assert due_at(created, "something_new", "normal", CALENDAR) == (_cn(2026, 3, 3, 17, 30), False)


def test_deadline_calendar_knows_spring_festival_and_its_make_up_days() -> None:
    calendar = CALENDAR
    assert calendar.is_working_day(date(2026, 2, 14))  # Saturday, make-up day
    assert not calendar.is_working_day(date(2026, 2, 16))  # Monday, 春节
    assert calendar.is_working_day(date(2026, 2, 24))  # Tuesday after the holiday
    assert not calendar.is_working_day(date(2026, 3, 7))  # an ordinary Saturday


def test_deadline_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(datetime(2026, 3, 2, 9, 0), "fire", "normal", CALENDAR)


def test_calendar_file_agrees_with_chinese_calendar_where_both_cover_a_year() -> None:
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert CALENDAR.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_calendar_says_the_last_day_it_covers() -> None:
    assert CALENDAR.covered_until == date(2026, 12, 31)
    assert CALENDAR.covers(date(2026, 12, 31)) and not CALENDAR.covers(date(2027, 1, 1))


def test_deadline_past_the_calendar_is_by_weekday_and_flagged_estimated() -> None:
    # Thu 31 Dec 2026 17:00: half an hour that day (covered), then Fri 1 Jan 2027 — not
    # covered, so counted as an ordinary Friday by weekday, and the deadline says so.
    moment = due_at(_cn(2026, 12, 31, 17, 0), "fire", "normal", CALENDAR)
    assert moment == WorkingMoment(_cn(2027, 1, 1, 10, 0), estimated=True)
    inside = due_at(_cn(2026, 12, 30, 9, 0), "fire", "normal", CALENDAR)
    assert inside.estimated is False


def test_calendar_warns_from_sixty_days_before_it_ends() -> None:
    end = CALENDAR.covered_until
    assert coverage_warning(CALENDAR, end - timedelta(days=WARN_DAYS + 1)) is None
    assert "2026-12-31" in coverage_warning(CALENDAR, end - timedelta(days=WARN_DAYS))
    assert "estimated" in coverage_warning(CALENDAR, end + timedelta(days=1))


def test_calendar_file_years_extend_the_coverage(tmp_path: Path) -> None:
    doc = json.loads(Settings().work_calendar_path.read_text(encoding="utf-8"))
    doc["years"] = [2026, 2027]
    doc["holidays"].append({"name": "元旦", "from": "2027-01-01", "to": "2027-01-01"})
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    extended = load_work_calendar(path)
    assert extended.covered_until == date(2027, 12, 31)
    assert not extended.is_working_day(date(2027, 1, 1))
    moment = due_at(_cn(2026, 12, 31, 17, 0), "fire", "normal", extended)
    assert moment == WorkingMoment(_cn(2027, 1, 4, 10, 0), estimated=False)  # Monday


def test_calendar_file_refuses_dates_outside_its_years(tmp_path: Path) -> None:
    doc = json.loads(Settings().work_calendar_path.read_text(encoding="utf-8"))
    doc["make_up_workdays"].append({"name": "x", "date": "2027-02-06"})
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="outside its years"):
        load_work_calendar(path)
