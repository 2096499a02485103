"""Propose jobs (POST /api/plans/propose): the engine run in worker threads of the API.

State lives in the ``plan_job`` table, not only in memory: a planner polling a job gets an
answer from any API process and after a restart. A job still queued or running when an
API process starts (the process that ran it is gone — ``wangge api serve`` runs one
process) is marked failed with the reason, so it is never silently lost. The threads
keep their cancel flags in memory too (``cancel()`` is polled inside the engine's loops,
far too often for a query); a cancel from another process is seen at the next progress
write, which reads the flag back.

A job runs in its own connections: the row is created by the request (its transaction,
with the Idempotency-Key claim), so the thread first waits for the row to be committed.
For a street, communities are proposed one after another, each a draft of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg.types.json import Jsonb

from gis import audit
from gis.db import connect
from gis.redistrict.propose import ProposeOptions, propose
from gis.redistrict.search import Cancelled
from gis.redistrict.targets import Targets
from gis.redistrict_apply import store
from gis.redistrict_apply.community import (
    CommunityUnknown,
    community_inputs,
    community_outline,
    fit_to_community,
)
from gis.redistrict_apply.validate import PlanGrid
from gis.settings import Settings

log = logging.getLogger(__name__)

STAGES = {
    "queued": ("排队中", "queued"),
    "tessellation": ("楼栋镶嵌", "tessellating buildings"),
    "graph": ("邻接图", "building the adjacency graph"),
    "partition": ("划分网格", "partitioning"),
    "grids": ("生成网格边界", "drawing grid polygons"),
    "saving": ("保存草稿", "saving the drafts"),
    "done": ("完成", "done"),
}
PROGRESS_EVERY_S = 0.3
ROW_WAIT_S = 30.0
RESTARTED = "API 重启, 任务中断 (the API restarted while the job was open)"


def stage_text(stage: str) -> dict[str, str]:
    zh, en = STAGES.get(stage, (stage, stage))
    return {"zh": zh, "en": en}


def fail_orphans(conn: psycopg.Connection) -> int:
    """Jobs left open by a process that is gone are failed, with the reason."""
    return conn.execute(
        "UPDATE plan_job SET status = 'failed', error = %s, updated_at = now() "
        "WHERE status IN ('queued', 'running')",
        (RESTARTED,),
    ).rowcount


class PlanJobs:
    """The worker threads of one API process."""

    def __init__(self, settings: Settings) -> None:
        self.database_url = settings.database_url
        self.hull_buffer_m = settings.redistrict_hull_buffer_m
        self.road_factor = settings.redistrict_road_factor
        self.sample_step_m = settings.redistrict_sample_step_m
        workers = settings.plan_job_workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plan-job")
        self._cancel: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def submit(self, job_id: int) -> None:
        with self._lock:
            self._cancel[job_id] = threading.Event()
        self._pool.submit(self._run, job_id)

    def cancel(self, job_id: int) -> None:
        with self._lock:
            event = self._cancel.get(job_id)
        if event is not None:
            event.set()

    def shutdown(self) -> None:
        with self._lock:
            for event in self._cancel.values():
                event.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job_id: int) -> None:
        try:
            with connect(self.database_url, autocommit=True) as conn:
                job = _wait_for_row(conn, job_id, self._cancel[job_id])
                if job is None:
                    return
                self._propose(conn, job_id, job)
        except Exception:
            log.exception("plan job %s failed", job_id)
        finally:
            with self._lock:
                self._cancel.pop(job_id, None)

    def _propose(self, conn: psycopg.Connection, job_id: int, job: tuple) -> None:
        created_by, params = job
        event = self._cancel[job_id]
        communities: list[str] = params["communities"]
        last = [0.0]

        def cancelled() -> bool:
            return event.is_set()

        def progress(stage: str, fraction: float, done: int = 0, force: bool = False) -> None:
            now = time.monotonic()
            if not force and now - last[0] < PROGRESS_EVERY_S:
                return
            last[0] = now
            share = (done + max(0.0, min(1.0, fraction))) / len(communities)
            row = conn.execute(
                "UPDATE plan_job SET stage = %s, fraction = %s, updated_at = now() "
                "WHERE id = %s RETURNING cancel_requested",
                (stage, round(share, 4), job_id),
            ).fetchone()
            if row and row[0]:
                event.set()

        conn.execute(
            "UPDATE plan_job SET status = 'running', updated_at = now() WHERE id = %s", (job_id,)
        )
        targets = Targets(params["target_min"], params["target_max"], params["target"])
        results = []
        try:
            for done, code in enumerate(communities):
                if cancelled():
                    raise Cancelled
                try:
                    with conn.transaction():
                        inputs = community_inputs(
                            conn, code, params["stay_close"], hull_buffer_m=self.hull_buffer_m
                        )
                        outline = community_outline(conn, code)
                except CommunityUnknown as exc:
                    results.append({"community_code": code, "plan_id": None, "error": str(exc)})
                    continue
                options = ProposeOptions(
                    targets=targets,
                    seed=params["seed"],
                    community_code=code,
                    stay_close=params["stay_close"],
                    road_factor=self.road_factor,
                    sample_step_m=self.sample_step_m,
                )
                plan = propose(
                    inputs,
                    options,
                    progress=lambda s, f, d=done: progress(s, f, d),
                    cancel=cancelled,
                )
                if cancelled():
                    raise Cancelled
                progress("saving", 1.0, done, force=True)
                grids = [PlanGrid(row.code, row.geometry) for row in plan.grids.itertuples()]
                grids = fit_to_community(grids, outline)
                metrics = plan.metrics.as_dict()
                results.append(self._save(conn, code, created_by, params, grids, metrics))
        except Cancelled:
            _finish(conn, job_id, "cancelled", {"plans": results}, None)
            return
        except Exception as exc:
            _finish(conn, job_id, "failed", {"plans": results}, f"{type(exc).__name__}: {exc}")
            raise
        _finish(conn, job_id, "done", {"plans": results}, None)

    @staticmethod
    def _save(
        conn: psycopg.Connection,
        code: str,
        created_by: str,
        params: dict,
        grids: list[PlanGrid],
        metrics: dict,
    ) -> dict:
        with conn.transaction():
            plan_id = store.create_plan(
                conn,
                code,
                params.get("name") or f"自动方案 seed {params['seed']}",
                created_by,
                grids,
                store.Targets(params["target_min"], params["target_max"], params["target"]),
                {k: params[k] for k in ("seed", "stay_close")},
            )
            conn.execute(
                "UPDATE grid_plan SET metrics = metrics || jsonb_build_object('engine', %s::jsonb)"
                " WHERE id = %s",
                (Jsonb(metrics), plan_id),
            )
            audit.record(
                conn,
                created_by,
                "plan.create",
                "grid_plan",
                plan_id,
                {"grids": len(grids), "proposed": True},
            )
        return {"community_code": code, "plan_id": plan_id, "metrics": metrics}


def _wait_for_row(conn: psycopg.Connection, job_id: int, stop: threading.Event) -> tuple | None:
    """(created_by, params) once the request that made the job has committed it (None if
    it never does — the request failed — or the API is shutting down)."""
    deadline = time.monotonic() + ROW_WAIT_S
    while True:
        row = conn.execute(
            "SELECT created_by, params, status FROM plan_job WHERE id = %s", (job_id,)
        ).fetchone()
        if row is not None:
            return (row[0], row[1]) if row[2] == "queued" else None
        if stop.is_set() or time.monotonic() > deadline:
            return None
        stop.wait(0.05)


def _finish(
    conn: psycopg.Connection, job_id: int, status: str, result: dict, error: str | None
) -> None:
    conn.execute(
        "UPDATE plan_job SET status = %s, result = %s, error = %s, updated_at = now(), "
        "stage = CASE WHEN %s = 'done' THEN 'done' ELSE stage END, "
        "fraction = CASE WHEN %s = 'done' THEN 1 ELSE fraction END WHERE id = %s",
        (status, Jsonb(result), error, status, status, job_id),
    )
