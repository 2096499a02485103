"""Households of buildings without counts: floors × per floor, residential only, each with
its assumption, and overridable from a CSV or Excel file of counts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity

from gis.redistrict.inputs import InputError, read_buildings
from tests.redistrict_world import to_wgs84


def _osm_file(tmp_path) -> str:
    square = shapely.box(0, 0, 30, 30)  # 900 m²: 0.8 × 900 / 90 = 8 per floor
    rows = [
        ("w1", "apartments", "6", None),  # levels
        ("w2", None, None, "31"),  # height: 31 / 3 ≈ 10 floors
        ("w3", "residential", None, None),  # neither: 3 floors assumed
        ("w4", "office", "20", None),  # not residential
        ("w5", None, None, "9"),  # a piece cut at a tile edge …
        ("w5", None, None, "9"),  # … and its other half: one building
    ]
    shapes = [shapely.affinity.translate(square, 100 * i, 0) for i in range(5)]
    shapes.append(shapely.affinity.translate(shapely.box(30, 0, 60, 30), 400, 0))
    frame = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["id", "building", "building:levels", "height"]),
        geometry=to_wgs84(np.asarray(shapes, dtype=object)),
        crs="EPSG:4326",
    )
    path = tmp_path / "osm.geojson"
    frame.to_file(path)
    return path


def test_estimates_follow_levels_height_and_type(tmp_path):
    buildings = read_buildings(_osm_file(tmp_path)).set_index("building_id")
    assert len(buildings) == 5, "pieces sharing an id are one building"
    assert buildings.loc["w1", "households"] == 6 * 8
    assert buildings.loc["w2", "households"] == 10 * 8
    assert buildings.loc["w3", "households"] == 3 * 8
    assert buildings.loc["w4", "households"] == 0
    assert buildings.loc["w5", "households"] == 3 * 16  # 1,800 m² once dissolved
    assert "6 levels" in buildings.loc["w1", "assumption"]
    assert "height 31" in buildings.loc["w2", "assumption"]
    assert "3 floors assumed" in buildings.loc["w3", "assumption"]
    assert "non-residential" in buildings.loc["w4", "assumption"]


def test_counts_from_csv_and_excel_override_estimates(tmp_path):
    csv = tmp_path / "counts.csv"
    csv.write_text("id,households\nw1,55\nw4,12\n")
    buildings = read_buildings(_osm_file(tmp_path), households_csv=csv).set_index("building_id")
    assert buildings.loc["w1", "households"] == 55
    assert buildings.loc["w4", "households"] == 12
    assert buildings.loc["w4", "assumption"] == "counted (counts.csv)"
    assert buildings.loc["w2", "households"] == 80

    excel = tmp_path / "counts.xlsx"
    pd.DataFrame({"id": ["w3"], "households": [7]}).to_excel(excel, index=False)
    buildings = read_buildings(_osm_file(tmp_path), households_csv=excel).set_index("building_id")
    assert buildings.loc["w3", "households"] == 7


def test_bad_counts_say_what_is_wrong(tmp_path):
    csv = tmp_path / "counts.csv"
    csv.write_text("id,households\nw1,many\n")
    with pytest.raises(InputError, match="line 2: households must be a whole number"):
        read_buildings(_osm_file(tmp_path), households_csv=csv)
    csv.write_text("id,households\nnope,5\n")
    with pytest.raises(InputError, match="not buildings"):
        read_buildings(_osm_file(tmp_path), households_csv=csv)
    with pytest.raises(InputError, match="no column 'flats'"):
        read_buildings(_osm_file(tmp_path), households_field="flats")
