"""The application factory: ``create_app(settings)`` → FastAPI (``wangge api serve`` runs it).

At start-up it opens the connection pool, the live hub's LISTEN connection and, unless
turned off, the reminder sweep; they close at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import Depends, FastAPI, Request
from psycopg_pool import ConnectionPool
from starlette.middleware.gzip import GZipMiddleware

from api.api_docs import add_api_docs
from api.body_limit import BodySizeLimit
from api.csrf import csrf_protect
from api.errors import ApiError
from api.grid_layer import GridLayerCache
from api.idempotency import IdempotencyMiddleware
from api.layer_cache import GZIP_LEVEL
from api.live import LiveHub
from api.plan_jobs import PlanJobs, fail_orphans
from api.reminders import reminder_loop
from api.responses import OrjsonResponse
from api.routes import (
    auth,
    devices,
    events,
    field,
    field_pages,
    geo,
    health,
    map_pages,
    open311,
    people,
    plan_editor,
    plan_files,
    plan_jobs,
    plan_pages,
    plans,
    reports,
    sms_replies,
    stream,
    tasks,
    uploads,
    watch,
    workflow,
)
from api.security_headers import SecurityHeaders
from gis.db import libpq_dsn
from gis.redistrict_apply.community import ModelCache
from gis.settings import Settings, get_settings, require_safe_secrets
from gis.workorders import IllegalTransition

DESCRIPTION = """
网格化管理平台 API — grids, buildings and devices as GeoJSON (WGS84); events, incidents and
work orders (工单) with their full loop; households and residents (ID numbers masked, every
read audited); an Open311 GeoReport v2 view; and a Server-Sent Events live stream.

Log in at `POST /api/auth/login`; send the token as `Authorization: Bearer …` or rely on the
HttpOnly cookie it sets (then every POST needs the `X-CSRF-Token` header, see docs/api.md).
What each user sees is limited in SQL by role and area.
"""


async def _api_error(request: Request, exc: ApiError) -> OrjsonResponse:
    return OrjsonResponse({"detail": exc.message}, status_code=exc.status_code)


async def _illegal_transition(request: Request, exc: IllegalTransition) -> OrjsonResponse:
    return OrjsonResponse(
        {"detail": exc.reason, "from_state": exc.from_state, "to_state": exc.to_state},
        status_code=409,
    )


def _fail_orphan_jobs(pool: ConnectionPool) -> None:
    """Propose jobs left open by a process that is gone are failed (api.plan_jobs)."""
    with pool.connection() as conn:
        fail_orphans(conn)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; refuses (InsecureSettings) default secrets outside development."""
    settings = settings or get_settings()
    require_safe_secrets(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = ConnectionPool(
            libpq_dsn(settings.database_url),
            min_size=2,
            max_size=settings.api_pool_size,
            open=False,
            name="wangge-api",
        )
        await asyncio.to_thread(pool.open, True)
        await asyncio.to_thread(_fail_orphan_jobs, pool)
        app.state.plan_jobs = PlanJobs(settings)
        hub = LiveHub(settings.database_url, app.state.layer_cache)
        app.state.pool, app.state.hub = pool, hub
        background = [asyncio.create_task(hub.run(), name="live-hub")]
        if settings.api_reminder_check_s > 0:
            background.append(asyncio.create_task(reminder_loop(pool, settings), name="reminders"))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await asyncio.to_thread(app.state.plan_jobs.shutdown)
            await asyncio.to_thread(pool.close)

    app = FastAPI(
        title="Wangge 网格 API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=OrjsonResponse,
        dependencies=[Depends(csrf_protect)],
        # FastAPI's own docs pages load from a CDN: api.api_docs serves /docs locally.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    if settings.docs_enabled:
        add_api_docs(app)
    # Inside gzip: stored and replayed responses are the uncompressed ones.
    app.add_middleware(
        IdempotencyMiddleware, lifetime=timedelta(hours=settings.field_idempotency_hours)
    )
    # Lists and layers compress ~5x; below 1 kB gzip saves nothing worth its CPU. Layers the
    # grid cache serves arrive already gzipped (Content-Encoding set) and pass through.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=GZIP_LEVEL)
    # Outermost last: the body limit sees the raw stream; every answer, a 413 included,
    # leaves with the security headers.
    app.add_middleware(
        BodySizeLimit,
        default_max=settings.api_body_max_bytes,
        upload_max=settings.api_upload_max_bytes,
    )
    app.add_middleware(SecurityHeaders)
    app.state.settings = settings
    app.state.layer_cache = GridLayerCache()
    app.state.plan_models = ModelCache()
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(IllegalTransition, _illegal_transition)
    for module in (
        health,
        auth,
        geo,
        tasks,
        workflow,
        people,
        plans,
        plan_jobs,
        plan_editor,
        plan_files,
        plan_pages,
        devices,
        events,
        open311,
        reports,
        stream,
        map_pages,
        uploads,
        field,
        field_pages,
        watch,
        sms_replies,
    ):
        app.include_router(module.router)
    return app
