"""The batched PostGIS join answers points by cell and probes the GiST index for the rest,
never scanning the grid table once per point."""

from __future__ import annotations

import numpy as np

from gis.spatial_join import explain_join
from tests.test_spatial_join_semantics import NOW, seed_layout


def test_batched_join_uses_the_cell_raster_then_the_grid_gist_index(database_url: str) -> None:
    seed_layout(database_url)
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(109.79, 109.96, 2_000), rng.uniform(40.59, 40.67, 2_000)
    plan = explain_join(database_url, lon, lat, NOW)
    assert "Seq Scan on grid_cell" in plan, plan
    assert "Index Scan using idx_grid_geom on grid" in plan, plan
    grid_scans = [line for line in plan.splitlines() if "Seq Scan on grid " in line]
    assert all(line.endswith("loops=1)") for line in grid_scans), plan
