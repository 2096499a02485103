"""Where is the smoke? Camera bearings intersected, or one bearing's ray.

Geometry is done in a local equirectangular plane around the first camera (metres east and
north, gis.spatial_join.LocalMetric): over a camera's range (a few km) its error is far
below the bearing error itself.

Two or more bearings: the point that minimises the squared perpendicular distances to the
rays, each weighted by the inverse variance of its cross-track error (distance x bearing
error), so a near camera counts more than a far one. The uncertainty radius is twice the
standard deviation along the worst axis of that estimate (about 95 %), or twice the RMS
residual when the rays disagree more than the bearing error explains.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from gis.spatial_join import LocalMetric

BEARING_SD_DEG = 2.0
"""Assumed error of a camera bearing (standard deviation), degrees."""
MIN_CROSSING_DEG = 10.0
"""Rays crossing at a flatter angle than this locate nothing useful."""
RANGE_MARGIN = 1.1
"""A crossing may lie a little beyond a camera's nominal range."""
MIN_UNCERTAINTY_M = 10.0
DEFAULT_RANGE_M = 3000.0
"""A camera without a registered range is assumed to see this far."""


@dataclass(frozen=True)
class Bearing:
    """One camera's bearing to a detection."""

    device_id: str
    lon: float
    lat: float
    bearing_deg: float
    range_m: float | None
    ts: datetime

    @property
    def reach_m(self) -> float:
        return reach_m(self.range_m)


@dataclass(frozen=True)
class Fix:
    """A located point with its uncertainty radius and the cameras that made it."""

    lon: float
    lat: float
    uncertainty_m: float
    device_ids: tuple[str, ...]


class _Plane:
    """Metres east/north of an origin."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        metric = LocalMetric(lat0)
        self.kx, self.ky = metric.kx, metric.ky

    def xy(self, lon: float, lat: float) -> np.ndarray:
        return np.array([(lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky])

    def lonlat(self, xy: np.ndarray) -> tuple[float, float]:
        return self.lon0 + float(xy[0]) / self.kx, self.lat0 + float(xy[1]) / self.ky


def reach_m(range_m: float | None) -> float:
    """How far a camera sees: its registered range, or DEFAULT_RANGE_M."""
    return range_m or DEFAULT_RANGE_M


def _direction(bearing_deg: float) -> np.ndarray:
    """Unit vector (east, north) of a bearing clockwise from north."""
    theta = math.radians(bearing_deg)
    return np.array([math.sin(theta), math.cos(theta)])


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres between two nearby points, in the local plane."""
    return float(np.linalg.norm(_Plane(lon1, lat1).xy(lon2, lat2)))


def point_along(bearing: Bearing, distance_m: float) -> tuple[float, float]:
    """The point ``distance_m`` from the camera along its bearing."""
    plane = _Plane(bearing.lon, bearing.lat)
    return plane.lonlat(_direction(bearing.bearing_deg) * distance_m)


def ray_samples(bearing: Bearing, step_m: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step_m`` along the ray, from the camera to its range (for a join)."""
    plane = _Plane(bearing.lon, bearing.lat)
    distances = np.arange(step_m, bearing.reach_m + step_m / 2, step_m)
    direction = _direction(bearing.bearing_deg)
    lon = plane.lon0 + distances * direction[0] / plane.kx
    lat = plane.lat0 + distances * direction[1] / plane.ky
    return lon, lat


def distance_to_ray_m(bearing: Bearing, lon: float, lat: float) -> float:
    """Metres from a point to the camera's ray segment (camera to its range)."""
    plane = _Plane(bearing.lon, bearing.lat)
    point = plane.xy(lon, lat)
    direction = _direction(bearing.bearing_deg)
    along = float(np.clip(point @ direction, 0.0, bearing.reach_m))
    return float(np.linalg.norm(point - direction * along))


def _crossing(plane: _Plane, a: Bearing, b: Bearing) -> np.ndarray | None:
    """Where the rays of a and b cross, if in front of both, within range, not too flat."""
    da, db = _direction(a.bearing_deg), _direction(b.bearing_deg)
    sine = da[0] * db[1] - da[1] * db[0]
    if abs(sine) < math.sin(math.radians(MIN_CROSSING_DEG)):
        return None
    pa, pb = plane.xy(a.lon, a.lat), plane.xy(b.lon, b.lat)
    # pa + s*da = pb + t*db, solved by Cramer's rule.
    delta = pb - pa
    s = (delta[0] * db[1] - delta[1] * db[0]) / sine
    t = (delta[0] * da[1] - delta[1] * da[0]) / sine
    if s <= 0 or t <= 0 or s > a.reach_m * RANGE_MARGIN or t > b.reach_m * RANGE_MARGIN:
        return None
    return pa + s * da


def _least_squares(plane: _Plane, bearings: Sequence[Bearing]) -> tuple[np.ndarray, float]:
    """Weighted least-squares point of several rays and its uncertainty radius (m)."""
    sigma = math.radians(BEARING_SD_DEG)
    positions = [plane.xy(b.lon, b.lat) for b in bearings]
    normals = [np.array([d[1], -d[0]]) for d in (_direction(b.bearing_deg) for b in bearings)]
    weights = np.ones(len(bearings))
    estimate = np.zeros(2)
    for _ in range(2):  # the weights depend on the distances, so solve twice
        info = sum(w * np.outer(n, n) for w, n in zip(weights, normals, strict=True))
        rhs = sum(
            w * np.outer(n, n) @ p for w, n, p in zip(weights, normals, positions, strict=True)
        )
        estimate = np.linalg.solve(info, rhs)
        distances = [max(float(np.linalg.norm(estimate - p)), 1.0) for p in positions]
        weights = np.array([1.0 / (d * sigma) ** 2 for d in distances])
    info = sum(w * np.outer(n, n) for w, n in zip(weights, normals, strict=True))
    spread = 2.0 * math.sqrt(float(np.linalg.eigvalsh(np.linalg.inv(info)).max()))
    residuals = [float(n @ (estimate - p)) for n, p in zip(normals, positions, strict=True)]
    rms = math.sqrt(sum(r * r for r in residuals) / len(residuals))
    return estimate, max(spread, 2.0 * rms, MIN_UNCERTAINTY_M)


def intersect(new: Bearing, others: Sequence[Bearing], cluster_m: float) -> Fix | None:
    """Locate ``new``'s detection with other cameras' bearings of the same window.

    Each other camera (its latest bearing) that crosses ``new``'s ray in front of both and
    within range is a candidate; candidates whose crossing lies within ``cluster_m`` of
    the median crossing are taken as the same smoke and solved together. None if no other
    camera's ray crosses this one.
    """
    latest: dict[str, Bearing] = {}
    for other in sorted(others, key=lambda b: b.ts):
        if other.device_id != new.device_id:
            latest[other.device_id] = other
    plane = _Plane(new.lon, new.lat)
    crossings = [(b, _crossing(plane, new, b)) for b in latest.values()]
    valid = [(b, point) for b, point in crossings if point is not None]
    if not valid:
        return None
    centre = np.median(np.array([point for _, point in valid]), axis=0)
    members = [b for b, point in valid if np.linalg.norm(point - centre) <= cluster_m]
    if not members:
        members = [min(valid, key=lambda item: np.linalg.norm(item[1] - centre))[0]]
    estimate, uncertainty = _least_squares(plane, [new, *members])
    lon, lat = plane.lonlat(estimate)
    ids = tuple(sorted({new.device_id, *(b.device_id for b in members)}))
    return Fix(lon, lat, uncertainty, ids)
