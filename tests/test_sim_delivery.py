"""Simulated firmware keeps the delivery promises: buffer and replay, last will, shutdown."""

from __future__ import annotations

from pathlib import Path

from firmware_sim import messages
from firmware_sim.fleet import Fleet
from firmware_sim.inventory import read_inventory
from firmware_sim.settings import SimSettings
from gis.contract import Status, parse_device_message
from ingest.broker_inventory import DeviceRecord
from tests.mqtt_helpers import RunningBroker, wait_until

pytest_plugins = ["tests.mqtt_helpers"]

METER = DeviceRecord(id="WM-0001", kind="water_meter", household="H-0001")
PERSISTENT = {"clean_start": False, "session_expiry_s": 3600}


def _fleet(running: RunningBroker, tmp_path: Path, **settings) -> Fleet:
    specs = read_inventory(running.write_credentials(tmp_path / "devices.csv", [METER]))
    return Fleet(specs, SimSettings(mqtt_port=running.port, sim_reconnect_min_s=0.2, **settings))


def _reading(total: float) -> messages.Message:
    return messages.telemetry(
        METER.id, messages.now(), True, 900, messages.water_readings(total, 0.0)
    )


def test_messages_buffered_while_broker_is_down_arrive_after_restart(
    broker_factory, tmp_path: Path
) -> None:
    running: RunningBroker = broker_factory([METER.id], [])
    ingest = running.client("wangge-ingest", "ingest-1", **PERSISTENT)
    ingest.subscribe("wangge/v1/devices/+/telemetry")
    with _fleet(running, tmp_path) as fleet:
        assert fleet.wait_connected(30)
        device = fleet.devices[METER.id]
        before = _reading(1.0)
        fleet.emit(METER.id, "telemetry", before)
        assert fleet.wait_drained(30)

        running.stop()
        assert Fleet.wait(lambda: not device.connected, 30)
        offline = [_reading(2.0 + i) for i in range(50)]
        for message in offline:
            fleet.emit(METER.id, "telemetry", message)
        assert Fleet.wait(lambda: len(device.buffer) == 50, 30)

        running.start()
        assert fleet.wait_connected(30)
        assert fleet.wait_drained(30)
        assert device.stats.dropped == 0

    expected = {m["event_id"] for m in [before, *offline]}

    def event_ids() -> set[str]:  # at least once: a redelivered copy may come twice
        return {str(parse_device_message(m.topic, m.payload).event_id) for m in ingest.messages}

    wait_until(lambda: event_ids() >= expected, 30)
    assert event_ids() == expected


def test_full_offline_buffer_drops_the_oldest(broker_factory, tmp_path: Path) -> None:
    running: RunningBroker = broker_factory([METER.id], [])
    ingest = running.client("wangge-ingest", "ingest-1", **PERSISTENT)
    ingest.subscribe("wangge/v1/devices/+/telemetry")
    running.stop()
    with _fleet(running, tmp_path, sim_buffer_limit=10) as fleet:
        sent = [_reading(float(i)) for i in range(15)]
        for message in sent:
            fleet.emit(METER.id, "telemetry", message)
        device = fleet.devices[METER.id]
        assert Fleet.wait(lambda: device.stats.dropped == 5, 30)
        running.start()
        assert fleet.wait_connected(30) and fleet.wait_drained(30)

    def totals() -> set[float]:
        return {parse_device_message(m.topic, m.payload).readings.total_m3 for m in ingest.messages}

    kept = {float(i) for i in range(5, 15)}
    wait_until(lambda: totals() >= kept, 30)
    assert totals() == kept


def test_last_will_says_offline_when_the_device_dies(broker_factory, tmp_path: Path) -> None:
    running: RunningBroker = broker_factory([METER.id], [])
    watcher = running.client("wangge-ingest")
    watcher.subscribe("wangge/v1/devices/+/status")
    fleet = _fleet(running, tmp_path)
    fleet.start()
    try:
        assert fleet.wait_connected(30)
        fleet.on_device(METER.id, lambda device: device.power_off())
        statuses = watcher.wait_for(2)
    finally:
        fleet.stop(drain_timeout_s=0)
    parsed = [parse_device_message(m.topic, m.payload) for m in statuses]
    assert all(isinstance(s, Status) for s in parsed)
    assert [(s.state, s.reason) for s in parsed[:2]] == [
        ("online", "connected"),
        ("offline", "last_will"),
    ]
    late = running.client("wangge-admin")
    late.subscribe(f"wangge/v1/devices/{METER.id}/status")
    (kept,) = late.wait_for(1)
    assert kept.retain and parse_device_message(kept.topic, kept.payload).reason == "last_will"


def test_planned_shutdown_says_offline_without_a_last_will(broker_factory, tmp_path: Path) -> None:
    running: RunningBroker = broker_factory([METER.id], [])
    watcher = running.client("wangge-ingest")
    watcher.subscribe("wangge/v1/devices/+/status")
    with _fleet(running, tmp_path) as fleet:
        assert fleet.wait_connected(30)
    # The fence: the meter's id connects again and says something. Its old connection's
    # last will, if any, is sent when that connection ends or at the latest when this one
    # takes its session over (before the CONNACK), so it would come before the fence.
    again = running.client(METER.id)
    again.publish(f"wangge/v1/devices/{METER.id}/status", b"fence")
    assert wait_until(lambda: b"fence" in [m.payload for m in watcher.messages], 30)
    payloads = [m.payload for m in watcher.messages]
    statuses = watcher.messages[: payloads.index(b"fence")]
    reasons = [parse_device_message(m.topic, m.payload).reason for m in statuses]
    assert reasons == ["connected", "shutdown"]


def test_message_nobody_heard_is_kept_and_sent_again(broker_factory, tmp_path: Path) -> None:
    """PUBACK 0x10 (no matching subscribers — e.g. the ingest workers' shared subscription
    is not back yet after a broker restart) is not delivery: the firmware retries."""
    running: RunningBroker = broker_factory([METER.id], [])
    with _fleet(running, tmp_path) as fleet:
        assert fleet.wait_connected(30)
        device = fleet.devices[METER.id]
        unheard = _reading(7.0)
        fleet.emit(METER.id, "telemetry", unheard)
        assert Fleet.wait(lambda: device.stats.unheard >= 1, 30)

        ingest = running.client("wangge-ingest", "ingest-1")
        ingest.subscribe("$share/wangge-ingest/wangge/v1/devices/+/telemetry")
        assert fleet.wait_drained(30)

    received = [parse_device_message(m.topic, m.payload) for m in ingest.wait_for(1)]
    assert [str(m.event_id) for m in received] == [unheard["event_id"]]
