"""The UI strings of the map and login pages: one table (static/i18n.json), Chinese first.

Chinese names of work-order states and task categories come from gis.workorders and
gis.deadlines, so the map and the API always name them alike; the table holds their
English names.
"""

from __future__ import annotations

import json
from functools import cache

from gis.deadlines import DEADLINES
from gis.workorders import STATE_LABELS_ZH
from maps import STATIC_DIR

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
I18N_PATH = STATIC_DIR / "i18n.json"


@cache
def strings() -> dict[str, dict[str, str]]:
    """``{language: {key: text}}`` with the Chinese state and category names merged in."""
    table = json.loads(I18N_PATH.read_text(encoding="utf-8"))
    table[DEFAULT_LANGUAGE] |= {f"state.{s}": label for s, label in STATE_LABELS_ZH.items()}
    table[DEFAULT_LANGUAGE] |= {f"category.{c}": d.label_zh for c, d in DEADLINES.items()}
    return table


def language(requested: str | None) -> str:
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE


def text(key: str, lang: str) -> str:
    """The text of ``key`` in ``lang``, falling back to Chinese, then to the key itself."""
    table = strings()
    return table[language(lang)].get(key) or table[DEFAULT_LANGUAGE].get(key) or key
