"""The MQTT contract, version 1, as pydantic models — the one source of docs/schemas/v1/.

Devices publish to ``wangge/v1/devices/{device_id}/{events|telemetry|status}``; the platform
publishes work orders to ``wangge/v1/workers/{worker_id}/tasks``. Every model forbids
unknown fields and non-finite numbers and only accepts timezone-aware RFC 3339 times.

An ingest worker calls :func:`parse_device_message` on every message it receives; a
:class:`ContractViolation` carries the short ``reason`` to store in the dead-letter table.
docs/mqtt-contract.md explains the rules in prose; ``wangge contract export-schemas``
writes the JSON Schemas from these models.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from gis.models import TASK_STATES

SCHEMA_VERSION = "1.0"
TOPIC_ROOT = "wangge/v1"
MAX_PAYLOAD_BYTES = 16 * 1024
MAX_CLOCK_AHEAD = timedelta(minutes=5)
"""How far a device clock may run ahead of the platform's before a message is refused."""

IDENTITY_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_IDENTITY = re.compile(IDENTITY_PATTERN)
Channel = Literal["events", "telemetry", "status"]
CHANNELS: tuple[Channel, ...] = ("events", "telemetry", "status")

Identity = Annotated[str, StringConstraints(pattern=IDENTITY_PATTERN)]
Reference = Annotated[str, StringConstraints(pattern=r"^\S{1,64}$")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="WGS84 longitude, degrees")]
Latitude = Annotated[float, Field(ge=-90, le=90, description="WGS84 latitude, degrees")]
Seconds = Annotated[int, Field(ge=0, le=10 * 365 * 86400)]


def _not_in_future(ts: datetime) -> datetime:
    if ts > datetime.now(UTC) + MAX_CLOCK_AHEAD:
        raise ValueError(f"timestamp is more than {MAX_CLOCK_AHEAD} in the future")
    return ts


Timestamp = Annotated[
    AwareDatetime,
    AfterValidator(_not_in_future),
    Field(description="RFC 3339 with offset; at most 5 minutes ahead of the platform clock"),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class _DeviceMessage(_Strict):
    schema_version: Literal["1.0"]
    event_id: UUID = Field(description="unique per message; the idempotency key")
    device_id: Identity = Field(description="must equal the device id in the topic")
    ts: Timestamp


class WaterReadings(_Strict):
    """A water meter's register and, if it measures it, the current flow."""

    total_m3: float = Field(ge=0, le=1e7, description="cumulative register, cubic metres")
    flow_l_per_h: float | None = Field(
        default=None, ge=0, le=1e5, description="current flow, litres per hour"
    )


class PowerReadings(_Strict):
    """An electricity meter's register and, if it measures it, the current load."""

    total_kwh: float = Field(ge=0, le=1e8, description="cumulative register, kWh")
    power_w: float | None = Field(default=None, ge=0, le=1e6, description="current load, watts")


# --- events -------------------------------------------------------------------------------


class FireEvent(_DeviceMessage):
    """A camera saw smoke or flame. Towers report a bearing; roof cameras may add a position."""

    type: Literal["fire.smoke", "fire.flame"]
    confidence: float = Field(ge=0, le=1, description="detector score, 0..1")
    bearing_deg: float | None = Field(
        default=None, ge=0, lt=360, description="from the camera, clockwise from true north"
    )
    distance_m: float | None = Field(
        default=None, gt=0, le=50_000, description="estimated distance along bearing_deg"
    )
    lon: Longitude | None = None
    lat: Latitude | None = None
    accuracy_m: float | None = Field(
        default=None, gt=0, le=50_000, description="radius of the position's uncertainty"
    )

    @model_validator(mode="after")
    def _consistent_location(self) -> FireEvent:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lon and lat come together or not at all")
        if self.accuracy_m is not None and self.lon is None:
            raise ValueError("accuracy_m needs lon/lat")
        if self.distance_m is not None and self.bearing_deg is None:
            raise ValueError("distance_m needs bearing_deg")
        return self


class _MeterAnomaly(_DeviceMessage):
    since: AwareDatetime = Field(description="when the condition began (device clock)")
    duration_s: Seconds = Field(description="how long the condition has lasted at ts")
    threshold_s: Seconds = Field(description="the household's normal the device compared with")

    @model_validator(mode="after")
    def _since_before_ts(self) -> _MeterAnomaly:
        if self.since > self.ts:
            raise ValueError("since is after ts")
        return self


class WaterAnomalyEvent(_MeterAnomaly):
    """Edge-detected: sent once when no use (or unbroken flow) exceeds the household normal."""

    type: Literal["meter.water.no_usage", "meter.water.continuous_flow"]
    readings: WaterReadings


class PowerAnomalyEvent(_MeterAnomaly):
    """Edge-detected: sent once when no use beyond standby exceeds the household normal."""

    type: Literal["meter.power.no_usage"]
    readings: PowerReadings


class DoorEvent(_DeviceMessage):
    """Someone passed an access-control door; references only, never names or ID numbers."""

    type: Literal["door.entry", "door.exit"]
    household_ref: Reference = Field(description="household code the credential belongs to")
    resident_ref: Reference | None = Field(
        default=None, description="opaque credential holder reference (card or face id)"
    )
    method: Literal["card", "face", "pin", "qr", "remote"]


DeviceEvent = Annotated[
    FireEvent | WaterAnomalyEvent | PowerAnomalyEvent | DoorEvent, Field(discriminator="type")
]
EVENT_TYPES: tuple[str, ...] = (
    "fire.smoke",
    "fire.flame",
    "meter.water.no_usage",
    "meter.water.continuous_flow",
    "meter.power.no_usage",
    "door.entry",
    "door.exit",
)

# --- telemetry and status -----------------------------------------------------------------


class WaterTelemetry(_DeviceMessage):
    type: Literal["telemetry.water"]
    interval_s: int = Field(gt=0, le=86400, description="reporting period; next one due after")
    readings: WaterReadings


class PowerTelemetry(_DeviceMessage):
    type: Literal["telemetry.power"]
    interval_s: int = Field(gt=0, le=86400, description="reporting period; next one due after")
    readings: PowerReadings


Telemetry = Annotated[WaterTelemetry | PowerTelemetry, Field(discriminator="type")]


class Status(_DeviceMessage):
    """Retained on …/status: online at connect and as heartbeat, offline as last will."""

    type: Literal["status"]
    state: Literal["online", "offline"]
    reason: Literal["connected", "heartbeat", "shutdown", "last_will"]
    heartbeat_s: int | None = Field(default=None, gt=0, le=86400)
    firmware: str | None = Field(default=None, max_length=64)
    uptime_s: Seconds | None = None
    buffered: int | None = Field(default=None, ge=0, description="messages waiting in buffer")
    dropped: int | None = Field(default=None, ge=0, description="dropped from a full buffer")

    @model_validator(mode="after")
    def _state_matches_reason(self) -> Status:
        offline = self.reason in ("shutdown", "last_will")
        if offline != (self.state == "offline"):
            raise ValueError(f"reason {self.reason} does not go with state {self.state}")
        return self


DeviceMessage = (
    FireEvent
    | WaterAnomalyEvent
    | PowerAnomalyEvent
    | DoorEvent
    | WaterTelemetry
    | PowerTelemetry
    | Status
)

# --- platform -> worker ------------------------------------------------------------------


class LocalizedText(_Strict):
    zh: str = Field(min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)


class TaskLocation(_Strict):
    """Where to go, how the platform knows it, and how sure it is."""

    lon: Longitude
    lat: Latitude
    method: Literal[
        "reported", "device", "bearing_intersection", "bearing_range", "bearing_only", "household"
    ]
    uncertainty_m: float = Field(ge=0, le=100_000, description="radius, metres")
    address: str | None = Field(default=None, max_length=200, description="address, Chinese")


class TaskLinks(_Strict):
    task: str = Field(max_length=500, description="the work order in the web app")
    map: str | None = Field(default=None, max_length=500, description="the live map, centred")


class TaskMessage(_Strict):
    """One push about a work order to one worker (QoS 1, not retained)."""

    schema_version: Literal["1.0"]
    message_id: UUID = Field(description="unique per push; apps drop repeats")
    ts: AwareDatetime
    action: Literal["assigned", "escalated", "reminder", "updated", "cancelled"]
    task_id: int = Field(gt=0)
    incident_id: int | None = Field(default=None, gt=0)
    type: str = Field(pattern=r"^[a-z]+(\.[a-z_]+)*$", description="incident type, e.g. fire.smoke")
    category: str = Field(min_length=1, max_length=64)
    state: Literal[TASK_STATES]
    urgency: Literal["urgent", "normal"]
    title: LocalizedText
    description: LocalizedText | None = None
    location: TaskLocation | None = None
    grid_code: str | None = Field(default=None, pattern=r"^[0-9]{15}$")
    community_code: str | None = Field(default=None, pattern=r"^[0-9]{12}$")
    due_at: AwareDatetime | None = Field(default=None, description="deadline")
    escalation_level: int = Field(
        ge=0, le=3, description="0 grid worker, 1 grid head, 2 community, 3 street/department"
    )
    links: TaskLinks


# --- topics and parsing -------------------------------------------------------------------

_EVENTS = TypeAdapter(DeviceEvent)
_TELEMETRY = TypeAdapter(Telemetry)
_STATUS = TypeAdapter(Status)
_TASK = TypeAdapter(TaskMessage)
_BY_CHANNEL: dict[str, TypeAdapter] = {
    "events": _EVENTS,
    "telemetry": _TELEMETRY,
    "status": _STATUS,
}


def device_topic(device_id: str, channel: Channel) -> str:
    return f"{TOPIC_ROOT}/devices/{device_id}/{channel}"


def worker_tasks_topic(worker_id: str) -> str:
    return f"{TOPIC_ROOT}/workers/{worker_id}/tasks"


def device_subscription(share_group: str | None = None) -> str:
    """The filter an ingest worker subscribes to; with a group, an MQTT 5 shared one."""
    topic = f"{TOPIC_ROOT}/devices/+/+"
    return f"$share/{share_group}/{topic}" if share_group else topic


class ContractViolation(ValueError):
    """A message the contract refuses; ``reason`` is the dead-letter reason code."""

    REASONS = (
        "too_large",
        "unknown_topic",
        "bad_json",
        "unsupported_version",
        "unknown_type",
        "invalid",
        "device_mismatch",
        "unknown_device",  # raised by ingest: not registered, or disabled
    )

    def __init__(self, reason: str, detail: str, device_id: str | None = None):
        if reason not in self.REASONS:
            raise ValueError(f"not a dead-letter reason of the contract: {reason}")
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.device_id = device_id


def parse_device_topic(topic: str) -> tuple[str, Channel]:
    """(device_id, channel) of a device topic, or ContractViolation("unknown_topic")."""
    parts = topic.split("/")
    if (
        len(parts) != 5
        or "/".join(parts[:3]) != f"{TOPIC_ROOT}/devices"
        or parts[4] not in CHANNELS
        or not _IDENTITY.fullmatch(parts[3])
    ):
        raise ContractViolation("unknown_topic", topic)
    return parts[3], parts[4]  # type: ignore[return-value]


def _reason(error: ValidationError) -> str:
    for item in error.errors():
        if item["type"] == "json_invalid":
            return "bad_json"
        if item["loc"][-1:] == ("schema_version",):
            return "unsupported_version"
        if item["type"] == "union_tag_invalid" or item["loc"][-1:] == ("type",):
            return "unknown_type"
    return "invalid"


def _validate(adapter: TypeAdapter, payload: bytes, device_id: str | None) -> Any:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractViolation("too_large", f"{len(payload)} bytes", device_id)
    try:
        return adapter.validate_json(payload)
    except ValidationError as error:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()
        )
        raise ContractViolation(_reason(error), detail[:2000], device_id) from error


def parse_device_message(topic: str, payload: bytes) -> DeviceMessage:
    """Validate one device message against its topic; raise ContractViolation if refused."""
    device_id, channel = parse_device_topic(topic)
    message = _validate(_BY_CHANNEL[channel], payload, device_id)
    if message.device_id != device_id:
        raise ContractViolation(
            "device_mismatch", f"payload says {message.device_id}, topic {device_id}", device_id
        )
    return message


def parse_task_message(payload: bytes) -> TaskMessage:
    return _validate(_TASK, payload, None)


# --- JSON Schema export -------------------------------------------------------------------

SCHEMA_FILES: dict[str, tuple[TypeAdapter, str]] = {
    "event.json": (_EVENTS, "Device event on wangge/v1/devices/{device_id}/events"),
    "telemetry.json": (_TELEMETRY, "Meter telemetry on wangge/v1/devices/{device_id}/telemetry"),
    "status.json": (_STATUS, "Device status on wangge/v1/devices/{device_id}/status (retained)"),
    "task.json": (_TASK, "Work-order push on wangge/v1/workers/{worker_id}/tasks"),
}


def json_schemas() -> dict[str, dict]:
    """File name -> JSON Schema (draft 2020-12) of every message of the contract."""
    schemas = {}
    for name, (adapter, title) in SCHEMA_FILES.items():
        body = adapter.json_schema()
        schemas[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"Wangge MQTT contract v{SCHEMA_VERSION}: {title}",
            **{k: v for k, v in body.items() if k != "title"},
        }
    return schemas


def render_schema(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def export_schemas(out_dir: Path) -> list[Path]:
    """Write every schema to out_dir (docs/schemas/v1 in the repository)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = out_dir / name
        path.write_text(render_schema(schema), encoding="utf-8")
        written.append(path)
    return written
