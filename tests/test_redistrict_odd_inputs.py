"""File mode on the odd inputs a city's own data brings: MultiPolygons, invalid and 3D
geometries, projected or missing CRS, no households/levels/types, several layers in one
GeoPackage, Shapefiles with GBK attributes (with and without .cpg)."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis.redistrict import inputs
from gis.redistrict.inputs import InputError
from gis.redistrict.propose import ProposeOptions, propose
from tests.conftest import REPO_ROOT
from tests.redistrict_world import lattice


@pytest.fixture()
def world():
    """2 × 2 blocks of 4 buildings, 100 households each (1,600 households: 4 grids)."""
    return lattice(2, 2, 4, 100)


def _plan(buildings: gpd.GeoDataFrame, roads=None, boundary=None):
    planner_inputs = inputs.assemble(buildings, roads, boundary)
    return planner_inputs, propose(planner_inputs, ProposeOptions(seed=1))


def test_multipolygon_invalid_and_3d_buildings_are_planned(tmp_path, world):
    buildings, roads, boundary = world
    geoms = buildings.geometry.to_numpy().copy()
    # A building with an annex (MultiPolygon), a self-intersecting "bow tie", 3D corners.
    annex = shapely.affinity.translate(geoms[0], 0, 2.5e-4).intersection(geoms[0].buffer(4e-4))
    geoms[0] = shapely.MultiPolygon([geoms[0], shapely.box(*annex.buffer(-2e-5).bounds)])
    x0, y0, x1, y1 = geoms[1].bounds
    geoms[1] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    assert not geoms[1].is_valid
    geoms[2:] = shapely.force_3d(geoms[2:], 12.0)
    path = tmp_path / "buildings.geojson"
    buildings.set_geometry(geoms).to_file(path)
    read = inputs.read_buildings(path, households_field="households")
    assert len(read) == 16 and shapely.is_valid(read.geometry.to_numpy()).all()
    assert not shapely.has_z(read.geometry.to_numpy()).any()
    planner_inputs, plan = _plan(read, roads, boundary)
    assert plan.metrics.in_range_share == 1.0 and plan.metrics.contiguous_share == 1.0
    assert plan.grids["households"].sum() == 1600
    assert plan.assignment["building_id"].is_unique and len(plan.assignment) == 16


def test_projected_file_gives_the_plan_of_its_wgs84_twin(tmp_path, world):
    buildings, roads, boundary = world
    projected = tmp_path / "projected.gpkg"
    buildings.to_crs("EPSG:32649").to_file(projected)
    geographic = tmp_path / "geographic.geojson"
    buildings.to_file(geographic)
    plans = [
        _plan(inputs.read_buildings(p, households_field="households"), roads, boundary)[1]
        for p in (projected, geographic)
    ]
    assert [len(p.grids) for p in plans] == [4, 4]
    assert sorted(plans[0].grids["households"]) == sorted(plans[1].grids["households"])


def test_file_without_crs_in_degrees_is_wgs84_in_metres_is_refused(tmp_path, world):
    buildings, _, _ = world
    degrees = tmp_path / "degrees.shp"
    buildings.set_crs(None, allow_override=True).to_file(degrees)
    assert inputs.read_buildings(degrees, households_field="households").crs.to_epsg() == 4326
    metres = tmp_path / "metres.shp"
    buildings.to_crs("EPSG:32649").set_crs(None, allow_override=True).to_file(metres)
    with pytest.raises(InputError, match="no coordinate system"):
        inputs.read_buildings(metres)


def test_no_households_levels_or_types_are_estimated_with_the_assumption_shown(tmp_path, world):
    buildings, _, _ = world
    path = tmp_path / "bare.geojson"
    gpd.GeoDataFrame(geometry=buildings.geometry, crs=buildings.crs).to_file(path)
    read = inputs.read_buildings(path)
    assert (read["households"] > 0).all()  # untyped buildings count as homes
    assert read["assumption"].str.contains("no levels or height: 3 floors assumed").all()


def test_geopackage_with_several_layers_picks_each_input(tmp_path, world):
    buildings, roads, boundary = world
    path = tmp_path / "city.gpkg"
    boundary.to_file(path, layer="community_boundary")
    roads.to_file(path, layer="roads")
    buildings.to_file(path, layer="buildings")
    assert len(inputs.read_buildings(path, households_field="households")) == 16
    assert len(inputs.read_roads(path)) == len(roads)
    assert len(inputs.read_boundary(path)) == 1
    plan_path = tmp_path / "plan.geojson"
    done = subprocess.run(
        [sys.executable, "-m", "gis.cli", "redistrict", "propose", "--buildings", str(path),
         "--households-field", "households", "--roads", str(path), "--boundary", str(path),
         "--out", str(plan_path), "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout.strip().splitlines()[-1])
    assert metrics["grids"] == 4 and metrics["in_range_share"] == 1.0


@pytest.mark.parametrize("keep_cpg", [True, False])
def test_shapefile_with_gbk_attributes_reads_chinese_names(tmp_path, world, keep_cpg):
    buildings, _, _ = world
    names = np.array([f"幸福小区{i}号楼" for i in range(len(buildings))])
    path = tmp_path / "gbk.shp"
    buildings.assign(name=names, building="住宅").to_file(path, encoding="GBK")
    if not keep_cpg:
        path.with_suffix(".cpg").unlink()
    frame = inputs._read(path)
    assert frame["name"].tolist() == names.tolist()
    assert len(inputs.read_buildings(path, households_field="households")) == 16


def test_more_than_999_grids_continue_in_the_next_community_codes():
    from gis.redistrict.propose import grid_codes

    polygons = shapely.box(np.arange(1200) * 1e-3, 40.0, np.arange(1200) * 1e-3 + 5e-4, 40.0005)
    codes = grid_codes("150203001001", polygons)
    assert len(set(codes)) == 1200 and all(len(c) == 15 for c in codes)
    assert codes[0] == "150203001001001" and codes[998] == "150203001001999"
    assert codes[999] == "150203001002001" and codes[-1] == "150203001002201"


def test_buildings_without_an_id_stay_apart(tmp_path, world):
    buildings, _, _ = world
    ids = buildings["id"].astype(object)
    ids.iloc[:5] = None
    path = tmp_path / "some_ids.geojson"
    buildings.assign(id=ids).to_file(path)
    read = inputs.read_buildings(path, households_field="households")
    assert len(read) == 16 and read["building_id"].is_unique


def test_tunnels_are_no_cut_lines_whether_flagged_as_text_or_as_a_number(tmp_path):
    lines = [
        shapely.LineString([(121.50, 31.23 + i * 0.001), (121.51, 31.23 + i * 0.001)])
        for i in range(5)
    ]
    roads = gpd.GeoDataFrame(
        {
            "kind_detail": ["primary"] * 5,
            "is_tunnel": [1.0, None, "yes", "T", 0.0],  # Tilezen writes 1.0; OSM yes; Geofabrik T
        },
        geometry=lines,
        crs=4326,
    )
    path = tmp_path / "roads.geojson"
    roads.to_file(path)
    assert len(inputs.read_roads(path)) == 2
