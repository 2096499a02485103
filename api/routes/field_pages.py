"""The field app's shell: /m/ (the page), /m/sw.js (its service worker) and
/m/manifest.webmanifest. None needs a session: the app logs in by itself and keeps its
token on the phone, so the same cached shell opens for anyone, even offline."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import AppSettings
from api.responses import OrjsonResponse
from maps.base_layers import base_layer
from maps.field import FIELD_URL, manifest, render_field_page, render_service_worker
from maps.i18n import language
from maps.page import LANG_COOKIE, content_security_policy

router = APIRouter(include_in_schema=False)

_REVALIDATE = {"Cache-Control": "no-cache"}
"""The service worker keeps its own copy; the browser's HTTP cache must always ask."""


@router.get("/m")
def field_root() -> RedirectResponse:
    return RedirectResponse(FIELD_URL, status.HTTP_308_PERMANENT_REDIRECT)


@router.get(FIELD_URL, response_class=HTMLResponse)
def field_page(request: Request, settings: AppSettings) -> HTMLResponse:
    base = base_layer(settings)
    html = render_field_page(
        language(request.cookies.get(LANG_COOKIE)),
        base,
        settings.field_upload_chunk_max_bytes,
        settings.field_outbox_retry_s,
    )
    return HTMLResponse(
        html, headers=_REVALIDATE | {"Content-Security-Policy": content_security_policy(base)}
    )


@router.get(FIELD_URL + "sw.js")
def service_worker(settings: AppSettings) -> Response:
    """The worker runs under the CSP of its own script's response: the page's same-origin
    policy, so it may fetch and cache the shell (the API's default allows nothing)."""
    csp = content_security_policy(base_layer(settings))
    return Response(
        render_service_worker(),
        media_type="text/javascript",
        headers=_REVALIDATE | {"Content-Security-Policy": csp},
    )


@router.get(FIELD_URL + "manifest.webmanifest")
def web_manifest(request: Request) -> Response:
    return OrjsonResponse(
        manifest(language(request.cookies.get(LANG_COOKIE))),
        media_type="application/manifest+json",
    )
