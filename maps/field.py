"""The field app (/m/) for grid workers and cadres: its HTML shell, service worker and
web-app manifest.

The shell is the same for everyone (the phone keeps its login token in IndexedDB, not in
the page), so the service worker can cache it and open the app without a network. The
service worker is rendered with the list of shell files and the assets' version: any
change of a static file gives a new worker, which replaces the cache.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from gis.deadlines import DEADLINES
from gis.models import HOUSEHOLD_SPECIAL_GROUPS, VISIT_OUTCOMES
from gis.workorders import OPEN_STATES
from maps import STATIC_DIR, STATIC_URL
from maps.base_layers import BaseLayer
from maps.i18n import strings, text
from maps.page import LANG_COOKIE, TEMPLATES, asset_version, render, template
from maps.workflow import DESK_ROLES, action_table

FIELD_URL = "/m/"
_IMPORT = re.compile(r"""^import\s.*?from\s+'(\.{1,2}/[\w/.-]+\.js)';""", re.M | re.S)
JS_DIR = STATIC_DIR / "js"
ENTRY = JS_DIR / "field" / "app.js"


def module_closure(entry: Path) -> list[Path]:
    """``entry`` and every module it imports, directly or not (relative imports only)."""
    seen: set[Path] = set()
    todo = [entry.resolve()]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for target in _IMPORT.findall(module.read_text(encoding="utf-8")):
            todo.append((module.parent / target).resolve())
    return sorted(seen)


SHELL_SCRIPTS = tuple(
    f"{STATIC_URL}/js/{path.relative_to(JS_DIR).as_posix()}" for path in module_closure(ENTRY)
)
"""The app's modules: what app.js imports, followed to the end."""
SHELL_ASSETS = (
    f"{STATIC_URL}/vendor/leaflet/leaflet.js",
    f"{STATIC_URL}/vendor/leaflet/leaflet.css",
    f"{STATIC_URL}/css/field.css",
    f"{STATIC_URL}/img/field-icon.svg",
)


def render_field_page(
    lang: str, base: BaseLayer, upload_chunk_bytes: int, outbox_retry_s: float
) -> str:
    config = {
        "lang": lang,
        "i18n": strings(),
        "base": base.as_config(),
        "bounds": None,
        "open_states": sorted(OPEN_STATES),
        "categories": sorted(DEADLINES),
        "lang_cookie": LANG_COOKIE,
        "upload_chunk_bytes": upload_chunk_bytes,
        "outbox_retry_ms": int(outbox_retry_s * 1000),
        "visit_outcomes": list(VISIT_OUTCOMES),
        "special_groups": list(HOUSEHOLD_SPECIAL_GROUPS),
        "actions": action_table(),
        "desk_roles": DESK_ROLES,
    }
    return render(template("field.html"), lang, config)


def shell_urls() -> list[str]:
    """What the service worker caches on install: the page and its versioned files."""
    version = asset_version()
    return [FIELD_URL, *(f"{url}?v={version}" for url in (*SHELL_ASSETS, *SHELL_SCRIPTS))]


def render_service_worker() -> str:
    source = (TEMPLATES / "field-sw.js").read_text(encoding="utf-8")
    return source.replace("__VERSION__", orjson.dumps(asset_version()).decode()).replace(
        "__SHELL__", orjson.dumps(shell_urls()).decode()
    )


def manifest(lang: str) -> dict:
    """The web-app manifest: installable on the home screen, opening full screen on /m/."""
    return {
        "name": text("field.app_name", lang),
        "short_name": text("field.short_name", lang),
        "lang": lang,
        "start_url": FIELD_URL,
        "scope": FIELD_URL,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#1d2733",
        "theme_color": "#1d2733",
        "icons": [
            {
                "src": f"{STATIC_URL}/img/field-icon.svg",
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "any maskable",
            }
        ],
    }
