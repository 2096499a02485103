"""Propose jobs: the redistricting engine for a community (or a street, community by
community) as a background job with progress and cancel (api.plan_jobs; docs/planning.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, status
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field, model_validator

from api.deps import Conn, CurrentUser
from api.errors import Conflict, NotFound
from api.plan_jobs import PlanJobs, stage_text
from api.routes.plans import community_geom, require_planner
from api.scope import Subject, scope_where
from gis import audit

router = APIRouter(prefix="/api/plans/propose", tags=["plans 规划"])


class ProposeRequest(BaseModel):
    community_code: Annotated[str | None, Field(pattern=r"^[0-9]{12}$")] = None
    street_code: Annotated[str | None, Field(pattern=r"^[0-9]{9,12}$")] = None
    target_min: int = Field(300, gt=0)
    target_max: int = Field(500, gt=0)
    target: int = Field(450, gt=0)
    stay_close: bool = Field(False, description="start from the current grids, change least")
    seed: int = Field(0, ge=0)
    name: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _one_area(self) -> ProposeRequest:
        if (self.community_code is None) == (self.street_code is None):
            raise ValueError("give community_code or street_code (one of them)")
        if not self.target_min <= self.target <= self.target_max:
            raise ValueError("targets need target_min <= target <= target_max")
        return self


def _jobs(request: Request) -> PlanJobs:
    return request.app.state.plan_jobs


def _communities(conn: Conn, user: CurrentUser, body: ProposeRequest) -> list[str]:
    if body.community_code is not None:
        community_geom(conn, user, body.community_code)
        return [body.community_code]
    where = scope_where(user, Subject.COMMUNITY).add(
        "community.street_code = %(street)s", street=body.street_code
    )
    rows = conn.execute(
        f"SELECT community.code FROM community WHERE {where.sql} ORDER BY community.code",
        where.params,
    ).fetchall()
    if not rows:
        raise NotFound(f"街道 {body.street_code} 没有可见的社区 (no communities in the street)")
    return [r[0] for r in rows]


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def start(body: ProposeRequest, request: Request, conn: Conn, user: CurrentUser) -> dict:
    """Start proposing: 202 with the job id; GET the job for progress and its drafts."""
    require_planner(user)
    communities = _communities(conn, user, body)
    params = body.model_dump() | {"communities": communities}
    job_id = conn.execute(
        "INSERT INTO plan_job (area_code, created_by, params) VALUES (%s, %s, %s) RETURNING id",
        (body.community_code or body.street_code, user.username, Jsonb(params)),
    ).fetchone()[0]
    audit.record(conn, user.username, "plan.propose", "plan_job", job_id, params)
    _jobs(request).submit(job_id)
    return {"id": job_id, "status": "queued", "url": f"/api/plans/propose/{job_id}"}


def _job(conn: Conn, user: CurrentUser, job_id: int) -> dict:
    require_planner(user)
    row = (
        conn.cursor(row_factory=dict_row)
        .execute("SELECT * FROM plan_job WHERE id = %s", (job_id,))
        .fetchone()
    )
    if row is None:
        raise NotFound(f"任务 {job_id} 不存在 (no such job)")
    for code in row["params"]["communities"]:
        community_geom(conn, user, code)
    return row


@router.get("/{job_id}")
def job(job_id: int, conn: Conn, user: CurrentUser) -> dict:
    """Status, stage (zh/en), share done; when done the drafts made with their metrics."""
    row = _job(conn, user, job_id)
    return {
        "id": row["id"],
        "status": row["status"],
        "stage": row["stage"],
        "stage_text": stage_text(row["stage"]),
        "fraction": row["fraction"],
        "params": row["params"],
        "result": row["result"],
        "error": row["error"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


@router.delete("/{job_id}")
def cancel(job_id: int, request: Request, conn: Conn, user: CurrentUser) -> dict:
    """Ask the job to stop (it stops within a step of the engine); a finished job stays."""
    row = _job(conn, user, job_id)
    if row["status"] not in ("queued", "running"):
        raise Conflict(f"任务已结束 ({row['status']}) (the job has finished)")
    conn.execute(
        "UPDATE plan_job SET cancel_requested = true, updated_at = now() WHERE id = %s",
        (job_id,),
    )
    audit.record(conn, user.username, "plan.propose_cancel", "plan_job", job_id)
    _jobs(request).cancel(job_id)
    return {"id": job_id, "cancel_requested": True}
