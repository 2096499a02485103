"""Open311 GeoReport v2, read-only: task categories as services, tasks as service requests.

Shapes follow https://wiki.open311.org/GeoReport_v2 (JSON only); what a user may see is
the same scope as /api/tasks. ``status`` is ``open`` for every unfinished state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from psycopg.rows import dict_row

from api.deps import Conn, CurrentUser
from api.errors import NotFound, Unprocessable
from api.responses import OrjsonResponse
from api.schemas import Open311Request, Open311Service
from api.scope import Subject, Where, scope_where
from api.users import User
from gis.deadlines import DEADLINES, deadline_for
from gis.workorders import OPEN_STATES

router = APIRouter(prefix="/api/open311/v2", tags=["Open311 GeoReport v2"])

DEFAULT_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000

REQUEST_SQL = """
    SELECT task.id::text AS service_request_id,
           CASE WHEN task.state = ANY(%(open_states)s) THEN 'open' ELSE 'closed' END AS status,
           (SELECT tt.note FROM task_transition tt WHERE tt.task_id = task.id
             ORDER BY tt.id DESC LIMIT 1) AS status_notes,
           task.category AS service_code, task.title, task.description,
           community.name AS agency_responsible,
           task.created_at AS requested_datetime, task.updated_at AS updated_datetime,
           task.due_at AS expected_datetime,
           CASE WHEN household.id IS NOT NULL THEN concat_ws(' ', building.name,
                household.unit || '单元', household.room || '室') END AS address,
           ST_Y(incident.geom) AS lat, ST_X(incident.geom) AS long
    FROM task
    LEFT JOIN incident ON incident.id = task.incident_id
    LEFT JOIN household ON household.id = incident.household_id
    LEFT JOIN building ON building.id = household.building_id
    LEFT JOIN community ON community.code = coalesce(task.community_code, left(task.grid_code, 12))
    WHERE {where}
    ORDER BY task.created_at DESC, task.id DESC
    LIMIT %(max_requests)s"""


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} 分钟"


def _requests(conn: Conn, user: User, where: Where) -> list[dict]:
    where = scope_where(user, Subject.TASK).extend(where)
    params = where.params | {"open_states": sorted(OPEN_STATES), "max_requests": MAX_REQUESTS}
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(REQUEST_SQL.format(where=where.sql), params)
        .fetchall()
    )
    for row in rows:
        title = row.pop("title")
        row["service_name"] = deadline_for(row["service_code"]).label_zh
        row["description"] = row["description"] or title
    return rows


@router.get("/services.json", response_model=list[Open311Service])
def services(user: CurrentUser) -> OrjsonResponse:
    """The task categories, with their deadlines in the description."""
    return OrjsonResponse(
        [
            {
                "service_code": code,
                "service_name": limit.label_zh,
                "description": f"{limit.label_zh}: 紧急 {_minutes(limit.urgent)}内处置 (连续计时); "
                f"一般 {_minutes(limit.normal)}工作时间内处置",
                "metadata": False,
                "type": "realtime",
                "keywords": code,
                "group": "wangge",
            }
            for code, limit in DEADLINES.items()
        ]
    )


@router.get("/requests.json", response_model=list[Open311Request])
def requests(
    conn: Conn,
    user: CurrentUser,
    service_request_id: Annotated[str | None, Query(description="comma-separated ids")] = None,
    service_code: str | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    status: Literal["open", "closed"] | None = None,
) -> OrjsonResponse:
    """Service requests, newest first; by default those of the last 90 days (at most 1000)."""
    where = Where()
    if service_request_id:
        try:
            ids = [int(part) for part in service_request_id.split(",")]
        except ValueError as exc:
            raise Unprocessable("service_request_id 须为数字 (ids must be numbers)") from exc
        where.add("task.id = ANY(%(ids)s)", ids=ids)
    else:
        end = end_date or datetime.now(UTC)
        where.add(
            "task.created_at >= %(start)s AND task.created_at <= %(end)s",
            start=start_date or end - DEFAULT_WINDOW,
            end=end,
        )
    if service_code:
        where.add("task.category = %(service_code)s", service_code=service_code)
    if status:
        where.add(("" if status == "open" else "NOT ") + "task.state = ANY(%(open_states)s)")
    return OrjsonResponse(_requests(conn, user, where))


@router.get("/requests/{service_request_id}.json", response_model=list[Open311Request])
def request(service_request_id: int, conn: Conn, user: CurrentUser) -> OrjsonResponse:
    """One service request (GeoReport answers a list of one)."""
    found = _requests(conn, user, Where().add("task.id = %(id)s", id=service_request_id))
    if not found:
        raise NotFound(f"工单 {service_request_id} 不存在或无权查看 (request not found)")
    return OrjsonResponse(found)
