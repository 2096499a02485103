"""GET /api/health: is the API up and can it reach its database (for scripts and monitors)."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends

from api.deps import get_conn

router = APIRouter(tags=["health"])


@router.get("/api/health")
def health(conn: Annotated[psycopg.Connection, Depends(get_conn)]) -> dict:
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return {"status": "ok", "schema_revision": revision[0] if revision else None}
