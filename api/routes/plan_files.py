"""Plan files: export a plan as GeoJSON, Shapefile (zip), Excel (one row per building) or a
standalone offline HTML map (folium), and import any of the first three into a draft
(gis.redistrict_apply.exports; docs/planning.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import Response

from api.deps import AppSettings, Conn, CurrentUser
from api.errors import Unprocessable
from api.routes.plan_editor import community_model
from api.routes.plans import grid_features, plan_row, require_planner, save_grids, stale
from gis import audit
from gis.redistrict_apply import exports, store
from gis.redistrict_apply.validate import PlanGrid
from maps import STATIC_DIR

router = APIRouter(prefix="/api/plans", tags=["plans 规划"])

MEDIA = {
    "geojson": "application/geo+json",
    "zip": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}
Format = Literal["geojson", "zip", "xlsx", "html"]


def _export_grids(conn: Conn, plan_id: int) -> list[exports.ExportGrid]:
    grids = {g.code: g.geom for g in store.plan_grids(conn, plan_id)}
    rows = conn.execute(
        "SELECT code, households, buildings FROM grid_plan_grid WHERE plan_id = %s ORDER BY code",
        (plan_id,),
    ).fetchall()
    return [exports.ExportGrid(code, grids[code], h, b) for code, h, b in rows]


def _building_rows(conn: Conn, plan_id: int) -> list[tuple[int, str, str, int]]:
    return conn.execute(
        "SELECT b.id, b.code, pb.grid_code, (SELECT count(*) FROM household h "
        "WHERE h.building_id = b.id) FROM grid_plan_building pb JOIN building b "
        "ON b.id = pb.building_id WHERE pb.plan_id = %s ORDER BY pb.grid_code, b.id",
        (plan_id,),
    ).fetchall()


@router.get("/{plan_id}/export.{fmt}")
def export(plan_id: int, fmt: Format, conn: Conn, user: CurrentUser) -> Response:
    """The plan as a file to download."""
    require_planner(user)
    plan = plan_row(conn, user, plan_id)
    name = f"plan-{plan_id}-{plan['community_code']}"
    if fmt == "xlsx":
        content: bytes | str = exports.to_excel(_building_rows(conn, plan_id))
    else:
        grids = _export_grids(conn, plan_id)
        if not grids:
            raise Unprocessable("方案没有网格 (the plan has no grids)")
        if fmt == "geojson":
            content = exports.to_geojson(grids)
        elif fmt == "zip":
            content = exports.to_shapefile_zip(grids)
        else:
            title = f"网格方案 {plan['name']} · {plan['community_code']}"
            content = exports.to_html(grids, title, STATIC_DIR / "vendor" / "leaflet")
    audit.record(conn, user.username, "plan.export", "grid_plan", plan_id, {"format": fmt})
    return Response(
        content,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@router.post("/{plan_id}/import")
def import_file(
    plan_id: int,
    file: UploadFile,
    version: Annotated[int, Query(description="the version read; a stale one gets 409")],
    request: Request,
    conn: Conn,
    user: CurrentUser,
    settings: AppSettings,
) -> dict:
    """Replace a draft's grids with an uploaded file: grid polygons (GeoJSON, zipped
    Shapefile) or a building assignment (Excel, as exported)."""
    name, content = file.filename or "", file.file.read()
    require_planner(user)
    plan = plan_row(conn, user, plan_id)
    if plan["version"] != version or plan["status"] != "draft":
        raise stale(plan, version)
    try:
        if name.lower().endswith(".xlsx"):
            assignment = exports.read_assignment_excel(content)
            model = community_model(request, conn, settings, plan["community_code"])
            grids: list[PlanGrid] = model.grids_of_assignment(assignment)
        else:
            grids = exports.read_grid_file(name, content)
    except (exports.BadPlanFile, ValueError) as exc:
        raise Unprocessable(str(exc)) from exc
    if not grids:
        raise Unprocessable("文件中没有网格 (the file holds no grids)")
    new_version = save_grids(conn, user, plan, version, grids, name)
    return {"id": plan_id, "version": new_version, "grids": grid_features(conn, plan_id)}
