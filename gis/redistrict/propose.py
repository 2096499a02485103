"""The engine: a planner's inputs → a plan (grid polygons with codes, assignment, metrics).

``propose`` takes a progress callback (stage, fraction) and a cancel check, so that a
background job can report and stop it.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis.crs import WGS84
from gis.gridcodes import MAX_GRIDS_PER_COMMUNITY, number_grids, reading_order
from gis.redistrict.graph import UnitGraph, build_graph, pieces_per_grid
from gis.redistrict.inputs import PlannerInputs
from gis.redistrict.metrics import PlanMetrics, changed_share, plan_metrics
from gis.redistrict.partition import (
    CancelCheck,
    Progress,
    make_contiguous,
    partition,
    stay_close,
)
from gis.redistrict.targets import Targets
from gis.redistrict.tessellation import GRID_SIZE_M, Tessellation, tessellate


@dataclass(frozen=True)
class ProposeOptions:
    targets: Targets = Targets()
    seed: int = 0
    community_code: str = "000000000000"
    stay_close: bool = False
    """Start from the current grids and change as few households as the band allows."""
    road_factor: float = 0.2
    """Cut cost of a boundary across a road, relative to one through a block."""
    sample_step_m: float = 8.0
    """Spacing of the outline points of the building tessellation."""


@dataclass
class Plan:
    grids: gpd.GeoDataFrame
    """WGS84: code, households, buildings, flags and per-grid metrics."""
    assignment: pd.DataFrame
    """Per building: building_id, grid_code, households, assumption."""
    metrics: PlanMetrics


def _current_labels(inputs: PlannerInputs, tessellation: Tessellation) -> np.ndarray:
    """Index of the current grid holding each unit (-1 for none)."""
    assert inputs.current is not None
    points = shapely.point_on_surface(tessellation.cells)
    footprints = inputs.buildings.geometry.to_numpy()
    has_building = tessellation.building >= 0
    points[has_building] = shapely.point_on_surface(footprints[tessellation.building[has_building]])
    tree = shapely.STRtree(inputs.current.geometry.to_numpy())
    labels = np.full(len(points), -1, dtype=np.int64)
    unit, grid = tree.query(points, predicate="within")
    labels[unit] = grid
    return labels


def _union_one_piece(group: np.ndarray) -> BaseGeometry:
    """The union of a grid's units, snapped to GRID_SIZE_M.

    Snap rounding can open a sliver (< 1 cm) along an edge that two units share only up to
    floating noise (cells of two blocks meeting on a road, with their own vertices), which
    leaves a grid that is one piece on the unit graph in two polygons. Then the exact union
    is taken, else the snapped union closed by GRID_SIZE_M (buffer out and back in).
    """
    snapped = shapely.union_all(group, grid_size=GRID_SIZE_M)
    if shapely.get_type_id(snapped) == 3:
        return snapped
    exact = shapely.union_all(group)
    if shapely.get_type_id(exact) == 3:
        return exact
    closed = shapely.buffer(
        shapely.buffer(snapped, GRID_SIZE_M, join_style="mitre"), -GRID_SIZE_M, join_style="mitre"
    )
    return closed if shapely.get_type_id(closed) == 3 else snapped


def _coverage_union(group: np.ndarray) -> BaseGeometry | None:
    """The union of units that share their vertices; None when they turn out not to."""
    if len(group) == 1:
        return group[0]
    try:
        return shapely.coverage_union_all(group)
    except shapely.errors.GEOSException:  # "cannot process incorrectly noded inputs"
        return None


def _dissolve(cells: np.ndarray, labels: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """One polygon per grid: the union of its units (``blocks``: each unit's block).

    A grid's units of one block come from one diagram and share their vertices, so their
    coverage union is exact and cheap; the snapping union then joins only the grid's few
    block pieces (a piece that is not valid leaves its grid to the snapping union of its
    units, as one that does not share its vertices)."""
    order = np.lexsort((blocks, labels))
    cells, labels, blocks = cells[order], labels[order], blocks[order]
    piece_starts = np.flatnonzero(
        np.r_[True, (labels[1:] != labels[:-1]) | (blocks[1:] != blocks[:-1])]
    )
    pieces = np.array(
        [_coverage_union(group) for group in np.split(cells, piece_starts[1:])], dtype=object
    )
    valid = ~shapely.is_missing(pieces) & shapely.is_valid(pieces)
    piece_label = labels[piece_starts]
    grid_starts = np.flatnonzero(np.r_[True, piece_label[1:] != piece_label[:-1]])
    bounds = np.r_[piece_starts, len(cells)]
    out = []
    for first, last in zip(grid_starts, np.r_[grid_starts[1:], len(pieces)], strict=True):
        if valid[first:last].all():
            out.append(_union_one_piece(pieces[first:last]))
        else:
            out.append(_union_one_piece(cells[bounds[first] : bounds[last]]))
    return np.array(out, dtype=object)


def grid_codes(community_code: str, polygons: np.ndarray) -> list[str]:
    """15-digit codes in reading order. A file holding more than one community's worth
    (above 999 grids, e.g. a whole district as one file) continues in the next community
    codes: every 999 grids in reading order take community code + 1, + 2, …"""
    if len(polygons) <= MAX_GRIDS_PER_COMMUNITY:
        return number_grids(community_code, polygons)
    number_grids(community_code, polygons[:1])  # the code's format is checked
    codes = [""] * len(polygons)
    for seq, i in enumerate(reading_order(polygons)):
        block, within = divmod(seq, MAX_GRIDS_PER_COMMUNITY)
        codes[i] = f"{int(community_code) + block:012d}{within + 1:03d}"
    return codes


def propose(
    inputs: PlannerInputs,
    options: ProposeOptions,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> Plan:
    """Grids of the community in ``inputs`` (see the package docs for the steps)."""
    targets = options.targets
    buildings = inputs.buildings
    households = buildings["households"].to_numpy().astype(np.int64)

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    report("tessellation", 0.0)
    tess = tessellate(
        inputs.boundary,
        inputs.roads,
        buildings.geometry.to_numpy(),
        households,
        step_m=options.sample_step_m,
        progress=progress,
    )
    report("graph", 0.0)
    graph = build_graph(tess, road_factor=options.road_factor)
    report("partition", 0.0)
    current = _current_labels(inputs, tess) if inputs.current is not None else None
    if options.stay_close and current is not None:
        labels = stay_close(graph, tess.households, targets, current, options.seed, cancel)
    else:
        labels = partition(graph, tess.households, targets, options.seed, progress, cancel)
    if (pieces_per_grid(graph, labels) > 1).any():
        # The partition keeps grids contiguous; this is the guarantee, should a step not.
        labels = make_contiguous(graph, labels, set())
    report("grids", 0.0)
    plan = plan_from_labels(inputs, options, tess, graph, labels, current)
    report("done", 1.0)
    return plan


def plan_from_labels(
    inputs: PlannerInputs,
    options: ProposeOptions,
    tess: Tessellation,
    graph: UnitGraph,
    labels: np.ndarray,
    current: np.ndarray | None = None,
) -> Plan:
    """The plan of a unit assignment (from this engine or another): grid polygons
    dissolved from the units, codes, per-grid and plan metrics."""
    targets = options.targets
    buildings = inputs.buildings
    households = buildings["households"].to_numpy().astype(np.int64)
    polygons = _dissolve(tess.cells, labels, tess.enclosure)
    grid_of_building = labels[tess.building_unit]
    per_grid_households = np.bincount(grid_of_building, weights=households, minlength=len(polygons))
    per_grid_households = per_grid_households.astype(np.int64)
    per_grid_buildings = np.bincount(grid_of_building, minlength=len(polygons))
    largest = np.zeros(len(polygons), dtype=np.int64)
    np.maximum.at(largest, grid_of_building, households)

    changed = None
    if current is not None:
        current_of_building = current[tess.building_unit]
        changed = changed_share(households, grid_of_building, current_of_building)
    summary, per_grid = plan_metrics(
        polygons,
        per_grid_households,
        largest,
        targets,
        inputs.roads,
        community=inputs.boundary,
        changed=changed,
        cuts=_cuts(graph, labels),
    )
    wgs84 = gpd.GeoSeries(polygons, crs=inputs.crs).to_crs(WGS84).to_numpy()
    codes = grid_codes(options.community_code, wgs84)
    flags = [
        _flags(h, over, parts, len(polygons), targets)
        for h, over, parts in zip(
            per_grid_households, per_grid.oversize_building, per_grid.parts, strict=True
        )
    ]
    grids = gpd.GeoDataFrame(
        {
            "code": codes,
            "households": per_grid_households,
            "buildings": per_grid_buildings,
            "largest_building": largest,
            "in_range": per_grid.in_range,
            "polsby_popper": np.round(per_grid.polsby_popper, 4),
            "reock": np.round(per_grid.reock, 4),
            "area_m2": np.round(shapely.area(polygons), 1),
            "flag": [",".join(f) for f in flags],
        },
        geometry=wgs84,
        crs=WGS84,
    ).sort_values("code", ignore_index=True)
    code_of_label = np.asarray(codes, dtype=object)
    assignment = pd.DataFrame(
        {
            "building_id": buildings["building_id"].to_numpy(),
            "grid_code": code_of_label[grid_of_building],
            "households": households,
            "assumption": buildings["assumption"].to_numpy(),
        }
    )
    return Plan(grids, assignment, summary)


def _cuts(graph: UnitGraph, labels: np.ndarray) -> tuple[float, float]:
    """(length of boundary between grids, the part of it along roads), from the graph."""
    src = np.repeat(np.arange(graph.size), np.diff(graph.indptr))
    cut = labels[src] != labels[graph.indices]
    total = float(graph.length_m[cut].sum() / 2)
    return total, float(graph.length_m[cut & graph.crosses_road].sum() / 2)


def _flags(households: int, oversize: bool, parts: int, grids: int, targets: Targets) -> list[str]:
    """Why a grid is not as asked, per grid (empty when it is)."""
    flags = []
    if oversize:
        flags.append("oversize_building")
    elif households < targets.minimum:
        flags.append("community_below_min" if grids == 1 else "below_min")
    elif households > targets.maximum:
        flags.append("above_max")
    if parts != 1:
        flags.append("not_contiguous")
    return flags
