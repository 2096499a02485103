"""The device registry and household codes, held in memory by each ingest worker.

Reloaded whole every ``ingest_registry_refresh_s`` (by the worker's timer thread) and
queried on a miss, one statement for all the ids a batch did not find. A device that does
not exist is remembered as missing until the next reload, so a flood from an unknown
device costs one query per reload, not one per batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

ELDERLY_TAG = "独居老人"

_DEVICE_SQL = """
SELECT d.id, d.kind, d.model, ST_X(d.geom), ST_Y(d.geom), d.range_m, d.enabled,
       d.household_id, coalesce(%s = ANY(h.tags), false),
       ST_X(ST_PointOnSurface(b.geom)), ST_Y(ST_PointOnSurface(b.geom))
FROM device d
LEFT JOIN household h ON h.id = d.household_id
LEFT JOIN building b ON b.id = h.building_id
"""


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    kind: str
    model: str | None
    lon: float
    lat: float
    range_m: float | None
    enabled: bool
    household_id: int | None
    """The household a meter serves (doors name households per event)."""
    lives_alone: bool
    """The household is tagged 独居老人."""
    household_lon: float | None
    household_lat: float | None
    """A point on the household's building."""


class DeviceRegistry:
    """Device id -> DeviceInfo (None: known not to exist)."""

    def __init__(self) -> None:
        self._devices: dict[str, DeviceInfo | None] = {}

    def reload(self, conn: psycopg.Connection) -> int:
        """Replace the whole registry from the database; returns the number of devices."""
        devices = {row[0]: DeviceInfo(*row) for row in conn.execute(_DEVICE_SQL, (ELDERLY_TAG,))}
        self._devices = devices  # one assignment: readers see the old or the new dict
        return len(devices)

    def lookup(self, conn: psycopg.Connection, ids: Iterable[str]) -> dict[str, DeviceInfo]:
        """The enabled devices among ``ids``; unknown ones are fetched in one query."""
        devices = self._devices
        missing = sorted({i for i in ids if i not in devices})
        if missing:
            found = {
                row[0]: DeviceInfo(*row)
                for row in conn.execute(
                    _DEVICE_SQL + " WHERE d.id = ANY(%s)", (ELDERLY_TAG, missing)
                )
            }
            for device_id in missing:
                devices[device_id] = found.get(device_id)
        return {i: info for i in ids if (info := devices.get(i)) is not None and info.enabled}


class HouseholdCodes:
    """Household code (as doors report it) -> household id, cached; misses in one query."""

    def __init__(self) -> None:
        self._ids: dict[str, int | None] = {}

    def clear(self) -> None:
        self._ids = {}

    def lookup(self, conn: psycopg.Connection, codes: Iterable[str]) -> dict[str, int]:
        ids = self._ids
        missing = sorted({c for c in codes if c not in ids})
        if missing:
            found = dict(
                conn.execute(
                    "SELECT code, id FROM household WHERE code = ANY(%s)", (missing,)
                ).fetchall()
            )
            for code in missing:
                ids[code] = found.get(code)
        return {c: i for c in codes if (i := ids.get(c)) is not None}
