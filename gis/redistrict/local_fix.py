""" "Fix this grid" (the editor): rebalance one grid with its neighbours, nothing else.

The grid and its unlocked neighbours form a region. The region is cut again by the
engine's re-split (``partition._resplit``: METIS bisection into the feasible grid count,
new grids matched to the old to keep the most households) when that leaves fewer grids
out of band; then band moves and cut-shortening moves run with every grid outside the
region held fixed. Grids outside the region never change.
"""

from __future__ import annotations

import numpy as np

from gis.redistrict.graph import UnitGraph
from gis.redistrict.partition import REFINE_ROUNDS, _resplit, _shared_with
from gis.redistrict.search import Assignment, balance, refine
from gis.redistrict.targets import Targets


def fix_grid(
    graph: UnitGraph,
    households: np.ndarray,
    labels: np.ndarray,
    grid: int,
    targets: Targets,
    locked: set[int] = frozenset(),
    seed: int = 0,
) -> np.ndarray:
    """New labels: ``grid`` rebalanced with its neighbours (labels past the current
    maximum are new grids, when the region needed one more)."""
    labels = labels.astype(np.int64).copy()
    count = int(labels.max()) + 1
    members = np.flatnonzero(labels == grid)
    around = set(_shared_with(graph, np.where(labels == grid, -1, labels), members)) - set(locked)
    region = {grid} | around
    totals = np.bincount(labels, weights=households, minlength=count)
    found = _resplit(graph, households, labels, region, totals, targets, seed, None)
    if found is not None:
        units, new = found
        ids = sorted(region) + list(range(count, count + int(new.max()) + 1))
        labels[units] = np.asarray(ids)[new]
        region |= set(range(count, int(labels.max()) + 1))
    fixed = set(range(int(labels.max()) + 1)) - region
    state = Assignment(graph, households, labels, fixed)
    rng = np.random.default_rng(seed)
    balance(state, targets, rng, max_moves=4 * len(members) + 200)
    refine(state, targets, rng, REFINE_ROUNDS)
    return state.labels
