"""The demo's living city: telemetry, door traffic, a fire and an elderly alarm, all valid."""

from __future__ import annotations

import random
import threading
from pathlib import Path

from firmware_sim import geo
from firmware_sim.inventory import read_inventory
from firmware_sim.live import LivePlan, run_live
from firmware_sim.settings import SimSettings
from gis.contract import parse_device_message
from ingest.broker_inventory import DeviceRecord
from tests.mqtt_helpers import RunningBroker, wait_until

pytest_plugins = ["tests.mqtt_helpers"]

CENTRE = (109.83, 40.65)


def _city() -> list[DeviceRecord]:
    roof = geo.offset(*CENTRE, 0, 0)
    devices = [
        DeviceRecord(
            id="CAM-R-1", kind="camera", model="roof", lon=roof[0], lat=roof[1], range_m=800
        )
    ]
    for n in range(3):
        lon, lat = geo.offset(*CENTRE, 50 * n, 30)
        building, household = f"B{n}", f"H{n}"
        devices += [
            DeviceRecord(
                id=f"WM-{n}",
                kind="water_meter",
                lon=lon,
                lat=lat,
                household=household,
                building=building,
            ),
            DeviceRecord(
                id=f"EM-{n}",
                kind="electricity_meter",
                lon=lon,
                lat=lat,
                household=household,
                building=building,
            ),
            DeviceRecord(id=f"DOOR-{n}", kind="door", lon=lon, lat=lat, building=building),
        ]
    return devices


def test_live_city_emits_valid_telemetry_doors_fire_and_alarm(broker_factory, tmp_path: Path):
    devices = _city()
    running: RunningBroker = broker_factory([d.id for d in devices], [])
    ingest = running.client("wangge-ingest")
    ingest.subscribe("wangge/v1/devices/+/+")
    specs = read_inventory(running.write_credentials(tmp_path / "devices.csv", devices))
    plan = LivePlan(
        households=3,
        tick_s=0.2,
        fire_every_s=60,
        alarm_every_s=60,
        first_fire_s=0.5,
        first_alarm_s=0.8,
        duration_s=1.5,
    )
    settings = SimSettings(mqtt_port=running.port)
    run_live(specs, settings, plan, threading.Event(), random.Random(3), log=lambda _: None)

    def types() -> set[str]:
        # parse_device_message raises for anything that is not the contract
        return {parse_device_message(m.topic, m.payload).type for m in list(ingest.messages)}

    wanted = {"telemetry.water", "telemetry.power", "fire.smoke", "meter.water.no_usage"}
    assert wait_until(
        lambda: wanted <= types() and bool(types() & {"door.entry", "door.exit"}), timeout_s=30
    )
