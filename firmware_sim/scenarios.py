"""Scenarios: a fire seen by the cameras around it; a resident who stops going out."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from firmware_sim import messages
from firmware_sim.cameras import fire_report
from firmware_sim.fleet import Fleet
from firmware_sim.inventory import DeviceSpec
from firmware_sim.meters import CHINA_TIME, FRIDGE_W, MeterFirmware, household_use
from gis import contract

Emission = tuple[str, contract.Channel, messages.Message]
STEP_S = 300
"""Meter sampling step of the stay-in replay (telemetry still goes out every 15 minutes)."""
OUTING = ((9.0, 10.5), (15.0, 16.5))
"""(exit, entry) local hours of the resident's daily outings, ±30 minutes."""


def fire(
    fleet: Fleet,
    lon: float,
    lat: float,
    kind: Literal["fire.smoke", "fire.flame"] = "fire.smoke",
    repeat: int = 1,
    every_s: float = 60.0,
    rng: random.Random | None = None,
) -> list[str]:
    """Every camera that can see (lon, lat) reports it, ``repeat`` times; returns their ids."""
    rng = rng or random.Random()
    reporters: list[str] = []
    for round_ in range(repeat):
        if round_:
            time.sleep(every_s)
        ts = messages.now()
        for device in fleet.devices.values():
            report = fire_report(device.spec, lon, lat, kind, ts, rng)
            if report is not None:
                fleet.emit(device.id, "events", report)
                if round_ == 0:
                    reporters.append(device.id)
    return reporters


def household_devices(specs: Sequence[DeviceSpec], household: str) -> list[DeviceSpec]:
    """The household's meters and the first door controller of its building."""
    meters = [
        s
        for s in specs
        if s.household == household and s.kind in ("water_meter", "electricity_meter")
    ]
    buildings = {m.building for m in meters if m.building}
    doors = [s for s in specs if s.kind == "door" and s.building in buildings][:1]
    if not meters and not doors:
        raise ValueError(f"household {household} has no meter or door in the inventory")
    return meters + doors


def stay_in_timeline(
    specs: Sequence[DeviceSpec],
    household: str,
    days: float,
    stopped_hours: float,
    now: datetime,
    rng: random.Random,
) -> list[Emission]:
    """The household's last ``days`` as its devices report them: an ordinary life until
    ``stopped_hours`` ago, then no outings and no use of water or electricity (standby only).
    """
    if not 0 < stopped_hours <= days * 24 - 24:
        raise ValueError("keep at least one ordinary day before the resident stops")
    devices = household_devices(specs, household)
    start = now - timedelta(days=days)
    stopped_at = now - timedelta(hours=stopped_hours)
    meters = [
        MeterFirmware(d.id, water=d.kind == "water_meter", total=rng.uniform(50, 500))
        for d in devices
        if d.kind != "door"
    ]
    timed: list[tuple[datetime, Emission]] = []
    ts = start
    while ts <= now:
        water, power = household_use(ts, rng) if ts < stopped_at else (0.0, FRIDGE_W)
        for meter in meters:
            for message in meter.step(ts, water if meter.water else power, STEP_S):
                channel = "telemetry" if message["type"].startswith("telemetry") else "events"
                timed.append((ts, (meter.device_id, channel, message)))
        ts += timedelta(seconds=STEP_S)
    resident = f"card-{rng.randrange(16**8):08X}"
    for door in (d for d in devices if d.kind == "door"):
        day = start.astimezone(CHINA_TIME).replace(hour=0, minute=0, second=0, microsecond=0)
        while day < stopped_at:
            for exit_hour, entry_hour in OUTING:
                for hours, direction in ((exit_hour, "door.exit"), (entry_hour, "door.entry")):
                    at = day + timedelta(hours=hours, minutes=rng.uniform(-30, 30))
                    if start <= at < stopped_at:
                        message = messages.door(door.id, at, direction, household, resident)
                        timed.append((at, (door.id, "events", message)))
            day += timedelta(days=1)
    return [emission for _, emission in sorted(timed, key=lambda item: item[0])]


def stay_in(
    fleet: Fleet,
    household: str,
    days: float = 3.0,
    stopped_hours: float = 30.0,
    rng: random.Random | None = None,
) -> Counter[str]:
    """Replay the stay-in timeline through the household's devices; count by message type."""
    specs = [d.spec for d in fleet.devices.values()]
    timeline = stay_in_timeline(
        specs, household, days, stopped_hours, messages.now(), rng or random.Random()
    )
    for device_id, channel, message in timeline:
        fleet.emit(device_id, channel, message)
    return Counter(message["type"] for _, _, message in timeline)
