"""Who may connect to the broker: devices and workers from the database, and the
provisioning file (devices with their derived passwords) that ``wangge sim`` reads."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import psycopg

from gis.db import connect
from ingest.broker_auth import device_password

log = logging.getLogger(__name__)

_DEVICES_SQL = """
SELECT d.id, d.kind, d.model, ST_X(d.geom), ST_Y(d.geom), d.height_m, d.range_m,
       h.code, b.code
FROM device d
LEFT JOIN household h ON h.id = d.household_id
LEFT JOIN building b ON b.id = coalesce(d.building_id, h.building_id)
WHERE d.enabled
ORDER BY d.id
"""


@dataclass(frozen=True)
class DeviceRecord:
    """One device as the provisioning file describes it (household/building are codes)."""

    id: str
    kind: str
    model: str | None = None
    lon: float | None = None
    lat: float | None = None
    height_m: float | None = None
    range_m: float | None = None
    household: str | None = None
    building: str | None = None


CREDENTIAL_COLUMNS = (*(f.name for f in fields(DeviceRecord)), "password")


@dataclass(frozen=True)
class Inventory:
    devices: list[DeviceRecord]
    worker_ids: list[str]

    @property
    def device_ids(self) -> list[str]:
        return [d.id for d in self.devices]


def inventory_from_db(database_url: str) -> Inventory:
    """Enabled devices and active workers; an empty inventory if the database is not there."""
    try:
        with connect(database_url) as conn:
            devices = [DeviceRecord(*row) for row in conn.execute(_DEVICES_SQL)]
            workers = [r[0] for r in conn.execute("SELECT id FROM worker WHERE active ORDER BY id")]
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable) as error:
        log.warning(
            "no device/worker list from the database (%s); broker has service accounts only", error
        )
        return Inventory([], [])
    return Inventory(devices, workers)


def synthetic_devices(count: int, prefix: str = "load") -> list[DeviceRecord]:
    """Devices for load tests that exist only in the broker (water meters without a place)."""
    return [DeviceRecord(id=f"{prefix}-{i:06d}", kind="water_meter") for i in range(count)]


def write_credentials_csv(path: Path, devices: Iterable[DeviceRecord], secret: str) -> int:
    """The provisioning file: one row per device with its derived MQTT password."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CREDENTIAL_COLUMNS)
        for device in devices:
            row = ["" if v is None else v for v in astuple(device)]
            writer.writerow([*row, device_password(secret, device.id)])
            count += 1
    path.chmod(0o600)
    return count
