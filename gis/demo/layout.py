"""Residential compounds (小区) and buildings (楼栋) inside one community, in metres.

A community is cut by a road lattice into compounds; the lattice's lanes are its roads. Each compound is either old walk-ups
(5–7 floors, 2–4 units, two flats per landing, ~36 households: the calibration community
has 4,408 households in 128 buildings) or newer towers (18–24 floors). Buildings stand in
south-facing rows (long side east–west, as everywhere in north China) with sunlight gaps.
Rows are laid out generously, then buildings are left out at random (green space, schools)
until the capacity just covers the community's households; the rest are vacant flats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon

from gis.demo.blocks import CommunityPlan
from gis.demo.names import compound_names
from gis.demo.shapes import line_parts, polygon_parts

MAIN_ROAD_HALF_WIDTH_M = 12.0
LANE_HALF_WIDTH_M = 8.0
SETBACK_M = 5.0
MIN_COMPOUND_AREA_M2 = 6_000.0
FLOOR_HEIGHT_M = 2.9
TOWER_STEP = 0.2
"""Share of compounds turned into towers per attempt when walk-ups cannot hold everyone."""


@dataclass(frozen=True)
class Style:
    """How one kind of compound is built; ranges are (low, high) for uniform draws."""

    units: tuple[int, ...]
    units_p: tuple[float, ...]
    unit_length_m: tuple[float, float]
    depth_m: tuple[float, float]
    floors: tuple[int, int]
    per_floor: int
    row_gap_m: tuple[float, float]
    building_gap_m: tuple[float, float]


WALK_UP = Style(
    units=(2, 3, 4),
    units_p=(0.3, 0.5, 0.2),
    unit_length_m=(13.0, 16.0),
    depth_m=(11.0, 13.0),
    floors=(5, 7),
    per_floor=2,
    row_gap_m=(22.0, 28.0),
    building_gap_m=(10.0, 16.0),
)
TOWER = Style(
    units=(1, 2),
    units_p=(0.4, 0.6),
    unit_length_m=(19.0, 22.0),
    depth_m=(16.0, 18.0),
    floors=(18, 24),
    per_floor=2,
    row_gap_m=(36.0, 44.0),
    building_gap_m=(14.0, 20.0),
)
"""At most 2 units × 2 flats × 24 floors = 96 households: small steps keep grids in range."""


@dataclass(frozen=True)
class CommunityLayout:
    buildings: pd.DataFrame
    """x0, y0, x1, y1 (metric footprint), floors, units, per_floor, households, height_m,
    compound (number within the community) and name ("<compound>3号楼"), compound by
    compound, rows north to south, west to east."""
    lanes: list[LineString]
    """The centre lines of the lanes between the compounds, main road to main road
    (metric), west to east then north to south."""


def lay_out_community(plan: CommunityPlan, rng: np.random.Generator) -> CommunityLayout:
    """The community's compounds, buildings and lanes."""
    compounds, lanes = _compound_polygons(plan.polygon, rng)
    layouts = {style: [_rows(c, style, rng) for c in compounds] for style in (WALK_UP, TOWER)}
    newness = rng.random(len(compounds))
    tower_share = rng.uniform(0.05, 0.25)
    while True:
        towers = newness < tower_share
        candidates = pd.concat(
            [
                layouts[TOWER if tower else WALK_UP][i].assign(compound=i)
                for i, tower in enumerate(towers)
            ],
            ignore_index=True,
        )
        capacity = candidates["floors"] * candidates["units"] * candidates["per_floor"]
        if capacity.sum() >= plan.households:
            break
        if towers.all():
            raise ValueError(f"{plan.name}: no room for {plan.households} households")
        tower_share += TOWER_STEP
    buildings = _fit_households(candidates, capacity.to_numpy(), plan.households, rng)
    names = compound_names(rng, len(compounds))
    number_in_compound = buildings.groupby("compound").cumcount() + 1
    buildings["name"] = [
        f"{names[c]}{n}号楼" for c, n in zip(buildings["compound"], number_in_compound, strict=True)
    ]
    return CommunityLayout(buildings, lanes)


def _compound_polygons(
    community: Polygon | MultiPolygon, rng: np.random.Generator
) -> tuple[list[Polygon], list[LineString]]:
    """Compounds in reading order: lattice cells inside the main roads, minus lanes; and
    the lanes' centre lines that cross the community."""
    inner = community.buffer(-MAIN_ROAD_HALF_WIDTH_M, join_style="mitre")
    minx, miny, maxx, maxy = inner.bounds
    width, height = rng.uniform(200.0, 290.0), rng.uniform(170.0, 240.0)
    xs = np.arange(minx - rng.uniform(0.0, width), maxx, width)
    ys = np.arange(maxy + rng.uniform(0.0, height), miny, -height)
    x0, y1 = (a.ravel() for a in np.meshgrid(xs, ys))
    cells = shapely.box(
        x0 + LANE_HALF_WIDTH_M,
        y1 - height + LANE_HALF_WIDTH_M,
        x0 + width - LANE_HALF_WIDTH_M,
        y1 - LANE_HALF_WIDTH_M,
    )
    pieces = [p for cell in shapely.intersection(cells, inner) for p in polygon_parts(cell)]
    compounds = [p for p in pieces if p.area >= MIN_COMPOUND_AREA_M2]
    x_min, y_min, x_max, y_max = community.bounds  # lanes run from main road to main road
    verticals = [LineString([(x, y_min), (x, y_max)]) for x in np.append(xs, xs[-1] + width)]
    horizontals = [LineString([(x_min, y), (x_max, y)]) for y in np.append(ys, ys[-1] - height)]
    lines = np.asarray(verticals + horizontals, dtype=object)
    lines = lines[shapely.intersects(lines, inner)]
    lanes = [p for line in shapely.intersection(lines, community) for p in line_parts(line)]
    return compounds, lanes


_ROW_FIELDS = ("x0", "y0", "x1", "y1", "floors", "units")


def _rows(compound: Polygon, style: Style, rng: np.random.Generator) -> pd.DataFrame:
    """Every building of ``style`` that fits ``compound``: rows north to south."""
    minx, miny, maxx, maxy = compound.bounds
    depth = rng.uniform(*style.depth_m)
    rows = []
    top = maxy - SETBACK_M
    while top - depth > miny + SETBACK_M:
        rows.append(_row(minx + SETBACK_M, maxx - SETBACK_M, top - depth, top, style, rng))
        top -= depth + rng.uniform(*style.row_gap_m)
    table = np.concatenate(rows, axis=1) if rows else np.empty((len(_ROW_FIELDS), 0))
    buildable = compound.buffer(-SETBACK_M)
    shapely.prepare(buildable)
    inside = shapely.contains(buildable, shapely.box(*table[:4]))
    frame = pd.DataFrame(table[:, inside].T, columns=_ROW_FIELDS).astype(
        {"floors": np.int64, "units": np.int64}
    )
    frame["per_floor"] = style.per_floor
    frame["height_m"] = np.round(frame["floors"] * FLOOR_HEIGHT_M, 1)
    return frame


def _row(
    x_start: float, x_end: float, y0: float, y1: float, style: Style, rng: np.random.Generator
) -> np.ndarray:
    """Buildings side by side from west to east within [x_start, x_end], as _ROW_FIELDS rows."""
    most = int((x_end - x_start) // (style.unit_length_m[0] + style.building_gap_m[0])) + 1
    units = rng.choice(style.units, most, p=style.units_p)
    lengths = units * rng.uniform(*style.unit_length_m, most)
    pitch = lengths + rng.uniform(*style.building_gap_m, most)
    starts = x_start + np.concatenate([[0.0], np.cumsum(pitch)[:-1]])
    floors = rng.integers(style.floors[0], style.floors[1] + 1, most)
    fits = starts + lengths <= x_end
    table = np.stack(
        [starts, np.full(most, y0), starts + lengths, np.full(most, y1), floors, units]
    )
    return table[:, fits]


def _fit_households(
    candidates: pd.DataFrame, capacity: np.ndarray, households: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Leave out random buildings while the rest still hold ``households``; the remaining
    surplus becomes vacant flats, spread over the kept buildings in proportion to size."""
    order = rng.permutation(len(candidates))
    dropped = np.zeros(len(candidates), dtype=bool)
    dropped[order[np.cumsum(capacity[order]) <= capacity.sum() - households]] = True
    kept = candidates[~dropped].reset_index(drop=True)
    kept_capacity = capacity[~dropped]
    surplus = int(kept_capacity.sum()) - households
    share = surplus * kept_capacity / kept_capacity.sum()
    vacant = np.floor(share).astype(np.int64)
    vacant[rng.choice(len(kept), surplus - int(vacant.sum()), replace=False)] += 1
    kept["households"] = kept_capacity - vacant
    return kept
