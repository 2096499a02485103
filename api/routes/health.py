"""GET /api/health: is the API up, can it reach its database, and how far its working
calendar reaches (for scripts, monitors and the admin)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import AppSettings, Conn
from gis.work_calendar import coverage_warning, load_work_calendar

router = APIRouter(tags=["health"])


@router.get("/api/health")
def health(conn: Conn, settings: AppSettings) -> dict:
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    calendar = load_work_calendar(settings.work_calendar_path)
    today = datetime.now(UTC).astimezone(calendar.timezone).date()
    return {
        "status": "ok",
        "schema_revision": revision[0] if revision else None,
        "work_calendar": {
            "covered_until": calendar.covered_until.isoformat(),
            "warning": coverage_warning(calendar, today),
        },
    }
