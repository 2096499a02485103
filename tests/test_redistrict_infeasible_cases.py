"""Cases the band cannot hold are explained per grid, not hidden."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.redistrict import inputs
from gis.redistrict.propose import ProposeOptions, propose
from tests.redistrict_world import lattice


def _plan(households: np.ndarray, blocks_x: int, blocks_y: int, per_block: int):
    buildings, roads, boundary = lattice(blocks_x, blocks_y, per_block, households)
    buildings = buildings.assign(building_id=buildings["id"], assumption="given")
    planner_inputs = inputs.assemble(buildings, roads, boundary)
    return propose(planner_inputs, ProposeOptions(seed=0, community_code="150203001002"))


def test_a_building_above_max_gets_its_own_grid_and_a_flag():
    households = np.full(24, 60)
    households[9] = 720  # a tower
    plan = _plan(households, 3, 2, 4)
    tower_grid = plan.assignment.loc[plan.assignment["households"] == 720, "grid_code"].item()
    grid = plan.grids.set_index("code").loc[tower_grid]
    assert grid["flag"] == "oversize_building"
    assert grid["households"] == 720 and grid["buildings"] == 1
    others = plan.grids[plan.grids["code"] != tower_grid]
    assert others["households"].between(300, 500).all()
    assert plan.metrics.oversize_buildings == 1
    assert plan.metrics.in_range_share == 1.0  # the tower's grid is the best possible
    assert plan.metrics.strict_in_range_share < 1.0


def test_a_community_below_min_is_one_grid():
    plan = _plan(np.full(6, 40), 2, 1, 3)
    assert len(plan.grids) == 1
    assert plan.grids["households"].item() == 240
    assert plan.grids["flag"].item() == "community_below_min"
    assert plan.grids["code"].item() == "150203001002001"


def test_a_tower_mapped_on_its_podium_is_one_building_with_the_podium():
    """OSM maps a tower standing on a podium as a footprint inside the podium's: no grid
    boundary can part them without cutting the podium, so they are one building (Lujiazui's
    552 = 396 + 156 was a grid above the band that no plan could fix)."""
    households = np.full(24, 60)
    households[9] = 156  # the podium
    buildings, roads, boundary = lattice(3, 2, 4, households)
    podium = buildings.geometry.iloc[9]
    tower = shapely.box(*shapely.buffer(podium.centroid, 4e-5).bounds)
    assert podium.contains(tower)
    buildings = gpd.GeoDataFrame(
        pd.concat(
            [buildings, gpd.GeoDataFrame({"id": ["tower"], "households": [396]},
                                         geometry=[tower], crs=buildings.crs)],
            ignore_index=True,
        ),
        crs=buildings.crs,
    ).assign(building_id=lambda f: f["id"], assumption="given")  # fmt: skip
    plan = propose(inputs.assemble(buildings, roads, boundary), ProposeOptions(seed=0))
    merged = plan.assignment[plan.assignment["building_id"] == "b0009;tower"]
    assert merged["households"].tolist() == [552] and len(plan.assignment) == 24
    assert merged["assumption"].item().endswith("merged footprints lying inside it b0009;tower")
    grid = plan.grids.set_index("code").loc[merged["grid_code"].item()]
    assert grid["flag"] == "oversize_building" and grid["buildings"] == 1
    assert plan.metrics.in_range_share == 1.0
    assert plan.grids["households"].sum() == households.sum() + 396
