"""The plan editor's API: a draft as buildings (with their grid, households and the
building adjacency graph), saving a building assignment (grid polygons derived here from
the tessellation), and "fix this grid" (gis.redistrict.local_fix). docs/planning.md."""

from __future__ import annotations

import json
import time
from typing import Annotated

import geopandas as gpd
import numpy as np
import shapely
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.deps import AppSettings, Conn, CurrentUser
from api.errors import Unprocessable
from api.routes.plans import (
    community_geom,
    grid_features,
    plan_row,
    require_planner,
    save_grids,
    stale,
)
from gis.crs import WGS84
from gis.redistrict.local_fix import fix_grid
from gis.redistrict.propose import ProposeOptions
from gis.redistrict.targets import Targets
from gis.redistrict_apply import store
from gis.redistrict_apply.community import CommunityModel, CommunityUnknown
from gis.redistrict_apply.preview import worker_moves
from gis.settings import Settings

router = APIRouter(prefix="/api/plans", tags=["plans 规划"])

GridCode = Annotated[str, Field(pattern=r"^[0-9]{15}$")]


class AssignmentSave(BaseModel):
    version: int = Field(description="the version read; a stale one gets 409")
    assignment: dict[str, GridCode] = Field(description="building id → grid code")
    locked: list[GridCode] = Field(default_factory=list, description="grids locked")


class FixRequest(BaseModel):
    grid: GridCode
    assignment: dict[str, GridCode] = Field(description="building id → grid code, as edited")
    locked: list[GridCode] = Field(default_factory=list)


def community_model(
    request: Request, conn: Conn, settings: Settings, community_code: str
) -> CommunityModel:
    """The community's buildings, tessellation and graphs (cached per API process)."""
    options = ProposeOptions(
        road_factor=settings.redistrict_road_factor,
        sample_step_m=settings.redistrict_sample_step_m,
    )
    try:
        return request.app.state.plan_models.get(
            conn, community_code, options, settings.redistrict_hull_buffer_m
        )
    except CommunityUnknown as exc:
        raise Unprocessable(str(exc)) from exc


def _assignment(raw: dict[str, str]) -> dict[int, str]:
    try:
        return {int(key): code for key, code in raw.items()}
    except ValueError as exc:
        raise Unprocessable(f"楼栋编号应为整数 (building ids are integers): {exc}") from exc


def _check_codes(community_code: str, assignment: dict[int, str]) -> None:
    wrong = sorted({c for c in assignment.values() if not c.startswith(community_code)})
    if wrong:
        raise Unprocessable(
            f"网格编码应以社区编码 {community_code} 开头 (codes must start with the "
            f"community code): {wrong[:5]}"
        )


@router.get("/{plan_id}/editor")
def editor_data(
    plan_id: int, request: Request, conn: Conn, user: CurrentUser, settings: AppSettings
) -> dict:
    """Everything the editor page needs for one draft: buildings with their grid and
    households, the building adjacency graph (pairs of indexes into ``buildings``), the
    draft's and the current grid polygons and the community outline."""
    require_planner(user)
    plan = plan_row(conn, user, plan_id)
    code = plan["community_code"]
    outline = community_geom(conn, user, code)
    model = community_model(request, conn, settings, code)
    grid_of = store.building_grids(conn, plan_id)
    footprints = gpd.GeoSeries(model.inputs.buildings.geometry.to_numpy(), crs=model.inputs.crs)
    shapes = shapely.to_geojson(shapely.set_precision(footprints.to_crs(WGS84).to_numpy(), 1e-7))
    households = model.inputs.buildings["households"].to_numpy().tolist()
    buildings = []
    for row, ids in enumerate(model.building_ids):
        grid, locked = next((grid_of[i] for i in ids if i in grid_of), (None, False))
        buildings.append(
            {
                "id": ids[0],
                "ids": ids,
                "households": households[row],
                "grid": grid,
                "locked": locked,
                "geometry": json.loads(shapes[row]),
            }
        )
    current = store.current_grids(conn, code)
    return {
        "plan": {
            key: plan[key]
            for key in ("id", "community_code", "name", "status", "version", "metrics", "params")
        },
        "targets": {"min": plan["target_min"], "max": plan["target_max"], "ideal": plan["target"]},
        "buildings": buildings,
        "adjacency": model.building_adjacency(),
        "grids": grid_features(conn, plan_id),
        "current": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": json.loads(shapely.to_geojson(shapely.set_precision(g.geom, 1e-7))),
                    "properties": {"code": g.code},
                }
                for g in current
            ],
        },
        "community": json.loads(shapely.to_geojson(outline)),
    }


@router.get("/{plan_id}/workers")
def workers(plan_id: int, conn: Conn, user: CurrentUser) -> list[dict]:
    """Where each current worker assignment would go if the draft were applied now
    (``to`` null: it would end); the editor lets the planner change them before applying."""
    require_planner(user)
    plan = plan_row(conn, user, plan_id)
    return worker_moves(conn, plan["community_code"], store.plan_grids(conn, plan_id))


@router.put("/{plan_id}/assignment")
def save_assignment(
    plan_id: int,
    body: AssignmentSave,
    request: Request,
    conn: Conn,
    user: CurrentUser,
    settings: AppSettings,
) -> dict:
    """Save the editor's building assignment: the grid polygons are the tessellation units
    dissolved by grid (they tile the community); ``version`` must be the one read (else 409)."""
    require_planner(user)
    plan = plan_row(conn, user, plan_id)
    if plan["version"] != body.version or plan["status"] != "draft":
        raise stale(plan, body.version)
    assignment = _assignment(body.assignment)
    _check_codes(plan["community_code"], assignment)
    model = community_model(request, conn, settings, plan["community_code"])
    try:
        grids = model.grids_of_assignment(assignment)
    except ValueError as exc:
        raise Unprocessable(str(exc)) from exc
    version = save_grids(conn, user, plan, body.version, grids, "editor")
    store.lock_grids(conn, plan_id, body.locked)
    return {"id": plan_id, "version": version, "grids": grid_features(conn, plan_id)}


@router.post("/{plan_id}/fix")
def fix(
    plan_id: int,
    body: FixRequest,
    request: Request,
    conn: Conn,
    user: CurrentUser,
    settings: AppSettings,
) -> dict:
    """ "Fix this grid": the grid rebalanced with its unlocked neighbours by the engine's
    local repair; answers the buildings that change grid (nothing is saved)."""
    started = time.perf_counter()
    require_planner(user)
    plan = plan_row(conn, user, plan_id)
    assignment = _assignment(body.assignment)
    _check_codes(plan["community_code"], assignment)
    model = community_model(request, conn, settings, plan["community_code"])
    if body.grid not in set(assignment.values()):
        raise Unprocessable(f"网格 {body.grid} 没有楼栋 (the grid has no buildings)")
    labels, codes = model.unit_labels(assignment)
    index = {code: i for i, code in enumerate(codes)}
    targets = Targets(plan["target_min"], plan["target_max"], plan["target"])
    new = fix_grid(
        model.graph,
        model.tessellation.households,
        labels,
        index[body.grid],
        targets,
        {index[c] for c in body.locked if c in index},
        seed=int(plan["params"].get("seed", 0)),
    )
    all_codes = model.label_codes(new, codes)
    unit = model.tessellation.building_unit
    changed = {}
    for row, ids in enumerate(model.building_ids):
        code = all_codes[int(new[unit[row]])]
        for db_id in ids:
            if assignment.get(db_id) != code:
                changed[str(db_id)] = code
    totals = np.bincount(new, weights=model.tessellation.households)
    return {
        "grid": body.grid,
        "changed": changed,
        "households": {all_codes[g]: int(totals[g]) for g in np.unique(new).tolist()},
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
    }
