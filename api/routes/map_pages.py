"""The operators' map (/map), its login page (/login), its static files and local tiles.

``maps`` renders the pages and owns the assets; this router only decides who sees what:
/map needs a live session cookie (otherwise it redirects to /login) and opens on the
user's own area. Every page is sent with a same-origin Content Security Policy.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.csrf import CSRF_COOKIE, set_csrf_cookie
from api.deps import COOKIE_NAME, AppSettings, Conn
from api.scope import Subject, scope_where
from api.sessions import session_user
from api.users import User
from maps import STATIC_DIR, STATIC_URL
from maps.base_layers import base_layer
from maps.i18n import language
from maps.page import (
    LANG_COOKIE,
    Bounds,
    MapView,
    content_security_policy,
    render_login_page,
    render_map_page,
)

router = APIRouter(include_in_schema=False)

_static = StaticFiles(directory=STATIC_DIR)
_NO_STORE = {"Cache-Control": "no-store"}
_ASSET_CACHE = "public, max-age=86400"
"""Asset URLs carry the assets' version (maps.page.asset_version), so caching is safe."""


def _page(html: str, csp: str, request: Request, settings: AppSettings) -> HTMLResponse:
    """A page; it also hands out the CSRF token cookie its scripts send back (api.csrf)."""
    response = HTMLResponse(html, headers=_NO_STORE | {"Content-Security-Policy": csp})
    if CSRF_COOKIE not in request.cookies:
        set_csrf_cookie(response, request, settings)
    return response


def _area(conn: Conn, user: User) -> Bounds | None:
    """The extent of the current grids the user may see (None if there are none)."""
    where = scope_where(user, Subject.GRID).add("grid.valid_to IS NULL")
    row = conn.execute(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
        f"FROM (SELECT ST_Extent(grid.geom) AS e FROM grid WHERE {where.sql}) AS area",
        where.params,
    ).fetchone()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/map", status.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    settings: AppSettings,
    next_url: Annotated[str, Query(alias="next", max_length=500)] = "/map",
) -> HTMLResponse:
    lang = language(request.cookies.get(LANG_COOKIE))
    return _page(render_login_page(lang, next_url), content_security_policy(), request, settings)


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, conn: Conn, settings: AppSettings) -> Response:
    token = request.cookies.get(COOKIE_NAME)
    found = session_user(conn, token) if token else None
    if found is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(here, safe='/')}", status.HTTP_303_SEE_OTHER)
    user = found[0]
    base = base_layer(settings)
    view = MapView(
        user=user.as_dict(),
        lang=language(request.cookies.get(LANG_COOKIE) or user.locale),
        base=base,
        bounds=_area(conn, user),
    )
    return _page(render_map_page(view), content_security_policy(base), request, settings)


@router.get(STATIC_URL + "/{path:path}")
async def static_file(path: str, request: Request) -> Response:
    """The map's scripts, styles and vendored libraries (ETag and 304 by StaticFiles)."""
    response = await _static.get_response(path, request.scope)
    if response.status_code == status.HTTP_200_OK:
        response.headers["Cache-Control"] = _ASSET_CACHE
    return response


def _tiles(settings: AppSettings) -> StaticFiles:
    if settings.map_base_layer != "local":
        raise HTTPException(status.HTTP_404_NOT_FOUND, "未启用本地瓦片 (local tiles are off)")
    return StaticFiles(directory=settings.map_tile_dir, check_dir=False)


@router.get("/tiles/{z}/{x}/{y}.{ext}")
async def tile(
    z: int,
    x: int,
    y: int,
    ext: str,
    request: Request,
    tiles: Annotated[StaticFiles, Depends(_tiles)],
) -> Response:
    """A tile of the local tile folder ({z}/{x}/{y}.{ext}); missing tiles answer 404."""
    response = await tiles.get_response(f"{z}/{x}/{y}.{ext}", request.scope)
    if response.status_code == status.HTTP_200_OK:
        response.headers["Cache-Control"] = _ASSET_CACHE
    return response
