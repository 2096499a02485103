"""Generated grids: 300..500 households each, tiling their community exactly, numbered in
reading order after the community code; buildings whole inside one grid."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from gis.demo.generate import generate
from gis.gridcodes import number_grids
from tests.conftest import BOUNDARIES

HOUSEHOLDS = 20_000
SEED = 99
METRIC = "EPSG:32649"


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, gpd.GeoDataFrame]:
    out = tmp_path_factory.mktemp("generated") / "demo"
    generate(HOUSEHOLDS, SEED, out, BOUNDARIES)
    return {
        name: pyogrio.read_dataframe(out / "city.gpkg", layer=name)
        for name in ("communities", "grids", "buildings")
    }


@pytest.fixture(scope="module")
def building_grid(layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Each building with the grid(s) whose polygon contains its whole footprint."""
    return gpd.sjoin(
        layers["buildings"], layers["grids"][["code", "geometry"]], predicate="within"
    ).rename(columns={"code_left": "building", "code_right": "grid"})


def test_every_building_lies_whole_in_exactly_one_grid_of_its_community(
    layers: dict[str, gpd.GeoDataFrame], building_grid: gpd.GeoDataFrame
) -> None:
    assert building_grid["building"].is_unique
    assert set(building_grid["building"]) == set(layers["buildings"]["code"])
    assert (building_grid["grid"].str[:12] == building_grid["community_code"]).all()


def test_every_grid_holds_300_to_500_households(
    layers: dict[str, gpd.GeoDataFrame], building_grid: gpd.GeoDataFrame
) -> None:
    per_grid = building_grid.groupby("grid")["households"].sum()
    assert set(per_grid.index) == set(layers["grids"]["code"])  # no empty grid either
    assert per_grid.between(300, 500).all(), per_grid.describe()
    assert 420 <= per_grid.mean() <= 480  # aimed at 450
    assert (layers["grids"]["household_target"] == 450).all()


def test_grids_tile_their_community_without_gaps_or_overlaps(
    layers: dict[str, gpd.GeoDataFrame],
) -> None:
    communities = layers["communities"].to_crs(METRIC).set_index("code")
    grids = layers["grids"].to_crs(METRIC)
    for code, members in grids.groupby("community_code"):
        community = communities.geometry[code]
        polygons = members.geometry.values
        union = shapely.union_all(polygons)
        area_sum = shapely.area(polygons).sum()
        assert abs(area_sum - community.area) < 1.0, code  # m², of ~500,000
        assert abs(union.area - area_sum) < 1.0, code  # no overlaps
        assert shapely.symmetric_difference(union, community).area < 1.0, code  # no gaps


def test_grids_are_in_one_piece(layers: dict[str, gpd.GeoDataFrame]) -> None:
    parts = shapely.get_num_geometries(layers["grids"].geometry.values)
    assert (parts == 1).all(), layers["grids"]["code"][parts != 1].tolist()


def test_grid_codes_follow_the_community_code_in_reading_order(
    layers: dict[str, gpd.GeoDataFrame],
) -> None:
    grids = layers["grids"]
    assert grids["code"].is_unique
    for community, members in grids.groupby("community_code"):
        assert (members["code"].str[:12] == community).all()
        sequence = sorted(int(code[12:]) for code in members["code"])
        assert sequence == list(range(1, len(members) + 1))
        assert number_grids(community, list(members.geometry)) == members["code"].tolist()
        assert (members["name"] == [f"第{int(c[12:])}网格" for c in members["code"]]).all()
    first = grids[grids["code"].str.endswith("001")].to_crs(METRIC)
    for _, grid in first.iterrows():  # grid 001 lies in the northern row of its community
        others = grids[grids["community_code"] == grid["community_code"]].to_crs(METRIC)
        northmost = np.max(shapely.get_coordinates(others.geometry.centroid)[:, 1])
        assert northmost - grid.geometry.centroid.y < 200.0


def test_communities_are_sized_like_the_real_ones(layers: dict[str, gpd.GeoDataFrame]) -> None:
    communities = layers["communities"].to_crs(METRIC)
    households = layers["buildings"].groupby("community_code")["households"].sum()
    area_km2 = communities.set_index("code").area / 1e6
    assert area_km2.between(0.3, 0.9).all()
    assert households.between(3_000, 7_000).all()
    grids_per_community = layers["grids"].groupby("community_code").size()
    per_building = layers["buildings"]["households"]
    assert (grids_per_community == (households / 450).round()).mean() >= 0.5
    assert 30 <= per_building.mean() <= 45  # 4,408 households in 128 buildings: 34
