"""Residents' reports (居民随手拍, the 12345 path): checked, placed, and turned into a task.

A report is accepted only with its place inside a grid (or within the spatial join's
tolerance of one); it becomes an incident and a task in the same work-order loop as the
sensors' tasks. Like a 12345 hotline ticket whose place and category are clear (直派), it
is filed and dispatched by rule to the grid's responsible worker (gis.routing's fallback
chain), who verifies it on site and may return it to the desk (退单) if it is not a real
matter; the desk then marks it invalid. The reporter follows it with a secret token
(stored only as its SHA-256) and evaluates it at the end: 满意 closes, 不满意 reopens
(二次办理) — the same evaluate move the desk makes.

Spam resistance: accepted reports per client address and per phone are counted in
PostgreSQL within a window (429 with Retry-After past the limit; an advisory lock per
key makes the count exact under concurrency); a page submission carries a signed form
token that must be older than the minimum fill time, and a honeypot field that people
never see; API clients send an API key instead. The photo is decoded and re-encoded
(Pillow), which drops EXIF (the reporter's GPS and phone model) and anything hidden in it.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from PIL import Image, ImageOps, UnidentifiedImageError
from psycopg.types.json import Jsonb

from api.actions import TaskActions
from api.errors import NotFound, Unprocessable
from api.uploads import Photo, store_photo
from api.users import User
from gis.deadlines import due_at
from gis.routing import Place, responsible
from gis.settings import Settings
from gis.spatial_join import UNASSIGNED, locate_point
from gis.task_messages import queue_pushes
from gis.work_calendar import WorkCalendar
from gis.workorders import IllegalTransition, transition

ACTOR = "system:open311"
REPORTER = "resident:reporter"
"""The reporter's name in the task history: never their phone, email or address."""

SERVICES: dict[str, tuple[str, str]] = {
    "sanitation": ("环境卫生", "Sanitation and litter"),
    "facility": ("公共设施损坏", "Damaged public facility"),
    "order": ("市容秩序", "Street order (stalls, clutter, parking)"),
    "safety": ("安全隐患", "Safety hazard"),
    "neighbourhood": ("邻里纠纷", "Neighbourhood dispute"),
    "other": ("其他", "Other"),
}
"""Service codes residents may report under; each is the task's category."""

DESCRIPTION_MAX = 2000
CONTACT_MAX = 100
ADDRESS_MAX = 200


class RateLimited(Exception):
    """Too many reports from one address or phone; ``retry_after_s`` says when to retry."""

    def __init__(self, what: str, retry_after_s: int):
        super().__init__(what)
        self.what = what
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class ReportIn:
    service_code: str
    description: str
    lat: float | None
    lon: float | None
    address_string: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class Accepted:
    task_id: int
    token: str


# --- the page's form token (minimum fill time) ------------------------------------------


def _sign(secret: str, issued_ms: int) -> str:
    return hmac.new(secret.encode(), str(issued_ms).encode(), hashlib.sha256).hexdigest()[:32]


def form_token(secret: str, now_s: float | None = None) -> str:
    """``<issued ms>.<signature>``: served with the page, sent back with the report."""
    issued_ms = int((time.time() if now_s is None else now_s) * 1000)
    return f"{issued_ms}.{_sign(secret, issued_ms)}"


def check_form_token(token: str, settings: Settings) -> None:
    """Refuse a forged token, one older than a day, and one used sooner than a person fills
    the form (a script posting at once)."""
    issued, _, signature = token.partition(".")
    if not issued.isdigit() or not hmac.compare_digest(
        signature, _sign(settings.report_form_secret, int(issued))
    ):
        raise Unprocessable("表单已失效, 请刷新页面 (invalid form token: reload the page)")
    age_s = time.time() - int(issued) / 1000
    if age_s > settings.report_form_max_age_s:
        raise Unprocessable("表单已过期, 请刷新页面 (form expired: reload the page)")
    if age_s < settings.report_min_fill_s:
        raise Unprocessable(
            f"提交过快, 请核对后再提交 (submitted {age_s:.1f} s after the page opened; "
            f"at least {settings.report_min_fill_s:g} s expected)"
        )


def check_api_key(api_key: str, settings: Settings) -> None:
    if not any(hmac.compare_digest(api_key, known) for known in settings.report_api_keys):
        raise Unprocessable("api_key 无效 (unknown api_key)")


# --- checks -----------------------------------------------------------------------------


def validate(report: ReportIn) -> None:
    """Field rules beyond the types, with messages that say what is wrong."""
    if report.service_code not in SERVICES:
        raise Unprocessable(
            f"未知的 service_code {report.service_code!r} (use one of {', '.join(SERVICES)})"
        )
    if not report.description.strip():
        raise Unprocessable("请描述问题 (description is required)")
    if (report.lat is None) != (report.lon is None):
        raise Unprocessable("lat 与 long 须同时给出 (lat and long go together)")
    if report.lat is not None and report.lon is not None:
        if not (-90 <= report.lat <= 90 and -180 <= report.lon <= 180) or not all(
            math.isfinite(v) for v in (report.lat, report.lon)
        ):
            raise Unprocessable("lat/long 超出范围 (lat/long out of range, WGS84 degrees)")
    elif not report.address_string:
        raise Unprocessable("请给出位置: lat/long 或 address_string (a place is required)")


def reencode_photo(photo: Photo, max_px: int, quality: int) -> Photo:
    """Decode, turn upright, shrink to ``max_px`` on the long side and write a fresh JPEG:
    no EXIF, no trailing bytes, nothing but pixels survives."""
    try:
        with Image.open(io.BytesIO(photo.data)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((max_px, max_px))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=quality, optimize=True)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise Unprocessable(f"照片无法解码 (the photo cannot be decoded: {exc})") from exc
    return Photo(out.getvalue(), "jpg")


def check_rate(
    conn: psycopg.Connection, client_address: str, phone: str | None, settings: Settings
) -> None:
    """Raise RateLimited if this address or phone already reached its limit in the window.
    Locks each key for the transaction, so concurrent reports are counted one by one."""
    limits = [("address", "client_address", client_address, settings.report_max_per_address)]
    if phone:
        limits.append(("phone", "phone", phone, settings.report_max_per_phone))
    for what, column, value, limit in limits:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"report:{value}",))
        count, oldest = conn.execute(
            f"SELECT count(*), min(created_at) FROM resident_report WHERE {column} = %s "
            "AND created_at > now() - make_interval(secs => %s)",
            (value, settings.report_window_s),
        ).fetchone()
        if count >= limit:
            elapsed = (datetime.now(UTC) - oldest).total_seconds()
            raise RateLimited(what, max(1, math.ceil(settings.report_window_s - elapsed)))


def _place(conn: psycopg.Connection, report: ReportIn) -> tuple[float, float]:
    """(lon, lat): as given, or the one building whose name or code is the address."""
    if report.lat is not None and report.lon is not None:
        return report.lon, report.lat
    rows = conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM building "
        "WHERE name = %(a)s OR code = %(a)s LIMIT 2) AS found",
        {"a": report.address_string},
    ).fetchall()
    if len(rows) != 1:
        raise Unprocessable(
            f"无法根据地址 {report.address_string!r} 定位, 请在地图上选点 "
            "(the address matches no single building: send lat/long)"
        )
    return rows[0][0], rows[0][1]


# --- the report becomes a task ----------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_report(
    conn: psycopg.Connection,
    report: ReportIn,
    photo: Photo | None,
    client_address: str,
    settings: Settings,
    calendar: WorkCalendar,
) -> Accepted:
    """Place the report, create its incident and task, file and dispatch it by rule, and
    queue the assignee's push — all in the caller's transaction."""
    validate(report)
    check_rate(conn, client_address, report.phone, settings)
    lon, lat = _place(conn, report)
    now = datetime.now(UTC)
    where = locate_point(conn, lon, lat, now, tolerance_m=settings.join_tolerance_m).row(0)
    if where["method"] == UNASSIGNED:
        raise Unprocessable(
            f"该位置 ({lat:.6f}, {lon:.6f}) 不在任何网格内, 不属本平台受理范围 "
            "(the place is outside every grid)"
        )
    grid, community = where["grid_code"], where["community_code"]
    label_zh, label_en = SERVICES[report.service_code]
    incident = conn.execute(
        "INSERT INTO incident (type, category, severity, merge_key, grid_code, community_code, "
        "geom, location_method, first_seen, last_seen) VALUES ('resident.report', %s, "
        "'normal', %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), 'resident', %s, %s) "
        "RETURNING id",
        (report.service_code, f"report:{uuid.uuid4()}", grid, community, lon, lat, now, now),
    ).fetchone()[0]
    due = due_at(now, report.service_code, "normal", calendar)
    task = conn.execute(
        "INSERT INTO task (incident_id, grid_code, community_code, state, urgency, category, "
        "title, title_en, description, location_method, due_at, due_estimated) "
        "VALUES (%s, %s, %s, 'reported', 'normal', %s, %s, %s, %s, 'resident', %s, %s) "
        "RETURNING id",
        (
            incident,
            grid,
            community,
            report.service_code,
            f"居民随手拍: {label_zh}",
            f"Resident report: {label_en}",
            report.description.strip(),
            due.at,
            due.estimated,
        ),
    ).fetchone()[0]
    photos = []
    if photo is not None:
        name = f"{uuid.uuid4().hex}.jpg"
        store_photo(settings.upload_dir, task, name, photo)
        photos.append(name)
    conn.execute(
        "INSERT INTO task_transition (task_id, from_state, to_state, actor, note, data) "
        "VALUES (%s, NULL, 'reported', %s, '居民上报 (resident report)', %s)",
        (task, ACTOR, Jsonb({"photos": photos} if photos else {})),
    )
    token = secrets.token_urlsafe(24)
    conn.execute(
        "INSERT INTO resident_report (task_id, token_hash, service_code, address_string, "
        "email, phone, client_address) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            task,
            token_hash(token),
            report.service_code,
            report.address_string,
            report.email,
            report.phone,
            client_address,
        ),
    )
    _dispatch_by_rule(conn, task, Place(grid, community, now), settings.api_public_url)
    return Accepted(task, token)


def _dispatch_by_rule(conn: psycopg.Connection, task: int, place: Place, public_url: str) -> None:
    """立案 and 派单 to the place's responsible worker; with nobody responsible the task
    stays filed for the desk."""
    transition(conn, task, "filed", ACTOR, "按规则立案 (filed by rule)")
    person = responsible(conn, [place])[0]
    if person.assignee is None:
        return
    worker, role = person.assignee
    transition(
        conn,
        task,
        "dispatched",
        ACTOR,
        "按网格派单 (dispatched to the grid)",
        {"assignee_id": worker},
    )
    conn.execute("UPDATE task SET assignee_id = %s WHERE id = %s", (worker, task))
    conn.execute(
        "INSERT INTO task_notification (task_id, worker_id, role, level) VALUES (%s, %s, %s, 0) "
        "ON CONFLICT ON CONSTRAINT task_notification_once DO NOTHING",
        (task, worker, role),
    )
    queue_pushes(conn, [(task, worker)], "assigned", public_url)


# --- following and evaluating ------------------------------------------------------------


def task_of(conn: psycopg.Connection, token: str) -> int:
    """The task a follow-up token belongs to (404 for a wrong token)."""
    row = conn.execute(
        "SELECT task_id FROM resident_report WHERE token_hash = %s", (token_hash(token),)
    ).fetchone()
    if row is None:
        raise NotFound("没有这个跟踪链接 (no report with this link)")
    return row[0]


def follow(conn: psycopg.Connection, token: str) -> dict:
    """What the reporter may see: the task's state, category, description, deadline and
    its steps with their times — never who handled it or anyone's contact."""
    task_id = task_of(conn, token)
    state, category, description, created, due = conn.execute(
        "SELECT state, category, description, created_at, due_at FROM task WHERE id = %s",
        (task_id,),
    ).fetchone()
    steps = conn.execute(
        "SELECT to_state, at FROM task_transition WHERE task_id = %s ORDER BY id", (task_id,)
    ).fetchall()
    return {
        "service_request_id": str(task_id),
        "state": state,
        "service_code": category,
        "description": description,
        "requested_datetime": created,
        "expected_datetime": due,
        "can_evaluate": state in ("handled", "evaluating"),
        "steps": [{"state": s, "at": at} for s, at in steps],
    }


REPORTER_USER = User(
    id=0,
    username=REPORTER,
    role="admin",
    scope_level=None,
    scope_code=None,
    worker_id=None,
    display_name="居民",
    locale="zh-CN",
)
"""Who the evaluate move runs as: the token proved this person reported exactly this task,
and TaskActions loads no other; the history records only ``resident:reporter``."""


def evaluate(
    conn: psycopg.Connection,
    token: str,
    satisfied: bool,
    note: str | None,
    settings: Settings,
    calendar: WorkCalendar,
) -> None:
    """满意 closes, 不满意 reopens for 二次办理 (TaskActions.evaluate, the desk's move);
    only once the worker has reported it handled (409 otherwise)."""
    task_id = task_of(conn, token)
    state = conn.execute("SELECT state FROM task WHERE id = %s", (task_id,)).fetchone()[0]
    if state not in ("handled", "evaluating"):
        raise IllegalTransition(
            task_id, state, "evaluating", f"工单尚未办结, 暂不能评价 (task is {state}, not handled)"
        )
    actions = TaskActions(conn, REPORTER_USER, settings.api_public_url, calendar)
    actions.evaluate(task_id, satisfied, note)
