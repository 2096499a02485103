"""What the contract refuses, and the dead-letter reason it gives."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gis.contract import (
    MAX_PAYLOAD_BYTES,
    ContractViolation,
    FireEvent,
    Status,
    WaterAnomalyEvent,
    parse_device_message,
)

TOPIC = "wangge/v1/devices/cam-1/events"


def _now(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def _fire(**changes) -> dict:
    message = {
        "schema_version": "1.0",
        "event_id": str(uuid.uuid4()),
        "device_id": "cam-1",
        "type": "fire.smoke",
        "ts": _now(),
        "confidence": 0.8,
        "bearing_deg": 10.0,
    }
    message.update(changes)
    return {k: v for k, v in message.items() if v is not ...}


def _parse(message: dict | bytes, topic: str = TOPIC):
    payload = message if isinstance(message, bytes) else json.dumps(message).encode()
    return parse_device_message(topic, payload)


def _reason(message: dict | bytes, topic: str = TOPIC) -> str:
    with pytest.raises(ContractViolation) as refused:
        _parse(message, topic)
    return refused.value.reason


def test_contract_accepts_integers_nulls_and_utc_z() -> None:
    event = _parse(
        _fire(confidence=1, bearing_deg=0, lon=None, lat=None, ts="2026-01-01T00:00:00Z")
    )
    assert isinstance(event, FireEvent)
    assert event.confidence == 1.0 and event.ts.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"schema_version": "2.0"}, "unsupported_version"),
        ({"type": "fire.sparks"}, "unknown_type"),
        ({"device_id": "cam-2"}, "device_mismatch"),
        ({"extra": 1}, "invalid"),
        ({"confidence": 1.01}, "invalid"),
        ({"confidence": "0.8"}, "invalid"),
        ({"bearing_deg": 360}, "invalid"),
        ({"bearing_deg": -0.5}, "invalid"),
        ({"lon": 181, "lat": 40}, "invalid"),
        ({"lon": 109.8, "lat": -90.5}, "invalid"),
        ({"lon": 109.8}, "invalid"),
        ({"accuracy_m": 10}, "invalid"),
        ({"bearing_deg": ..., "distance_m": 100}, "invalid"),
        ({"ts": "2026-01-01T00:00:00"}, "invalid"),
        ({"ts": _now(timedelta(days=1))}, "invalid"),  # far ahead even if collected long before
        ({"event_id": "not-a-uuid"}, "invalid"),
        ({"event_id": ...}, "invalid"),
    ],
)
def test_contract_refuses_bad_fire_event(changes: dict, reason: str) -> None:
    assert _reason(_fire(**changes)) == reason


def test_contract_allows_a_clock_slightly_ahead() -> None:
    assert _parse(_fire(ts=_now(timedelta(minutes=4))))


def test_contract_refuses_non_finite_numbers_and_non_json() -> None:
    assert _reason(json.dumps(_fire()).replace("0.8", "NaN").encode()) == "invalid"
    assert _reason(json.dumps(_fire()).replace("0.8", "Infinity").encode()) == "invalid"
    assert _reason(b"\xff\xfe not json") == "bad_json"


def test_contract_refuses_oversized_payload_and_unknown_topics() -> None:
    padded = json.dumps(_fire()).encode() + b" " * MAX_PAYLOAD_BYTES
    assert _reason(padded) == "too_large"
    for topic in (
        "wangge/v1/devices/cam-1/commands",
        "wangge/v2/devices/cam-1/events",
        "wangge/v1/devices/cam 1/events",
        "wangge/v1/devices/cam-1/events/x",
    ):
        assert _reason(_fire(), topic) == "unknown_topic"


def test_contract_routes_messages_by_topic_channel() -> None:
    assert _reason(_fire(), "wangge/v1/devices/cam-1/status") == "unknown_type"
    status = {
        "schema_version": "1.0",
        "event_id": str(uuid.uuid4()),
        "device_id": "cam-1",
        "type": "status",
        "ts": _now(),
        "state": "offline",
        "reason": "last_will",
    }
    assert isinstance(_parse(status, "wangge/v1/devices/cam-1/status"), Status)
    assert _reason({**status, "state": "online"}, "wangge/v1/devices/cam-1/status") == "invalid"


def test_contract_meter_anomaly_must_start_before_it_is_reported() -> None:
    anomaly = {
        "schema_version": "1.0",
        "event_id": str(uuid.uuid4()),
        "device_id": "cam-1",
        "type": "meter.water.no_usage",
        "ts": _now(),
        "since": _now(timedelta(hours=-15)),
        "duration_s": 54000,
        "threshold_s": 43200,
        "readings": {"total_m3": 12.5},
    }
    assert isinstance(_parse(anomaly), WaterAnomalyEvent)
    assert _reason({**anomaly, "since": _now(timedelta(minutes=1))}) == "invalid"
    assert _reason({**anomaly, "readings": {"total_kwh": 1.0}}) == "invalid"
