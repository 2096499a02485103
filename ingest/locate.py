"""Where one event happened, from the message and the device registry alone.

A fire camera's own estimate comes first (``reported`` lon/lat, else ``bearing_range``:
bearing plus distance, else ``bearing_only``: a point at mid-range on the bearing); a
camera that sent neither is placed at itself (``device``) with its range as uncertainty.
Meter anomalies happen in the household's building (``household``); doors at the door.
Bearings of several cameras are intersected later, under the fire lock (see fire.py),
because they need the other cameras' recent bearings from the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from gis.contract import DoorEvent, FireEvent, PowerAnomalyEvent, WaterAnomalyEvent
from ingest.bearings import Bearing, point_along, reach_m
from ingest.registry import DeviceInfo

Event = FireEvent | WaterAnomalyEvent | PowerAnomalyEvent | DoorEvent
DEVICE_UNCERTAINTY_M = 10.0
"""A meter or door is where it was installed, give or take a building."""
RANGE_UNCERTAINTY = 0.2
"""Relative error of a camera's distance estimate along its bearing."""
MIN_REPORTED_UNCERTAINTY_M = 20.0


@dataclass(frozen=True)
class Location:
    lon: float
    lat: float
    method: str
    """The contract's location.method: reported, device, bearing_range, bearing_only, …"""
    uncertainty_m: float


def camera_bearing(event: FireEvent, device: DeviceInfo) -> Bearing | None:
    if event.bearing_deg is None:
        return None
    return Bearing(device.id, device.lon, device.lat, event.bearing_deg, device.range_m, event.ts)


def locate(event: Event, device: DeviceInfo) -> Location:
    if isinstance(event, FireEvent):
        return _locate_fire(event, device)
    if (
        isinstance(event, WaterAnomalyEvent | PowerAnomalyEvent)
        and device.household_lon is not None
    ):
        return Location(
            device.household_lon, device.household_lat, "household", DEVICE_UNCERTAINTY_M
        )
    return Location(device.lon, device.lat, "device", DEVICE_UNCERTAINTY_M)


def _locate_fire(event: FireEvent, device: DeviceInfo) -> Location:
    if event.lon is not None:
        accuracy = event.accuracy_m or MIN_REPORTED_UNCERTAINTY_M
        return Location(event.lon, event.lat, "reported", accuracy)
    bearing = camera_bearing(event, device)
    if bearing is None:
        return Location(device.lon, device.lat, "device", reach_m(device.range_m))
    if event.distance_m is not None:
        lon, lat = point_along(bearing, event.distance_m)
        uncertainty = max(MIN_REPORTED_UNCERTAINTY_M, RANGE_UNCERTAINTY * event.distance_m)
        return Location(lon, lat, "bearing_range", uncertainty)
    lon, lat = point_along(bearing, bearing.reach_m / 2)
    return Location(lon, lat, "bearing_only", bearing.reach_m / 2)
