"""POST /api/auth/login (form or JSON) → bearer token + HttpOnly cookie; logout; me."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from psycopg_pool import ConnectionPool
from pydantic import ValidationError

from api import audit
from api.deps import (
    COOKIE_NAME,
    AppSettings,
    BearerToken,
    Conn,
    CurrentUser,
    get_pool,
    request_token,
)
from api.idempotency import purge_expired_keys
from api.responses import OrjsonResponse
from api.schemas import LoginIn, TokenOut, UserOut
from api.sessions import close_session, open_session, purge_expired_sessions
from api.users import authenticate
from gis.settings import Settings

router = APIRouter(prefix="/api/auth", tags=["auth 登录"])

_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginIn.model_json_schema()},
            "application/x-www-form-urlencoded": {"schema": LoginIn.model_json_schema()},
        },
    }
}


async def _credentials(request: Request) -> LoginIn:
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("application/json"):
            return LoginIn.model_validate_json(await request.body())
        form = await request.form()
        return LoginIn(
            username=str(form.get("username", "")), password=str(form.get("password", ""))
        )
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "请提供用户名和密码 (username and password are required)",
        ) from exc


def _login(pool: ConnectionPool, settings: Settings, credentials: LoginIn) -> dict | None:
    with pool.connection() as conn:
        user = authenticate(conn, credentials.username, credentials.password)
        if user is None:
            audit.record(conn, credentials.username, "login_failed", "app_user", None)
            return None
        purge_expired_sessions(conn)
        purge_expired_keys(conn)
        lifetime = (
            timedelta(days=settings.field_device_session_days)
            if credentials.device
            else timedelta(hours=settings.api_token_hours)
        )
        token, expires_at = open_session(conn, user.id, lifetime)
        audit.record(
            conn, user.username, "login", "app_user", user.id, {"device": credentials.device}
        )
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_at": expires_at,
        "user": user.as_dict(),
    }


@router.post("/login", response_model=TokenOut, openapi_extra=_LOGIN_BODY)
async def login(
    request: Request,
    pool: Annotated[ConnectionPool, Depends(get_pool)],
    settings: AppSettings,
) -> OrjsonResponse:
    """Log in with a username and password (JSON, or the OAuth2 password form). The token
    is returned and also set as an HttpOnly cookie, so the browser map needs no script
    access to it. ``device: true`` (the field app) opens a long-lived session for a
    phone instead, without a cookie; logging out revokes it."""
    credentials = await _credentials(request)
    body = await run_in_threadpool(_login, pool, settings, credentials)
    if body is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "用户名或密码错误 (wrong username or password)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    response = OrjsonResponse(body)
    if credentials.device:  # a phone keeps its bearer token itself: no cookie to ride on
        return response
    response.set_cookie(
        COOKIE_NAME,
        body["access_token"],
        max_age=int(settings.api_token_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.api_cookie_secure,
        path="/",
    )
    return response


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, conn: Conn, user: CurrentUser, bearer: BearerToken) -> Response:
    """End this session: the token stops working and the cookie is cleared."""
    close_session(conn, request_token(request, bearer) or "")
    audit.record(conn, user.username, "logout", "app_user", user.id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> OrjsonResponse:
    return OrjsonResponse(user.as_dict())
