"""Every UI string of the map exists in Chinese and in English: the keys the scripts and
templates name, and every value the labels are built from (states, roles, device kinds,
actions, base layers …)."""

from __future__ import annotations

import re

import pytest

from gis.deadlines import DEADLINES
from gis.models import APP_ROLES, DEVICE_KINDS, TASK_STATES, VISIT_OUTCOMES, WORKER_ROLES
from gis.settings import Settings
from ingest.rules import RULES
from maps import PACKAGE_DIR, STATIC_DIR
from maps.base_layers import base_layer
from maps.i18n import LANGUAGES, strings
from maps.workflow import UI_ACTIONS

SOURCES = [*(STATIC_DIR / "js").rglob("*.js"), *(PACKAGE_DIR / "templates").glob("*.html")]
LITERAL = re.compile(
    r"""['"`]([a-z_]+\.[a-z_0-9]+)['"`]|\{\{t:([\w.]+)\}\}|data-i18n="([\w.]+)\""""
)

LABEL_FAMILIES = {
    "state": TASK_STATES,
    "role": (*APP_ROLES, *WORKER_ROLES),
    "device": (*DEVICE_KINDS, "online", "offline"),
    "urgency": ("urgent", "normal"),
    "grid": ("urgent", "overdue", "open", "ok"),
    "category": tuple(sorted({rule.category for rule in RULES.values()} | set(DEADLINES))),
    "action": tuple(action.name for action in UI_ACTIONS),
    "level": ("grid_head", "community", "street", "department"),
    "escalation": ("0", "1", "2", "3"),
    "live": ("connecting", "live", "reconnecting", "offline"),
    "filter": ("open", "urgent", "overdue", "done"),
}

FIELD_BUILT_KEYS = {
    *(f"field.outcome_{outcome}" for outcome in VISIT_OUTCOMES),
    *(f"field.dir_{point}" for point in ("n", "ne", "e", "se", "s", "sw", "w", "nw")),
    *(
        f"field.kind_{kind}"
        for kind in ("accept", "start", "report", "checkin", "evaluate", "visit")
    ),
}
"""Keys the field app builds from values (visit outcomes, compass points, outbox kinds)."""


def _named_keys() -> set[str]:
    families = {key.split(".")[0] for key in strings()["zh-CN"]}
    keys = set()
    for path in SOURCES:
        for match in LITERAL.finditer(path.read_text(encoding="utf-8")):
            key = next(group for group in match.groups() if group)
            if key.split(".")[0] in families:
                keys.add(key)
    return keys


def _base_layer_keys() -> set[str]:
    keys = set()
    for kind in ("none", "local", "tianditu", "amap"):
        for key in ("", "k"):
            base = base_layer(Settings(map_base_layer=kind, map_tianditu_key=key))
            keys |= {base.notice, *(source.attribution for source in base.tiles)}
    return keys


@pytest.mark.parametrize("lang", LANGUAGES)
def test_map_every_ui_string_exists(lang: str):
    table = strings()[lang]
    wanted = _named_keys() | _base_layer_keys() | FIELD_BUILT_KEYS
    wanted |= {f"{family}.{value}" for family, values in LABEL_FAMILIES.items() for value in values}
    missing = sorted(key for key in wanted if not table.get(key))
    assert missing == []
    assert len(_named_keys()) > 70  # the scan itself finds the keys


def test_map_languages_have_the_same_keys():
    zh, en = (set(strings()[lang]) for lang in LANGUAGES)
    assert zh == en
