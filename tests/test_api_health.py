"""The health endpoint answers from the database, without a login."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient

from gis.db import connect
from gis.work_calendar import WARN_DAYS


def test_health_reports_the_schema_revision_it_reads(client: TestClient, database_url: str):
    with connect(database_url) as conn:
        expected = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    answer = client.get("/api/health")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["schema_revision"]) == ("ok", expected)


def test_health_says_how_far_the_working_calendar_reaches(client: TestClient) -> None:
    calendar = client.get("/api/health").json()["work_calendar"]
    assert calendar["covered_until"] == "2026-12-31"
    today = datetime.now(UTC).date()
    if (date(2026, 12, 31) - today).days <= WARN_DAYS:
        assert "2026-12-31" in calendar["warning"]
    else:
        assert calendar["warning"] is None
