"""A simulated fire: the cameras that can see it report it, as the contract says."""

from __future__ import annotations

import json
import random
from pathlib import Path

import jsonschema

from firmware_sim import geo, scenarios
from firmware_sim.fleet import Fleet
from firmware_sim.inventory import read_inventory
from firmware_sim.settings import SimSettings
from gis.contract import FireEvent, parse_device_message
from ingest.broker_inventory import DeviceRecord
from tests.mqtt_helpers import RunningBroker

pytest_plugins = ["tests.mqtt_helpers"]

FIRE = (109.83, 40.65)
SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "docs/schemas/v1/event.json").read_text()
)


def _camera(id_: str, east_m: float, model: str, range_m: float) -> DeviceRecord:
    lon, lat = geo.offset(*FIRE, east_m, 0)
    return DeviceRecord(id=id_, kind="camera", model=model, lon=lon, lat=lat, range_m=range_m)


def test_cameras_in_range_report_smoke_with_bearing(broker_factory, tmp_path: Path) -> None:
    cameras = [
        _camera("CAM-T-0001", -3_000, "tower", 5_000),  # fire is due east of it
        _camera("CAM-R-0001", 300, "roof", 500),  # fire is due west of it
        _camera("CAM-R-0002", 2_000, "roof", 500),  # too far away to see it
    ]
    running: RunningBroker = broker_factory([c.id for c in cameras], [])
    ingest = running.client("wangge-ingest")
    ingest.subscribe("wangge/v1/devices/+/events")
    specs = read_inventory(running.write_credentials(tmp_path / "devices.csv", cameras))

    with Fleet(specs, SimSettings(mqtt_port=running.port)) as fleet:
        assert fleet.wait_connected(10)
        reporters = scenarios.fire(fleet, *FIRE, rng=random.Random(1))
        assert fleet.wait_drained(10)

    assert sorted(reporters) == ["CAM-R-0001", "CAM-T-0001"]
    received = {m.topic: m.payload for m in ingest.wait_for(2)}
    assert set(received) == {
        "wangge/v1/devices/CAM-T-0001/events",
        "wangge/v1/devices/CAM-R-0001/events",
    }
    events = {}
    for topic, payload in received.items():
        jsonschema.validate(json.loads(payload), SCHEMA)
        event = parse_device_message(topic, payload)
        assert isinstance(event, FireEvent) and event.type == "fire.smoke"
        events[event.device_id] = event

    tower, roof = events["CAM-T-0001"], events["CAM-R-0001"]
    assert tower.lon is None and tower.distance_m is None
    assert abs(tower.bearing_deg - 90) < 5
    assert abs(roof.bearing_deg - 270) < 5
    assert geo.distance_m(roof.lon, roof.lat, *FIRE) < 100
    assert 200 < roof.distance_m < 400
