"""Task messages (MQTT contract ``TaskMessage``) for the outbox, read back from the database.

The one builder of the worker task message: ingest (new tasks, escalations, location
updates) and the API (dispatch, reminders, every work-order action) both queue pushes here,
in the caller's transaction and after the rows are written, so a message always says what
was committed; the outbox sender publishes it after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

import psycopg
from psycopg.types.json import Jsonb

from gis.contract import worker_tasks_topic
from gis.workorders import task_links

Action = Literal["assigned", "escalated", "reminder", "updated", "cancelled"]
Push = tuple[int, str]
"""(task id, worker id): one message to one worker's topic."""

_FACTS_SQL = """
SELECT t.id, t.incident_id, coalesce(i.type, 'task.' || t.category), t.category, t.state,
       t.urgency, t.title, coalesce(t.title_en, t.title), t.description, t.grid_code,
       coalesce(t.community_code, i.community_code, left(t.grid_code, 12)), t.due_at,
       t.escalation_level, ST_X(i.geom), ST_Y(i.geom), i.location_method, i.uncertainty_m
FROM task t LEFT JOIN incident i ON i.id = t.incident_id
WHERE t.id = ANY(%s)
"""
METHOD_EN = {
    "reported": "position reported by the device",
    "device": "the reporting device's installed position",
    "bearing_intersection": "camera bearings intersected",
    "bearing_range": "one camera bearing with estimated distance",
    "bearing_only": "one camera bearing, point at mid-range",
    "household": "the household's building",
}
"""The location methods the contract knows; a task located otherwise is sent without one."""


def load_messages(
    conn: psycopg.Connection, task_ids: Iterable[int], action: Action, public_url: str
) -> dict[int, dict]:
    """Task id -> the contract message announcing ``action`` (message_id filled per push)."""
    messages = {}
    now = datetime.now(UTC).isoformat()
    for row in conn.execute(_FACTS_SQL, (sorted(set(task_ids)),)).fetchall():
        (task_id, incident_id, type_, category, state, urgency, title, title_en) = row[:8]
        (description, grid, community, due, level, lon, lat, method, uncertainty) = row[8:]
        location = None
        if lon is not None and method in METHOD_EN:
            location = {"lon": lon, "lat": lat, "method": method, "uncertainty_m": uncertainty or 0}
        description_en = f"Location: {METHOD_EN[method]}" if location else "No location"
        messages[task_id] = {
            "schema_version": "1.0",
            "ts": now,
            "action": action,
            "task_id": task_id,
            "incident_id": incident_id,
            "type": type_,
            "category": category,
            "state": state,
            "urgency": urgency,
            "title": {"zh": title, "en": title_en},
            "description": {"zh": description, "en": description_en} if description else None,
            "location": location,
            "grid_code": grid,
            "community_code": community,
            "due_at": due.isoformat() if due else None,
            "escalation_level": min(level, 3),
            "links": task_links(public_url, task_id),
        }
    return messages


def queue_pushes(
    conn: psycopg.Connection, pushes: Sequence[Push], action: Action, public_url: str
) -> list[int]:
    """Write one outbox row per (task id, worker id), each with its own message id (the
    receiver's key for dropping a repeated delivery); returns the outbox ids."""
    if not pushes:
        return []
    messages = load_messages(conn, (task_id for task_id, _ in pushes), action, public_url)
    rows = [
        (
            worker_tasks_topic(worker_id),
            Jsonb(messages[task_id] | {"message_id": str(uuid.uuid4())}),
            task_id,
        )
        for task_id, worker_id in pushes
    ]
    return insert_outbox(conn, "mqtt", rows)


def insert_outbox(
    conn: psycopg.Connection, channel: str, rows: Sequence[tuple[str, Jsonb, int | None]]
) -> list[int]:
    """Outbox rows (target, payload, task id) on one channel, in one statement."""
    if not rows:
        return []
    return [
        r[0]
        for r in conn.execute(
            "INSERT INTO outbox (channel, target, payload, task_id) "
            "SELECT %s, u.target, u.payload, u.task_id "
            "FROM unnest(%b::text[], %b::jsonb[], %b::bigint[]) AS u(target, payload, task_id) "
            "RETURNING id",
            (channel, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]),
        ).fetchall()
    ]
