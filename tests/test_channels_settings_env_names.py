"""The channel settings are sections (settings.aliyun.access_key_id …) but keep their flat
environment names (WANGGE_ALIYUN_ACCESS_KEY_ID), the ones docs/channels.md lists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from gis.settings import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "channels.md"
SECTIONS = {
    name: field.annotation
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
}


def _env_names() -> list[tuple[str, str, str]]:
    """(environment name, section, field) for every field of every channel section."""
    return [
        (f"WANGGE_{section}_{field}".upper(), section, field)
        for section, model in SECTIONS.items()
        for field in model.model_fields
    ]


def _documented_names() -> set[str]:
    """The names in the docs' Settings paragraph, where "WANGGE_WECOM_BASE_URL, _CORP_ID"
    stands for WANGGE_WECOM_BASE_URL and WANGGE_WECOM_CORP_ID."""
    paragraph = DOCS.read_text(encoding="utf-8").split("## Settings", 1)[1].split("\n## ")[0]
    prefixes = sorted((f"WANGGE_{section.upper()}" for section in SECTIONS), key=len)
    names: set[str] = set()
    prefix = ""
    for token in re.findall(r"(?<![A-Z_])(WANGGE_[A-Z_]+|_[A-Z_]+)", paragraph):
        if token.startswith("WANGGE_"):
            matching = [p for p in prefixes if token.startswith(p + "_")]
            prefix = matching[-1] if matching else ""
            names.add(token)
        elif prefix:
            names.add(prefix + token)
    return names


def test_every_channel_section_has_channels_in_it():
    assert set(SECTIONS) == {"wecom", "dingtalk", "aliyun", "tencent", "web_push"}


@pytest.mark.parametrize(("env_name", "section", "field"), _env_names())
def test_a_flat_environment_name_sets_its_section_field(
    monkeypatch: pytest.MonkeyPatch, env_name: str, section: str, field: str
):
    default = getattr(getattr(Settings(), section), field)
    value: object = {str: "from-env", int: 7, float: 7.5, list: ["a", "b"]}[type(default)]
    raw = '["a", "b"]' if isinstance(value, list) else str(value)
    monkeypatch.setenv(env_name, raw)
    assert getattr(getattr(Settings(), section), field) == value


def test_the_docs_list_every_channel_environment_name():
    assert {name for name, _, _ in _env_names()} <= _documented_names()
