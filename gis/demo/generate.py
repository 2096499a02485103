"""Generate the demo city: inside the real 昆都仑区, reproducible by seed, sized by households.

Stages (each logged with its counts): blocks and streets → communities → per community
compounds, buildings, lanes and grids → households and residents → workers → devices →
write. The roads layer holds the main roads around the communities (the edges of their
blocks) and the lanes between their compounds, so DB-mode proposals can cut along them.
Every stage draws from its own random stream derived from the seed (and the community
index for per-community work), so a stage's output depends only on the seed and its inputs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from gis.demo.blocks import CommunityPlan, make_blocks, plan_communities, street_polygons
from gis.demo.dataset import CRS, write_dataset
from gis.demo.devices import make_devices
from gis.demo.geography import (
    DISTRICT_CODE,
    DISTRICT_NAME,
    URBAN_CENTRE,
    Projection,
    StreetRef,
    load_district,
    load_streets,
)
from gis.demo.grids import GRID_HOUSEHOLDS_TARGET, grid_polygons, group_buildings
from gis.demo.layout import lay_out_community
from gis.demo.people import make_households, make_residents
from gis.demo.shapes import as_multilinestrings, as_multipolygons, line_parts
from gis.demo.staff import make_staff
from gis.gridcodes import number_grids

log = logging.getLogger(__name__)

GRID_VALID_FROM = "2026-01-01T00:00:00+08:00"
NOTICE = "生成的演示数据 / generated demo data — not real residents"
MIN_HOUSEHOLDS = 300
MAX_BUILDINGS_PER_COMMUNITY = 999
MAIN_ROAD_CLASS = "secondary"
"""城市次干路: the roads between blocks."""
LANE_CLASS = "residential"
"""The lanes between a community's compounds (cut lines too: see CUT_ROAD_CLASSES)."""


class Stream(IntEnum):
    BLOCKS = 0
    COMMUNITIES = 1
    LAYOUT = 2
    PEOPLE = 3
    STAFF = 4
    DEVICES = 5


def _rng(seed: int, stream: Stream, *index: int) -> np.random.Generator:
    return np.random.default_rng([seed, int(stream), *index])


@dataclass
class City:
    """The generated dataset in memory: WGS84 layers, tables, and figures for the summary."""

    meta: dict
    layers: dict[str, gpd.GeoDataFrame]
    tables: dict[str, pd.DataFrame]
    grid_households: pd.Series
    """Households of each grid (by grid code): the sum over its buildings."""
    seconds: dict[str, float] = field(default_factory=dict)


def generate(households: int, seed: int, out: Path, boundaries_dir: Path) -> City:
    """Generate the demo city and write its dataset folder to ``out``."""
    city = generate_city(households, seed, boundaries_dir)
    started = time.perf_counter()
    write_dataset(out, city.meta, city.layers, city.tables)
    city.seconds["write"] = time.perf_counter() - started
    log.info("wrote %s", out)
    return city


def generate_city(households: int, seed: int, boundaries_dir: Path) -> City:
    if households < MIN_HOUSEHOLDS:
        raise ValueError(f"at least {MIN_HOUSEHOLDS} households (one grid) are needed")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = now - clock
        clock = now

    projection = Projection()
    district = projection.to_metric(load_district(boundaries_dir))
    streets = load_streets(boundaries_dir)
    centre = projection.point_to_metric(*URBAN_CENTRE)
    blocks = make_blocks(district, centre, streets, projection, _rng(seed, Stream.BLOCKS))
    plans = plan_communities(blocks, streets, households, _rng(seed, Stream.COMMUNITIES))
    log.info(
        "blocks: %d in %d streets; communities: %d", len(blocks.polygons), len(streets), len(plans)
    )
    lap("communities")

    buildings, grids, lanes = _lay_out(plans, seed, projection)
    lap("buildings_and_grids")

    people_rng = _rng(seed, Stream.PEOPLE)
    household_table = make_households(buildings, buildings["community"].to_numpy(), people_rng)
    residents = make_residents(household_table, people_rng)
    log.info("households: %d; residents: %d", len(household_table), len(residents))
    lap("people")

    workers, assignments = make_staff(plans, grids, GRID_VALID_FROM, _rng(seed, Stream.STAFF))
    log.info("workers: %d; grid assignments: %d", len(workers), len(assignments))
    lap("workers")

    devices = make_devices(district, buildings, household_table, _rng(seed, Stream.DEVICES))
    log.info("devices: %d", len(devices))
    lap("devices")

    source = f"generated:wangge-demo seed={seed} households={households}"
    meta = {
        "name": f"{DISTRICT_NAME}演示城市 (生成数据) / Kundulun demo city (generated)",
        "source": source,
        "generated": True,
        "crs": "wgs84",
        "seed": seed,
        "households": households,
        "notice": NOTICE,
    }
    layers = _layers(projection, streets, street_polygons(blocks, len(streets)), plans)
    layers["grids"] = _layer(grids, grids["polygon"], projection)
    footprints = shapely.box(*buildings[["x0", "y0", "x1", "y1"]].to_numpy().T)
    layers["buildings"] = _layer(buildings, footprints, projection)
    points = shapely.points(devices["x"], devices["y"])
    layers["devices"] = _layer(devices.replace({"": None}), points, projection, multi=False)
    layers["roads"] = _roads_layer(plans, lanes, projection)
    tables = {
        "households": household_table,
        "residents": residents,
        "workers": workers,
        "grid_assignments": assignments,
    }
    lap("layers")
    grid_households = grids.set_index("code")["households"]
    return City(meta, layers, tables, grid_households, seconds)


def _layers(
    projection: Projection,
    streets: list[StreetRef],
    street_shapes: list[MultiPolygon],
    plans: list[CommunityPlan],
) -> dict[str, gpd.GeoDataFrame]:
    """The streets and communities layers."""
    street_frame = pd.DataFrame(
        {
            "code": [s.code for s in streets],
            "district_code": DISTRICT_CODE,
            "name": [s.name for s in streets],
        }
    )
    community_frame = pd.DataFrame(
        {
            "code": [p.code for p in plans],
            "street_code": [p.street_code for p in plans],
            "name": [p.name for p in plans],
            "kind": [p.kind for p in plans],
        }
    )
    return {
        "streets": _layer(street_frame, street_shapes, projection),
        "communities": _layer(community_frame, [p.polygon for p in plans], projection),
    }


def _layer(
    frame: pd.DataFrame, geoms: Sequence[BaseGeometry], projection: Projection, multi: bool = True
) -> gpd.GeoDataFrame:
    """``frame`` with ``geoms`` (metric) as its WGS84 geometry, areas as MultiPolygon."""
    wgs84 = projection.to_wgs84(np.asarray(geoms, dtype=object))
    if multi:
        wgs84 = as_multipolygons(wgs84)
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=wgs84, crs=CRS)


def _roads_layer(
    plans: list[CommunityPlan], lanes: pd.DataFrame, projection: Projection
) -> gpd.GeoDataFrame:
    """The main roads (the communities' block edges, merged: each once, not once per
    community beside it) and the lanes, as MultiLineStrings."""
    edges = shapely.line_merge(shapely.union_all(shapely.boundary([p.polygon for p in plans])))
    main = line_parts(edges)
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "id": [f"{DISTRICT_CODE}M{i:04d}" for i in range(1, len(main) + 1)],
                    "class": MAIN_ROAD_CLASS,
                    "line": main,
                }
            ),
            lanes.assign(**{"class": LANE_CLASS}),
        ],
        ignore_index=True,
    )
    layer = _layer(frame.drop(columns="line"), frame["line"], projection, multi=False)
    return layer.set_geometry(as_multilinestrings(layer.geometry.to_numpy()), crs=CRS)


def _lay_out(
    plans: list[CommunityPlan], seed: int, projection: Projection
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Buildings, grids and lanes (id, line) of every community (metric geometry)."""
    building_frames = []
    grid_frames = []
    lane_frames = []
    for done, plan in enumerate(plans, start=1):
        layout = lay_out_community(plan, _rng(seed, Stream.LAYOUT, plan.index))
        buildings = layout.buildings
        lane_frames.append(
            pd.DataFrame(
                {
                    "id": [f"{plan.code}L{i:02d}" for i in range(1, len(layout.lanes) + 1)],
                    "line": layout.lanes,
                }
            )
        )
        if len(buildings) > MAX_BUILDINGS_PER_COMMUNITY:
            raise ValueError(f"{plan.name}: {len(buildings)} buildings overflow 3-digit codes")
        bounds = buildings[["x0", "y0", "x1", "y1"]].to_numpy()
        centroids = (bounds[:, :2] + bounds[:, 2:]) / 2
        partition = group_buildings(plan.polygon, centroids, buildings["households"].to_numpy())
        polygons = grid_polygons(plan.polygon, bounds, partition)
        codes = np.array(number_grids(plan.code, projection.to_wgs84(np.array(polygons))))

        buildings["code"] = [f"{plan.code}B{i:03d}" for i in range(1, len(buildings) + 1)]
        buildings["community_code"] = plan.code
        buildings["community"] = plan.index
        building_frames.append(buildings)
        grid_frames.append(
            pd.DataFrame(
                {
                    "code": codes,
                    "community_code": plan.code,
                    "name": [f"第{int(code[-3:])}网格" for code in codes],
                    "household_target": GRID_HOUSEHOLDS_TARGET,
                    "valid_from": GRID_VALID_FROM,
                    "polygon": polygons,
                    "households": np.bincount(
                        partition.labels, weights=buildings["households"], minlength=len(codes)
                    ).astype(np.int64),
                }
            ).sort_values("code")
        )
        if done % max(1, len(plans) // 10) == 0 or done == len(plans):
            log.info("communities laid out: %d/%d", done, len(plans))
    buildings = pd.concat(building_frames, ignore_index=True)
    grids = pd.concat(grid_frames, ignore_index=True)
    lanes = pd.concat(lane_frames, ignore_index=True)
    log.info("buildings: %d; grids: %d; lanes: %d", len(buildings), len(grids), len(lanes))
    return buildings, grids, lanes
