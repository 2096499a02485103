"""The interactive API docs at /docs: Swagger UI from the copy vendored in
maps/static/vendor/swagger-ui, never from a CDN.

FastAPI's own /docs page loads Swagger UI from cdn.jsdelivr.net (and /redoc from there and
Google Fonts), which an offline intranet cannot reach and the docs' same-origin CSP
forbids; so those defaults are off and this page is served instead. ReDoc is not served
(it is not vendored); /openapi.json is the machine-readable description.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

from maps import STATIC_URL

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
SWAGGER_UI = f"{STATIC_URL}/vendor/swagger-ui"


def add_api_docs(app: FastAPI) -> None:
    """Serve /docs (and its OAuth2 redirect page) for ``app``'s /openapi.json."""
    openapi_url = app.openapi_url
    assert openapi_url, "the docs need the OpenAPI document"

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — docs",
            swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            # No badge that sends the API description to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
