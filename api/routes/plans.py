"""Grid plans (规划方案): drafts of a community's grids, validated and applied as new grid
versions (gis.redistrict_apply; docs/planning.md). Only planners and admins use them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import shapely
from fastapi import APIRouter, Query, status
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from api.deps import AppSettings, Conn, CurrentUser
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.responses import OrjsonResponse
from api.scope import Subject, scope_where
from api.users import User
from gis import audit
from gis.loaders.context import LoadRules
from gis.redistrict_apply import store
from gis.redistrict_apply.apply import PlanRefused
from gis.redistrict_apply.geojson import (
    BadPlanGeoJSON,
    parse_assignments,
    plan_grids_from_geojson,
)
from gis.redistrict_apply.validate import PlanGrid, validate_plan

router = APIRouter(prefix="/api/plans", tags=["plans 规划"])

PLANNING_ROLES = ("planner", "admin")
CommunityCode = Annotated[str, Field(pattern=r"^[0-9]{12}$")]


class PlanCreate(BaseModel):
    community_code: CommunityCode
    name: str = Field(min_length=1, max_length=200)
    grids: dict[str, Any] | None = Field(
        None, description="GeoJSON FeatureCollection of grid polygons; omitted: current grids"
    )
    target_min: int = Field(300, gt=0)
    target_max: int = Field(500, gt=0)
    target: int = Field(450, gt=0)
    params: dict[str, Any] = Field(default_factory=dict)


class PlanUpdate(BaseModel):
    version: int = Field(description="the version read; a stale one gets 409")
    grids: dict[str, Any]


class PlanApply(BaseModel):
    valid_from: date | datetime = Field(description="a date (00:00 local time) or a time")
    assignments: dict[str, list[dict[str, Any]]] | None = Field(
        None, description="per grid code: [{worker_id, role}], overriding the plan's"
    )


def require_planner(user: User) -> None:
    if user.role not in PLANNING_ROLES:
        raise Forbidden("仅规划员和管理员可操作规划方案 (only planners and admins use plans)")


def community_geom(conn: Conn, user: User, code: str) -> shapely.Geometry:
    where = scope_where(user, Subject.COMMUNITY).add("community.code = %(code)s", code=code)
    row = conn.execute(
        f"SELECT ST_AsBinary(community.geom) FROM community WHERE {where.sql}", where.params
    ).fetchone()
    if row is None:
        raise NotFound(f"社区 {code} 不存在或无权查看 (community not found)")
    return shapely.from_wkb(row[0])


def plan_row(conn: Conn, user: User, plan_id: int) -> dict:
    row = (
        conn.cursor(row_factory=dict_row)
        .execute("SELECT * FROM grid_plan WHERE id = %s", (plan_id,))
        .fetchone()
    )
    if row is None:
        raise NotFound(f"方案 {plan_id} 不存在 (plan not found)")
    community_geom(conn, user, row["community_code"])
    return row


def _workers_in_scope(conn: Conn, user: User, grids_members: Iterable[list[dict] | None]) -> None:
    """A plan may assign only workers of the user's area (a planner of one community cannot
    take another's); workers that do not exist are the plan check's (``worker_unknown``)."""
    named = sorted({m["worker_id"] for members in grids_members for m in members or []})
    if not named:
        return
    scope = scope_where(user, Subject.WORKER)
    rows = conn.execute(
        f"SELECT worker.id FROM worker WHERE worker.id = ANY(%(named)s) AND NOT coalesce({scope.sql}, false)",
        scope.params | {"named": named},
    ).fetchall()
    if rows:
        outside = [r[0] for r in rows]
        raise Unprocessable(f"这些网格员不在您的辖区 (workers outside your area): {outside}")


def _grids(document: dict[str, Any]) -> list[PlanGrid]:
    try:
        return plan_grids_from_geojson(document)
    except BadPlanGeoJSON as exc:
        raise Unprocessable(str(exc)) from exc


def _summary(row: dict) -> dict:
    keys = (
        "id",
        "community_code",
        "name",
        "status",
        "version",
        "created_by",
        "created_at",
        "updated_at",
        "target_min",
        "target_max",
        "target",
        "params",
        "metrics",
        "applied_at",
        "applied_valid_from",
        "applied_by",
    )
    return {key: row[key] for key in keys}


@router.post("", status_code=status.HTTP_201_CREATED)
def create_plan(body: PlanCreate, conn: Conn, user: CurrentUser) -> dict:
    """A draft from posted grid polygons, or from the community's current grids."""
    require_planner(user)
    community_geom(conn, user, body.community_code)
    if not body.target_min <= body.target <= body.target_max:
        raise Unprocessable("应满足 target_min ≤ target ≤ target_max (targets out of order)")
    grids = (
        store.current_grids(conn, body.community_code) if body.grids is None else _grids(body.grids)
    )
    targets = store.Targets(body.target_min, body.target_max, body.target)
    plan_id = store.create_plan(
        conn, body.community_code, body.name, user.username, grids, targets, body.params
    )
    audit.record(conn, user.username, "plan.create", "grid_plan", plan_id, {"grids": len(grids)})
    return {"id": plan_id, "version": 1}


@router.get("")
def list_plans(
    conn: Conn,
    user: CurrentUser,
    community_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
) -> list[dict]:
    """The plans of one community, or of every community in the user's scope."""
    require_planner(user)
    where = scope_where(user, Subject.COMMUNITY)
    if community_code is not None:
        community_geom(conn, user, community_code)
        where = where.add("community.code = %(code)s", code=community_code)
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT grid_plan.* FROM grid_plan JOIN community "
            f"ON community.code = grid_plan.community_code WHERE {where.sql} "
            "ORDER BY grid_plan.id DESC",
            where.params,
        )
        .fetchall()
    )
    return [_summary(row) for row in rows]


@router.get("/{plan_id}")
def plan_detail(plan_id: int, conn: Conn, user: CurrentUser) -> dict:
    """The plan with its grids as a GeoJSON FeatureCollection (households, buildings,
    assignments as properties) and its metrics."""
    require_planner(user)
    plan = _summary(plan_row(conn, user, plan_id))
    plan["grids"] = grid_features(conn, plan_id)
    return plan


def grid_features(conn: Conn, plan_id: int) -> dict:
    """The plan's grids as a FeatureCollection (code, households, buildings, assignments).

    Coordinates are reduced to 7 decimals (about 1 cm) by ST_ReducePrecision, which keeps a
    polygon valid, before they are written: plain rounding can make two vertices of a ring
    that are closer than that cross, and the planner's export of such a draft would then
    not import again."""
    features = conn.execute(
        "SELECT json_build_object('type', 'Feature', 'id', code, "
        "'geometry', ST_AsGeoJSON(ST_ReducePrecision(geom, 1e-7), 7)::json, "
        "'properties', json_build_object("
        "'code', code, 'households', households, 'buildings', buildings, "
        "'assignments', assignments)) FROM grid_plan_grid WHERE plan_id = %s ORDER BY code",
        (plan_id,),
    ).fetchall()
    return {"type": "FeatureCollection", "features": [f[0] for f in features]}


@router.put("/{plan_id}")
def update_plan(plan_id: int, body: PlanUpdate, conn: Conn, user: CurrentUser) -> dict:
    """Replace a draft's grids; ``version`` must be the one read (else 409)."""
    require_planner(user)
    plan = plan_row(conn, user, plan_id)
    version = save_grids(conn, user, plan, body.version, _grids(body.grids), "geojson")
    return {"id": plan_id, "version": version}


def save_grids(
    conn: Conn, user: User, plan: dict, version: int, grids: list[PlanGrid], source: str
) -> int:
    """Replace a draft's grids if ``version`` is the one read (else 409), audited with where
    the grids came from; returns the new version."""
    try:
        new_version = store.replace_grids(conn, plan["id"], version, grids)
    except store.StaleVersion as exc:
        raise stale(plan, version) from exc
    audit.record(
        conn,
        user.username,
        "plan.update",
        "grid_plan",
        plan["id"],
        {"version": new_version, "grids": len(grids), "from": source},
    )
    return new_version


@router.post("/{plan_id}/validate")
def validate(plan_id: int, conn: Conn, user: CurrentUser, settings: AppSettings) -> dict:
    """Every problem of the plan's grids, per grid, in Chinese and English."""
    require_planner(user)
    plan = plan_row(conn, user, plan_id)
    community = community_geom(conn, user, plan["community_code"])
    problems = validate_plan(
        plan["community_code"],
        community,
        store.plan_grids(conn, plan_id),
        LoadRules.from_settings(settings),
    )
    return {"valid": not problems, "problems": [p.as_dict() for p in problems]}


@router.post("/{plan_id}/apply")
def apply(
    plan_id: int, body: PlanApply, conn: Conn, user: CurrentUser, settings: AppSettings
) -> dict:
    """Apply a draft as new grid versions from ``valid_from``: what changed, or 422 with
    the reasons (nothing written)."""
    require_planner(user)
    plan = plan_row(conn, user, plan_id)
    if plan["status"] != "draft":
        raise Conflict(f"方案状态为 {plan['status']}, 只能应用草稿 (only a draft can be applied)")
    valid_from = body.valid_from
    if not isinstance(valid_from, datetime):
        valid_from = datetime.combine(valid_from, time(), ZoneInfo(settings.local_timezone))
    elif valid_from.tzinfo is None:
        valid_from = valid_from.replace(tzinfo=ZoneInfo(settings.local_timezone))
    overrides = body.assignments or {}
    stored = {g.code: g.assignments for g in store.plan_grids(conn, plan_id)}
    unknown = sorted(set(overrides) - set(stored))
    if unknown:
        raise Unprocessable(f"方案中没有这些网格 (no such grids in the plan): {unknown}")
    try:
        chosen = {code: parse_assignments(code, members) for code, members in overrides.items()}
    except BadPlanGeoJSON as exc:
        raise Unprocessable(str(exc)) from exc
    _workers_in_scope(conn, user, (stored | chosen).values())
    rules = LoadRules.from_settings(settings)
    try:
        result = store.apply_draft(conn, plan_id, valid_from, user.username, rules, chosen)
    except PlanRefused as exc:
        return _refused(exc)
    except store.StaleVersion as exc:
        raise Conflict("方案已被应用 (the plan was applied meanwhile)") from exc
    return result.as_dict()


def stale(plan: dict, version: int) -> Conflict:
    """409 for a write that named a version other than the plan's (or a plan no draft)."""
    return Conflict(
        f"方案已被他人保存或已应用 (someone else saved the plan: it is at version "
        f"{plan['version']}, status {plan['status']}; you sent version {version}): "
        "请重新读取 reload it"
    )


def _refused(exc: PlanRefused) -> OrjsonResponse:
    return OrjsonResponse(
        {
            "detail": "方案无法应用 (the plan cannot be applied)",
            "problems": [p.as_dict() for p in exc.problems],
        },
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )
