"""One micro-batch, from raw MQTT messages to one committed transaction.

validate (contract) → enrich (device registry) → locate → spatial join at each event's time
→ persist events (idempotent on event_id) → incidents and tasks for the new ones only →
household activity and device status → outbox. Bad messages become dead letters in the
same transaction. The caller commits, then acknowledges every message of the batch.

Telemetry is not stored row by row: a reading moves the household's last water or power
use forward (household_activity) and is added to its hour of the elderly watch's rollup
(watch_hour, ingest/watch_store.py) in the same transaction, as are new door passages and
door controllers' heartbeats. Status messages update
device.online / last_seen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import psycopg

from gis.contract import (
    ContractViolation,
    DoorEvent,
    FireEvent,
    PowerAnomalyEvent,
    PowerTelemetry,
    Status,
    WaterAnomalyEvent,
    WaterTelemetry,
    parse_device_message,
)
from gis.settings import Settings
from gis.spatial_join import GridIndex, utc_datetime64
from gis.task_messages import queue_pushes
from ingest.fire import resolve_fires
from ingest.incidents import Situation, merge_household
from ingest.locate import Event, locate
from ingest.persist import (
    Activity,
    DeadLetter,
    EventRow,
    insert_dead_letters,
    insert_events,
    link_events,
    update_device_status,
    upsert_activity,
)
from ingest.registry import DeviceInfo, DeviceRegistry, HouseholdCodes
from ingest.rules import rule_for
from ingest.tasks import create_tasks, reroute
from ingest.watch_store import HourRollup, Partitions, upsert_hours

STANDBY_W = 80.0
"""Power at or below this is standby (a fridge), not a sign of life (contract 7.2)."""


@dataclass(frozen=True)
class Received:
    """One MQTT message as the worker got it."""

    topic: str
    payload: bytes
    mid: int = 0
    qos: int = 1
    generation: int = 0
    """Which connection it arrived on: only those of the current one can be acknowledged."""
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class BatchResult:
    counts: Counter = field(default_factory=Counter)
    """received, events, duplicates, telemetry, status, dead_letter:<reason>, incidents, tasks"""
    outbox_ids: list[int] = field(default_factory=list)
    incidents_merged: int = 0


@dataclass
class Context:
    """What a worker keeps between batches."""

    settings: Settings
    registry: DeviceRegistry
    households: HouseholdCodes
    partitions: Partitions = field(default_factory=Partitions)
    """The watch rollup's monthly partitions known to exist."""


@dataclass
class _Sorted:
    events: list[tuple[Event, DeviceInfo, bytes]] = field(default_factory=list)
    telemetry: list[tuple[WaterTelemetry | PowerTelemetry, DeviceInfo]] = field(
        default_factory=list
    )
    statuses: list[tuple[Status, DeviceInfo, datetime]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


def process_batch(
    conn: psycopg.Connection, batch: list[Received], index: GridIndex, ctx: Context
) -> BatchResult:
    """Write the whole batch in the connection's current transaction (no commit here)."""
    result = BatchResult()
    result.counts["received"] = len(batch)
    parsed = _validate_and_enrich(conn, batch, ctx)
    for letter in parsed.dead:
        result.counts[f"dead_letter:{letter.reason}"] += 1
    insert_dead_letters(conn, parsed.dead)
    rollup = HourRollup()
    situations, activity = _store_events(conn, parsed.events, index, ctx, result, rollup)
    _note_telemetry(parsed.telemetry, activity, rollup)
    _note_door_heartbeats(parsed.statuses, rollup)
    result.counts["telemetry"] = len(parsed.telemetry)
    result.counts["status"] = len(parsed.statuses)
    upsert_activity(conn, activity)
    settings = ctx.settings
    now = datetime.now(UTC)
    upsert_hours(conn, rollup, ctx.partitions, now, settings.watch_rollup_retention_months)
    update_device_status(conn, _latest_status(parsed.statuses))
    _open_incidents(conn, situations, index, ctx.settings, result)
    return result


def _validate_and_enrich(conn: psycopg.Connection, batch: list[Received], ctx: Context) -> _Sorted:
    sorted_ = _Sorted()
    valid = []
    for message in batch:
        try:
            valid.append((parse_device_message(message.topic, message.payload), message))
        except ContractViolation as error:
            sorted_.dead.append(
                DeadLetter(
                    message.topic, message.payload, error.reason, error.detail, error.device_id
                )
            )
    devices = ctx.registry.lookup(conn, {m.device_id for m, _ in valid})
    for parsed, message in valid:
        device = devices.get(parsed.device_id)
        if device is None:
            sorted_.dead.append(
                DeadLetter(
                    message.topic,
                    message.payload,
                    "unknown_device",
                    "device not registered or disabled",
                    parsed.device_id,
                )
            )
        elif isinstance(parsed, Status):
            sorted_.statuses.append((parsed, device, message.received_at))
        elif isinstance(parsed, WaterTelemetry | PowerTelemetry):
            sorted_.telemetry.append((parsed, device))
        else:
            sorted_.events.append((parsed, device, message.payload))
    return sorted_


def _store_events(
    conn: psycopg.Connection,
    events: list[tuple[Event, DeviceInfo, bytes]],
    index: GridIndex,
    ctx: Context,
    result: BatchResult,
    rollup: HourRollup,
) -> tuple[list[Situation], dict[int, Activity]]:
    """Insert the events; the new ones that open or join incidents, and activity seen."""
    activity: dict[int, Activity] = {}
    if not events:
        return [], activity
    locations = [locate(event, device) for event, device, _ in events]
    joined = index.join(
        np.array([loc.lon for loc in locations]),
        np.array([loc.lat for loc in locations]),
        utc_datetime64(event.ts for event, _, _ in events),
        tolerance_m=ctx.settings.join_tolerance_m,
    )
    rows = [
        EventRow(
            event_id=str(event.event_id),
            device_id=device.id,
            type=event.type,
            ts=event.ts,
            lon=loc.lon,
            lat=loc.lat,
            grid_code=joined.grid_code[i],
            location_method=loc.method,
            # isinstance, not getattr(…, None): a pydantic model's missing attribute goes
            # through its slow __getattr__ (a fifth of the batch's CPU with door events).
            confidence=event.confidence if isinstance(event, FireEvent) else None,
            bearing_deg=event.bearing_deg if isinstance(event, FireEvent) else None,
            payload=payload.decode(),
        )
        for i, ((event, device, payload), loc) in enumerate(zip(events, locations, strict=True))
    ]
    new = insert_events(conn, rows)
    result.counts["events"] = len(new)
    result.counts["duplicates"] = len(rows) - len(new)
    door_codes = [e.household_ref for e, _, _ in events if isinstance(e, DoorEvent)]
    households = ctx.households.lookup(conn, door_codes) if door_codes else {}
    situations = []
    for i, (event, device, _) in enumerate(events):
        _note_event(event, device, households, activity)
        row_id = new.pop(rows[i].event_id, None)  # pop: a repeat within the batch is not new
        if row_id is not None and isinstance(event, DoorEvent):
            household = households.get(event.household_ref)
            if household is not None:
                rollup.door(household, event.ts, event.type == "door.exit")
        rule = rule_for(event.type)
        if row_id is not None and rule is not None:
            situations.append(
                Situation(
                    row_id,
                    event,
                    device,
                    rule,
                    locations[i],
                    joined.grid_code[i],
                    joined.community_code[i],
                )
            )
    return _without_watched_absences(conn, situations), activity


def _without_watched_absences(
    conn: psycopg.Connection, situations: list[Situation]
) -> list[Situation]:
    """A meter's own "no usage" for a household in the elderly watch opens nothing: the
    server's watch judges that absence from the household's telemetry (ingest/watch_job.py),
    and both would send the worker to the same door for the same situation."""
    meters = {
        s.device.household_id
        for s in situations
        if s.event.type.endswith(".no_usage") and s.device.household_id is not None
    }
    if not meters:
        return situations
    watched = {
        row[0]
        for row in conn.execute(
            "SELECT household_id FROM watch_enrolment WHERE household_id = ANY(%s)",
            (sorted(meters),),
        )
    }
    return [
        s
        for s in situations
        if not (s.event.type.endswith(".no_usage") and s.device.household_id in watched)
    ]


def _note_event(
    event: Event, device: DeviceInfo, households: dict[str, int], activity: dict[int, Activity]
) -> None:
    if isinstance(event, DoorEvent):
        household = households.get(event.household_ref)
        if household is not None:
            column = "last_exit_at" if event.type == "door.exit" else "last_entry_at"
            activity.setdefault(household, Activity()).saw(column, event.ts)
    elif isinstance(event, WaterAnomalyEvent | PowerAnomalyEvent) and device.household_id:
        if event.type.endswith("no_usage"):  # nothing used since ``since``
            column = (
                "last_water_use_at" if event.type.startswith("meter.water") else "last_power_use_at"
            )
            activity.setdefault(device.household_id, Activity()).saw(column, event.since)
        else:  # continuous flow: water is being drawn right now
            activity.setdefault(device.household_id, Activity()).saw("last_water_use_at", event.ts)


def _note_telemetry(
    telemetry: list[tuple[WaterTelemetry | PowerTelemetry, DeviceInfo]],
    activity: dict[int, Activity],
    rollup: HourRollup,
) -> None:
    """A reading that shows use moves the household's last use forward; every reading is
    added to the household's rollup hour."""
    for reading, device in telemetry:
        if device.household_id is None:
            continue
        rollup.telemetry(device.household_id, reading)
        if isinstance(reading, WaterTelemetry):
            if (reading.readings.flow_l_per_h or 0) > 0:
                activity.setdefault(device.household_id, Activity()).saw(
                    "last_water_use_at", reading.ts
                )
        elif (reading.readings.power_w or 0) > STANDBY_W:
            activity.setdefault(device.household_id, Activity()).saw(
                "last_power_use_at", reading.ts
            )


def _note_door_heartbeats(
    statuses: list[tuple[Status, DeviceInfo, datetime]], rollup: HourRollup
) -> None:
    """A door controller that says it is online reported in that hour."""
    for status, device, _ in statuses:
        if device.kind == "door" and status.state == "online":
            rollup.door_alive(device.id, status.ts)


def _latest_status(
    statuses: list[tuple[Status, DeviceInfo, datetime]],
) -> dict[str, tuple[bool, datetime]]:
    """Per device, its newest status. A last will's ts is its connect time (contract 9),
    so the moment it arrived counts instead."""
    latest: dict[str, tuple[bool, datetime]] = {}
    for status, device, received_at in statuses:
        seen = received_at if status.reason == "last_will" else min(status.ts, received_at)
        if device.id not in latest or seen >= latest[device.id][1]:
            latest[device.id] = (status.state == "online", seen)
    return latest


def _open_incidents(
    conn: psycopg.Connection,
    situations: list[Situation],
    index: GridIndex,
    settings: Settings,
    result: BatchResult,
) -> None:
    fires = resolve_fires(conn, [s for s in situations if s.is_fire], index, settings)
    opened, incident_of = merge_household(conn, [s for s in situations if not s.is_fire])
    opened += fires.opened
    incident_of |= fires.incident_of
    link_events(conn, incident_of)
    result.counts["incidents"] = len(opened)
    result.incidents_merged = len(incident_of) - len(opened)
    result.outbox_ids += create_tasks(conn, opened, settings)
    result.counts["tasks"] = len(opened)
    result.outbox_ids += relocation_pushes(conn, fires.relocated, settings)
    result.outbox_ids += reroute(conn, fires.moved, settings)


def relocation_pushes(
    conn: psycopg.Connection, incidents: set[int], settings: Settings
) -> list[int]:
    """An ``updated`` push to the assignee of each open task whose fire is now better located."""
    if not incidents:
        return []
    rows = conn.execute(
        "SELECT t.id, t.assignee_id FROM task t WHERE t.incident_id = ANY(%s) "
        "AND t.assignee_id IS NOT NULL AND t.state NOT IN ('closed', 'invalid', 'duplicate')",
        (sorted(incidents),),
    ).fetchall()
    return queue_pushes(
        conn,
        [(task, worker) for task, worker in rows],
        "updated",
        settings.api_public_url,
    )
