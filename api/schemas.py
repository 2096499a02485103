"""Request bodies and the documented shapes of responses (OpenAPI).

Handlers return rows that PostgreSQL already shaped, serialised with orjson; these models
document them and validate what clients send.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="rows matching the filters, over all pages")
    limit: int
    offset: int


class FeatureCollection(BaseModel):
    """GeoJSON (RFC 7946), WGS84 longitude/latitude."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]


# --- auth ---------------------------------------------------------------------------------


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    device: bool = Field(
        default=False,
        description="a phone's long-lived session (field_device_session_days), until logout",
    )


class UserOut(BaseModel):
    id: int
    username: str
    role: Literal["admin", "operator", "grid_worker", "cadre", "planner", "department"]
    scope_level: Literal["district", "street", "community", "grid"] | None
    scope_code: str | None
    worker_id: str | None
    display_name: str
    locale: Literal["zh-CN", "en"]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_at: datetime
    user: UserOut


# --- tasks --------------------------------------------------------------------------------


class TaskOut(BaseModel):
    id: int
    incident_id: int | None
    grid_code: str | None
    community_code: str | None
    assignee_id: str | None
    assignee_name: str | None
    state: str
    state_label_zh: str
    urgency: Literal["urgent", "normal"]
    category: str
    title: str
    description: str | None
    escalation_level: int = Field(
        description="0 grid worker, 1 grid head, 2 community, 3 street/department"
    )
    due_at: datetime | None
    due_estimated: bool = Field(
        description="the deadline needed days past the working calendar (counted by weekday)"
    )
    overdue: bool
    created_at: datetime
    updated_at: datetime
    lon: float | None
    lat: float | None


class TransitionOut(BaseModel):
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    note: str | None
    data: dict[str, Any] | None


class CheckinOut(BaseModel):
    actor: str
    at: datetime
    distance_m: float | None = Field(description="from the incident (or the grid's point)")
    accuracy_m: float | None


class NotificationOut(BaseModel):
    worker_id: str
    worker_name: str
    role: str
    level: int
    notified_at: datetime
    seen_at: datetime | None
    acknowledged_at: datetime | None


class DeliveryOut(BaseModel):
    """One message of the urgent ladder (docs/channels.md)."""

    worker_id: str
    level: int
    step: Literal["instant", "sms", "voice"]
    channel: str
    state: Literal["queued", "sent", "failed", "seen", "acknowledged", "cancelled"]
    attempts: int
    error: str | None
    created_at: datetime
    sent_at: datetime | None
    seen_at: datetime | None
    acknowledged_at: datetime | None


class TaskDetail(TaskOut):
    transitions: list[TransitionOut]
    notifications: list[NotificationOut]
    deliveries: list[DeliveryOut]
    photos: list[str] = Field(description="URLs of the photos reported with the task")
    checkins: list[CheckinOut] = Field(default=[], description="到场签到 by GPS (field app)")


class NoteIn(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class RequiredNoteIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class DispatchIn(NoteIn):
    worker_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    outside_area_reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="管理员派单给任务所在街道以外的网格员时必填, 记入审计 (admin only: why a "
        "worker outside the task's street; audited)",
    )


class EvaluateIn(NoteIn):
    satisfied: bool = Field(description="满意结案; 不满意 → 二次办理 (reopened)")


class EscalateIn(NoteIn):
    level: Literal["grid_head", "community", "street", "department"]
    department: str | None = Field(
        default=None, max_length=100, description="required for level=department, e.g. 消防"
    )


class DuplicateIn(NoteIn):
    duplicate_of: int = Field(gt=0)


# --- people, devices, events ----------------------------------------------------------------


class WorkerOut(BaseModel):
    id: str
    name: str
    role: str
    role_label_zh: str
    department: str | None
    phone: str | None
    community_code: str | None
    street_code: str | None
    active: bool
    grid_codes: list[str]


class ResidentOut(BaseModel):
    id: int
    household_id: int
    name: str
    birth_year: int | None
    id_number: str | None = Field(description="masked: 150***********123X; never the full number")
    phone: str | None


class HouseholdOut(BaseModel):
    id: int
    code: str
    building_id: int
    building_code: str
    building_name: str | None
    community_code: str | None
    unit: int
    room: str
    members: int
    tags: list[str]
    consent: bool
    family_contact_name: str | None
    family_contact_phone: str | None


class HouseholdDetail(HouseholdOut):
    residents: list[ResidentOut]


class EventOut(BaseModel):
    id: int
    event_id: str
    device_id: str
    type: str
    ts: datetime
    received_at: datetime
    grid_code: str | None
    incident_id: int | None
    location_method: str | None
    confidence: float | None
    bearing_deg: float | None
    lon: float | None
    lat: float | None


class IncidentOut(BaseModel):
    id: int
    type: str
    category: str
    severity: Literal["urgent", "normal"]
    status: Literal["open", "closed"]
    grid_code: str | None
    community_code: str | None
    household_id: int | None
    device_ids: list[str]
    event_count: int
    first_seen: datetime
    last_seen: datetime
    uncertainty_m: float | None
    location_method: str | None
    lon: float | None
    lat: float | None


class IncidentDetail(IncidentOut):
    task_ids: list[int]


# --- Open311 GeoReport v2 -------------------------------------------------------------------


class Open311Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class Open311Token(BaseModel):
    service_request_id: str
    token: str


class Open311Request(BaseModel):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str | None
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str | None
    lat: float | None
    long: float | None
