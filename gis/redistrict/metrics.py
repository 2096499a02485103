"""Metrics of a plan, whoever made it: households per grid, band, contiguity, compactness,
change against current grids, and where the cuts run.

Polsby-Popper = 4πA / P² (1 for a circle); Reock = A / area of the smallest enclosing
circle. Geometry must be in metres. A grid that is a single building above the maximum is
the best that can be done with that building: it counts as in range and is reported apart
as an ``oversize_building``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis.redistrict.targets import Targets

ROAD_BUFFER_M = 6.0
"""A cut within this distance of a road line runs along the road."""


@dataclass
class GridMetrics:
    """Per grid, same order as the grids."""

    polsby_popper: np.ndarray
    reock: np.ndarray
    parts: np.ndarray
    in_range: np.ndarray
    oversize_building: np.ndarray


@dataclass
class PlanMetrics:
    grids: int
    households: int
    households_min: int
    households_max: int
    spread_from_ideal: int
    """Largest |households − ideal| over the grids."""
    in_range_share: float
    strict_in_range_share: float
    """Share in range without counting oversize-building grids as in range."""
    oversize_buildings: int
    contiguous_share: float
    mean_polsby_popper: float
    min_polsby_popper: float
    mean_reock: float
    min_reock: float
    cut_length_m: float
    cut_along_roads_m: float
    cut_through_blocks_m: float
    overlap_m2: float
    """Area covered by more than one grid (0 for a tiling)."""
    invalid_grids: int
    changed_share: float | None = None
    """Share of households whose grid changed against the current grids (None: no grids)."""

    def as_dict(self) -> dict:
        return {
            key: (round(value, 4) if isinstance(value, float) else value)
            for key, value in asdict(self).items()
        }


def grid_metrics(
    polygons: np.ndarray, households: np.ndarray, largest_building: np.ndarray, targets: Targets
) -> GridMetrics:
    """``largest_building``: households of each grid's largest building."""
    area = shapely.area(polygons)
    perimeter = shapely.length(polygons)
    radius = shapely.minimum_bounding_radius(polygons)
    pp = np.where(perimeter > 0, 4 * np.pi * area / np.maximum(perimeter, 1e-12) ** 2, 0.0)
    reock = np.where(radius > 0, area / (np.pi * np.maximum(radius, 1e-12) ** 2), 0.0)
    parts = shapely.get_num_geometries(polygons)
    oversize = (largest_building > targets.maximum) & (households > targets.maximum)
    in_range = (households >= targets.minimum) & (households <= targets.maximum)
    return GridMetrics(pp, reock, parts, in_range | oversize, oversize)


def changed_share(
    building_households: np.ndarray, new_grid: np.ndarray, current_grid: np.ndarray
) -> float:
    """Share of households whose grid changed: new grids are matched one to one with the
    current grid they take most households from (greedily, largest overlap first); a
    building is unchanged when its new grid is matched with its current grid."""
    total = float(building_households.sum())
    if total == 0:
        return 0.0
    overlap = (
        pd.DataFrame({"new": new_grid, "old": current_grid, "h": building_households})
        .groupby(["new", "old"])["h"]
        .sum()
        .sort_values(ascending=False, kind="stable")
    )
    used_new: set = set()
    used_old: set = set()
    kept = 0.0
    for (new, old), households in overlap.items():
        if new in used_new or old in used_old or old is None:
            continue
        used_new.add(new)
        used_old.add(old)
        kept += households
    return 1.0 - kept / total


def cut_lengths(
    polygons: np.ndarray, community: BaseGeometry, roads: np.ndarray
) -> tuple[float, float]:
    """(total length of the boundaries between grids, the part of it along roads)."""
    boundaries = shapely.union_all(shapely.boundary(polygons), grid_size=0.01)
    inner = shapely.difference(boundaries, shapely.buffer(shapely.boundary(community), 0.5))
    total = float(shapely.length(inner))
    if len(roads) == 0 or total == 0:
        return total, 0.0
    corridor = shapely.buffer(shapely.union_all(roads), ROAD_BUFFER_M)
    return total, float(shapely.length(shapely.intersection(inner, corridor)))


def plan_metrics(
    polygons: np.ndarray,
    households: np.ndarray,
    largest_building: np.ndarray,
    targets: Targets,
    roads: np.ndarray,
    community: BaseGeometry | None = None,
    changed: float | None = None,
    cuts: tuple[float, float] | None = None,
) -> tuple[PlanMetrics, GridMetrics]:
    """The plan's metrics and the per-grid ones (``polygons`` in metres).

    ``cuts`` (total, along roads) when the caller knows them (the engine does, from its
    graph); else they are measured from the polygons and the road lines.
    """
    per_grid = grid_metrics(polygons, households, largest_building, targets)
    if cuts is None:
        if community is None:
            community = shapely.union_all(polygons, grid_size=0.01)
        cuts = cut_lengths(polygons, community, roads)
    total_cut, along = cuts
    strict = (households >= targets.minimum) & (households <= targets.maximum)
    count = max(1, len(polygons))
    summary = PlanMetrics(
        grids=len(polygons),
        households=int(households.sum()),
        households_min=int(households.min()) if len(households) else 0,
        households_max=int(households.max()) if len(households) else 0,
        spread_from_ideal=int(np.abs(households - targets.ideal).max()) if len(households) else 0,
        in_range_share=float(per_grid.in_range.sum() / count),
        strict_in_range_share=float(strict.sum() / count),
        oversize_buildings=int(per_grid.oversize_building.sum()),
        contiguous_share=float((per_grid.parts == 1).sum() / count),
        mean_polsby_popper=float(per_grid.polsby_popper.mean()) if len(polygons) else 0.0,
        min_polsby_popper=float(per_grid.polsby_popper.min()) if len(polygons) else 0.0,
        mean_reock=float(per_grid.reock.mean()) if len(polygons) else 0.0,
        min_reock=float(per_grid.reock.min()) if len(polygons) else 0.0,
        cut_length_m=total_cut,
        cut_along_roads_m=along,
        cut_through_blocks_m=total_cut - along,
        overlap_m2=float(
            shapely.area(polygons).sum() - shapely.area(shapely.union_all(polygons, grid_size=0.01))
        ),
        invalid_grids=int((~shapely.is_valid(polygons)).sum()),
        changed_share=changed,
    )
    return summary, per_grid
