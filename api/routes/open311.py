"""Open311 GeoReport v2: task categories as services, tasks as service requests, and
residents' reports (POST requests.json, api.resident_reports; docs/residents.md).

Shapes follow https://wiki.open311.org/GeoReport_v2 (JSON only); what a user may see is
the same scope as /api/tasks. ``status`` is ``open`` for every unfinished state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from psycopg.rows import dict_row

from api import resident_reports
from api.deps import AppSettings, Conn, CurrentUser
from api.errors import NotFound, Unprocessable
from api.proxy import client_address
from api.responses import OrjsonResponse
from api.schemas import Open311Request, Open311Service, Open311Token
from api.scope import Subject, Where, scope_where
from api.uploads import read_photo
from api.users import User
from gis.deadlines import DEADLINES, deadline_for
from gis.work_calendar import load_work_calendar
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
    """The task categories, with their deadlines in the description, and the service codes
    residents report under (group ``residents``)."""
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
        + [
            {
                "service_code": code,
                "service_name": zh,
                "description": f"居民随手拍: {zh} ({en}); POST requests.json",
                "metadata": False,
                "type": "realtime",
                "keywords": code,
                "group": "residents",
            }
            for code, (zh, en) in resident_reports.SERVICES.items()
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


@router.get(
    "/tokens/{token}.json",
    response_model=list[Open311Token],
    responses={404: {"description": "no report with this token"}},
)
def token(token: str, conn: Conn) -> OrjsonResponse:
    """GeoReport v2 ``GET tokens/{token}.json``: the service_request_id of the report
    POST requests.json answered this token for. No login: the token is the reporter's
    secret (only its SHA-256 is stored); the answer adds nothing the POST had not said."""
    task_id = resident_reports.task_of(conn, token)
    return OrjsonResponse([{"service_request_id": str(task_id), "token": token}])


Text = Annotated[str | None, Form(max_length=resident_reports.CONTACT_MAX)]


@router.post(
    "/requests.json",
    status_code=201,
    responses={
        422: {"description": "invalid field, place outside every grid, honeypot or form token"},
        429: {"description": "too many reports from this address or phone (Retry-After)"},
    },
)
def create_request(
    request: Request,
    conn: Conn,
    settings: AppSettings,
    service_code: Annotated[str, Form(max_length=64)],
    description: Annotated[str, Form(max_length=resident_reports.DESCRIPTION_MAX)],
    lat: Annotated[float | None, Form()] = None,
    long: Annotated[float | None, Form()] = None,
    address_string: Annotated[str | None, Form(max_length=resident_reports.ADDRESS_MAX)] = None,
    email: Text = None,
    phone: Text = None,
    api_key: Text = None,
    form_token: Text = None,
    website: Annotated[str | None, Form(description="honeypot: people leave it empty")] = None,
    media: Annotated[UploadFile | None, File(description="a photo: JPEG, PNG or WebP")] = None,
) -> OrjsonResponse:
    """A resident's report (form-encoded, or multipart with ``media``) becomes a task of
    the grid at its place; answers ``[{"service_request_id", "token", "service_notice"}]``.
    The token opens the follow-up page ``/report/follow/{token}``."""
    if website:
        raise Unprocessable("表单校验未通过 (honeypot field filled: refused as spam)")
    if api_key:
        resident_reports.check_api_key(api_key, settings)
    elif form_token:
        resident_reports.check_form_token(form_token, settings)
    else:
        raise Unprocessable("缺少 api_key 或表单令牌 (api_key or form_token required)")
    photo = None
    if media is not None and media.filename:
        checked = read_photo(
            media.file,
            media.content_type,
            settings.api_upload_max_bytes,
            settings.api_upload_max_pixels,
        )
        photo = resident_reports.reencode_photo(
            checked, settings.report_photo_max_px, settings.report_photo_quality
        )
    report = resident_reports.ReportIn(
        service_code, description, lat, long, address_string or None, email or None, phone or None
    )
    client = client_address(request, settings) or "unknown"
    try:
        accepted = resident_reports.create_report(
            conn, report, photo, client, settings, load_work_calendar(settings.work_calendar_path)
        )
    except resident_reports.RateLimited as limited:
        raise HTTPException(
            429,
            f"提交过于频繁, 请稍后再试 (too many reports from this {limited.what}; "
            f"retry in {limited.retry_after_s} s)",
            headers={"Retry-After": str(limited.retry_after_s)},
        ) from limited
    return OrjsonResponse(
        [
            {
                "service_request_id": str(accepted.task_id),
                "token": accepted.token,
                "service_notice": "已受理, 将派给所在网格的网格员办理 "
                "(accepted: dispatched to the grid worker)",
            }
        ],
        status_code=201,
    )
