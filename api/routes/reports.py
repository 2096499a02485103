"""The reporter's follow-up over HTTP: GET /api/reports/{token} and POST …/evaluate.

The token (from the Open311 POST answer) is the only key: a wrong one is 404, and the
answer never names staff or shows anyone's contact (api.resident_reports.follow).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api import resident_reports
from api.deps import AppSettings, Conn
from api.responses import OrjsonResponse
from gis.work_calendar import load_work_calendar

router = APIRouter(prefix="/api/reports", tags=["residents 居民随手拍"])


class ReporterEvaluation(BaseModel):
    satisfied: bool
    note: str | None = Field(default=None, max_length=500)


@router.get("/{token}")
def follow(token: str, conn: Conn) -> OrjsonResponse:
    """The report's task: state, steps with their times, whether it may be evaluated."""
    return OrjsonResponse(resident_reports.follow(conn, token))


@router.post("/{token}/evaluate")
def evaluate(
    token: str, body: ReporterEvaluation, conn: Conn, settings: AppSettings
) -> OrjsonResponse:
    """满意 closes the task; 不满意 reopens it for 二次办理 (409 before it is handled)."""
    calendar = load_work_calendar(settings.work_calendar_path)
    resident_reports.evaluate(conn, token, body.satisfied, body.note, settings, calendar)
    conn.commit()
    return OrjsonResponse(resident_reports.follow(conn, token))
