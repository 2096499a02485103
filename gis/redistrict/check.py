"""Metrics of a plan made elsewhere: its grid polygons, with or without the buildings.

With buildings, each grid's households are counted from the buildings whose inner point
it holds (the plan's own ``households`` are not trusted); without, the plan's property is
used. With current grids too, the share of households whose grid changed is measured.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gis.redistrict.inputs import InputError, PlannerInputs
from gis.redistrict.metrics import PlanMetrics, changed_share, plan_metrics
from gis.redistrict.targets import Targets


def _grid_of(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the polygon holding each point (-1 for none)."""
    tree = shapely.STRtree(polygons)
    found = np.full(len(points), -1, dtype=np.int64)
    point, polygon = tree.query(points, predicate="within")
    found[point] = polygon
    return found


def check_plan(
    plan: gpd.GeoDataFrame, targets: Targets, inputs: PlannerInputs | None = None
) -> PlanMetrics:
    """The metrics of ``plan`` (WGS84 or any CRS; measured in ``inputs.crs`` or UTM)."""
    crs = inputs.crs if inputs is not None else plan.estimate_utm_crs()
    polygons = plan.to_crs(crs).geometry.to_numpy()
    roads = inputs.roads if inputs is not None else np.empty(0, dtype=object)
    changed = None
    if inputs is not None:
        households = inputs.buildings["households"].to_numpy().astype(np.int64)
        points = shapely.point_on_surface(inputs.buildings.geometry.to_numpy())
        grid = _grid_of(points, polygons)
        per_grid = np.bincount(
            grid[grid >= 0], weights=households[grid >= 0], minlength=len(polygons)
        ).astype(np.int64)
        largest = np.zeros(len(polygons), dtype=np.int64)
        np.maximum.at(largest, grid[grid >= 0], households[grid >= 0])
        if inputs.current is not None:
            current = _grid_of(points, inputs.current.geometry.to_numpy())
            changed = changed_share(households, grid, current)
    elif "households" in plan.columns:
        per_grid = plan["households"].to_numpy().astype(np.int64)
        largest = (
            plan["largest_building"].to_numpy().astype(np.int64)
            if "largest_building" in plan.columns
            else np.zeros(len(plan), dtype=np.int64)
        )
    else:
        raise InputError("the plan has no households property: give the buildings too")
    summary, _ = plan_metrics(polygons, per_grid, largest, targets, roads, changed=changed)
    return summary
