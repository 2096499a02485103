"""The application factory: ``create_app(settings)`` → FastAPI (``wangge api serve`` runs it).

At start-up it opens the connection pool, the live hub's LISTEN connection and, unless
turned off, the reminder sweep; they close at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from psycopg_pool import ConnectionPool
from starlette.middleware.gzip import GZipMiddleware

from api.errors import ApiError
from api.grid_layer import GridLayerCache
from api.layer_cache import GZIP_LEVEL
from api.live import LiveHub
from api.reminders import reminder_loop
from api.responses import OrjsonResponse
from api.routes import (
    auth,
    devices,
    events,
    geo,
    health,
    map_pages,
    open311,
    people,
    reports,
    stream,
    tasks,
    workflow,
)
from gis.db import libpq_dsn
from gis.settings import Settings, get_settings
from gis.workorders import IllegalTransition

DESCRIPTION = """
网格化管理平台 API — grids, buildings and devices as GeoJSON (WGS84); events, incidents and
work orders (工单) with their full loop; households and residents (ID numbers masked, every
read audited); an Open311 GeoReport v2 view; and a Server-Sent Events live stream.

Log in at `POST /api/auth/login`; send the token as `Authorization: Bearer …` or rely on the
HttpOnly cookie it sets. What each user sees is limited in SQL by role and area.
"""


async def _api_error(request: Request, exc: ApiError) -> OrjsonResponse:
    return OrjsonResponse({"detail": exc.message}, status_code=exc.status_code)


async def _illegal_transition(request: Request, exc: IllegalTransition) -> OrjsonResponse:
    return OrjsonResponse(
        {"detail": exc.reason, "from_state": exc.from_state, "to_state": exc.to_state},
        status_code=409,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

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
            await asyncio.to_thread(pool.close)

    app = FastAPI(
        title="Wangge 网格 API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=OrjsonResponse,
    )
    # Lists and layers compress ~5x; below 1 kB gzip saves nothing worth its CPU. Layers the
    # grid cache serves arrive already gzipped (Content-Encoding set) and pass through.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=GZIP_LEVEL)
    app.state.settings = settings
    app.state.layer_cache = GridLayerCache()
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(IllegalTransition, _illegal_transition)
    for module in (
        health,
        auth,
        geo,
        tasks,
        workflow,
        people,
        devices,
        events,
        open311,
        reports,
        stream,
        map_pages,
    ):
        app.include_router(module.router)
    return app
