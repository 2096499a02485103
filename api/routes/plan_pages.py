"""The planners' editor page (/plan, /plan?plan=ID): like /map it needs a live session
(else /login, then back), is sent with the same-origin Content Security Policy, and is
for planners and admins only."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import COOKIE_NAME, AppSettings, Conn
from api.routes.map_pages import _page
from api.routes.plans import PLANNING_ROLES
from api.scope import Subject, scope_where
from api.sessions import session_user
from maps.i18n import language
from maps.page import LANG_COOKIE, content_security_policy
from maps.plan_page import render_plan_page

router = APIRouter(include_in_schema=False)


@router.get("/plan", response_class=HTMLResponse)
def plan_page(
    request: Request,
    conn: Conn,
    settings: AppSettings,
    plan: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    token = request.cookies.get(COOKIE_NAME)
    found = session_user(conn, token) if token else None
    if found is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(here, safe='/')}", status.HTTP_303_SEE_OTHER)
    user = found[0]
    lang = language(request.cookies.get(LANG_COOKIE) or user.locale)
    if user.role not in PLANNING_ROLES:
        return HTMLResponse(
            "仅规划员和管理员可使用规划编辑器 (only planners and admins use the plan editor)",
            status_code=status.HTTP_403_FORBIDDEN,
        )
    where = scope_where(user, Subject.COMMUNITY)
    communities = [
        {"code": code, "name": name}
        for code, name in conn.execute(
            f"SELECT community.code, community.name FROM community WHERE {where.sql} "
            "ORDER BY community.code",
            where.params,
        ).fetchall()
    ]
    html = render_plan_page(lang, user.as_dict(), plan, communities)
    return _page(html, content_security_policy(), request, settings)
