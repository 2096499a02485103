"""Request dependencies: a pooled connection (one transaction per request), the settings,
and the logged-in user from a bearer token or the browser's HttpOnly cookie."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from psycopg_pool import ConnectionPool

from api.grid_layer import GridLayerCache
from api.idempotency import claimed_connection
from api.sessions import COOKIE_NAME, session_user
from api.users import User
from gis.settings import Settings

_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/login", auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_layer_cache(request: Request) -> GridLayerCache:
    return request.app.state.layer_cache


def get_pool(request: Request) -> ConnectionPool:
    return request.app.state.pool


def get_conn(
    request: Request, pool: Annotated[ConnectionPool, Depends(get_pool)]
) -> Iterator[psycopg.Connection]:
    """One connection and one transaction per request: committed unless the handler raises.
    A request with an Idempotency-Key gets the connection its key was claimed on."""
    claimed = claimed_connection(request)
    if claimed is None:
        with pool.connection() as conn:
            yield conn
        return
    try:
        yield claimed
    except BaseException:
        claimed.rollback()
        raise
    claimed.commit()


def request_token(request: Request, bearer: str | None) -> str | None:
    return bearer or request.cookies.get(COOKIE_NAME)


def not_logged_in() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "未登录或登录已过期 (not logged in or session expired)",
        headers={"WWW-Authenticate": "Bearer"},
    )


BearerToken = Annotated[str | None, Depends(_bearer)]


RequestConnection = Depends(get_conn, scope="function")
"""The request's connection, committed when the handler returns and BEFORE the response is
sent (FastAPI's default "request" scope would commit after sending, so a client that reads
right after a write could miss it)."""


def current_user(
    request: Request, conn: Annotated[psycopg.Connection, RequestConnection], bearer: BearerToken
) -> User:
    token = request_token(request, bearer)
    found = session_user(conn, token) if token else None
    if found is None:
        raise not_logged_in()
    return found[0]


Conn = Annotated[psycopg.Connection, RequestConnection]
CurrentUser = Annotated[User, Depends(current_user)]
AppSettings = Annotated[Settings, Depends(get_settings)]
AppLayerCache = Annotated[GridLayerCache, Depends(get_layer_cache)]
