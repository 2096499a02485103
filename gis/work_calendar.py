"""The working calendar of ordinary work orders: which days are working days, and up to when
that is known.

Holidays and make-up working days (调休) come from the maintained ``chinese-calendar``
package, and from the project's data file (``Settings.work_calendar_path``) for years the
installed package does not cover yet: the State Council publishes next year's list each
November, often before a package release. A day past the last covered year is never treated
as ordinary in silence: it counts by weekday only and every deadline that needed it is
marked ``estimated``; :func:`coverage_warning` says so from ``WARN_DAYS`` days before.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import chinese_calendar.constants as cn_calendar

MAX_CALENDAR_DAYS = 3 * 366
"""A working-time sum that needs more calendar days than this is a configuration error."""
WARN_DAYS = 60
"""Warn this many days before the calendar runs out."""


class WorkingMoment(NamedTuple):
    at: datetime
    estimated: bool
    """True when a day past the calendar's coverage was counted by weekday only."""


@dataclass(frozen=True)
class WorkCalendar:
    timezone: ZoneInfo
    working_weekdays: frozenset[int]
    """ISO weekdays, Monday = 1."""
    periods: tuple[tuple[time, time], ...]
    holidays: frozenset[date]
    make_up_workdays: frozenset[date]
    covered_years: frozenset[int]
    sources: tuple[str, ...]

    @property
    def covered_until(self) -> date:
        """The last day of the unbroken run of covered years from the earliest one on."""
        year = min(self.covered_years)
        while year + 1 in self.covered_years:
            year += 1
        return date(year, 12, 31)

    def covers(self, day: date) -> bool:
        return day.year in self.covered_years

    def is_working_day(self, day: date) -> bool:
        if day in self.make_up_workdays:
            return True
        return day.isoweekday() in self.working_weekdays and day not in self.holidays

    def add_working_time(self, start: datetime, duration: timedelta) -> WorkingMoment:
        """The moment ``duration`` of working time after ``start`` has elapsed."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        remaining = duration
        cursor = start.astimezone(self.timezone)
        day = cursor.date()
        estimated = False
        for _ in range(MAX_CALENDAR_DAYS):
            estimated = estimated or not self.covers(day)
            if self.is_working_day(day):
                for begin, end in self.periods:
                    period_end = datetime.combine(day, end, self.timezone)
                    period_start = max(datetime.combine(day, begin, self.timezone), cursor)
                    if period_start >= period_end:
                        continue
                    if remaining <= period_end - period_start:
                        return WorkingMoment(period_start + remaining, estimated)
                    remaining -= period_end - period_start
            day += timedelta(days=1)
        raise ValueError(f"{duration} of working time does not fit in {MAX_CALENDAR_DAYS} days")


def coverage_warning(calendar: WorkCalendar, today: date) -> str | None:
    """A warning for the logs and the admin once the calendar ends within ``WARN_DAYS``."""
    left = (calendar.covered_until - today).days
    if left > WARN_DAYS:
        return None
    if left < 0:
        return (
            f"工作日历已过期: 覆盖至 {calendar.covered_until}, 此后按周一至周五估算办理时限 / "
            f"the working calendar ended on {calendar.covered_until}: deadlines are estimated "
            "by weekday; add next year's holidays to the calendar file"
        )
    return (
        f"工作日历将于 {calendar.covered_until} 到期 (剩 {left} 天) / the working calendar "
        f"ends on {calendar.covered_until} ({left} days left): add next year's holidays and "
        "make-up working days (国务院办公厅通知) to the calendar file or update chinese-calendar"
    )


class CoverageWatch:
    """Logs :func:`coverage_warning` once a day at most, for a long-running process."""

    def __init__(self, calendar: WorkCalendar, log: logging.Logger) -> None:
        self.calendar = calendar
        self.log = log
        self._warned_on: date | None = None

    def check(self, now: datetime) -> str | None:
        today = now.astimezone(self.calendar.timezone).date()
        warning = coverage_warning(self.calendar, today)
        if warning and self._warned_on != today:
            self.log.warning("%s", warning)
            self._warned_on = today
        return warning


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@lru_cache(maxsize=4)
def load_work_calendar(path: Path) -> WorkCalendar:
    """chinese-calendar's years, with the years of the data file at ``path`` on top (see
    gis/data/work_calendar_cn.json for its format)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    file_years = frozenset(doc["years"])
    holidays = {d for d in cn_calendar.holidays if d.year not in file_years}
    make_up = {d for d in cn_calendar.workdays if d.year not in file_years}
    package_years = set(range(min(cn_calendar.holidays).year, max(cn_calendar.holidays).year + 1))
    file_holidays = {
        day
        for span in doc["holidays"]
        for day in _days(date.fromisoformat(span["from"]), date.fromisoformat(span["to"]))
    }
    file_make_up = {date.fromisoformat(d["date"]) for d in doc["make_up_workdays"]}
    outside = sorted(d for d in file_holidays | file_make_up if d.year not in file_years)
    if outside:
        raise ValueError(f"{path}: dates outside its years {sorted(file_years)}: {outside[:3]}")
    return WorkCalendar(
        timezone=ZoneInfo(doc["timezone"]),
        working_weekdays=frozenset(doc["working_weekdays"]),
        periods=tuple(
            (time.fromisoformat(a), time.fromisoformat(b)) for a, b in doc["working_periods"]
        ),
        holidays=frozenset(holidays | file_holidays),
        make_up_workdays=frozenset(make_up | file_make_up),
        covered_years=frozenset(package_years | file_years),
        sources=("chinese-calendar", doc["source"]),
    )
