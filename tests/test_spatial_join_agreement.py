"""The in-memory and the PostGIS spatial join agree on 100k random points.

Points are drawn over the layout of test_spatial_join_semantics: uniform, exactly on grid
vertices and axis-aligned edges (exactly representable, so "on the boundary" is exact),
just outside the covered area (some within the tolerance, some beyond), in the hole of
C1, far outside — each at a moment drawn from before, at and between grid changes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import shapely

from gis.spatial_join import GridIndex, JoinResult, join_postgis, utc_datetime64
from tests.test_spatial_join_semantics import (
    BEFORE_ANY_GRID,
    C1_XS,
    C2_XS,
    CHANGE,
    IN_PAST,
    METRIC,
    NOW,
    PAST,
    YS,
    _grids,
    seed_layout,
)

POINTS = 100_000
OUTSIDE_REACH_M = 80.0


def _random_points(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    share = POINTS // 20
    vertices = shapely.get_coordinates([geom for _, geom, _, _ in _grids()])
    lattice_x = np.array(C1_XS + C2_XS)
    lattice_y = np.array(YS)
    out_m = rng.uniform(0.0, OUTSIDE_REACH_M, 4 * share)
    parts = [
        # anywhere around the layout
        (rng.uniform(109.79, 109.96, 8 * share), rng.uniform(40.59, 40.67, 8 * share)),
        # exactly on grid vertices
        tuple(vertices[rng.integers(0, len(vertices), 3 * share)].T),
        # exactly on vertical, then horizontal lattice edges
        (rng.choice(lattice_x, 2 * share), rng.uniform(40.60, 40.64, 2 * share)),
        (rng.uniform(109.80, 109.88, 1 * share), rng.choice(lattice_y, 1 * share)),
        # just north, south, west and east of the covered area
        (rng.uniform(109.80, 109.88, share), 40.64 + out_m[:share] / METRIC.ky),
        (rng.uniform(109.80, 109.88, share), 40.60 - out_m[share : 2 * share] / METRIC.ky),
        (109.80 - out_m[2 * share : 3 * share] / METRIC.kx, rng.uniform(40.60, 40.64, share)),
        (109.88 + out_m[3 * share :] / METRIC.kx, rng.uniform(40.60, 40.64, share)),
        # in C1's hole, and far away from everything
        (rng.uniform(109.82, 109.83, share), rng.uniform(40.62, 40.63, share)),
        (rng.uniform(100.0, 120.0, share), rng.uniform(30.0, 50.0, share)),
    ]
    lon = np.concatenate([p[0] for p in parts])
    lat = np.concatenate([p[1] for p in parts])
    assert len(lon) == POINTS
    return lon, lat


def _random_moments(rng: np.random.Generator) -> np.ndarray:
    exact = utc_datetime64([BEFORE_ANY_GRID, PAST, IN_PAST, CHANGE, NOW])
    start = np.datetime64(datetime(2024, 1, 1, tzinfo=UTC).replace(tzinfo=None), "us")
    span_us = 3 * 365 * 86_400 * 1_000_000
    between = start + rng.integers(0, span_us, POINTS).astype("timedelta64[us]")
    return np.where(rng.random(POINTS) < 0.5, rng.choice(exact, POINTS), between)


def _mismatches(a: JoinResult, b: JoinResult) -> np.ndarray:
    differs = np.zeros(len(a), dtype=bool)
    for field in ("grid_code", "method", "community_code", "district_code"):
        differs |= getattr(a, field) != getattr(b, field)
    differs |= ~np.isclose(a.distance_m, b.distance_m, rtol=1e-9, atol=1e-7, equal_nan=True)
    return np.flatnonzero(differs)


def test_in_memory_and_postgis_joins_agree_on_100k_random_points(database_url: str) -> None:
    seed_layout(database_url)
    rng = np.random.default_rng(20261121)
    lon, lat = _random_points(rng)
    at = _random_moments(rng)

    in_memory = GridIndex.load(database_url).join(lon, lat, at)
    in_postgis = join_postgis(database_url, lon, lat, at)

    differing = _mismatches(in_memory, in_postgis)
    examples = [(i, in_memory.row(i), in_postgis.row(i)) for i in differing[:5]]
    assert len(differing) == 0, f"{len(differing)} points differ, e.g. {examples}"
    # The sample must exercise every rule, or agreement proves little.
    methods, counts = np.unique(in_memory.method, return_counts=True)
    assert dict(zip(methods, counts, strict=True)).keys() == {"inside", "nearest", "unassigned"}
    assert counts.min() >= 2_000
    on_boundary = np.isin(lon, C1_XS + C2_XS) | np.isin(lat, YS)
    assert np.sum(on_boundary & (in_memory.method == "inside")) >= 20_000
