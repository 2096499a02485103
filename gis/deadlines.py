"""Work-order deadlines (办理时限) by category and urgency.

Urgent tasks (a fire) run on a continuous clock: 30 minutes are 30 minutes, at 3 a.m. or on
a holiday. Ordinary tasks run on the working-hours clock of the office that handles them:
Monday–Friday 08:30–12:00 and 13:30–17:30 China time, minus public holidays, plus the
weekend make-up working days (调休) the State Council announces every year
(gis.work_calendar: the chinese-calendar package plus the project's data file).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gis.work_calendar import WorkCalendar, WorkingMoment


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
    # the elderly watch's maintenance tasks: a dead door controller or a stuck meter
    "device": CategoryDeadline("设备维护", urgent=timedelta(hours=4), normal=timedelta(hours=15)),
}
DEFAULT_DEADLINE = CategoryDeadline("其他", urgent=timedelta(hours=4), normal=timedelta(hours=15))
"""Anything else: four hours if urgent, two working days (2 × 7.5 h) if not."""


def deadline_for(category: str) -> CategoryDeadline:
    return DEADLINES.get(category, DEFAULT_DEADLINE)


def due_at(
    created_at: datetime, category: str, urgency: str, calendar: WorkCalendar
) -> WorkingMoment:
    """When a task of this category and urgency, created at ``created_at``, falls due, and
    whether that is an estimate (the working calendar did not cover every day it needed)."""
    if created_at.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    limit = deadline_for(category)
    if urgency == "urgent":
        return WorkingMoment(created_at + limit.urgent, estimated=False)
    if urgency != "normal":
        raise ValueError(f"unknown urgency {urgency!r}")
    return calendar.add_working_time(created_at, limit.normal)
