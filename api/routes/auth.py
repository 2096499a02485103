"""POST /api/auth/login (form or JSON) → bearer token + HttpOnly cookie; logout; me.

Logins are throttled per account and per client address (api.throttle: 429 with
Retry-After, audited); the answer also sets a fresh CSRF token cookie (api.csrf)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from psycopg_pool import ConnectionPool
from pydantic import ValidationError

from api.csrf import CSRF_COOKIE, set_csrf_cookie
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
from api.proxy import client_address, secure_cookies
from api.responses import OrjsonResponse
from api.schemas import LoginIn, TokenOut, UserOut
from api.sessions import close_session, open_session, purge_expired_sessions
from api.throttle import LoginThrottle
from api.users import authenticate
from gis import audit
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


def _throttled(retry_after: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"登录失败次数过多, 请 {retry_after} 秒后再试 "
        f"(too many failed logins; try again in {retry_after} s)",
        headers={"Retry-After": str(retry_after)},
    )


def _login(
    pool: ConnectionPool, settings: Settings, credentials: LoginIn, address: str
) -> dict | None:
    """The login's answer, None for wrong credentials; raises 429 while throttled."""
    throttle = LoginThrottle(settings)
    username, detail = credentials.username, {"address": address}
    with pool.connection() as conn:
        retry_after = throttle.retry_after(conn, username, address)
        if retry_after is not None:
            audit.record(conn, username, "login_throttled", "app_user", None, detail)
            conn.commit()
            raise _throttled(retry_after)
        user = authenticate(conn, username, credentials.password)
        if user is None:
            throttle.failed(conn, username, address)
            audit.record(conn, username, "login_failed", "app_user", None, detail)
            return None
        throttle.succeeded(conn, username)
        purge_expired_sessions(conn)
        purge_expired_keys(conn)
        lifetime = (
            timedelta(days=settings.field_device_session_days)
            if credentials.device
            else timedelta(hours=settings.api_token_hours)
        )
        token, expires_at = open_session(conn, user.id, lifetime)
        audit.record(
            conn,
            user.username,
            "login",
            "app_user",
            user.id,
            detail | {"device": credentials.device},
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
    access to it. Repeated failures lock the account and the address for a growing time
    (429 with Retry-After). ``device: true`` (the field app) opens a long-lived session for
    a phone instead, without a cookie; logging out revokes it."""
    credentials = await _credentials(request)
    address = client_address(request, settings)
    body = await run_in_threadpool(_login, pool, settings, credentials, address)
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
        secure=secure_cookies(request, settings),
        path="/",
    )
    set_csrf_cookie(response, request, settings)
    return response


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, conn: Conn, user: CurrentUser, bearer: BearerToken) -> Response:
    """End this session: the token stops working and the cookie is cleared."""
    close_session(conn, request_token(request, bearer) or "")
    audit.record(conn, user.username, "logout", "app_user", user.id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(COOKIE_NAME, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> OrjsonResponse:
    return OrjsonResponse(user.as_dict())
