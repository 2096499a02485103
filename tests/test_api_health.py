"""The health endpoint answers from the database, without a login."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gis.db import connect


def test_health_reports_the_schema_revision_it_reads(client: TestClient, database_url: str):
    with connect(database_url) as conn:
        expected = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    answer = client.get("/api/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "schema_revision": expected}
