"""Cross-site request forgery: cookie sessions must prove a request came from our pages.

A browser attaches the HttpOnly session cookie to any request to us, even one a hostile
page makes it send. So every state-changing request (POST, PUT, PATCH, DELETE) that rides
on the session cookie — and the form login, whose forgery would log a victim in as the
attacker — must pass two checks:

1. its ``Origin`` (or, if absent, the origin of its ``Referer``) is one of ours: the
   origin the request was addressed to, ``api_public_url``'s, or ``api_allowed_origins``;
2. it carries the double-submit token: the value of the ``wangge_csrf`` cookie (readable by
   our scripts, not HttpOnly) in the ``X-CSRF-Token`` header or the ``csrf_token`` form
   field. Another site can make the browser send the cookie but cannot read it.

Bearer-token requests are exempt: browsers never add an Authorization header on their own.
A JSON login needs no token (no browser sends JSON cross-site without a CORS preflight,
which this API never grants); a form login with neither Origin, Referer nor any cookie is
a script, not a browser (every current browser sends Origin on a cross-site POST), and
passes.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response, status

from api.deps import COOKIE_NAME
from api.proxy import own_origin, secure_cookies
from gis.settings import Settings

CSRF_COOKIE = "wangge_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_PATH = "/api/auth/login"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def request_origin(request: Request) -> str | None:
    """Where the request says it comes from: Origin, else the Referer's origin."""
    origin = request.headers.get("origin")  # "null" (sandboxed, file:) is never ours
    if origin:
        return origin
    referer = request.headers.get("referer")
    return _origin_of(referer) if referer else None


def allowed_origins(request: Request, settings: Settings) -> set[str]:
    configured = [settings.api_public_url, *settings.api_allowed_origins]
    return {own_origin(request, settings)} | {
        origin for origin in map(_origin_of, configured) if origin
    }


def _refused(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, f"跨站请求被拒绝 (CSRF check failed: {reason})")


async def _submitted_token(request: Request) -> str | None:
    token = request.headers.get(CSRF_HEADER)
    if token:
        return token
    if request.headers.get("content-type", "").startswith(_FORMS):
        value = (await request.form()).get(CSRF_FIELD)  # parsed once, shared with the route
        return value if isinstance(value, str) else None
    return None


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: refuses (403) forged state-changing cookie-session requests."""
    if request.method not in UNSAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    form_login = False
    if request.url.path == LOGIN_PATH:
        # A JSON login cannot be sent cross-site without a CORS preflight we never grant.
        if request.headers.get("content-type", "").startswith("application/json"):
            return
        form_login = True
    elif COOKIE_NAME not in request.cookies:
        return  # no ambient credential to abuse: the route answers 401 if it needs one
    origin = request_origin(request)
    if form_login and origin is None and not request.cookies:
        return
    settings: Settings = request.app.state.settings
    if origin is None:
        raise _refused("no Origin or Referer")
    if origin not in allowed_origins(request, settings):
        raise _refused(f"origin {origin} is not this site")
    cookie = request.cookies.get(CSRF_COOKIE)
    token = await _submitted_token(request)
    if not cookie or not token or not hmac.compare_digest(cookie, token):
        raise _refused(f"{CSRF_HEADER} header or {CSRF_FIELD} field must match the csrf cookie")


def set_csrf_cookie(response: Response, request: Request, settings: Settings) -> None:
    """A fresh token in the script-readable csrf cookie."""
    token = secrets.token_urlsafe(32)
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=int(settings.api_token_hours * 3600),
        httponly=False,
        samesite="strict",
        secure=secure_cookies(request, settings),
        path="/",
    )
