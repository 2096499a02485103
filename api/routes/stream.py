"""GET /api/stream: Server-Sent Events of new events, incidents, task changes and grid
states in the viewer's scope (cookie or bearer token), with a heartbeat comment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from psycopg_pool import ConnectionPool

from api.deps import BearerToken, get_pool, not_logged_in, request_token
from api.live import LiveFilter, LiveHub, live_filter
from api.sessions import session_user

router = APIRouter(prefix="/api", tags=["live 实时"])


def _viewer(pool: ConnectionPool, token: str | None) -> tuple[LiveFilter, datetime] | None:
    """Authenticate on a short-lived connection: a stream must not hold a pooled one."""
    if not token:
        return None
    with pool.connection() as conn:
        found = session_user(conn, token)
        return (live_filter(conn, found[0]), found[1]) if found else None


def sse(kind: str, message: dict) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(message) + b"\n\n"


async def _events(
    hub: LiveHub, live: LiveFilter, heartbeat_s: float, expires_at: datetime
) -> AsyncIterator[bytes]:
    # Subscribed inside the generator, so its ``finally`` always unsubscribes.
    subscription = hub.subscribe(live)
    try:
        yield b"retry: 3000\n: connected\n\n"
        while datetime.now(UTC) < expires_at and not subscription.overflowed:
            try:
                message = await asyncio.wait_for(subscription.queue.get(), heartbeat_s)
            except TimeoutError:
                yield b": heartbeat\n\n"
                continue
            yield sse(message["kind"], message)
    finally:
        hub.unsubscribe(subscription)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "SSE"}},
)
async def stream(
    request: Request, pool: Annotated[ConnectionPool, Depends(get_pool)], bearer: BearerToken
) -> StreamingResponse:
    """Event types: ``event``, ``incident``, ``task``, ``grid`` (state after a task change),
    ``device`` (online state changed: ``online``, ``last_seen``) and ``resync`` (reload,
    messages may have been missed). Each ``data`` is one JSON object
    with ``kind``, ``id``, ``grid_code``, ``community_code``, ``state``/``type``, ``urgency``,
    ``lon``/``lat``."""
    viewer = await run_in_threadpool(_viewer, pool, request_token(request, bearer))
    if viewer is None:
        raise not_logged_in()
    live, expires_at = viewer
    hub: LiveHub = request.app.state.hub
    settings = request.app.state.settings
    return StreamingResponse(
        _events(hub, live, settings.api_stream_heartbeat_s, expires_at),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
