"""A lone resident's week as device messages, in event time (timestamps in the past), for
the elderly watch's live tests: water and power every hour (in use in the daytime, the
fridge at night), a door controller heartbeat every hour, out of the door 09:00-11:00
local every day until ``stops_going_out_h`` (the last outing comes back); the door
controller dies at ``door_dies_h``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from gis.db import connect
from gis.watch_enrolment import Contact, Enrolment, enrol
from ingest.family_notices import token_hash
from ingest.watch_store import HourRollup, Partitions, upsert_hours
from tests.ingest_world import FAMILY_PHONE, _envelope, door, status

LOCAL = ZoneInfo("Asia/Shanghai")
WEEK_H = 168


@dataclass(frozen=True)
class Sent:
    device_id: str
    channel: str
    message: dict


def hour_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def telemetry(device_id: str, kind: str, value: float, ts: datetime) -> dict:
    readings = (
        {"total_m3": 12.5, "flow_l_per_h": value}
        if kind == "water"
        else {"total_kwh": 800.0, "power_w": value}
    )
    return _envelope(device_id, f"telemetry.{kind}", ts) | {
        "interval_s": 3600,
        "readings": readings,
    }


def resident_week(
    start: datetime,
    stops_going_out_h: int,
    door_dies_h: int | None = None,
    hours: int = WEEK_H,
) -> list[Sent]:
    """Messages of ``hours`` hours from ``start`` (a whole hour) for household H-A1."""
    sent = []
    for i in range(hours):
        at = start + timedelta(hours=i, minutes=30)
        local_hour = at.astimezone(LOCAL).hour
        awake = 7 <= local_hour < 22
        sent.append(
            Sent("wm_a1", "telemetry", telemetry("wm_a1", "water", 20.0 if awake else 0, at))
        )
        sent.append(
            Sent("em_a1", "telemetry", telemetry("em_a1", "power", 150.0 if awake else 60.0, at))
        )
        if door_dies_h is not None and i >= door_dies_h:
            continue
        sent.append(Sent("door_a1", "status", status("door_a1", ts=at)))
        # An outing that began before stops_going_out_h comes back, whatever hour of the
        # day the week starts at (the test's start follows the wall clock).
        if local_hour == 9 and i < stops_going_out_h:
            sent.append(Sent("door_a1", "events", door("door_a1", "H-A1", "door.exit", ts=at)))
        if local_hour == 11 and 0 <= i - 2 < stops_going_out_h:
            sent.append(Sent("door_a1", "events", door("door_a1", "H-A1", "door.entry", ts=at)))
    return sent


def enrol_contacts_only(database_url: str, household_id: int) -> None:
    """H-A1 enrolled with its family contact, no door controller named."""
    enrol_a1(database_url, household_id, door_device_id=None)


def enrol_a1(
    database_url: str,
    household_id: int,
    away_until: datetime | None = None,
    door_device_id: str | None = "door_a1",
) -> None:
    """H-A1 enrolled with its family contact and (by default) its door controller."""
    with connect(database_url) as conn:
        enrol(
            conn,
            Enrolment(
                household_id=household_id,
                consent_by="王大爷本人",
                consent_at=datetime.now(UTC),
                enrolled_by="w_a1",
                contacts=(Contact("王女士", FAMILY_PHONE, "女儿"),),
                door_device_id=door_device_id,
            ),
        )
        if away_until is not None:
            conn.execute(
                "UPDATE watch_enrolment SET away_until = %s, away_reason = '住院', "
                "away_set_by = 'w_a1' WHERE household_id = %s",
                (away_until, household_id),
            )


def store_week(database_url: str, household: int, start: datetime, stops_going_out_h: int):
    """The resident week of ``resident_week`` straight into the rollup (no MQTT)."""
    rollup = HourRollup()
    for i in range(WEEK_H):
        at = start + timedelta(hours=i, minutes=30)
        local_hour = at.astimezone(LOCAL).hour
        totals = rollup.hours[(household, start + timedelta(hours=i))]
        totals.water_l, totals.water_reports = (20.0 if 7 <= local_hour < 22 else 0.0), 1
        totals.energy_wh = 150.0 if 7 <= local_hour < 22 else 60.0
        totals.power_s, totals.power_reports = 3600.0, 1
        rollup.door_alive("door_a1", at)
        if i < stops_going_out_h and local_hour in (9, 11):
            rollup.door(household, at, exit_=local_hour == 9)
    with connect(database_url) as conn:
        upsert_hours(conn, rollup, Partitions(), datetime.now(UTC), 13)


def sent_notice(database_url: str, household_id: int, token: str, kind: str = "not_up") -> int:
    """An open watch case of the household and its notice, sent to its (first) family
    contact with the link ``token``; returns the incident."""
    with connect(database_url) as conn:
        incident = conn.execute(
            "INSERT INTO incident (type, category, severity, merge_key, household_id, "
            "first_seen, last_seen) VALUES (%s, 'elderly', 'urgent', %s, %s, now(), now()) "
            "RETURNING id",
            (f"watch.{kind}", f"watch.{kind}:household:{household_id}", household_id),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO watch_notice (incident_id, contact_id, channel, address, text, "
            "token_hash, state) SELECT %s, id, 'sms', phone, 't', %s, 'sent' "
            "FROM watch_contact WHERE household_id = %s ORDER BY id LIMIT 1",
            (incident, token_hash(token), household_id),
        )
    return incident
