"""Device events and the incidents they were merged into."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from psycopg.rows import dict_row

from api.deps import Conn, CurrentUser
from api.errors import NotFound
from api.pages import Paging, fetch_page
from api.responses import OrjsonResponse
from api.schemas import EventOut, IncidentDetail, IncidentOut, Page
from api.scope import Subject, scope_where

router = APIRouter(prefix="/api", tags=["events 事件"])

GridCode = Annotated[str | None, Query(pattern=r"^[0-9]{15}$")]

INCIDENT_COLUMNS = """
    incident.id, incident.type, incident.category, incident.severity, incident.status,
    incident.grid_code, incident.community_code, incident.household_id, incident.device_ids,
    incident.event_count, incident.first_seen, incident.last_seen, incident.uncertainty_m,
    incident.location_method, ST_X(incident.geom) AS lon, ST_Y(incident.geom) AS lat"""


@router.get("/events", response_model=Page[EventOut])
def events(
    conn: Conn,
    user: CurrentUser,
    page: Paging,
    type: str | None = None,
    device_id: str | None = None,
    grid_code: GridCode = None,
    incident_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> OrjsonResponse:
    """Device events, newest first."""
    where = scope_where(user, Subject.EVENT)
    where.equal(
        "event",
        {"type": type, "device_id": device_id, "grid_code": grid_code, "incident_id": incident_id},
    )
    if since:
        where.add("event.ts >= %(since)s", since=since)
    if until:
        where.add("event.ts < %(until)s", until=until)
    return OrjsonResponse(
        fetch_page(
            conn,
            columns="event.id, event.event_id, event.device_id, event.type, event.ts, "
            "event.received_at, event.grid_code, event.incident_id, event.location_method, "
            "event.confidence, event.bearing_deg, ST_X(event.geom) AS lon, "
            "ST_Y(event.geom) AS lat",
            from_sql="event",
            where=where,
            order_by="event.ts DESC, event.id DESC",
            page=page,
        )
    )


@router.get("/incidents", response_model=Page[IncidentOut])
def incidents(
    conn: Conn,
    user: CurrentUser,
    page: Paging,
    status: Literal["open", "closed"] | None = None,
    severity: Literal["urgent", "normal"] | None = None,
    type: str | None = None,
    category: str | None = None,
    grid_code: GridCode = None,
) -> OrjsonResponse:
    """Incidents (merged events of one situation), most recent activity first."""
    where = scope_where(user, Subject.INCIDENT)
    where.equal(
        "incident",
        {
            "status": status,
            "severity": severity,
            "type": type,
            "category": category,
            "grid_code": grid_code,
        },
    )
    return OrjsonResponse(
        fetch_page(
            conn,
            columns=INCIDENT_COLUMNS,
            from_sql="incident",
            where=where,
            order_by="incident.last_seen DESC, incident.id DESC",
            page=page,
        )
    )


@router.get("/incidents/{incident_id}", response_model=IncidentDetail)
def incident(incident_id: int, conn: Conn, user: CurrentUser) -> OrjsonResponse:
    where = scope_where(user, Subject.INCIDENT).add("incident.id = %(id)s", id=incident_id)
    tasks = scope_where(user, Subject.TASK)
    found = (
        conn.cursor(row_factory=dict_row)
        .execute(
            f"SELECT {INCIDENT_COLUMNS}, ARRAY(SELECT task.id FROM task "
            f"WHERE task.incident_id = incident.id AND {tasks.sql} ORDER BY task.id) AS task_ids "
            f"FROM incident WHERE {where.sql}",
            where.params | tasks.params,
        )
        .fetchone()
    )
    if found is None:
        raise NotFound(f"事件 {incident_id} 不存在或无权查看 (incident not found)")
    return OrjsonResponse(found)
