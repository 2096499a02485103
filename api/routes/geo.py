"""GeoJSON layers: districts, streets, communities, grids (coloured by open tasks), buildings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from psycopg.rows import dict_row

from api.deps import AppLayerCache, Conn, CurrentUser
from api.geojson import BBox, ZoomParam, add_bbox, bbox_param, feature_collection
from api.grid_layer import OPEN_TASK_LOAD, grid_layer
from api.responses import GeoJSONResponse, OrjsonResponse
from api.schemas import FeatureCollection
from api.scope import (
    BUILDING_IN_GRID,
    Subject,
    Where,
    counts_scope,
    scope_where,
    valid_now,
    visible_phone,
)
from api.users import User
from gis import audit
from gis.models import WORKER_ROLE_LABELS_ZH
from gis.workorders import OPEN_STATES

router = APIRouter(prefix="/api", tags=["geo 地图图层"])

BBoxParam = Annotated[BBox | None, Depends(bbox_param)]
LAYER = {"response_model": FeatureCollection, "response_class": GeoJSONResponse}
_VARY = {"Vary": "Accept-Encoding"}


@router.get("/districts", **LAYER)
def districts(conn: Conn, user: CurrentUser, bbox: BBoxParam, zoom: ZoomParam = None):
    """区/县/旗 (public boundaries)."""
    where = add_bbox(scope_where(user, Subject.DISTRICT), "district.geom", bbox)
    return GeoJSONResponse(
        feature_collection(
            conn,
            id_sql="district.code",
            geom_column="district.geom",
            properties_sql="json_build_object('code', district.code, 'name', district.name, "
            "'city_name', district.city_name)",
            from_sql="district",
            where=where,
            order_by="district.code",
            limit=1000,
            zoom=zoom,
        )
    )


@router.get("/streets", **LAYER)
def streets(
    conn: Conn,
    user: CurrentUser,
    bbox: BBoxParam,
    zoom: ZoomParam = None,
    district_code: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
):
    """街道/乡镇; some have no polygon yet (geometry null)."""
    where = add_bbox(scope_where(user, Subject.STREET), "street.geom", bbox)
    if district_code:
        where.add("street.district_code = %(district_code)s", district_code=district_code)
    return GeoJSONResponse(
        feature_collection(
            conn,
            id_sql="street.code",
            geom_column="street.geom",
            properties_sql="json_build_object('code', street.code, 'name', street.name, "
            "'district_code', street.district_code)",
            from_sql="street",
            where=where,
            order_by="street.code",
            limit=5000,
            zoom=zoom,
        )
    )


@router.get("/communities", **LAYER)
def communities(
    conn: Conn,
    user: CurrentUser,
    bbox: BBoxParam,
    zoom: ZoomParam = None,
    street_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
):
    """社区/村 within the user's area."""
    where = add_bbox(scope_where(user, Subject.COMMUNITY), "community.geom", bbox)
    if street_code:
        where.add("community.street_code = %(street_code)s", street_code=street_code)
    return GeoJSONResponse(
        feature_collection(
            conn,
            id_sql="community.code",
            geom_column="community.geom",
            properties_sql="json_build_object('code', community.code, 'name', community.name, "
            "'kind', community.kind, 'street_code', community.street_code)",
            from_sql="community",
            where=where,
            order_by="community.code",
            limit=20_000,
            zoom=zoom,
        )
    )


GRID_LOAD = f"grid LEFT JOIN ({OPEN_TASK_LOAD}) AS load ON load.grid_code = grid.code"
"""Grids with their counts; format ``counts`` with the task scope the counts obey."""
GRID_STATE = """
    'open_tasks', coalesce(load.open_tasks, 0), 'urgent_tasks', coalesce(load.urgent_tasks, 0),
    'overdue_tasks', coalesce(load.overdue_tasks, 0),
    'state', CASE WHEN load.urgent_tasks > 0 THEN 'urgent'
                  WHEN load.open_tasks > 0 THEN 'open' ELSE 'ok' END"""
_GRID_DETAIL_PROPERTIES = f"""json_build_object(
    'code', grid.code, 'name', grid.name, 'community_code', grid.community_code,
    'household_target', grid.household_target, 'version', grid.version,
    'valid_from', grid.valid_from, 'valid_to', grid.valid_to, {GRID_STATE})"""


def grid_where(user: User, at: datetime | None) -> Where:
    where = scope_where(user, Subject.GRID)
    return where.add(
        "grid.valid_from <= coalesce(%(at)s::timestamptz, now()) "
        "AND (grid.valid_to IS NULL OR grid.valid_to > coalesce(%(at)s::timestamptz, now()))",
        at=at,
        open_states=sorted(OPEN_STATES),
    )


@router.get("/grids", **LAYER)
def grids(
    request: Request,
    conn: Conn,
    user: CurrentUser,
    layer_cache: AppLayerCache,
    bbox: BBoxParam,
    zoom: ZoomParam = None,
    community_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    at: Annotated[
        datetime | None, Query(description="the grid versions valid at this time (default now)")
    ] = None,
    point: Annotated[
        str | None, Query(description="lon,lat: only the grid containing this point")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 20_000,
):
    """网格 in the user's area: ``code``, ``name``, ``community_code``, ``version``, the
    counts ``open_tasks``, ``urgent_tasks``, ``overdue_tasks`` and ``state`` (urgent / open /
    ok). Geometry is cached until a grid changes, the counts until a task changes
    (api.grid_layer); gzipped if accepted."""
    where = grid_where(user, at)
    if community_code:
        where.add("grid.community_code = %(community_code)s", community_code=community_code)
    if point:
        lon, lat = _lon_lat(point)
        where.add(
            "ST_Covers(grid.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))",
            lon=lon,
            lat=lat,
        )
    body = grid_layer(conn, layer_cache, where, bbox, zoom, limit, counts_scope(user))
    if "gzip" in request.headers.get("accept-encoding", ""):
        return GeoJSONResponse(body.gzipped, headers={"Content-Encoding": "gzip", **_VARY})
    return GeoJSONResponse(body.raw, headers=_VARY)


def _lon_lat(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(part) for part in text.split(","))
    except ValueError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "point 格式应为 lon,lat (point must be lon,lat)"
        ) from exc
    return lon, lat


@router.get("/grids/{code}")
def grid_detail(code: str, conn: Conn, user: CurrentUser) -> OrjsonResponse:
    """One current grid as a GeoJSON Feature, with the workers the user may see (phones as
    their role may see them; audited), household count and open tasks."""
    where = grid_where(user, None).add("grid.code = %(code)s", code=code)
    counts = counts_scope(user) or Where()
    cur = conn.cursor(row_factory=dict_row)
    grid = cur.execute(
        f"SELECT {_GRID_DETAIL_PROPERTIES} AS properties, ST_AsGeoJSON(grid.geom, 7)::json AS geometry "
        f"FROM {GRID_LOAD.format(counts=counts.sql)} WHERE {where.sql}",
        counts.params | where.params,
    ).fetchone()
    if grid is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"网格 {code} 不存在或无权查看 (not found)")
    mates = scope_where(user, Subject.WORKER).add(
        f"ga.grid_code = %(code)s AND {valid_now('ga')}", code=code
    )
    workers = cur.execute(
        "SELECT worker.id, worker.name, ga.role, worker.phone FROM grid_assignment ga "
        f"JOIN worker ON worker.id = ga.worker_id WHERE {mates.sql} ORDER BY ga.role, worker.id",
        mates.params,
    ).fetchall()
    for worker in workers:
        worker["role_label_zh"] = WORKER_ROLE_LABELS_ZH.get(worker["role"], worker["role"])
        worker["phone"] = visible_phone(user, worker["phone"])
    audit.record_reads(conn, user.username, "worker", [worker["id"] for worker in workers])
    counts = cur.execute(
        "SELECT count(*)::int AS buildings, "
        "coalesce(sum(building.households), 0)::int AS households "
        f"FROM building WHERE {BUILDING_IN_GRID}",
        {"grid_code": code},
    ).fetchone()
    tasks = scope_where(user, Subject.TASK).add(
        "task.grid_code = %(code)s AND task.state = ANY(%(open_states)s)",
        code=code,
        open_states=sorted(OPEN_STATES),
    )
    open_tasks = cur.execute(
        "SELECT task.id, task.title, task.state, task.urgency, task.due_at FROM task "
        f"WHERE {tasks.sql} ORDER BY task.urgency DESC, task.created_at",
        tasks.params,
    ).fetchall()
    properties = grid["properties"] | counts | {"workers": workers, "open_task_list": open_tasks}
    return OrjsonResponse(
        {"type": "Feature", "id": code, "geometry": grid["geometry"], "properties": properties}
    )


@router.get("/buildings", **LAYER)
def buildings(
    conn: Conn,
    user: CurrentUser,
    bbox: BBoxParam,
    zoom: ZoomParam = None,
    community_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    grid_code: Annotated[str | None, Query(pattern=r"^[0-9]{15}$")] = None,
    limit: Annotated[int, Query(ge=1, le=20_000)] = 5_000,
):
    """楼栋 footprints; a building belongs to the grid that contains its point on surface."""
    where = add_bbox(scope_where(user, Subject.BUILDING), "building.geom", bbox)
    if community_code:
        where.add("building.community_code = %(community_code)s", community_code=community_code)
    if grid_code:
        where.add(BUILDING_IN_GRID, grid_code=grid_code)
    return GeoJSONResponse(
        feature_collection(
            conn,
            id_sql="building.id",
            geom_column="building.geom",
            properties_sql="json_build_object('id', building.id, 'code', building.code, "
            "'name', building.name, 'community_code', building.community_code, "
            "'floors', building.floors, 'units', building.units, "
            "'households', building.households, 'height_m', building.height_m)",
            from_sql="building",
            where=where,
            order_by="building.id",
            limit=limit,
            zoom=zoom,
        )
    )
