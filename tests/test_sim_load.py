"""Load mode: many devices on a few network threads reach the requested rate."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_sim.inventory import read_inventory
from firmware_sim.load import run_load
from firmware_sim.settings import SimSettings
from ingest.broker_inventory import synthetic_devices
from tests.mqtt_helpers import RunningBroker, wait_until

pytest_plugins = ["tests.mqtt_helpers"]


def test_load_mode_hits_requested_rate_and_everything_arrives(
    broker_factory, tmp_path: Path
) -> None:
    devices = synthetic_devices(300)
    running: RunningBroker = broker_factory([d.id for d in devices], [])
    ingest = running.client("wangge-ingest")
    ingest.subscribe("wangge/v1/devices/+/telemetry")
    specs = read_inventory(running.write_credentials(tmp_path / "devices.csv", devices))

    result = run_load(specs, SimSettings(mqtt_port=running.port), rate=400, duration_s=3)

    assert result.devices == 300
    assert result.send_rate == pytest.approx(400, rel=0.1)
    assert result.acked == result.sent and result.refused == 0
    assert wait_until(lambda: len(ingest.messages) >= result.sent, 10)
    assert len({m.topic for m in ingest.messages}) == 300
