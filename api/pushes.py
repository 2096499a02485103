"""Task messages to workers' phones, written to the outbox in the caller's transaction.

The message follows the MQTT contract's ``TaskMessage`` (docs: wangge/v1/workers/{id}/tasks);
the outbox sender publishes it after commit, so a push is never lost to a crash.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from gis.workorders import task_links

Action = Literal["assigned", "escalated", "reminder", "updated", "cancelled"]

LOCATION_METHODS = frozenset(
    {"reported", "device", "bearing_intersection", "bearing_range", "bearing_only", "household"}
)
"""The location methods the contract knows; a task located otherwise is sent without one."""


def worker_topic(worker_id: str) -> str:
    return f"wangge/v1/workers/{worker_id}/tasks"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def task_message(conn: psycopg.Connection, task_id: int, action: Action, public_url: str) -> dict:
    """The contract message announcing ``action`` on one task."""
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT task.id, task.incident_id, coalesce(incident.type, 'task.' || task.category) "
            "AS type, task.category, task.state, task.urgency, task.title, task.description, "
            "task.grid_code, coalesce(task.community_code, left(task.grid_code, 12)) AS "
            "community_code, task.due_at, task.escalation_level, ST_X(incident.geom) AS lon, "
            "ST_Y(incident.geom) AS lat, incident.location_method, incident.uncertainty_m "
            "FROM task LEFT JOIN incident ON incident.id = task.incident_id WHERE task.id = %s",
            (task_id,),
        )
        .fetchone()
    )
    location = None
    if row["lon"] is not None and row["location_method"] in LOCATION_METHODS:
        location = {
            "lon": row["lon"],
            "lat": row["lat"],
            "method": row["location_method"],
            "uncertainty_m": row["uncertainty_m"] or 0.0,
        }
    return {
        "schema_version": "1.0",
        "message_id": str(uuid.uuid4()),
        "ts": datetime.now(UTC).isoformat(),
        "action": action,
        "task_id": row["id"],
        "incident_id": row["incident_id"],
        "type": row["type"],
        "category": row["category"],
        "state": row["state"],
        "urgency": row["urgency"],
        # Tasks carry one (Chinese) title; the English side names the situation plainly.
        "title": {"zh": row["title"], "en": f"{row['type']}: task {row['id']}"},
        "description": (
            {"zh": row["description"], "en": row["description"]} if row["description"] else None
        ),
        "location": location,
        "grid_code": row["grid_code"],
        "community_code": row["community_code"],
        "due_at": _iso(row["due_at"]),
        "escalation_level": min(row["escalation_level"], 3),
        "links": task_links(public_url, row["id"]),
    }


def push_task(
    conn: psycopg.Connection,
    task_id: int,
    worker_ids: Iterable[str],
    action: Action,
    public_url: str,
) -> int:
    """Queue one message per worker; returns how many were queued."""
    count = 0
    for worker_id in worker_ids:
        message = task_message(conn, task_id, action, public_url)
        conn.execute(
            "INSERT INTO outbox (channel, target, payload, task_id) VALUES ('mqtt', %s, %s, %s)",
            (worker_topic(worker_id), Jsonb(message), task_id),
        )
        count += 1
    return count
