"""The map and login pages: HTML shells with their configuration as inline JSON.

No inline script runs (the configuration is a ``type="application/json"`` block), so the
pages work under a strict same-origin Content Security Policy: the browser itself refuses
any script, style, font or data request to another host. Only a configured online base
layer's tile hosts are allowed, for images.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache

import orjson

from gis.deadlines import DEADLINES
from gis.models import TASK_STATES
from gis.workorders import OPEN_STATES
from maps import PACKAGE_DIR, STATIC_DIR, STATIC_URL
from maps.base_layers import BaseLayer
from maps.i18n import strings, text
from maps.workflow import DESK_ROLES, action_table

TEMPLATES = PACKAGE_DIR / "templates"
LANG_COOKIE = "wangge_lang"
"""Set by the page's language toggle, so the next page is rendered in that language."""
Bounds = tuple[float, float, float, float]

_TOKEN = re.compile(r"\{\{(\w+)(?::([\w.]+))?\}\}")


@dataclass(frozen=True)
class MapView:
    """Everything the map page needs besides the data it fetches itself."""

    user: dict
    lang: str
    base: BaseLayer
    bounds: Bounds | None
    """The user's area (min lon, min lat, max lon, max lat) to open on, if it has grids."""
    buildings_min_zoom: int = 16


@cache
def template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def asset_version() -> str:
    """Changes whenever a static file changes: appended to asset URLs so browsers may cache
    them for long without ever running a stale mix of scripts."""
    newest = max(path.stat().st_mtime_ns for path in STATIC_DIR.rglob("*") if path.is_file())
    return format(newest // 1_000_000, "x")


def _json_block(value: object) -> str:
    # "<" escaped: the JSON can never close its <script> element.
    return orjson.dumps(value).decode().replace("<", "\\u003c")


def render(source: str, lang: str, config: dict, script: str = "") -> str:
    values = {
        "script": script,
        "lang": lang,
        "static": STATIC_URL,
        "version": asset_version(),
        "config": _json_block(config),
    }

    def fill(match: re.Match) -> str:
        name, key = match.groups()
        if name == "t":
            return html.escape(text(key, lang))
        return values[name] if name == "config" else html.escape(values[name])

    return _TOKEN.sub(fill, source)


def render_map_page(view: MapView) -> str:
    config = {
        "lang": view.lang,
        "i18n": strings(),
        "user": view.user,
        "base": view.base.as_config(),
        "bounds": view.bounds,
        "task_states": TASK_STATES,
        "open_states": sorted(OPEN_STATES),
        "categories": sorted(DEADLINES),
        "desk_roles": DESK_ROLES,
        "actions": action_table(),
        "buildings_min_zoom": view.buildings_min_zoom,
        "lang_cookie": LANG_COOKIE,
    }
    return render(template("map.html"), view.lang, config)


def render_login_page(lang: str, next_url: str) -> str:
    config = {"lang": lang, "i18n": strings(), "next": next_url, "lang_cookie": LANG_COOKIE}
    return render(template("login.html"), lang, config)


def render_report_page(
    lang: str, base: BaseLayer, bounds: Bounds | None, services: list[dict], form_token: str
) -> str:
    """The residents' report page (/report): ``services`` are ``{code, zh, en}``;
    ``form_token`` is checked on submission (signed time the page was served)."""
    config = {
        "lang": lang,
        "i18n": strings(),
        "base": base.as_config(),
        "bounds": bounds,
        "services": services,
        "form_token": form_token,
        "lang_cookie": LANG_COOKIE,
    }
    return render(template("report.html"), lang, config, "report")


def render_follow_page(lang: str, token: str) -> str:
    """The reporter's follow-up page; its script reads the task by ``token``."""
    config = {"lang": lang, "i18n": strings(), "token": token, "lang_cookie": LANG_COOKIE}
    return render(template("report.html"), lang, config, "follow")


def content_security_policy(base: BaseLayer | None = None) -> str:
    """Same origin only; images may also come from the base layer's tile hosts."""
    images = " ".join(["'self'", "data:", "blob:", *(base.hosts() if base else [])])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; "
        f"img-src {images}; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
