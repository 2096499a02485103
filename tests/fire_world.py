"""A roof camera's smoke in grid B1 of tests/api_world.py, through the real broker and a
real `wangge ingest`: the setting of the end-to-end fire tests (the operators' map loop and
the field app on a phone)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from firmware_sim import scenarios
from firmware_sim.fleet import Fleet
from firmware_sim.inventory import read_inventory
from firmware_sim.settings import SimSettings
from ingest.broker_inventory import DeviceRecord
from tests.api_world import GRID_B1, USERS
from tests.ingest_world import ingest_env, run_ingest, wait_subscribed
from tests.mqtt_helpers import RunningBroker

FIRE = (109.8262, 40.6135)  # inside B1
CAMERA = DeviceRecord(id="cam_b1", kind="camera", model="roof", lon=109.8255, lat=40.6128,
                      height_m=30.0, range_m=800.0)  # fmt: skip
DEVICE_IDS = [CAMERA.id, "meter_b1", "cam_a1"]
"""The broker's devices: the camera, and B1's meter that probes ingest is consuming."""
WORKER_IDS = sorted({worker for *_, worker in USERS.values() if worker} | {"head_a", "desk_a"})


def b1_ready_for_a_fire(conn: psycopg.Connection) -> None:
    """B1's earlier task is finished (the grid starts quiet) and the roof camera is
    registered."""
    conn.execute("UPDATE task SET state = 'closed' WHERE grid_code = %s", (GRID_B1,))
    conn.execute(
        "INSERT INTO device (id, kind, model, geom, height_m, range_m, source) "
        "VALUES (%s, 'camera', 'roof', ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, 't')",
        (CAMERA.id, CAMERA.lon, CAMERA.lat, CAMERA.height_m, CAMERA.range_m),
    )


@contextmanager
def ingest_consuming(database_url: str, broker: RunningBroker, run_dir: Path) -> Iterator[None]:
    """`wangge ingest` running on the broker and database, already consuming."""
    with run_ingest(ingest_env(database_url, broker, run_dir), run_dir):
        wait_subscribed(database_url, broker, probe_device="meter_b1")
        yield


def camera_sees_smoke(broker: RunningBroker, run_dir: Path) -> float:
    """The simulated camera reports the fire; returns when it was published (monotonic s),
    after the broker has taken every message."""
    specs = read_inventory(broker.write_credentials(run_dir / "devices.csv", [CAMERA]))
    with Fleet(specs, SimSettings(mqtt_port=broker.port)) as fleet:
        assert fleet.wait_connected(30)
        fired = time.monotonic()
        assert scenarios.fire(fleet, *FIRE, rng=random.Random(7)) == [CAMERA.id]
        assert fleet.wait_drained(30)
    return fired
