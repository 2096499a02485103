"""Load mode: many devices, each with its own connection, sending at a total target rate."""

from __future__ import annotations

import random
import resource
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from firmware_sim import messages
from firmware_sim.device import SimDevice
from firmware_sim.fleet import Fleet
from firmware_sim.inventory import DeviceSpec
from firmware_sim.settings import SimSettings
from gis import contract

TICK_S = 0.01


def routine_message(spec: DeviceSpec, rng: random.Random) -> tuple[contract.Channel, dict]:
    """What a device of this kind sends most often."""
    ts = messages.now()
    if spec.kind in ("water_meter", "electricity_meter"):
        water = spec.kind == "water_meter"
        readings = (
            messages.water_readings(rng.uniform(0, 900), rng.choice((0.0, rng.uniform(0, 400))))
            if water
            else messages.power_readings(rng.uniform(0, 9000), rng.uniform(40, 2000))
        )
        return "telemetry", messages.telemetry(spec.id, ts, water, 900, readings)
    if spec.kind == "door":
        household = spec.household or spec.building or spec.id
        direction = rng.choice(("door.entry", "door.exit"))
        return "events", messages.door(spec.id, ts, direction, household)
    return "status", messages.status(spec.id, ts, "heartbeat", heartbeat_s=300)


@dataclass(frozen=True)
class LoadResult:
    devices: int
    connect_s: float
    requested_rate: float
    duration_s: float
    send_s: float
    """From the first tick to the last message handed over (longer than asked if CPU-bound)."""
    sent: int
    acked: int
    refused: int
    drain_s: float
    cpu_s: float

    @property
    def send_rate(self) -> float:
        return self.sent / self.send_s

    @property
    def ack_rate(self) -> float:
        """Acknowledged per second over the send window and the drain after it."""
        return self.acked / (self.send_s + self.drain_s)

    def as_dict(self) -> dict:
        return asdict(self) | {
            "send_rate": round(self.send_rate, 1),
            "ack_rate": round(self.ack_rate, 1),
            "send_ratio": round(self.send_rate / self.requested_rate, 3),
        }


class _Pacer:
    """Sends its loop's share of the rate, round-robin over its devices, every tick."""

    def __init__(self, devices: list[SimDevice], rate: float, duration_s: float, seed: int):
        self.devices = devices
        self.rate = rate
        self.duration_s = duration_s
        self.rng = random.Random(seed)
        self.sent = 0
        self.started = 0.0
        self.finished: float | None = None
        self._next = 0

    def start(self) -> None:
        self.started = time.monotonic()
        self._tick()

    def _tick(self) -> None:
        elapsed = min(time.monotonic() - self.started, self.duration_s)
        for _ in range(int(self.rate * elapsed) - self.sent):
            device = self.devices[self._next % len(self.devices)]
            self._next += 1
            device.emit(*routine_message(device.spec, self.rng))
            self.sent += 1
        if elapsed < self.duration_s:
            self.devices[0].loop.call_later(TICK_S, self._tick)
        else:
            self.finished = time.monotonic()


def run_load(
    specs: Sequence[DeviceSpec], settings: SimSettings, rate: float, duration_s: float
) -> LoadResult:
    """Connect every device, send ``rate`` messages/s in total for ``duration_s``, drain."""
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    fleet = Fleet(specs, settings)
    started = time.monotonic()
    fleet.start()
    try:
        if not fleet.wait_connected(timeout_s=60 + len(specs) / 100):
            raise RuntimeError("not every device connected (check credentials and broker)")
        connect_s = time.monotonic() - started
        fleet.wait_drained(timeout_s=30)  # the "connected" statuses are not part of the load
        baseline = fleet.stats()
        pacers = []
        for i, loop in enumerate(fleet.loops):
            mine = [d for d in fleet.devices.values() if d.loop is loop]
            if mine:
                share = rate * len(mine) / len(fleet.devices)
                pacers.append((loop, _Pacer(mine, share, duration_s, seed=i)))
        for loop, pacer in pacers:
            loop.call_soon(pacer.start)
        fleet.wait(lambda: all(p.finished for _, p in pacers), duration_s + 60)
        sending_ended = time.monotonic()
        send_s = max(p.finished or sending_ended for _, p in pacers) - min(
            p.started for _, p in pacers
        )
        fleet.wait_drained(timeout_s=60)
        drain_s = time.monotonic() - sending_ended
        stats = fleet.stats()
    finally:
        fleet.stop()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    return LoadResult(
        devices=len(fleet.devices),
        connect_s=round(connect_s, 2),
        requested_rate=rate,
        duration_s=duration_s,
        send_s=round(send_s, 3),
        sent=sum(p.sent for _, p in pacers),
        acked=stats.acked - baseline.acked,
        refused=stats.refused - baseline.refused,
        drain_s=round(drain_s, 2),
        cpu_s=round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 2),
    )
