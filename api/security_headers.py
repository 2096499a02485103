"""Security headers on every response (ASGI middleware), unless a route set its own.

* ``X-Content-Type-Options: nosniff`` — a browser never runs an uploaded file as script;
* ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'`` — no clickjacking;
* ``Referrer-Policy: same-origin`` — task links and codes never leak to other sites (and
  same-origin requests keep the Referer the CSRF check can fall back on);
* ``Content-Security-Policy``: API answers (JSON, GeoJSON, photos) get one that allows
  nothing at all; the map pages send their own strict same-origin policy (maps.page) and
  the API docs a same-origin one that lets their inline page run;
* ``Cache-Control: no-store`` on every /api answer that did not choose its caching:
  households, residents, workers and sessions are personal data and must not sit in a
  shared or browser cache.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.api_docs import DOCS_URL, OAUTH2_REDIRECT_URL

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src blob:; frame-ancestors 'none'"
)
"""Same origin only: nothing is fetched from outside (offline intranets); the machine-readable
API description is /openapi.json."""
DOCS_PATHS = frozenset({DOCS_URL, OAUTH2_REDIRECT_URL})
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                headers.setdefault(
                    "Content-Security-Policy", DOCS_CSP if path in DOCS_PATHS else API_CSP
                )
                if path.startswith("/api/"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)
