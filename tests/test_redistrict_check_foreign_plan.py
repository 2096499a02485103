"""``wangge redistrict check`` on a plan made elsewhere: households counted from the
buildings, a grid in two pieces reported as not contiguous, metrics as JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import shapely

from tests.conftest import REPO_ROOT
from tests.redistrict_world import BLOCK_M, STREET_M, to_wgs84, write_lattice


def test_check_counts_households_and_flags_a_split_grid(tmp_path):
    paths = write_lattice(tmp_path, 4, 1, 2, 100)  # 8 buildings of 100 in a row of 4 blocks
    pitch = BLOCK_M + STREET_M
    west = shapely.box(-10, -10, 2 * pitch - STREET_M / 2, 110)
    east_parts = shapely.MultiPolygon(
        [
            shapely.box(2 * pitch - STREET_M / 2, -10, 3 * pitch - STREET_M / 2, 110),
            shapely.box(3 * pitch - STREET_M / 2, 50, 4 * pitch, 110),
        ]
    )
    rest = shapely.box(3 * pitch - STREET_M / 2, -10, 4 * pitch, 50)
    plan = gpd.GeoDataFrame(
        {"code": ["150203001003001", "150203001003002", "150203001003003"]},
        geometry=to_wgs84(np.asarray([west, east_parts, rest], dtype=object)),
        crs="EPSG:4326",
    )
    plan_path = tmp_path / "made_elsewhere.geojson"
    plan.to_file(plan_path)

    result = subprocess.run(
        [sys.executable, "-m", "gis.cli", "redistrict", "check", str(plan_path),
         "--buildings", str(paths["buildings"]), "--households-field", "households",
         "--roads", str(paths["roads"]), "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert metrics["grids"] == 3
    assert metrics["households"] == 800
    assert metrics["households_max"] == 400  # the west grid: 4 buildings
    assert metrics["contiguous_share"] < 1.0  # the east grid is in two pieces
    assert metrics["in_range_share"] < 1.0  # 400, 200+…: not all in band
    assert metrics["cut_along_roads_m"] > 0
    assert 0 < metrics["mean_polsby_popper"] <= 1


def test_check_without_households_says_what_is_missing(tmp_path):
    plan = gpd.GeoDataFrame(
        {"code": ["x"]}, geometry=to_wgs84(np.asarray([shapely.box(0, 0, 50, 50)])), crs="EPSG:4326"
    )
    path = tmp_path / "bare.geojson"
    plan.to_file(path)
    result = subprocess.run(
        [sys.executable, "-m", "gis.cli", "redistrict", "check", str(path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "no households property" in result.stderr
