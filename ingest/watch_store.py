"""The elderly watch's tables as ingest uses them: the hourly rollup, its monthly
partitions, the detector state rows and the readings a sweep takes from the rollup.

Ingest adds each batch's telemetry and door passages to the household's rollup hour
(``upsert_hours``), and door controllers' heartbeats to the controller's hour, in the batch's own transaction, beside the
household_activity update. Amounts are per report: a water meter's flow × its reporting
interval is the litres, a power meter's load × interval the energy; the mean power of the
hour is energy · 3600 / seconds reported. A redelivered telemetry message (a crash between
commit and acknowledgement) is counted twice; telemetry is not stored per message, and one
hour looking a little busier never raises an alert.

The rollup is partitioned by month (UTC). Partitions are created on demand for the months
a batch writes (cached per process, under an advisory lock so that two processes do not
race on the DDL) and ahead of time by the sweep's maintenance, which also drops those past
the retention. Rows older than the retention are not written at all.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from gis.contract import PowerTelemetry, WaterTelemetry
from ingest.watch.readings import HourlyReadings, epoch_hour, hour_start
from ingest.watch.state import STATE_DTYPE

PARTITION_LOCK = "wangge.watch_hour.partitions"


def state_version() -> str:
    """The layout fingerprint of STATE_DTYPE: a state row of another layout is relearned."""
    return hashlib.sha256(str(STATE_DTYPE.descr).encode()).hexdigest()[:16]


@dataclass
class HourTotals:
    water_l: float = 0.0
    water_reports: int = 0
    energy_wh: float = 0.0
    power_s: float = 0.0
    power_reports: int = 0
    door_exits: int = 0
    door_entries: int = 0
    door_reports: int = 0


COLUMNS = tuple(f.name for f in fields(HourTotals))
_SQL_TYPES = {
    "water_l": "float8",
    "energy_wh": "float8",
    "power_s": "float8",
}


def _hour_of(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class HourRollup:
    """What one batch adds to the rollup, per (household, hour)."""

    def __init__(self) -> None:
        self.hours: dict[tuple[int, datetime], HourTotals] = defaultdict(HourTotals)
        self.devices: dict[tuple[str, datetime], int] = {}

    def telemetry(self, household_id: int, reading: WaterTelemetry | PowerTelemetry) -> None:
        totals = self.hours[(household_id, _hour_of(reading.ts))]
        if isinstance(reading, WaterTelemetry):
            flow = reading.readings.flow_l_per_h
            if flow is not None:
                totals.water_l += flow * reading.interval_s / 3600.0
                totals.water_reports += 1
        elif reading.readings.power_w is not None:
            totals.energy_wh += reading.readings.power_w * reading.interval_s / 3600.0
            totals.power_s += reading.interval_s
            totals.power_reports += 1

    def door(self, household_id: int, at: datetime, exit_: bool) -> None:
        totals = self.hours[(household_id, _hour_of(at))]
        if exit_:
            totals.door_exits += 1
        else:
            totals.door_entries += 1
        totals.door_reports += 1

    def door_alive(self, device_id: str, at: datetime) -> None:
        """A door controller said it is online: an hour without passages is a 0 for the
        households it serves."""
        key = (device_id, _hour_of(at))
        self.devices[key] = self.devices.get(key, 0) + 1


def month_start(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(month: datetime) -> datetime:
    return (month + timedelta(days=32)).replace(day=1)


def partition_name(month: datetime) -> str:
    return f"watch_hour_y{month.year:04d}m{month.month:02d}"


def retention_start(now: datetime, retention_months: int) -> datetime:
    """The first month kept."""
    month = month_start(now)
    for _ in range(retention_months - 1):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


class Partitions:
    """The rollup's monthly partitions this process knows exist."""

    def __init__(self) -> None:
        self.known: set[datetime] = set()

    def ensure(self, conn: psycopg.Connection, months: Iterable[datetime]) -> None:
        missing = sorted(set(months) - self.known)
        if not missing:
            return
        existing = existing_partitions(conn)
        to_create = [m for m in missing if partition_name(m) not in existing]
        if to_create:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (PARTITION_LOCK,))
            for month in to_create:
                create_partition(conn, month)
        self.known.update(missing)


def existing_partitions(conn: psycopg.Connection) -> set[str]:
    return {
        row[0]
        for row in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'watch_hour'::regclass"
        )
    }


def create_partition(conn: psycopg.Connection, month: datetime) -> None:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {partition_name(month)} PARTITION OF watch_hour "
        f"FOR VALUES FROM ('{month.isoformat()}') TO ('{next_month(month).isoformat()}')"
    )


def maintain_partitions(
    conn: psycopg.Connection, now: datetime, months_ahead: int, retention_months: int
) -> tuple[list[str], list[str]]:
    """Create this month's and the next months' partitions, drop those past retention;
    returns (created, dropped) names."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (PARTITION_LOCK,))
    existing = existing_partitions(conn)
    created = []
    month = month_start(now)
    for _ in range(months_ahead + 1):
        if partition_name(month) not in existing:
            create_partition(conn, month)
            created.append(partition_name(month))
        month = next_month(month)
    oldest = partition_name(retention_start(now, retention_months))
    dropped = sorted(name for name in existing if name < oldest)
    for name in dropped:
        conn.execute(f"DROP TABLE {name}")
    conn.execute(
        "DELETE FROM watch_device_hour WHERE hour < %s",
        (retention_start(now, retention_months),),
    )
    return created, dropped


def upsert_hours(
    conn: psycopg.Connection,
    rollup: HourRollup,
    partitions: Partitions,
    now: datetime,
    retention_months: int,
) -> None:
    """Add the batch's totals to their hours (in sorted key order: no deadlock cycles)."""
    oldest = retention_start(now, retention_months)
    devices = sorted(k for k in rollup.devices if k[1] >= oldest)
    if devices:
        conn.execute(
            "INSERT INTO watch_device_hour AS d (device_id, hour, reports) "
            "SELECT * FROM unnest(%b::text[], %b::timestamptz[], %b::int4[]) "
            "ON CONFLICT (device_id, hour) DO UPDATE SET reports = d.reports + EXCLUDED.reports",
            (
                [k[0] for k in devices],
                [k[1] for k in devices],
                [rollup.devices[k] for k in devices],
            ),
        )
    keys = sorted(k for k in rollup.hours if k[1] >= oldest)
    if not keys:
        return
    partitions.ensure(conn, {month_start(hour) for _, hour in keys})
    arrays = [[getattr(rollup.hours[k], c) for k in keys] for c in COLUMNS]
    casts = ", ".join(f"%b::{_SQL_TYPES.get(c, 'int4')}[]" for c in COLUMNS)
    adds = ", ".join(f"{c} = h.{c} + EXCLUDED.{c}" for c in COLUMNS)
    conn.execute(
        f"INSERT INTO watch_hour AS h (household_id, hour, {', '.join(COLUMNS)}) "
        f"SELECT * FROM unnest(%b::int8[], %b::timestamptz[], {casts}) "
        f"ON CONFLICT (household_id, hour) DO UPDATE SET {adds}",
        [[k[0] for k in keys], [k[1] for k in keys], *arrays],
    )


# --- the sweep's side ----------------------------------------------------------------------

_READ_HOURS = """
SELECT household_id, hour, water_l, water_reports, energy_wh, power_s, door_exits,
       door_entries, door_reports
FROM watch_hour
WHERE household_id = ANY(%(ids)s) AND hour >= %(start)s AND hour < %(end)s
"""

_READ_DOOR_ALIVE = """
SELECT e.household_id, d.hour
FROM watch_enrolment e JOIN watch_device_hour d ON d.device_id = e.door_device_id
WHERE e.household_id = ANY(%(ids)s) AND d.hour >= %(start)s AND d.hour < %(end)s
  AND d.reports > 0
"""


def read_readings(
    conn: psycopg.Connection,
    household_ids: Sequence[int],
    start_hour: int,
    hours: int,
    signals: Sequence[frozenset[str]],
) -> HourlyReadings:
    """The rollup hours [start_hour, start_hour + hours) of these households as the
    detector's arrays: NaN where a device sent nothing, or its signal is not watched."""
    readings = HourlyReadings.empty(start_hour, hours, len(household_ids))
    column = {h: i for i, h in enumerate(household_ids)}
    span = {
        "ids": list(household_ids),
        "start": hour_start(start_hour),
        "end": hour_start(start_hour + hours),
    }
    for household, at in conn.execute(_READ_DOOR_ALIVE, span):
        i, j = epoch_hour(at) - start_hour, column[household]
        readings.exits[i, j] = readings.entries[i, j] = 0.0
    rows = conn.execute(_READ_HOURS, span).fetchall()
    for household, at, water, water_n, energy, power_s, exits, entries, door_n in rows:
        i, j = epoch_hour(at) - start_hour, column[household]
        if water_n:
            readings.water_l[i, j] = water
        if power_s:
            readings.power_w[i, j] = energy * 3600.0 / power_s
        if door_n:
            readings.exits[i, j] = exits
            readings.entries[i, j] = entries
    for j, watched in enumerate(signals):
        for name, array in (
            ("water", readings.water_l),
            ("power", readings.power_w),
            ("door", readings.exits),
            ("door", readings.entries),
        ):
            if name not in watched:
                array[:, j] = np.nan
    return readings
