"""The contract's documents cannot drift from its models: committed JSON Schemas equal the
export, and every JSON example in docs/mqtt-contract.md passes both the model and the schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from gis.contract import (
    json_schemas,
    parse_device_message,
    parse_device_topic,
    parse_task_message,
    render_schema,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"
SCHEMA_DIR = DOCS / "schemas" / "v1"
EXAMPLE = re.compile(r"^Topic: `([^`]+)`\s*\n\s*```json\n(.*?)\n```", re.MULTILINE | re.DOTALL)


def _examples() -> list[tuple[str, str]]:
    return EXAMPLE.findall((DOCS / "mqtt-contract.md").read_text(encoding="utf-8"))


def _schema_file(topic: str) -> str:
    if topic.endswith("/tasks"):
        return "task.json"
    return {"events": "event.json", "telemetry": "telemetry.json", "status": "status.json"}[
        parse_device_topic(topic)[1]
    ]


def test_committed_schemas_equal_the_export() -> None:
    exported = json_schemas()
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.json")) == sorted(exported)
    for name, schema in exported.items():
        assert (SCHEMA_DIR / name).read_text(encoding="utf-8") == render_schema(schema), (
            f"{name} is stale: run `wangge contract export-schemas`"
        )


def test_docs_show_an_example_of_every_message_type() -> None:
    types = {json.loads(body)["type"] for _, body in _examples()}
    assert types >= {
        "fire.smoke",
        "fire.flame",
        "meter.water.no_usage",
        "meter.power.no_usage",
        "door.exit",
        "telemetry.water",
        "telemetry.power",
        "status",
    }
    assert any(topic.endswith("/tasks") for topic, _ in _examples())


@pytest.mark.parametrize(("topic", "body"), _examples(), ids=lambda v: v[:40])
def test_docs_example_passes_model_and_json_schema(topic: str, body: str) -> None:
    schema = json.loads((SCHEMA_DIR / _schema_file(topic)).read_text(encoding="utf-8"))
    jsonschema.validate(
        json.loads(body), schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    if topic.endswith("/tasks"):
        parse_task_message(body.encode())
    else:
        parse_device_message(topic, body.encode())
