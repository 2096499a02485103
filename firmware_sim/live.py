"""A living city for the demo: a sample of the city's devices stays online and things
happen — meter telemetry, residents going in and out, now and then a fire seen by the
cameras around it, or an elderly resident's meter that stops seeing use.

Runs until stopped (or for ``duration_s``); what it sends is exactly what real firmware
sends (docs/mqtt-contract.md), so the platform cannot tell the difference.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from firmware_sim import geo, messages, scenarios
from firmware_sim.cameras import can_see
from firmware_sim.fleet import Fleet
from firmware_sim.inventory import DeviceSpec
from firmware_sim.meters import MeterFirmware, household_use
from firmware_sim.settings import SimSettings


@dataclass(frozen=True)
class LivePlan:
    households: int = 150
    """Households whose water and electricity meters stay online."""
    tick_s: float = 5.0
    door_events_per_tick: int = 2
    fire_every_s: float = 180.0
    alarm_every_s: float = 240.0
    first_fire_s: float = 15.0
    first_alarm_s: float = 45.0
    duration_s: float = 0.0
    """0 runs until stopped."""


def choose_devices(
    specs: Sequence[DeviceSpec], plan: LivePlan, rng: random.Random
) -> list[DeviceSpec]:
    """Every camera, the meters of a sample of households, the doors of their buildings."""
    cameras = [s for s in specs if s.kind == "camera" and s.located and s.range_m]
    households = sorted({s.household for s in specs if s.household and s.kind != "door"})
    chosen = set(rng.sample(households, min(plan.households, len(households))))
    meters = [s for s in specs if s.household in chosen and s.kind != "door"]
    buildings = {m.building for m in meters if m.building}
    doors = [s for s in specs if s.kind == "door" and s.building in buildings]
    return cameras + meters + doors


class LiveCity:
    def __init__(self, fleet: Fleet, plan: LivePlan, rng: random.Random, log: Callable):
        self.fleet = fleet
        self.plan = plan
        self.rng = rng
        self.log = log
        specs = [d.spec for d in fleet.devices.values()]
        self.cameras = [s for s in specs if s.kind == "camera"]
        self.meters = {
            s.id: MeterFirmware(s.id, water=s.kind == "water_meter", total=rng.uniform(50, 500))
            for s in specs
            if s.kind in ("water_meter", "electricity_meter")
        }
        self.meter_specs = [s for s in specs if s.id in self.meters]
        households_by_building: dict[str, list[str]] = {}
        for s in self.meter_specs:
            households_by_building.setdefault(s.building or "", []).append(s.household or "")
        self.doors = [
            (s, sorted(set(households_by_building[s.building])))
            for s in specs
            if s.kind == "door" and s.building in households_by_building
        ]

    def tick(self, dt_s: float) -> None:
        now = messages.now()
        for device_id, meter in self.meters.items():
            water, power = household_use(now, self.rng)
            for message in meter.step(now, water if meter.water else power, dt_s):
                channel = "telemetry" if message["type"].startswith("telemetry") else "events"
                self.fleet.emit(device_id, channel, message)
        for door, households in self.rng.sample(
            self.doors, min(self.plan.door_events_per_tick, len(self.doors))
        ):
            direction = self.rng.choice(("door.entry", "door.exit"))
            household = self.rng.choice(households)
            self.fleet.emit(door.id, "events", messages.door(door.id, now, direction, household))

    def fire(self) -> None:
        camera = self.rng.choice([c for c in self.cameras if not c.is_tower_camera] or self.cameras)
        lon, lat = geo.offset(
            camera.lon, camera.lat, self.rng.uniform(-250, 250), self.rng.uniform(-250, 250)
        )
        seen_by = [c.id for c in self.cameras if can_see(c, lon, lat)]
        scenarios.fire(self.fleet, lon, lat, "fire.smoke", rng=self.rng)
        self.log(f"火情 fire at ({lon:.5f}, {lat:.5f}) reported by {len(seen_by)} cameras")

    def elderly_alarm(self) -> None:
        meter = self.rng.choice([s for s in self.meter_specs if s.kind == "water_meter"])
        now = messages.now()
        since = now - timedelta(hours=self.rng.uniform(26, 40))
        message = messages.meter_anomaly(
            meter.id,
            now,
            "meter.water.no_usage",
            since,
            threshold_s=24 * 3600,
            readings=messages.water_readings(self.meters[meter.id].total, 0.0),
        )
        self.fleet.emit(meter.id, "events", message)
        self.log(f"独居老人用水异常 no water use at household {meter.household}")


def run_live(
    specs: Sequence[DeviceSpec],
    settings: SimSettings,
    plan: LivePlan,
    stop: threading.Event,
    rng: random.Random | None = None,
    log: Callable[[str], None] = print,
) -> None:
    rng = rng or random.Random()
    chosen = choose_devices(specs, plan, rng)
    with Fleet(chosen, settings) as fleet:
        fleet.wait_connected(timeout_s=60)
        city = LiveCity(fleet, plan, rng, log)
        log(
            f"城市运行中 live city: {len(city.cameras)} cameras, {len(city.meters)} meters, "
            f"{len(city.doors)} doors online"
        )
        started = last_tick = time.monotonic()
        next_fire, next_alarm = started + plan.first_fire_s, started + plan.first_alarm_s
        while not stop.wait(plan.tick_s):
            now = time.monotonic()
            city.tick(now - last_tick)
            last_tick = now
            if now >= next_fire:
                city.fire()
                next_fire = now + plan.fire_every_s
            if now >= next_alarm:
                city.elderly_alarm()
                next_alarm = now + plan.alarm_every_s
            if plan.duration_s and now - started >= plan.duration_s:
                break
