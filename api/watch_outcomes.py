"""A grid worker's report on an elderly-watch visit task feeds the detector (the task's
incident names the household); see gis.watch_enrolment.record_outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import psycopg

from api.errors import Unprocessable
from api.users import User
from gis import audit
from gis.watch_enrolment import record_outcome

WatchOutcome = Literal["all_well", "needed_help", "away", "device_fault"]
WATCH_TYPE_PREFIX = "watch."


def record_visit_outcome(
    conn: psycopg.Connection,
    user: User,
    task_id: int,
    outcome: WatchOutcome,
    away_until: datetime | None,
) -> None:
    """Refused (422) for a task that is not a watch case, or "away" without a time."""
    row = conn.execute(
        "SELECT i.household_id FROM task t JOIN incident i ON i.id = t.incident_id "
        "JOIN watch_enrolment e ON e.household_id = i.household_id "
        "WHERE t.id = %s AND i.type LIKE %s",
        (task_id, WATCH_TYPE_PREFIX + "%"),
    ).fetchone()
    if row is None:
        raise Unprocessable(
            f"工单 {task_id} 不是关爱守护上门任务 (watch_outcome only on elderly-watch tasks)"
        )
    if outcome == "away" and (away_until is None or away_until.tzinfo is None):
        raise Unprocessable("外出须填写带时区的 away_until (away needs away_until with a zone)")
    record_outcome(conn, row[0], task_id, outcome, away_until, user.username)
    audit.record(
        conn,
        user.username,
        "watch_outcome",
        "task",
        task_id,
        {"outcome": outcome, "away_until": away_until.isoformat() if away_until else None},
    )
