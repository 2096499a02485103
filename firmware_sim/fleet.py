"""Many simulated devices in one process, spread over a few network threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import fields

from firmware_sim import messages
from firmware_sim.device import DeviceStats, SimDevice
from firmware_sim.inventory import DeviceSpec
from firmware_sim.network import NetworkLoop
from firmware_sim.settings import SimSettings
from gis import contract

CONNECT_RATE_PER_S = 2_000
"""Devices powered on per second at start, so the broker's accept queue never overflows."""


class Fleet:
    def __init__(self, specs: Iterable[DeviceSpec], settings: SimSettings):
        self.settings = settings
        self.loops = [NetworkLoop(f"sim-net-{i}") for i in range(settings.sim_network_threads)]
        self.devices: dict[str, SimDevice] = {}
        for i, spec in enumerate(specs):
            self.devices[spec.id] = SimDevice(spec, settings, self.loops[i % len(self.loops)])

    def __enter__(self) -> Fleet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        for loop in self.loops:
            loop.start()
        for i, device in enumerate(self.devices.values()):
            delay = i / CONNECT_RATE_PER_S
            device.loop.call_soon(lambda d=device, s=delay: d.loop.call_later(s, d.power_on))

    def stop(self, drain_timeout_s: float = 5.0) -> None:
        """Wait for outstanding acknowledgements, shut every device down cleanly, stop."""
        self.wait_drained(drain_timeout_s)
        for device in self.devices.values():
            device.loop.call_soon(device.shutdown)
        self.wait(lambda: not any(d.client.is_connected() for d in self.devices.values()), 5.0)
        for loop in self.loops:
            loop.stop()

    def on_device(self, device_id: str, action: Callable[[SimDevice], None]) -> None:
        """Run ``action(device)`` on that device's network thread."""
        device = self.devices[device_id]
        device.loop.call_soon(lambda: action(device))

    def emit(self, device_id: str, channel: contract.Channel, message: messages.Message) -> None:
        self.on_device(device_id, lambda d: d.emit(channel, message))

    @staticmethod
    def wait(condition: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def wait_connected(self, timeout_s: float = 30.0) -> bool:
        return self.wait(lambda: all(d.connected for d in self.devices.values()), timeout_s)

    def wait_drained(self, timeout_s: float = 30.0) -> bool:
        """True once every message handed to a device has been acknowledged."""
        deadline = time.monotonic() + timeout_s
        self._barrier(timeout_s)
        return self.wait(lambda: self.unacknowledged() == 0, deadline - time.monotonic())

    def _barrier(self, timeout_s: float) -> None:
        """Wait until every loop has run what was handed to it before this call."""
        reached = [threading.Event() for _ in self.loops]
        for loop, event in zip(self.loops, reached, strict=True):
            loop.call_soon(event.set)
        deadline = time.monotonic() + timeout_s
        for event in reached:
            event.wait(max(0.0, deadline - time.monotonic()))

    def unacknowledged(self) -> int:
        return sum(d.unacknowledged for d in self.devices.values())

    def stats(self) -> DeviceStats:
        total = DeviceStats()
        for device in self.devices.values():
            for f in fields(DeviceStats):
                setattr(total, f.name, getattr(total, f.name) + getattr(device.stats, f.name))
        return total
