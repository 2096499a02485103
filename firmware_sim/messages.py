"""Payloads of the MQTT contract v1 (gis.contract), built as firmware builds them
(docs/mqtt-contract.md)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from gis.contract import SCHEMA_VERSION

Message = dict[str, Any]


def now() -> datetime:
    return datetime.now(UTC)


def encode(message: Message) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def _envelope(device_id: str, type_: str, ts: datetime) -> Message:
    return {
        "schema_version": SCHEMA_VERSION,
        "event_id": str(uuid.uuid4()),
        "device_id": device_id,
        "type": type_,
        "ts": ts.isoformat(timespec="milliseconds"),
    }


def fire(
    device_id: str,
    ts: datetime,
    kind: Literal["fire.smoke", "fire.flame"],
    confidence: float,
    bearing_deg: float | None = None,
    distance_m: float | None = None,
    position: tuple[float, float] | None = None,
    accuracy_m: float | None = None,
) -> Message:
    message = _envelope(device_id, kind, ts) | {"confidence": round(confidence, 3)}
    if bearing_deg is not None:
        message["bearing_deg"] = round(bearing_deg, 1) % 360.0
    if distance_m is not None:
        message["distance_m"] = round(distance_m)
    if position is not None:
        message["lon"], message["lat"] = round(position[0], 6), round(position[1], 6)
        message["accuracy_m"] = accuracy_m
    return message


def water_readings(total_m3: float, flow_l_per_h: float) -> Message:
    return {"total_m3": round(total_m3, 4), "flow_l_per_h": round(flow_l_per_h, 1)}


def power_readings(total_kwh: float, power_w: float) -> Message:
    return {"total_kwh": round(total_kwh, 3), "power_w": round(power_w, 1)}


def telemetry(
    device_id: str, ts: datetime, water: bool, interval_s: int, readings: Message
) -> Message:
    type_ = "telemetry.water" if water else "telemetry.power"
    return _envelope(device_id, type_, ts) | {"interval_s": interval_s, "readings": readings}


def meter_anomaly(
    device_id: str,
    ts: datetime,
    type_: str,
    since: datetime,
    threshold_s: float,
    readings: Message,
) -> Message:
    return _envelope(device_id, type_, ts) | {
        "since": since.isoformat(timespec="milliseconds"),
        "duration_s": int((ts - since).total_seconds()),
        "threshold_s": int(threshold_s),
        "readings": readings,
    }


def door(
    device_id: str,
    ts: datetime,
    direction: Literal["door.entry", "door.exit"],
    household_ref: str,
    resident_ref: str | None = None,
    method: str = "card",
) -> Message:
    message = _envelope(device_id, direction, ts) | {"household_ref": household_ref}
    if resident_ref:
        message["resident_ref"] = resident_ref
    return message | {"method": method}


def status(
    device_id: str,
    ts: datetime,
    reason: Literal["connected", "heartbeat", "shutdown", "last_will"],
    **details: Any,
) -> Message:
    state = "offline" if reason in ("shutdown", "last_will") else "online"
    return _envelope(device_id, "status", ts) | {"state": state, "reason": reason} | details
