"""Load mode: many devices on a few network threads, paced to the requested rate (never
faster; whether a loaded machine keeps up is printed, not asserted: `wangge sim load` and
the benchmarks measure it), and everything sent arrives."""

from __future__ import annotations

from pathlib import Path

from firmware_sim.inventory import read_inventory
from firmware_sim.load import run_load
from firmware_sim.settings import SimSettings
from ingest.broker_inventory import synthetic_devices
from tests.mqtt_helpers import RunningBroker, wait_until

pytest_plugins = ["tests.mqtt_helpers"]


def test_load_mode_is_paced_to_the_requested_rate_and_everything_arrives(
    broker_factory, tmp_path: Path
) -> None:
    devices = synthetic_devices(300)
    running: RunningBroker = broker_factory([d.id for d in devices], [])
    ingest = running.client("wangge-ingest")
    ingest.subscribe("wangge/v1/devices/+/telemetry")
    specs = read_inventory(running.write_credentials(tmp_path / "devices.csv", devices))

    result = run_load(specs, SimSettings(mqtt_port=running.port), rate=400, duration_s=3)

    assert result.devices == 300
    print(f"load: sent {result.sent} at {result.send_rate:.0f}/s (asked 400/s)")
    assert 0 < result.send_rate <= 400 * 1.1
    assert result.acked == result.sent and result.refused == 0
    assert wait_until(lambda: len(ingest.messages) >= result.sent, 30)
    assert len({m.topic for m in ingest.messages}) == 300
