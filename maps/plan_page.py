"""The planners' editor page (/plan): an HTML shell like the live map's, its configuration
as inline JSON, its script maps/static/js/plan-editor.js (docs/planning.md)."""

from __future__ import annotations

from maps.i18n import strings
from maps.page import LANG_COOKIE, render, template


def render_plan_page(lang: str, user: dict, plan_id: int | None, communities: list[dict]) -> str:
    """``communities``: ``{code, name}`` the planner may propose for."""
    config = {
        "lang": lang,
        "i18n": strings(),
        "user": user,
        "plan_id": plan_id,
        "communities": communities,
        "lang_cookie": LANG_COOKIE,
    }
    return render(template("plan.html"), lang, config)
