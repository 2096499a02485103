"""Set-based writes of one batch: events, dead letters, household activity, device status.

Every statement takes whole arrays (unnest), so a batch of 500 messages costs a handful of
round trips. Rows that other workers may touch at the same moment are written in sorted
key order, so two batches never wait on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg


@dataclass
class EventRow:
    event_id: str
    device_id: str
    type: str
    ts: datetime
    lon: float
    lat: float
    grid_code: str | None
    location_method: str
    confidence: float | None
    bearing_deg: float | None
    payload: str
    """The message as received (JSON text), stored as jsonb."""


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    payload: bytes
    reason: str
    detail: str | None
    device_id: str | None


@dataclass
class Activity:
    """Latest signs of life of one household seen in a batch (None: nothing new)."""

    last_exit_at: datetime | None = None
    last_entry_at: datetime | None = None
    last_water_use_at: datetime | None = None
    last_power_use_at: datetime | None = None

    def saw(self, column: str, at: datetime) -> None:
        current = getattr(self, column)
        if current is None or at > current:
            setattr(self, column, at)


ACTIVITY_COLUMNS = ("last_exit_at", "last_entry_at", "last_water_use_at", "last_power_use_at")

_INSERT_EVENTS = """
INSERT INTO event (event_id, device_id, type, ts, geom, grid_code, location_method,
                   confidence, bearing_deg, payload)
SELECT u.event_id, u.device_id, u.type, u.ts,
       ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326), u.grid, u.method, u.confidence,
       u.bearing, u.payload::jsonb
FROM unnest(%b::text[], %b::text[], %b::text[], %b::timestamptz[], %b::float8[],
            %b::float8[], %b::text[], %b::text[], %b::float8[], %b::float8[], %b::text[])
     AS u(event_id, device_id, type, ts, lon, lat, grid, method, confidence, bearing, payload)
ORDER BY u.event_id
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id, id
"""


def insert_events(conn: psycopg.Connection, rows: Sequence[EventRow]) -> dict[str, int]:
    """Insert the events not stored yet; event_id -> new row id for those only."""
    if not rows:
        return {}
    columns = (
        "event_id",
        "device_id",
        "type",
        "ts",
        "lon",
        "lat",
        "grid_code",
        "location_method",
        "confidence",
        "bearing_deg",
        "payload",
    )
    arrays = [[getattr(row, c) for row in rows] for c in columns]
    return dict(conn.execute(_INSERT_EVENTS, arrays).fetchall())


def insert_dead_letters(conn: psycopg.Connection, letters: Sequence[DeadLetter]) -> None:
    if not letters:
        return
    conn.cursor().executemany(
        "INSERT INTO dead_letter (topic, payload, reason, detail, device_id) "
        "VALUES (%s, %s, %s, %s, %s)",
        [(d.topic, d.payload, d.reason, d.detail, d.device_id) for d in letters],
    )


def upsert_activity(conn: psycopg.Connection, activity: dict[int, Activity]) -> None:
    """Move each household's last-seen times forward (never back: replays are harmless)."""
    if not activity:
        return
    ids = sorted(activity)
    arrays = [[getattr(activity[i], c) for i in ids] for c in ACTIVITY_COLUMNS]
    updates = ", ".join(f"{c} = greatest(a.{c}, EXCLUDED.{c})" for c in ACTIVITY_COLUMNS)
    conn.execute(
        f"INSERT INTO household_activity AS a (household_id, {', '.join(ACTIVITY_COLUMNS)}) "
        "SELECT * FROM unnest(%b::bigint[], %b::timestamptz[], %b::timestamptz[], "
        "%b::timestamptz[], %b::timestamptz[]) ORDER BY 1 "
        f"ON CONFLICT (household_id) DO UPDATE SET {updates}, updated_at = now()",
        [ids, *arrays],
    )


def update_device_status(
    conn: psycopg.Connection, statuses: dict[str, tuple[bool, datetime]]
) -> None:
    """device id -> (online, when): applied unless the device was seen later already."""
    if not statuses:
        return
    ids = sorted(statuses)
    conn.execute(
        "UPDATE device d SET online = u.online, last_seen = u.seen "
        "FROM unnest(%b::text[], %b::bool[], %b::timestamptz[]) AS u(id, online, seen) "
        "WHERE d.id = u.id AND (d.last_seen IS NULL OR d.last_seen <= u.seen)",
        (ids, [statuses[i][0] for i in ids], [statuses[i][1] for i in ids]),
    )


def link_events(conn: psycopg.Connection, incident_of: dict[int, int]) -> None:
    """Set event.incident_id for event row id -> incident id."""
    if not incident_of:
        return
    ids = sorted(incident_of)
    conn.execute(
        "UPDATE event e SET incident_id = u.incident FROM unnest(%b::bigint[], %b::bigint[]) "
        "AS u(id, incident) WHERE e.id = u.id",
        (ids, [incident_of[i] for i in ids]),
    )
