"""Plan grids from GeoJSON: a FeatureCollection of grid polygons, one feature per grid.

Each feature has a ``code`` (or ``grid_code``, as ``wangge redistrict propose`` may write)
and may carry ``assignments``: ``[{"worker_id": …, "role": …}]``, the planner's choice of
workers for the grid. Coordinates are WGS84 lon/lat.
"""

from __future__ import annotations

import shapely
from shapely.geometry import shape

from gis.models import WORKER_ROLES
from gis.redistrict_apply.validate import PlanGrid


class BadPlanGeoJSON(ValueError):
    """The document is not a FeatureCollection of coded grid polygons; the message says why."""


def plan_grids_from_geojson(document: object) -> list[PlanGrid]:
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise BadPlanGeoJSON("应为 GeoJSON FeatureCollection (expected a FeatureCollection)")
    features = document.get("features")
    if not isinstance(features, list):
        raise BadPlanGeoJSON("features 应为数组 (features must be a list)")
    return [_plan_grid(i, feature) for i, feature in enumerate(features)]


def _plan_grid(i: int, feature: object) -> PlanGrid:
    if not isinstance(feature, dict):
        raise BadPlanGeoJSON(f"要素 #{i} 不是对象 (feature #{i} is not an object)")
    properties = feature.get("properties") or {}
    code = properties.get("code", properties.get("grid_code"))
    if not isinstance(code, str) or not code:
        raise BadPlanGeoJSON(f"要素 #{i} 缺少 code (feature #{i} has no code property)")
    try:
        geom = shape(feature["geometry"])
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as exc:
        raise BadPlanGeoJSON(
            f"要素 #{i} ({code}) 几何无法读取 (feature #{i} geometry unreadable: {exc})"
        ) from exc
    return PlanGrid(code, geom, parse_assignments(f"#{i} ({code})", properties.get("assignments")))


def parse_assignments(where: str, value: object) -> list[dict] | None:
    """``[{"worker_id", "role"}]`` checked, or None (no override); ``where`` names the grid."""
    if value is None:
        return None
    ok = isinstance(value, list) and all(
        isinstance(a, dict)
        and isinstance(a.get("worker_id"), str)
        and a.get("role") in WORKER_ROLES
        for a in value
    )
    if not ok:
        raise BadPlanGeoJSON(
            f"{where} assignments 应为 [{{worker_id, role}}], role ∈ {WORKER_ROLES} "
            f"({where}: assignments must be a list of {{worker_id, role}})"
        )
    return [{"worker_id": a["worker_id"], "role": a["role"]} for a in value]
