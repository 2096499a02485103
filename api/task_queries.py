"""Reading tasks: the list with its filters, the overdue list, one task with its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import psycopg
from fastapi import Depends, Query
from psycopg.rows import dict_row

from api.pages import PageParams, fetch_page
from api.scope import Subject, Where, scope_where
from api.users import User
from gis.models import TASK_STATES
from gis.workorders import OPEN_STATES, STATE_LABELS_ZH

OPEN_STATE_LIST = sorted(OPEN_STATES)

# Scalar subqueries, not joins: with ORDER BY … LIMIT, PostgreSQL evaluates them for the
# rows of the page only, after the sort.
TASK_COLUMNS = """
    task.id, task.incident_id, task.grid_code, task.community_code, task.assignee_id,
    (SELECT worker.name FROM worker WHERE worker.id = task.assignee_id) AS assignee_name,
    task.state, task.urgency, task.category, task.title,
    task.description, task.escalation_level, task.due_at, task.due_estimated,
    coalesce(task.due_at < now() AND task.state = ANY(%(open_states)s), false) AS overdue,
    task.created_at, task.updated_at,
    (SELECT ARRAY[ST_X(place), ST_Y(place)] FROM (SELECT coalesce(
        (SELECT incident.geom FROM incident WHERE incident.id = task.incident_id),
        (SELECT ST_PointOnSurface(g.geom) FROM grid g
          WHERE g.code = task.grid_code AND g.valid_to IS NULL)) AS place) AS located
    ) AS lon_lat"""
"""Where a task is: its incident's point, else a point inside its grid."""


@dataclass(frozen=True)
class TaskFilters:
    state: list[str] | None
    urgency: str | None
    category: str | None
    grid_code: str | None
    community_code: str | None
    assignee_id: str | None
    overdue: bool | None
    created_from: datetime | None
    created_to: datetime | None

    def where(self) -> Where:
        where = Where()
        if self.state:
            where.add("task.state = ANY(%(f_state)s)", f_state=self.state)
        if self.overdue is not None:
            where.add(
                "coalesce(task.due_at < now() AND task.state = ANY(%(open_states)s), false) "
                "= %(f_overdue)s",
                f_overdue=self.overdue,
            )
        for column in ("urgency", "category", "grid_code", "community_code", "assignee_id"):
            value = getattr(self, column)
            if value is not None:
                where.add(f"task.{column} = %(f_{column})s", **{f"f_{column}": value})
        if self.created_from:
            where.add("task.created_at >= %(f_from)s", f_from=self.created_from)
        if self.created_to:
            where.add("task.created_at < %(f_to)s", f_to=self.created_to)
        return where


def task_filters(
    state: Annotated[list[Literal[TASK_STATES]] | None, Query(description="any of")] = None,
    urgency: Literal["urgent", "normal"] | None = None,
    category: str | None = None,
    grid_code: Annotated[str | None, Query(pattern=r"^[0-9]{15}$")] = None,
    community_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    assignee_id: str | None = None,
    overdue: bool | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> TaskFilters:
    return TaskFilters(
        state, urgency, category, grid_code, community_code, assignee_id, overdue,
        created_from, created_to,
    )  # fmt: skip


Filters = Annotated[TaskFilters, Depends(task_filters)]


def _labelled(row: dict) -> dict:
    row["state_label_zh"] = STATE_LABELS_ZH[row["state"]]
    row["lon"], row["lat"] = row.pop("lon_lat") or (None, None)
    return row


def list_tasks(
    conn: psycopg.Connection, user: User, where: Where, order_by: str, page: PageParams
) -> dict:
    where = scope_where(user, Subject.TASK).extend(where)
    where.params["open_states"] = OPEN_STATE_LIST
    result = fetch_page(
        conn,
        columns=TASK_COLUMNS,
        from_sql="task",
        where=where,
        order_by=order_by,
        page=page,
    )
    result["items"] = [_labelled(row) for row in result["items"]]
    return result


def get_task(conn: psycopg.Connection, user: User, task_id: int) -> dict | None:
    """One task the user may see, or None (absent and out of scope look the same)."""
    where = scope_where(user, Subject.TASK).add("task.id = %(task_id)s", task_id=task_id)
    where.params["open_states"] = OPEN_STATE_LIST
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(f"SELECT {TASK_COLUMNS} FROM task WHERE {where.sql}", where.params)
        .fetchone()
    )
    return _labelled(row) if row else None


def photo_url(task_id: int, name: str) -> str:
    return f"/api/tasks/{task_id}/photos/{name}"


_DELIVERIES_SQL = """
SELECT worker_id, level, step, channel, state, attempts, error, created_at, sent_at,
       seen_at, acknowledged_at
FROM (
    SELECT d.worker_id, d.level, d.step, d.channel, d.state, d.attempts, d.error,
           d.created_at, d.sent_at, d.seen_at, d.acknowledged_at
    FROM delivery d WHERE d.task_id = %(task_id)s
    UNION ALL
    SELECT p.worker_id, p.level, 'instant', 'mqtt',
           CASE WHEN o.sent_at IS NULL THEN 'queued'
                WHEN n.acknowledged_at IS NOT NULL THEN 'acknowledged'
                WHEN n.seen_at IS NOT NULL THEN 'seen' ELSE 'sent' END,
           o.attempts, o.last_error, o.created_at, o.sent_at, n.seen_at, n.acknowledged_at
    FROM outbox o
    CROSS JOIN LATERAL (SELECT split_part(o.target, '/', 4) AS worker_id,
                               (o.payload->>'escalation_level')::int AS level) p
    LEFT JOIN task_notification n ON n.task_id = o.task_id AND n.worker_id = p.worker_id
         AND n.level = p.level
    WHERE o.task_id = %(task_id)s AND o.channel = 'mqtt'
      AND o.payload->>'action' IN ('assigned', 'escalated')
) AS told
ORDER BY created_at, channel
"""
"""The urgent ladder per recipient — the app's MQTT push (outbox) and every delivery row —
with timings; addresses (phone numbers) stay out."""


def task_detail(conn: psycopg.Connection, user: User, task_id: int) -> dict | None:
    """The task with its state history, notifications (吹哨报到), the urgent ladder's
    deliveries and photo links."""
    task = get_task(conn, user, task_id)
    if task is None:
        return None
    cur = conn.cursor(row_factory=dict_row)
    task["transitions"] = cur.execute(
        "SELECT from_state, to_state, actor, at, note, data FROM task_transition "
        "WHERE task_id = %s ORDER BY id",
        (task_id,),
    ).fetchall()
    task["notifications"] = cur.execute(
        "SELECT tn.worker_id, worker.name AS worker_name, tn.role, tn.level, tn.notified_at, "
        "tn.seen_at, tn.acknowledged_at FROM task_notification tn "
        "JOIN worker ON worker.id = tn.worker_id "
        "WHERE tn.task_id = %s ORDER BY tn.level, tn.id",
        (task_id,),
    ).fetchall()
    task["deliveries"] = cur.execute(_DELIVERIES_SQL, {"task_id": task_id}).fetchall()
    task["photos"] = [
        photo_url(task_id, name)
        for step in task["transitions"]
        for name in (step["data"] or {}).get("photos", [])
    ]
    # On-site check-ins of the field app (api/routes/field.py).
    task["checkins"] = cur.execute(
        "SELECT actor, at, distance_m, accuracy_m FROM task_checkin WHERE task_id = %s ORDER BY at",
        (task_id,),
    ).fetchall()
    return task


def task_photo_names(conn: psycopg.Connection, task_id: int) -> set[str]:
    rows = conn.execute(
        "SELECT jsonb_array_elements_text(data->'photos') FROM task_transition "
        "WHERE task_id = %s AND data ? 'photos'",
        (task_id,),
    ).fetchall()
    return {row[0] for row in rows}
