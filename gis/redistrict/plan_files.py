"""Plans on disk: grid polygons as GeoJSON (WGS84) and each building's grid as CSV."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd

from gis.crs import WGS84
from gis.redistrict.inputs import InputError, read_grids
from gis.redistrict.propose import Plan


def write_plan(plan: Plan, out: Path, assignment_out: Path | None = None) -> None:
    """The plan's grids to ``out`` (GeoJSON, WGS84, metrics of the whole plan under
    ``metrics`` in the collection), and with ``assignment_out`` the buildings to CSV."""
    out.parent.mkdir(parents=True, exist_ok=True)
    collection = json.loads(plan.grids.to_crs(WGS84).to_json(drop_id=True))
    collection["metrics"] = plan.metrics.as_dict()
    out.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    if assignment_out is not None:
        assignment_out.parent.mkdir(parents=True, exist_ok=True)
        plan.assignment.to_csv(assignment_out, index=False)


def read_plan(path: Path) -> gpd.GeoDataFrame:
    """A plan's grid polygons (any polygon file): code, households when given, geometry."""
    grids = read_grids(path)
    source = gpd.read_file(path)
    for column in ("households", "largest_building"):
        if column in source.columns:
            grids[column] = source[column].to_numpy()
    if grids.empty:
        raise InputError(f"{path}: no grids")
    return grids
