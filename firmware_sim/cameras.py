"""What a camera reports when there is a fire at a place: nothing if it cannot see that far,
a bearing from a tower, a bearing with distance and an estimated position from a roof."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Literal

from firmware_sim import geo, messages
from firmware_sim.inventory import DeviceSpec

BEARING_SD_DEG = 1.0
ROOF_DISTANCE_SD = 0.1
"""Relative error of a roof camera's distance estimate."""


def can_see(camera: DeviceSpec, lon: float, lat: float) -> bool:
    """A placed camera with a known range, the place within it."""
    if camera.kind != "camera" or not camera.located or not camera.range_m:
        return False
    return geo.distance_m(camera.lon, camera.lat, lon, lat) <= camera.range_m


def fire_report(
    camera: DeviceSpec,
    lon: float,
    lat: float,
    kind: Literal["fire.smoke", "fire.flame"],
    ts: datetime,
    rng: random.Random,
) -> messages.Message | None:
    """The camera's event, or None if it cannot see the place."""
    if not can_see(camera, lon, lat):
        return None
    distance = geo.distance_m(camera.lon, camera.lat, lon, lat)
    true_bearing = geo.bearing_deg(camera.lon, camera.lat, lon, lat)
    bearing = geo.normalize_bearing(true_bearing + rng.gauss(0, BEARING_SD_DEG))
    confidence = min(0.99, max(0.3, 0.95 - 0.5 * distance / camera.range_m + rng.gauss(0, 0.03)))
    if camera.is_tower_camera:
        return messages.fire(camera.id, ts, kind, confidence, bearing_deg=bearing)
    estimate = max(1.0, distance * (1 + rng.gauss(0, ROOF_DISTANCE_SD)))
    accuracy = max(20.0, ROOF_DISTANCE_SD * distance)
    position = geo.offset(lon, lat, rng.gauss(0, accuracy / 2), rng.gauss(0, accuracy / 2))
    return messages.fire(
        camera.id,
        ts,
        kind,
        confidence,
        bearing_deg=bearing,
        distance_m=estimate,
        position=position,
        accuracy_m=round(accuracy),
    )
