"""Stay-in scenario: a resident stops going out; the meters notice once, the door goes quiet."""

from __future__ import annotations

import random
from datetime import timedelta

from firmware_sim import messages
from firmware_sim.inventory import DeviceSpec
from firmware_sim.scenarios import stay_in_timeline
from gis import contract
from gis.contract import parse_device_message

SPECS = [
    DeviceSpec("WM-H1", "water_meter", "pw", household="H1", building="B1"),
    DeviceSpec("EM-H1", "electricity_meter", "pw", household="H1", building="B1"),
    DeviceSpec("DOOR-B1-1", "door", "pw", building="B1"),
    DeviceSpec("DOOR-B2-1", "door", "pw", building="B2"),
    DeviceSpec("WM-H2", "water_meter", "pw", household="H2", building="B2"),
]


def test_stay_in_replay_raises_each_no_usage_once_after_the_stop_and_silences_the_door() -> None:
    now = messages.now()
    stopped_at = now - timedelta(hours=30)
    timeline = stay_in_timeline(
        SPECS, "H1", days=3, stopped_hours=30, now=now, rng=random.Random(3)
    )

    parsed = [
        parse_device_message(contract.device_topic(device, channel), messages.encode(message))
        for device, channel, message in timeline
    ]
    assert {p.device_id for p in parsed} == {"WM-H1", "EM-H1", "DOOR-B1-1"}
    assert [p.ts for p in parsed] == sorted(p.ts for p in parsed)

    doors = [p for p in parsed if p.type.startswith("door.")]
    assert len([d for d in doors if d.type == "door.exit"]) >= 2
    assert all(d.ts < stopped_at and d.household_ref == "H1" for d in doors)

    anomalies = [p for p in parsed if p.type.startswith("meter.")]
    assert sorted(a.type for a in anomalies) == ["meter.power.no_usage", "meter.water.no_usage"]
    for anomaly in anomalies:
        assert anomaly.since <= stopped_at
        assert anomaly.duration_s > anomaly.threshold_s >= 6 * 3600
        assert anomaly.ts - anomaly.since < timedelta(hours=30)

    telemetry = [p for p in parsed if p.type == "telemetry.water"]
    assert len(telemetry) >= 3 * 24 * 4
    totals = [t.readings.total_m3 for t in telemetry]
    assert totals == sorted(totals) and totals[-1] > totals[0]
