"""Initial grids of a community: its buildings split into groups of 300..500 households, and
each group's area drawn so that the grids tile the community exactly.

The buildings are split by recursive bisection, whose cut lines give each group a
rectangle; rectangles tile the community. A building near a cut line may stick out of its
rectangle, so every footprint (with a small margin) belongs to its own grid whatever the
rectangle: grid = (rectangle minus all footprints) plus its own footprints, clipped to the
community. That is still a partition of the community, and no footprint is ever cut.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from gis.demo.partition import Partition, PartitionError, bisect_partition
from gis.demo.shapes import as_multipolygon

GRID_HOUSEHOLDS_MIN = 300
GRID_HOUSEHOLDS_MAX = 500
GRID_HOUSEHOLDS_TARGET = 450
FOOTPRINT_MARGIN_M = 2.0
"""Less than half the smallest gap between buildings, so margins never touch."""


def grid_counts(households: int) -> list[int]:
    """Feasible numbers of grids for ``households``, the one nearest the target first."""
    feasible = range(
        max(1, -(-households // GRID_HOUSEHOLDS_MAX)), households // GRID_HOUSEHOLDS_MIN + 1
    )
    return sorted(feasible, key=lambda k: (abs(households / k - GRID_HOUSEHOLDS_TARGET), k))


def group_buildings(
    community: Polygon | MultiPolygon, centroids: np.ndarray, households: np.ndarray
) -> Partition:
    """Buildings grouped into grids of 300..500 households, rectangles tiling the community."""
    for k in grid_counts(int(households.sum())):
        try:
            return bisect_partition(
                centroids,
                households,
                k,
                GRID_HOUSEHOLDS_MIN,
                GRID_HOUSEHOLDS_MAX,
                extent=community.bounds,
            )
        except PartitionError:
            continue
    raise PartitionError(f"{int(households.sum())} households cannot form grids of 300..500")


def grid_polygons(
    community: Polygon | MultiPolygon, footprint_bounds: np.ndarray, partition: Partition
) -> list[MultiPolygon]:
    """The polygon of each group, tiling ``community``; ``footprint_bounds`` is (n, 4)."""
    grown = footprint_bounds + FOOTPRINT_MARGIN_M * np.array([-1.0, -1.0, 1.0, 1.0])
    footprints = shapely.box(*grown.T)
    all_footprints = shapely.union_all(footprints)
    rectangles = shapely.difference(shapely.box(*partition.boxes.T), all_footprints)
    return [
        as_multipolygon(
            shapely.intersection(
                shapely.union_all([rectangles[g], *footprints[partition.labels == g]]), community
            )
        )
        for g in range(len(partition.boxes))
    ]
