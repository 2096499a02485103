"""The real ground the demo city stands on: 昆都仑区's polygon, its 街道/镇 and a metric CRS."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import pyproj
import shapely
from shapely.geometry import Point, Polygon

DISTRICT_CODE = "150203"
DISTRICT_NAME = "昆都仑区"
DISTRICT_FILE = "inner_mongolia_districts_wgs84.geojson"
STREETS_FILE = "subdistricts_baotou_hohhot_ulanhot.csv"

METRIC_CRS = "EPSG:32649"
"""UTM zone 49N (108°E–114°E): metres, true enough for a 20 km district."""
BOUNDARY_STEP_DEG = 0.0005
"""The district's edges are kilometres long; a straight edge in degrees is slightly curved
in metres. Densified to ~50 m steps, clipping in metres stays on the edge in degrees."""

URBAN_CENTRE = (109.812, 40.650)
"""WGS84 lon/lat the city grows from: Kundulun's urban core in the south-east of the district."""

RURAL_ANCHORS = {
    "150203100000": ((109.78, 40.76), 1.0),  # 昆河镇: the hills to the north
    "150203102000": ((109.66, 40.68), 1.0),  # 卜尔汉图镇: the west
    "150203400000": ((109.73, 40.67), 1.8),  # 包钢厂区: the steel works, a compact area
}
"""Outside the urban streets, each block goes to the anchor nearest by weighted distance."""


@dataclass(frozen=True)
class StreetRef:
    """A real 街道/镇 of the district (12-digit statistical code and name)."""

    code: str
    name: str

    @property
    def is_town(self) -> bool:
        return self.name.endswith("镇")


def load_district(boundaries_dir: Path) -> Polygon:
    """昆都仑区's boundary polygon in WGS84, densified (BOUNDARY_STEP_DEG)."""
    frame = pyogrio.read_dataframe(boundaries_dir / DISTRICT_FILE)
    rows = frame[frame["district_adcode"].astype(str) == DISTRICT_CODE]
    if len(rows) != 1:
        raise ValueError(f"{DISTRICT_FILE} has {len(rows)} features for {DISTRICT_CODE}")
    return shapely.segmentize(shapely.make_valid(rows.geometry.iloc[0]), BOUNDARY_STEP_DEG)


def load_streets(boundaries_dir: Path) -> list[StreetRef]:
    """The district's 街道/镇 in code order, from the statistics CSV."""
    with open(boundaries_dir / STREETS_FILE, encoding="utf-8", newline="") as f:
        streets = [
            StreetRef(row["town_code_12"], row["name"])
            for row in csv.DictReader(f)
            if row["district_adcode"] == DISTRICT_CODE
        ]
    if not streets:
        raise ValueError(f"{STREETS_FILE} lists no streets of {DISTRICT_CODE}")
    return sorted(streets, key=lambda s: s.code)


class Projection:
    """WGS84 ⇄ the metric CRS, for arrays of geometries and of coordinates."""

    def __init__(self) -> None:
        self._forward = pyproj.Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
        self._inverse = pyproj.Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)

    def to_metric(self, geoms):
        return shapely.transform(geoms, lambda xy: np.column_stack(self._forward.transform(*xy.T)))

    def to_wgs84(self, geoms):
        return shapely.transform(geoms, lambda xy: np.column_stack(self._inverse.transform(*xy.T)))

    def point_to_metric(self, lon: float, lat: float) -> Point:
        return Point(self._forward.transform(lon, lat))

    def xy_to_wgs84(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = self._inverse.transform(x, y)
        return np.asarray(lon), np.asarray(lat)
