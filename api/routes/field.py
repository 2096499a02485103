"""The field app's own API: on-site check-in by GPS, the 网格包 (my grid's households,
special groups and 走访 visits), adding a visit, and the device session's Web Push
subscription (for the urgent ladder's web_push step).

The 网格包 holds personal data: it is limited by api.scope's rule (a grid worker sees the
households of the grids they hold, a cadre their community), ID numbers leave the
database only masked, and every household and resident returned is written to the audit
log as read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request, Response
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from api.deps import AppSettings, BearerToken, Conn, CurrentUser, request_token
from api.errors import Forbidden, NotFound, Unprocessable
from api.responses import OrjsonResponse
from api.scope import Subject, scope_where
from api.sessions import token_digest
from api.task_queries import get_task
from gis import audit
from gis.channels.web_push import vapid_public_key
from gis.models import HOUSEHOLD_SPECIAL_GROUPS, VISIT_OUTCOMES

router = APIRouter(prefix="/api", tags=["field 移动端"])


class CheckinIn(BaseModel):
    lon: float = Field(ge=-180, le=180, description="WGS84, from the phone's GPS")
    lat: float = Field(ge=-90, le=90)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


class CheckinAnswer(BaseModel):
    task_id: int
    at: datetime
    distance_m: float | None = Field(description="to the incident (or the task's grid)")
    on_site: bool | None


class PushKeys(BaseModel):
    p256dh: str = Field(min_length=16, max_length=200, pattern=r"^[A-Za-z0-9_=-]+$")
    auth: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_=-]+$")


class PushSubscriptionIn(BaseModel):
    """What ``PushSubscription.toJSON()`` gives (expirationTime is ignored)."""

    endpoint: str = Field(max_length=2000, pattern=r"^https?://")
    keys: PushKeys


class VisitIn(BaseModel):
    outcome: str = Field(pattern="^(" + "|".join(VISIT_OUTCOMES) + ")$")
    note: str | None = Field(default=None, max_length=2000)


@router.post("/tasks/{task_id}/checkin", response_model=CheckinAnswer)
def checkin(
    task_id: int, body: CheckinIn, conn: Conn, user: CurrentUser, settings: AppSettings
) -> OrjsonResponse:
    """到场签到: the phone's position, and its distance to the incident, kept on the task."""
    task = get_task(conn, user, task_id)
    if task is None:
        raise NotFound(f"工单 {task_id} 不存在或无权查看 (task not found)")
    if user.worker_id is None and user.role != "admin":
        raise Forbidden("只有网格员等办理人员可以签到 (only field staff check in)")
    place = (task["lon"], task["lat"]) if task["lon"] is not None else None
    row = conn.execute(
        "INSERT INTO task_checkin (task_id, actor, worker_id, geom, accuracy_m, distance_m) "
        "SELECT %(task)s, %(actor)s, %(worker)s, here, %(accuracy)s, "
        "CASE WHEN %(plon)s::float8 IS NULL THEN NULL ELSE ST_Distance(here::geography, "
        "ST_SetSRID(ST_MakePoint(%(plon)s, %(plat)s), 4326)::geography) END "
        "FROM (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS here) AS p "
        "RETURNING at, distance_m",
        {
            "task": task_id,
            "actor": user.username,
            "worker": user.worker_id,
            "accuracy": body.accuracy_m,
            "lon": body.lon,
            "lat": body.lat,
            "plon": place[0] if place else None,
            "plat": place[1] if place else None,
        },
    ).fetchone()
    at, distance = row
    audit.record(conn, user.username, "checkin", "task", task_id, {"distance_m": distance})
    near = None if distance is None else distance <= settings.field_checkin_near_m
    return OrjsonResponse({"task_id": task_id, "at": at, "distance_m": distance, "on_site": near})


_HOUSEHOLD_ROWS = """
SELECT household.id, household.code, building.name AS building_name, household.unit,
       household.room, household.members, household.tags,
       coalesce((SELECT json_agg(json_build_object('id', resident.id, 'name', resident.name,
                    'birth_year', resident.birth_year, 'id_number', resident.id_number_masked,
                    'phone', resident.phone) ORDER BY resident.id)
                   FROM resident WHERE resident.household_id = household.id), '[]') AS residents,
       (SELECT json_build_object('at', v.at, 'outcome', v.outcome, 'note', v.note,
                                 'actor', v.actor)
          FROM household_visit v WHERE v.household_id = household.id
         ORDER BY v.at DESC LIMIT 1) AS last_visit,
       (SELECT count(*) FROM household_visit v WHERE v.household_id = household.id) AS visits
  FROM household JOIN building ON building.id = household.building_id
 WHERE {where}
 ORDER BY household.tags && %(special)s DESC, building.code, household.unit, household.room,
          household.id
 LIMIT %(limit)s
"""


@router.get("/field/gridpack")
def gridpack(
    conn: Conn,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 300,
    tag: Annotated[str | None, Query(description="e.g. 独居老人")] = None,
) -> OrjsonResponse:
    """网格包: my grids, their households (special groups first) with residents (ID numbers
    masked) and the last visit, and a count per special group. Every row read is audited."""
    grids_where = scope_where(user, Subject.GRID).add("grid.valid_to IS NULL")
    cur = conn.cursor(row_factory=dict_row)
    grids = cur.execute(
        f"SELECT grid.code, grid.name FROM grid WHERE {grids_where.sql} ORDER BY grid.code",
        grids_where.params,
    ).fetchall()
    where = scope_where(user, Subject.HOUSEHOLD)
    if tag:
        where.add("%(tag)s = ANY(household.tags)", tag=tag)
    households = cur.execute(
        _HOUSEHOLD_ROWS.format(where=where.sql),
        where.params | {"special": list(HOUSEHOLD_SPECIAL_GROUPS), "limit": limit},
    ).fetchall()
    groups = {name: 0 for name in HOUSEHOLD_SPECIAL_GROUPS}
    for household in households:
        for household_tag in household["tags"] or []:
            if household_tag in groups:
                groups[household_tag] += 1
    audit.record_reads(conn, user.username, "household", [h["id"] for h in households])
    audit.record_reads(
        conn,
        user.username,
        "resident",
        [r["id"] for h in households for r in h["residents"]],
    )
    return OrjsonResponse(
        {
            "grids": grids,
            "special_groups": groups,
            "households": households,
            "truncated": len(households) == limit,
        }
    )


@router.post("/households/{household_id}/visits", status_code=201)
def add_visit(household_id: int, body: VisitIn, conn: Conn, user: CurrentUser) -> OrjsonResponse:
    """走访: record a visit to a household of my area (audited)."""
    where = scope_where(user, Subject.HOUSEHOLD).add("household.id = %(id)s", id=household_id)
    found = conn.execute(
        "SELECT 1 FROM household JOIN building ON building.id = household.building_id "
        f"WHERE {where.sql}",
        where.params,
    ).fetchone()
    if found is None:
        raise NotFound(f"住户 {household_id} 不存在或无权查看 (household not found)")
    row = conn.execute(
        "INSERT INTO household_visit (household_id, actor, worker_id, outcome, note) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id, at",
        (household_id, user.username, user.worker_id, body.outcome, body.note),
    ).fetchone()
    audit.record(conn, user.username, "visit", "household", household_id, {"outcome": body.outcome})
    return OrjsonResponse(
        {"id": row[0], "household_id": household_id, "at": row[1], "outcome": body.outcome},
        status_code=201,
    )


@router.get("/field/push")
def push_config(user: CurrentUser, settings: AppSettings) -> OrjsonResponse:
    """Whether Web Push is configured, and the VAPID public key (applicationServerKey)
    for ``pushManager.subscribe``."""
    key = settings.web_push.vapid_private_key
    return OrjsonResponse(
        {"enabled": bool(key), "public_key": vapid_public_key(key) if key else None}
    )


@router.post("/field/push/subscription", status_code=201)
def push_subscribe(
    body: PushSubscriptionIn,
    request: Request,
    bearer: BearerToken,
    conn: Conn,
    user: CurrentUser,
    settings: AppSettings,
) -> OrjsonResponse:
    """This device session's push subscription (replaces the one it had): the urgent
    ladder's web_push step sends to the worker's newest one."""
    if user.worker_id is None:
        raise Forbidden("只有网格员等办理人员接收告警推送 (only field staff receive alert pushes)")
    host = urlsplit(body.endpoint).hostname or ""
    if not any(host == h or host.endswith(f".{h}") for h in settings.web_push.allowed_hosts):
        raise Unprocessable(
            f"不是允许的推送服务: {host} (push service not in WANGGE_WEB_PUSH_ALLOWED_HOSTS)"
        )
    conn.execute(
        "INSERT INTO push_subscription (session_sha256, worker_id, endpoint, p256dh, auth) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (session_sha256) DO UPDATE SET "
        "worker_id = excluded.worker_id, endpoint = excluded.endpoint, "
        "p256dh = excluded.p256dh, auth = excluded.auth, created_at = now()",
        (
            token_digest(request_token(request, bearer) or ""),
            user.worker_id,
            body.endpoint,
            body.keys.p256dh,
            body.keys.auth,
        ),
    )
    audit.record(conn, user.username, "push_subscribe", "worker", user.worker_id, {})
    return OrjsonResponse({"subscribed": True}, status_code=201)


@router.delete("/field/push/subscription", status_code=204)
def push_unsubscribe(
    request: Request, bearer: BearerToken, conn: Conn, user: CurrentUser
) -> Response:
    """Forget this device session's push subscription (the app unsubscribed)."""
    conn.execute(
        "DELETE FROM push_subscription WHERE session_sha256 = %s",
        (token_digest(request_token(request, bearer) or ""),),
    )
    return Response(status_code=204)
