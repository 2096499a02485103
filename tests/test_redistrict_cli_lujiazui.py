"""``wangge redistrict propose`` end to end on the real Lujiazui OSM buildings and roads
(households estimated), then ``check`` on what it wrote."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import shapely

from tests.conftest import REPO_ROOT

OSM = REPO_ROOT / "data" / "osm"


def _wangge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gis.cli", "redistrict", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def test_propose_on_lujiazui_writes_a_checked_plan(tmp_path):
    plan_path, csv_path = tmp_path / "plan.geojson", tmp_path / "assignment.csv"
    buildings = str(OSM / "shanghai_lujiazui_buildings.geojson")
    roads = str(OSM / "shanghai_lujiazui_roads.geojson")
    proposed = _wangge(
        "propose", "--buildings", buildings, "--roads", roads, "--community-code",
        "310115005001", "--seed", "3", "--out", str(plan_path), "--assignment-out",
        str(csv_path), "--json",
    )  # fmt: skip
    assert proposed.returncode == 0, proposed.stderr
    assert "partition" in proposed.stderr  # progress on stderr
    metrics = json.loads(proposed.stdout.strip().splitlines()[-1])

    grids = gpd.read_file(plan_path)
    assert grids.crs.to_epsg() == 4326
    assert len(grids) == metrics["grids"] > 100
    assert grids["code"].str.fullmatch(r"310115005001\d{3}").all() and grids["code"].is_unique
    geoms = grids.geometry.to_numpy()
    assert (shapely.get_type_id(geoms) == 3).all() and shapely.is_valid(geoms).all()
    metric = grids.to_crs(grids.estimate_utm_crs())
    assert metrics["overlap_m2"] < 1e-6 * metric.area.sum()
    assert metrics["contiguous_share"] == 1.0
    assert metrics["in_range_share"] >= 0.95
    assert metrics["oversize_buildings"] >= 20  # towers above 500 households
    oversize = grids[grids["flag"].str.contains("oversize_building")]
    assert (oversize["largest_building"] > 500).all()

    assignment = pd.read_csv(csv_path, dtype={"building_id": str, "grid_code": str})
    assert assignment["building_id"].is_unique
    assert set(assignment["grid_code"]) <= set(grids["code"])
    assert assignment["households"].sum() == grids["households"].sum() == metrics["households"]
    assert assignment["assumption"].str.contains("floors|levels|non-residential|footprint").all()

    checked = _wangge("check", str(plan_path), "--buildings", buildings, "--roads", roads, "--json")
    assert checked.returncode == 0, checked.stderr
    again = json.loads(checked.stdout.strip().splitlines()[-1])
    for key in ("grids", "households", "households_min", "households_max", "in_range_share"):
        assert again[key] == metrics[key], key


def test_propose_without_boundary_gives_one_polygon_per_grid(tmp_path):
    """The default boundary (the buildings' hull, buffered) and the default seed: a grid
    whose units meet only along a road between two blocks (vertices a few nanometres
    apart) once came out in two pieces when snapped; every grid must be one polygon."""
    plan_path = tmp_path / "plan.geojson"
    proposed = _wangge(
        "propose", "--buildings", str(OSM / "shanghai_lujiazui_buildings.geojson"),
        "--roads", str(OSM / "shanghai_lujiazui_roads.geojson"), "--out", str(plan_path),
        "--json",
    )  # fmt: skip
    assert proposed.returncode == 0, proposed.stderr
    metrics = json.loads(proposed.stdout.strip().splitlines()[-1])
    assert metrics["contiguous_share"] == 1.0
    geoms = gpd.read_file(plan_path).geometry.to_numpy()
    assert (shapely.get_type_id(geoms) == 3).all() and shapely.is_valid(geoms).all()
    assert "not_contiguous" not in "".join(gpd.read_file(plan_path)["flag"])
