"""Work-order deadlines (办理时限) by category and urgency.

Urgent tasks (a fire) run on a continuous clock: 30 minutes are 30 minutes, at 3 a.m. or on
a holiday. Ordinary tasks run on the working-hours clock of the office that handles them:
Monday–Friday 08:30–12:00 and 13:30–17:30 China time, minus public holidays, plus the
weekend make-up working days (调休) the State Council announces every year. The calendar
is a data file (``Settings.work_calendar_path``) so next year's list is an edit, not code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from gis.settings import get_settings

MAX_CALENDAR_DAYS = 3 * 366
"""A working-time sum that needs more calendar days than this is a configuration error."""


@dataclass(frozen=True)
class WorkCalendar:
    timezone: ZoneInfo
    working_weekdays: frozenset[int]
    """ISO weekdays, Monday = 1."""
    periods: tuple[tuple[time, time], ...]
    holidays: frozenset[date]
    make_up_workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        if day in self.make_up_workdays:
            return True
        return day.isoweekday() in self.working_weekdays and day not in self.holidays

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``start`` has elapsed."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        remaining = duration
        cursor = start.astimezone(self.timezone)
        day = cursor.date()
        for _ in range(MAX_CALENDAR_DAYS):
            if self.is_working_day(day):
                for begin, end in self.periods:
                    period_end = datetime.combine(day, end, self.timezone)
                    period_start = max(datetime.combine(day, begin, self.timezone), cursor)
                    if period_start >= period_end:
                        continue
                    if remaining <= period_end - period_start:
                        return period_start + remaining
                    remaining -= period_end - period_start
            day += timedelta(days=1)
        raise ValueError(f"{duration} of working time does not fit in {MAX_CALENDAR_DAYS} days")


def _clock(text: str) -> time:
    return time.fromisoformat(text)


def load_calendar(path: Path) -> WorkCalendar:
    """Read a calendar file (see gis/data/work_calendar_cn.json for the format)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    holidays: set[date] = set()
    for span in doc["holidays"]:
        day, last = date.fromisoformat(span["from"]), date.fromisoformat(span["to"])
        while day <= last:
            holidays.add(day)
            day += timedelta(days=1)
    return WorkCalendar(
        timezone=ZoneInfo(doc["timezone"]),
        working_weekdays=frozenset(doc["working_weekdays"]),
        periods=tuple((_clock(a), _clock(b)) for a, b in doc["working_periods"]),
        holidays=frozenset(holidays),
        make_up_workdays=frozenset(date.fromisoformat(d["date"]) for d in doc["make_up_workdays"]),
    )


@lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    return load_calendar(get_settings().work_calendar_path)


@dataclass(frozen=True)
class CategoryDeadline:
    label_zh: str
    urgent: timedelta
    """continuous clock"""
    normal: timedelta
    """working time"""


DEADLINES: dict[str, CategoryDeadline] = {
    "fire": CategoryDeadline("火情", urgent=timedelta(minutes=30), normal=timedelta(hours=2)),
    "elderly": CategoryDeadline(
        "独居老人关怀", urgent=timedelta(hours=2), normal=timedelta(hours=4)
    ),
    "water_leak": CategoryDeadline("漏水", urgent=timedelta(hours=2), normal=timedelta(hours=7.5)),
    "power": CategoryDeadline("用电异常", urgent=timedelta(hours=2), normal=timedelta(hours=7.5)),
}
DEFAULT_DEADLINE = CategoryDeadline("其他", urgent=timedelta(hours=4), normal=timedelta(hours=15))
"""Anything else: four hours if urgent, two working days (2 × 7.5 h) if not."""


def deadline_for(category: str) -> CategoryDeadline:
    return DEADLINES.get(category, DEFAULT_DEADLINE)


def due_at(
    created_at: datetime, category: str, urgency: str, calendar: WorkCalendar | None = None
) -> datetime:
    """When a task of this category and urgency, created at ``created_at``, falls due."""
    if created_at.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    limit = deadline_for(category)
    if urgency == "urgent":
        return created_at + limit.urgent
    if urgency != "normal":
        raise ValueError(f"unknown urgency {urgency!r}")
    return (calendar or default_calendar()).add_working_time(created_at, limit.normal)
