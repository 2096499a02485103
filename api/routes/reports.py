"""The residents' pages (/report, /report/follow/{token}, no login) and the reporter's
follow-up over HTTP: GET /api/reports/{token} and POST …/evaluate.

The token (from the Open311 POST answer) is the only key: a wrong one is 404, and the
answer never names staff or shows anyone's contact (api.resident_reports.follow).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api import resident_reports
from api.deps import AppSettings, Conn
from api.responses import OrjsonResponse
from gis.work_calendar import load_work_calendar
from maps.base_layers import base_layer
from maps.i18n import language
from maps.page import LANG_COOKIE, content_security_policy, render_follow_page, render_report_page

router = APIRouter(tags=["residents 居民随手拍"])
_PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
"""no-referrer: the follow-up token in the URL never leaks to another site."""


def _area(conn: Conn) -> tuple[float, float, float, float] | None:
    row = conn.execute(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
        "(SELECT ST_Extent(geom) AS e FROM grid WHERE valid_to IS NULL) AS area"
    ).fetchone()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


@router.get("/report", response_class=HTMLResponse, include_in_schema=False)
def report_page(request: Request, conn: Conn, settings: AppSettings) -> HTMLResponse:
    base = base_layer(settings)
    services = [
        {"code": code, "zh": zh, "en": en} for code, (zh, en) in resident_reports.SERVICES.items()
    ]
    html = render_report_page(
        language(request.cookies.get(LANG_COOKIE)),
        base,
        _area(conn),
        services,
        resident_reports.form_token(settings.report_form_secret),
    )
    return HTMLResponse(
        html, headers=_PAGE_HEADERS | {"Content-Security-Policy": content_security_policy(base)}
    )


@router.get("/report/follow/{token}", response_class=HTMLResponse, include_in_schema=False)
def follow_page(token: str, request: Request, conn: Conn) -> HTMLResponse:
    resident_reports.follow(conn, token)  # a wrong token is 404 here already
    html = render_follow_page(language(request.cookies.get(LANG_COOKIE)), token)
    return HTMLResponse(
        html, headers=_PAGE_HEADERS | {"Content-Security-Policy": content_security_policy()}
    )


class ReporterEvaluation(BaseModel):
    satisfied: bool
    note: str | None = Field(default=None, max_length=500)


@router.get("/api/reports/{token}")
def follow(token: str, conn: Conn) -> OrjsonResponse:
    """The report's task: state, steps with their times, whether it may be evaluated."""
    return OrjsonResponse(resident_reports.follow(conn, token))


@router.post("/api/reports/{token}/evaluate")
def evaluate(
    token: str, body: ReporterEvaluation, conn: Conn, settings: AppSettings
) -> OrjsonResponse:
    """满意 closes the task; 不满意 reopens it for 二次办理 (409 before it is handled)."""
    calendar = load_work_calendar(settings.work_calendar_path)
    resident_reports.evaluate(conn, token, body.satisfied, body.note, settings, calendar)
    conn.commit()
    return OrjsonResponse(resident_reports.follow(conn, token))
