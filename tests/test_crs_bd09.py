"""BD-09 (Baidu) next to GCJ-02: the public formula's known shift and its inverse."""

from __future__ import annotations

import numpy as np
from pyproj import Geod

from gis.crs import bd09_to_gcj02, gcj02_to_bd09, wgs84_to_bd09, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")


def _metres(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2]


def test_crs_bd09_is_a_few_hundred_metres_from_gcj02() -> None:
    rng = np.random.default_rng(5)
    gcj = np.column_stack((rng.uniform(75, 134, 1000), rng.uniform(18, 53, 1000)))
    shift = _metres(gcj, gcj02_to_bd09(gcj))
    # The constant part of the formula alone is 0.0065° east and 0.006° north.
    assert np.all((shift > 600) & (shift < 1100)), (shift.min(), shift.max())


def test_crs_bd09_inverse_returns_within_a_metre() -> None:
    rng = np.random.default_rng(9)
    gcj = np.column_stack((rng.uniform(75, 134, 10_000), rng.uniform(18, 53, 10_000)))
    assert _metres(gcj, bd09_to_gcj02(gcj02_to_bd09(gcj))).max() < 1.0


def test_crs_wgs84_to_bd09_goes_through_gcj02() -> None:
    baotou = np.array([[109.84, 40.65], [109.8262, 40.6135]])
    assert np.array_equal(wgs84_to_bd09(baotou), gcj02_to_bd09(wgs84_to_gcj02(baotou)))
