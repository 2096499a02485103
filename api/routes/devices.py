"""Devices (cameras, meters, door controllers) with their online state, as GeoJSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from api.deps import Conn, CurrentUser
from api.geojson import BBox, add_bbox, bbox_param, feature_collection
from api.responses import GeoJSONResponse
from api.schemas import FeatureCollection
from api.scope import Subject, scope_where
from gis.models import DEVICE_KINDS

router = APIRouter(prefix="/api", tags=["devices 设备"])


@router.get("/devices", response_model=FeatureCollection, response_class=GeoJSONResponse)
def devices(
    conn: Conn,
    user: CurrentUser,
    bbox: Annotated[BBox | None, Depends(bbox_param)],
    kind: Literal[DEVICE_KINDS] | None = None,
    online: bool | None = None,
    grid_code: Annotated[str | None, Query(pattern=r"^[0-9]{15}$")] = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 10_000,
) -> GeoJSONResponse:
    """Points with ``online`` and ``last_seen`` (from the devices' status heartbeats)."""
    where = add_bbox(scope_where(user, Subject.DEVICE), "device.geom", bbox)
    where.equal("device", {"kind": kind, "online": online, "grid_code": grid_code})
    return GeoJSONResponse(
        feature_collection(
            conn,
            id_sql="device.id",
            geom_column="device.geom",
            properties_sql="json_build_object('id', device.id, 'kind', device.kind, "
            "'model', device.model, 'online', device.online, 'enabled', device.enabled, "
            "'last_seen', device.last_seen, 'grid_code', device.grid_code, "
            "'building_id', device.building_id, 'household_id', device.household_id)",
            from_sql="device",
            where=where,
            order_by="device.id",
            limit=limit,
        )
    )
