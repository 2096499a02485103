"""The batched PostGIS join probes the grid GiST index instead of scanning every grid."""

from __future__ import annotations

import numpy as np

from gis.spatial_join import explain_join
from tests.test_spatial_join_semantics import NOW, seed_layout


def test_batched_join_probes_the_grid_gist_index(database_url: str) -> None:
    seed_layout(database_url)
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(109.79, 109.96, 2_000), rng.uniform(40.59, 40.67, 2_000)
    plan = explain_join(database_url, lon, lat, NOW)
    assert "Index Scan using idx_grid_geom on grid" in plan, plan
    assert "Seq Scan on grid" not in plan, plan
