"""GCJ-02 ⇄ WGS84: the known offset around Baotou, a centimetre-exact inverse, no shift abroad."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from pyproj.exceptions import CRSError

from gis.crs import gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")
BAOTOU = np.array([[109.84, 40.65], [109.73, 40.71], [110.0, 40.58], [109.95, 41.0]])


def _metres(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2]


def test_crs_gcj02_offset_around_baotou_is_500_to_650_m() -> None:
    offset = _metres(BAOTOU, wgs84_to_gcj02(BAOTOU))
    assert np.all((offset > 480) & (offset < 650)), offset


def test_crs_gcj02_round_trip_is_below_a_centimetre() -> None:
    rng = np.random.default_rng(7)
    wgs = np.column_stack((rng.uniform(75, 134, 10_000), rng.uniform(18, 53, 10_000)))
    back = gcj02_to_wgs84(wgs84_to_gcj02(wgs))
    assert _metres(wgs, back).max() < 0.01


def test_crs_gcj02_does_not_shift_outside_china() -> None:
    paris = np.array([[2.35, 48.85], [-74.0, 40.7]])
    assert np.array_equal(wgs84_to_gcj02(paris), paris)
    assert np.array_equal(gcj02_to_wgs84(paris), paris)


def test_crs_to_wgs84_converts_whole_layers_from_gcj02_and_projected_crs() -> None:
    gcj = shapely.points(wgs84_to_gcj02(BAOTOU))
    layer = gpd.GeoDataFrame({"n": range(len(BAOTOU))}, geometry=gcj, crs="EPSG:4326")
    back = shapely.get_coordinates(to_wgs84(layer, "gcj02").geometry.to_numpy())
    assert _metres(BAOTOU, back).max() < 0.01

    utm = gpd.GeoSeries(shapely.points(BAOTOU), crs="EPSG:4326").to_crs("EPSG:32649")
    converted = to_wgs84(
        gpd.GeoDataFrame(geometry=utm.set_crs(None, allow_override=True)), "EPSG:32649"
    )
    assert converted.crs.to_epsg() == 4326
    assert _metres(BAOTOU, shapely.get_coordinates(converted.geometry.to_numpy())).max() < 0.01


def test_crs_to_wgs84_rejects_unknown_crs_names() -> None:
    with pytest.raises(CRSError):
        to_wgs84(gpd.GeoDataFrame(geometry=[shapely.Point(1, 1)]), "bd09-nonsense")
