"""The Wangge data model as SQLAlchemy/GeoAlchemy2 tables (SRID 4326, WGS84).

The database enforces what it can of the field's standards: code formats, valid geometry,
one current version per grid code, the work-order states. Alembic migrations in
``gis/migrations`` create and evolve it.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION, JSONB, ExcludeConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 4326

WORKER_ROLES = ("full_time", "part_time", "department", "grid_head", "cadre", "duty_desk")
"""专职 / 兼职 / 部门 / 网格长 / 村(社区)干部 / 社区值班台."""
WORKER_ROLE_LABELS_ZH = {
    "full_time": "专职网格员",
    "part_time": "兼职网格员",
    "department": "部门人员",
    "grid_head": "网格长",
    "cadre": "村(社区)干部",
    "duty_desk": "社区值班台",
}
DEVICE_KINDS = ("camera", "water_meter", "electricity_meter", "door")
TASK_STATES = (
    "reported",
    "filed",
    "dispatched",
    "accepted",
    "in_progress",
    "handled",
    "evaluating",
    "closed",
    "returned",
    "escalated",
    "reopened",
    "invalid",
    "duplicate",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    pass


def _geom(kind: str, nullable: bool = False) -> Mapped:
    return mapped_column(Geometry(kind, srid=SRID, spatial_index=True), nullable=nullable)


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class District(Base):
    """区/县/旗, GB/T 2260 6-digit code."""

    __tablename__ = "district"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{6}$'", name="district_code_format"),
        CheckConstraint("ST_IsValid(geom)", name="district_geom_valid"),
    )
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    city_name: Mapped[str | None] = mapped_column(Text)
    geom = _geom("MULTIPOLYGON")
    source: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()


class Street(Base):
    """街道/乡镇, 12-digit statistical code (9 significant digits + 000)."""

    __tablename__ = "street"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{9}000$'", name="street_code_format"),
        CheckConstraint("left(code, 6) = district_code", name="street_in_district"),
        CheckConstraint("geom IS NULL OR ST_IsValid(geom)", name="street_geom_valid"),
    )
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    geom = _geom("MULTIPOLYGON", nullable=True)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()


class Community(Base):
    """社区/村: 12 digits = 6 district + 3 street + 3 community."""

    __tablename__ = "community"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{12}$'", name="community_code_format"),
        CheckConstraint("left(code, 9) = left(street_code, 9)", name="community_in_street"),
        CheckConstraint("kind IN ('社区', '村')", name="community_kind"),
        CheckConstraint("ST_IsValid(geom)", name="community_geom_valid"),
    )
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False, server_default="社区")
    geom = _geom("MULTIPOLYGON")
    source: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()


class Grid(Base):
    """网格, versioned: a code has at most one version valid at any moment."""

    __tablename__ = "grid"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{15}$'", name="grid_code_format"),
        CheckConstraint("left(code, 12) = community_code", name="grid_in_community_code"),
        CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="grid_geom_valid"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="grid_validity_order"),
        CheckConstraint("household_target > 0", name="grid_target_positive"),
        ExcludeConstraint(
            ("code", "="),
            (text("tstzrange(valid_from, valid_to, '[)')"), "&&"),
            name="grid_one_version_at_a_time",
            using="gist",
        ),
        Index("grid_current_code", "code", unique=True, postgresql_where=text("valid_to IS NULL")),
        Index("grid_community", "community_code"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(15), nullable=False)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    geom = _geom("MULTIPOLYGON")
    household_target: Mapped[int] = mapped_column(Integer, nullable=False, server_default="450")
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    source: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()


grid_raster = Table(
    "grid_raster",
    Base.metadata,
    Column("x0", DOUBLE_PRECISION, nullable=False),
    Column("y0", DOUBLE_PRECISION, nullable=False),
    Column("dx", DOUBLE_PRECISION, CheckConstraint("dx > 0"), nullable=False),
    Column("dy", DOUBLE_PRECISION, CheckConstraint("dy > 0"), nullable=False),
    Column("nx", Integer, CheckConstraint("nx > 0"), nullable=False),
    Column("ny", Integer, CheckConstraint("ny > 0"), nullable=False),
    Column("valid_since", DateTime(timezone=True), nullable=False),
    Index("grid_raster_one_row", text("(true)"), unique=True),
)
"""The one row describing the cell raster of current grids (migration 0004)."""

grid_cell = Table(
    "grid_cell",
    Base.metadata,
    Column("cell", BigInteger, nullable=False),
    Column("grid_id", BigInteger, nullable=False),
    Column("grid_code", String(15), nullable=False),
    Column("covers", Boolean, nullable=False),
)
"""Raster cells of current grids: which grid covers (or touches) each cell; kept by a
statement trigger on grid and read by the PostGIS spatial join (gis/spatial_join)."""


class Building(Base):
    """楼栋: footprint, floors, units, households."""

    __tablename__ = "building"
    __table_args__ = (
        CheckConstraint("ST_IsValid(geom)", name="building_geom_valid"),
        CheckConstraint("floors IS NULL OR floors > 0", name="building_floors_positive"),
        CheckConstraint("units IS NULL OR units > 0", name="building_units_positive"),
        CheckConstraint("households >= 0", name="building_households_nonnegative"),
        Index("building_community", "community_code"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    community_code: Mapped[str | None] = mapped_column(ForeignKey("community.code"))
    name: Mapped[str | None] = mapped_column(Text)
    geom = _geom("MULTIPOLYGON")
    floors: Mapped[int | None] = mapped_column(Integer)
    units: Mapped[int | None] = mapped_column(Integer)
    households: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    height_m: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()


class Road(Base):
    """道路: a road or railway line, the planner's preferred cut line (``class`` is the OSM
    ``highway``/``railway`` value; Chinese classes are stored as their OSM equivalent)."""

    __tablename__ = "road"
    __table_args__ = (CheckConstraint("ST_IsValid(geom)", name="road_geom_valid"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    """The file's id (OSM ``@id``/``osm_id``…), else a digest of the line: a reload upserts."""
    road_class: Mapped[str] = mapped_column("class", Text, nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    tunnel: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    geom = _geom("MULTILINESTRING")
    source: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()


class Household(Base):
    """户: building/unit/room, members, tags such as 独居老人."""

    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("building_id", "unit", "room", name="household_address_unique"),
        CheckConstraint("members >= 0", name="household_members_nonnegative"),
        Index("household_tags", "tags", postgresql_using="gin"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    building_id: Mapped[int] = mapped_column(
        ForeignKey("building.id", ondelete="CASCADE"), nullable=False, index=True
    )
    unit: Mapped[int] = mapped_column(Integer, nullable=False)
    room: Mapped[str] = mapped_column(String(16), nullable=False)
    members: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    consent: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    family_contact_name: Mapped[str | None] = mapped_column(Text)
    family_contact_phone: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, nullable=False)


class Resident(Base):
    """居民: minimal PII. The full ID number is never stored: only a mask and a keyed hash."""

    __tablename__ = "resident"
    __table_args__ = (
        CheckConstraint(
            "id_number_masked IS NULL OR id_number_masked ~ '^[0-9]{3}\\*+[0-9Xx]{3,4}$'",
            name="resident_id_number_masked_only",
        ),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    id_number_masked: Mapped[str | None] = mapped_column(String(18))
    id_number_hmac: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, nullable=False)


class Worker(Base):
    """网格员 and everyone else who receives tasks; ``id`` is also the MQTT identity."""

    __tablename__ = "worker"
    __table_args__ = (
        CheckConstraint(_in("role", WORKER_ROLES), name="worker_role"),
        CheckConstraint("id ~ '^[A-Za-z0-9_-]{1,64}$'", name="worker_id_format"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False)
    department: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    community_code: Mapped[str | None] = mapped_column(ForeignKey("community.code"))
    street_code: Mapped[str | None] = mapped_column(ForeignKey("street.code"))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    source: Mapped[str] = mapped_column(Text, nullable=False)


class GridAssignment(Base):
    """Worker ↔ grid code, with role and validity (survives grid versions)."""

    __tablename__ = "grid_assignment"
    __table_args__ = (
        CheckConstraint(_in("role", WORKER_ROLES), name="grid_assignment_role"),
        CheckConstraint("grid_code ~ '^[0-9]{15}$'", name="grid_assignment_code_format"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="assignment_order"),
        Index("grid_assignment_grid", "grid_code", "role"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("worker.id"), nullable=False, index=True)
    grid_code: Mapped[str] = mapped_column(String(15), nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Device(Base):
    """Camera, meter or door controller; its owner grid is derived spatially."""

    __tablename__ = "device"
    __table_args__ = (
        CheckConstraint(_in("kind", DEVICE_KINDS), name="device_kind"),
        CheckConstraint("id ~ '^[A-Za-z0-9_-]{1,64}$'", name="device_id_format"),
        CheckConstraint("ST_IsValid(geom)", name="device_geom_valid"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    model: Mapped[str | None] = mapped_column(Text)
    geom = _geom("POINT")
    height_m: Mapped[float | None] = mapped_column(Float)
    range_m: Mapped[float | None] = mapped_column(Float)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    online: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(Text, nullable=False)


class Incident(Base):
    """Merged events of one situation. An open merge_key is unique, so concurrent workers
    that see the same situation converge on one row (INSERT … ON CONFLICT)."""

    __tablename__ = "incident"
    __table_args__ = (
        CheckConstraint("severity IN ('urgent', 'normal')", name="incident_severity"),
        CheckConstraint("status IN ('open', 'closed')", name="incident_status"),
        Index(
            "incident_open_merge_key",
            "merge_key",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(Text, nullable=False)
    category: Mapped[str] = mapped_column(Text, nullable=False)
    severity: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="open")
    merge_key: Mapped[str] = mapped_column(Text, nullable=False)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    community_code: Mapped[str | None] = mapped_column(String(12))
    geom = _geom("POINT", nullable=True)
    uncertainty_m: Mapped[float | None] = mapped_column(Float)
    location_method: Mapped[str | None] = mapped_column(Text)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    device_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    event_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = _created()


class Event(Base):
    """One device message, stored once per ``event_id`` (the idempotency key)."""

    __tablename__ = "event"
    __table_args__ = (Index("event_ts", "ts"), Index("event_device_ts", "device_id", "ts"))
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("device.id"), nullable=False)
    type: Mapped[str] = mapped_column(Text, nullable=False)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    received_at: Mapped[datetime] = _created()
    geom = _geom("POINT", nullable=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    location_method: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    bearing_deg: Mapped[float | None] = mapped_column(Float)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)


class Task(Base):
    """Work order (工单), states after GB/T 30428 and 12345 practice."""

    __tablename__ = "task"
    __table_args__ = (
        CheckConstraint(_in("state", TASK_STATES), name="task_state"),
        CheckConstraint("urgency IN ('urgent', 'normal')", name="task_urgency"),
        Index("task_state_grid", "state", "grid_code"),
        Index("task_newest", text("created_at DESC"), text("id DESC")),
        Index(
            "task_next_escalation",
            "next_escalation_at",
            postgresql_where=text("next_escalation_at IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    community_code: Mapped[str | None] = mapped_column(String(12))
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("worker.id"), index=True)
    state: Mapped[str] = mapped_column(Text, nullable=False, server_default="reported")
    urgency: Mapped[str] = mapped_column(Text, nullable=False, server_default="normal")
    category: Mapped[str] = mapped_column(Text, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    title_en: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    location_method: Mapped[str | None] = mapped_column(Text)
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_escalation_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_estimated: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    """The deadline needed days past the working calendar's coverage (gis.work_calendar)."""
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()


class TaskTransition(Base):
    """Every state change of a task: who, when, why."""

    __tablename__ = "task_transition"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), nullable=False, index=True
    )
    from_state: Mapped[str | None] = mapped_column(Text)
    to_state: Mapped[str] = mapped_column(Text, nullable=False)
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    at: Mapped[datetime] = _created()
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSONB)


class DeadLetter(Base):
    """A message the platform could not accept, kept with its raw bytes and the reason."""

    __tablename__ = "dead_letter"
    __table_args__ = (Index("dead_letter_reason", "reason", "received_at"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_at: Mapped[datetime] = _created()
    topic: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    detail: Mapped[str | None] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(Text)


class Outbox(Base):
    """Messages to send after a commit (MQTT pushes, SMS/WeCom webhooks).

    Written in the same transaction as the task it announces, sent afterwards and marked
    sent, so a crash between commit and push delays a push but never loses it.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("channel IN ('mqtt', 'sms', 'webhook')", name="outbox_channel"),
        Index("outbox_unsent", "id", postgresql_where=text("sent_at IS NULL")),
        Index("outbox_task", "task_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel: Mapped[str] = mapped_column(Text, nullable=False)
    target: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = _created()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)


class TaskNotification(Base):
    """Who was told about a task, at which escalation level, and whether they acknowledged."""

    __tablename__ = "task_notification"
    __table_args__ = (
        UniqueConstraint("task_id", "worker_id", "level", name="task_notification_once"),
        Index(
            "task_notification_open",
            "notified_at",
            postgresql_where=text("acknowledged_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), nullable=False, index=True
    )
    worker_id: Mapped[str] = mapped_column(ForeignKey("worker.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(Text, nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    notified_at: Mapped[datetime] = _created()
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The app's receipt (POST /api/tasks/{id}/seen): stops the ladder's SMS step."""


DELIVERY_STATES = ("queued", "sent", "failed", "seen", "acknowledged", "cancelled")
LADDER_STEPS = ("instant", "sms", "voice")


class Delivery(Base):
    """One message × recipient × channel of the urgent ladder, with its receipt."""

    __tablename__ = "delivery"
    __table_args__ = (
        CheckConstraint(_in("state", DELIVERY_STATES), name="delivery_state"),
        CheckConstraint(_in("step", LADDER_STEPS), name="delivery_step"),
        UniqueConstraint("task_id", "worker_id", "level", "step", "channel", name="delivery_once"),
        Index("delivery_due", "next_attempt_at", postgresql_where=text("state = 'queued'")),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), nullable=False)
    worker_id: Mapped[str] = mapped_column(ForeignKey("worker.id"), nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    step: Mapped[str] = mapped_column(Text, nullable=False)
    channel: Mapped[str] = mapped_column(Text, nullable=False)
    address: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text, nullable=False, server_default="queued")
    provider_id: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    next_attempt_at: Mapped[datetime] = _created()
    first_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ResidentReport(Base):
    """A resident's report (居民随手拍 / Open311 POST) behind its task. The follow-up token
    is kept only as its SHA-256; email and phone are for the desk's call back only."""

    __tablename__ = "resident_report"
    __table_args__ = (
        Index("resident_report_address", "client_address", "created_at"),
        Index(
            "resident_report_phone",
            "phone",
            "created_at",
            postgresql_where=text("phone IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    token_hash: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    service_code: Mapped[str] = mapped_column(Text, nullable=False)
    address_string: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    client_address: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()


class HouseholdActivity(Base):
    """Last signs of life of a household (door exit, water and power use) for the watchdogs."""

    __tablename__ = "household_activity"
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), primary_key=True
    )
    last_exit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_entry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_water_use_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_power_use_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _created()


class AuditLog(Base):
    """Every state change and every read of resident records: who, what, when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("audit_log_subject", "subject_type", "subject_id"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = _created()
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    action: Mapped[str] = mapped_column(Text, nullable=False)
    subject_type: Mapped[str] = mapped_column(Text, nullable=False)
    subject_id: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict | None] = mapped_column(JSONB)


APP_ROLES = ("admin", "operator", "grid_worker", "cadre", "planner", "department")
"""管理员 / 指挥中心值班员 / 网格员 / 村(社区)干部 / 规划员 / 部门人员 (API logins)."""
SCOPE_LEVELS = ("district", "street", "community", "grid")


class AppUser(Base):
    """A person who logs in to the API. Role and scope decide what every query may return:
    operators see a district, street or community; cadres their community; grid workers
    and department staff act through their ``worker_id``."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("username ~ '^[A-Za-z0-9_.@-]{2,64}$'", name="app_user_username_format"),
        CheckConstraint(_in("role", APP_ROLES), name="app_user_role"),
        CheckConstraint("locale IN ('zh-CN', 'en')", name="app_user_locale"),
        # coalesce(…, false): a CHECK that comes out NULL would let the row through.
        CheckConstraint(
            "coalesce(CASE scope_level"
            " WHEN 'district' THEN scope_code ~ '^[0-9]{6}$'"
            " WHEN 'street' THEN scope_code ~ '^[0-9]{9}000$'"
            " WHEN 'community' THEN scope_code ~ '^[0-9]{12}$'"
            " WHEN 'grid' THEN scope_code ~ '^[0-9]{15}$'"
            " ELSE scope_level IS NULL AND scope_code IS NULL END, false)",
            name="app_user_scope_code_matches_level",
        ),
        CheckConstraint(
            "role <> 'operator' OR coalesce(scope_level IN ('district', 'street', 'community'), false)",
            name="app_user_operator_scoped",
        ),
        CheckConstraint(
            "role <> 'cadre' OR coalesce(scope_level = 'community', false)",
            name="app_user_cadre_scoped",
        ),
        CheckConstraint(
            "role NOT IN ('grid_worker', 'department') OR worker_id IS NOT NULL",
            name="app_user_worker_linked",
        ),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False)
    scope_level: Mapped[str | None] = mapped_column(Text)
    scope_code: Mapped[str | None] = mapped_column(String(15))
    worker_id: Mapped[str | None] = mapped_column(ForeignKey("worker.id"), index=True)
    display_name: Mapped[str] = mapped_column(Text, nullable=False)
    locale: Mapped[str] = mapped_column(Text, nullable=False, server_default="zh-CN")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    created_at: Mapped[datetime] = _created()


class AppSession(Base):
    """A login session. Only the SHA-256 of the opaque bearer token is stored."""

    __tablename__ = "app_session"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, index=True
    )


class LoginThrottle(Base):
    """Failed logins of one account (``account:<username>``) or client address
    (``address:<ip>``) and until when it is locked; shared by every API process."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    last_failure_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, index=True
    )
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TaskReminder(Base):
    """When the assignee of an open task was last reminded, so a sweep never repeats itself."""

    __tablename__ = "task_reminder"
    task_id: Mapped[int] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), primary_key=True
    )
    last_reminded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reminders: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")


class IdempotencyKey(Base):
    """The first response to a state-changing request, per user and client-made key.

    Claimed in the request's own transaction, so a retry (the field app's outbox resends
    after a broken link) is answered from here instead of acting twice.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (Index("idempotency_key_expires", "expires_at"),)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_type: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)


class Upload(Base):
    """A resumable upload (a photo from the field app): how many of its bytes arrived."""

    __tablename__ = "upload"
    __table_args__ = (
        CheckConstraint("received >= 0 AND received <= size", name="upload_received_in_size"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    received: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    extension: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _created()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TaskCheckin(Base):
    """An on-site check-in by GPS, with its distance to the task's incident."""

    __tablename__ = "task_checkin"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), nullable=False, index=True
    )
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    worker_id: Mapped[str | None] = mapped_column(ForeignKey("worker.id"))
    at: Mapped[datetime] = _created()
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)


class PushSubscription(Base):
    """A field-app device session's Web Push subscription (PushManager.subscribe): the
    urgent ladder's web_push step goes to a worker's newest one. One per session, gone
    with the session (logout, revocation, expiry) or when the push service reports it
    gone (404/410: ingest.delivery_sender deletes it)."""

    __tablename__ = "push_subscription"
    __table_args__ = (Index("push_subscription_worker", "worker_id", "created_at"),)
    session_sha256: Mapped[str] = mapped_column(
        ForeignKey("app_session.token_sha256", ondelete="CASCADE"), primary_key=True
    )
    worker_id: Mapped[str] = mapped_column(
        ForeignKey("worker.id", ondelete="CASCADE"), nullable=False
    )
    endpoint: Mapped[str] = mapped_column(Text, nullable=False)
    p256dh: Mapped[str] = mapped_column(Text, nullable=False)
    auth: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()


HOUSEHOLD_SPECIAL_GROUPS = ("独居老人", "低保", "残疾", "退役军人")
"""Household tags of the special groups a grid worker's 网格包 counts and lists first."""
VISIT_OUTCOMES = ("ok", "needs_help", "not_home")
"""走访 outcomes: 正常 / 需帮扶 / 不在家."""


class HouseholdVisit(Base):
    """走访: a grid worker's visit to a household of their grid."""

    __tablename__ = "household_visit"
    __table_args__ = (
        CheckConstraint(_in("outcome", VISIT_OUTCOMES), name="household_visit_outcome"),
        Index("household_visit_recent", "household_id", "at"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), nullable=False
    )
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    worker_id: Mapped[str | None] = mapped_column(ForeignKey("worker.id"))
    at: Mapped[datetime] = _created()
    outcome: Mapped[str] = mapped_column(Text, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)


PLAN_STATUSES = ("draft", "applied", "superseded")


class GridPlan(Base):
    """A planner's new grids for one community: a draft until applied as grid versions
    (gis.redistrict_apply); a later applied plan supersedes it (roll forward, no undo)."""

    __tablename__ = "grid_plan"
    __table_args__ = (
        CheckConstraint(_in("status", PLAN_STATUSES), name="grid_plan_status"),
        CheckConstraint(
            "0 < target_min AND target_min <= target AND target <= target_max",
            name="grid_plan_targets_order",
        ),
        Index("grid_plan_community", "community_code", "status"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="draft")
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()
    target_min: Mapped[int] = mapped_column(Integer, nullable=False, server_default="300")
    target_max: Mapped[int] = mapped_column(Integer, nullable=False, server_default="500")
    target: Mapped[int] = mapped_column(Integer, nullable=False, server_default="450")
    params: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    metrics: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    applied_valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    applied_by: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    """Optimistic concurrency: a write names the version it read, and bumps it."""


class GridPlanGrid(Base):
    """One grid polygon of a plan; ``assignments`` ([{worker_id, role}]) override the
    automatic ones (workers follow the grid that takes most of their old households)."""

    __tablename__ = "grid_plan_grid"
    __table_args__ = (CheckConstraint("code ~ '^[0-9]{15}$'", name="grid_plan_grid_code_format"),)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("grid_plan.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)
    households: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    buildings: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    assignments: Mapped[list | None] = mapped_column(JSONB)


class GridPlanBuilding(Base):
    """Each building's grid in a plan (the editor's unit of change), and whether it is locked."""

    __tablename__ = "grid_plan_building"
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("grid_plan.id", ondelete="CASCADE"), primary_key=True
    )
    building_id: Mapped[int] = mapped_column(
        ForeignKey("building.id", ondelete="CASCADE"), primary_key=True
    )
    grid_code: Mapped[str] = mapped_column(String(15), nullable=False)
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")


WATCH_SIGNALS = ("water", "power", "door")
WATCH_NOTICE_STATES = ("queued", "sent", "failed", "cancelled")
WATCH_OUTCOMES = ("all_well", "needed_help", "away", "device_fault")
"""What the worker found on a visit: 一切正常 / 需要帮助 / 外出 / 设备故障."""


class WatchEnrolment(Base):
    """A household in the elderly watch (智慧养老): consent, watch settings, known absence."""

    __tablename__ = "watch_enrolment"
    __table_args__ = (
        CheckConstraint(
            "signals <@ ARRAY['water', 'power', 'door']::text[]", name="watch_enrolment_signals"
        ),
        CheckConstraint(
            "quiet_from IS NULL OR quiet_from BETWEEN 0 AND 23", name="watch_enrolment_quiet_from"
        ),
        CheckConstraint(
            "quiet_until IS NULL OR quiet_until BETWEEN 0 AND 23",
            name="watch_enrolment_quiet_until",
        ),
        Index(
            "watch_enrolment_door",
            "door_device_id",
            postgresql_where=text("door_device_id IS NOT NULL"),
        ),
    )
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), primary_key=True
    )
    consent_by: Mapped[str] = mapped_column(Text, nullable=False)
    """Who consented (the resident, or their guardian by name)."""
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    signals: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{water,power,door}'")
    )
    routines: Mapped[str | None] = mapped_column(Text)
    """Known routines in words (每周二去女儿家), for the worker."""
    quiet_from: Mapped[int | None] = mapped_column(SmallInteger)
    quiet_until: Mapped[int | None] = mapped_column(SmallInteger)
    door_device_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("device.id", ondelete="SET NULL")
    )
    """The door controller of the household's entrance: its heartbeats say it is alive."""
    away_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    away_reason: Mapped[str | None] = mapped_column(Text)
    away_set_by: Mapped[str | None] = mapped_column(Text)
    enrolled_by: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()


class WatchContact(Base):
    """A family contact of a watched household, told first (gis.channels)."""

    __tablename__ = "watch_contact"
    __table_args__ = (Index("watch_contact_household", "household_id"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("watch_enrolment.household_id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    phone: Mapped[str] = mapped_column(Text, nullable=False)
    relation: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text, nullable=False, server_default="sms")
    created_at: Mapped[datetime] = _created()


watch_hour = Table(
    "watch_hour",
    Base.metadata,
    Column("household_id", BigInteger, primary_key=True),
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("water_l", Float, nullable=False, server_default="0"),
    Column("water_reports", Integer, nullable=False, server_default="0"),
    Column("energy_wh", Float, nullable=False, server_default="0"),
    Column("power_s", Float, nullable=False, server_default="0"),
    Column("power_reports", Integer, nullable=False, server_default="0"),
    Column("door_exits", Integer, nullable=False, server_default="0"),
    Column("door_entries", Integer, nullable=False, server_default="0"),
    Column("door_reports", Integer, nullable=False, server_default="0"),
    postgresql_partition_by="RANGE (hour)",
)
"""Hourly rollup per household (partitioned by month, ingest/watch_store.py): mean power
W = energy_wh · 3600 / power_s; a device with 0 reports in the hour sent nothing (NaN)."""


watch_device_hour = Table(
    "watch_device_hour",
    Base.metadata,
    Column("device_id", String(64), primary_key=True),
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("reports", Integer, nullable=False, server_default="0"),
)
"""Heartbeats per door controller and hour (rows past the rollup retention are deleted)."""


class WatchState(Base):
    """Detector state of one enrolled household (ingest.watch STATE_DTYPE record)."""

    __tablename__ = "watch_state"
    __table_args__ = (Index("watch_state_due", "due_hour", "household_id"),)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("watch_enrolment.household_id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[str] = mapped_column(Text, nullable=False)
    due_hour: Mapped[int] = mapped_column(Integer, nullable=False)
    """Epoch hour (UTC) of the next rollup hour to sweep."""
    state: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    updated_at: Mapped[datetime] = _created()


class WatchNotice(Base):
    """A family notice about an open watch case; the family may answer "all fine"."""

    __tablename__ = "watch_notice"
    __table_args__ = (
        CheckConstraint(_in("state", WATCH_NOTICE_STATES), name="watch_notice_state"),
        UniqueConstraint("incident_id", "contact_id", name="watch_notice_once"),
        Index("watch_notice_due", "next_attempt_at", postgresql_where=text("state = 'queued'")),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), nullable=False
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("watch_contact.id", ondelete="CASCADE"), nullable=False
    )
    channel: Mapped[str] = mapped_column(Text, nullable=False)
    address: Mapped[str] = mapped_column(Text, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    token_hash: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    state: Mapped[str] = mapped_column(Text, nullable=False, server_default="queued")
    provider_id: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    next_attempt_at: Mapped[datetime] = _created()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


WATCH_REPLY_OUTCOMES = ("answered", "not_understood", "no_notice")
"""What became of a family's SMS reply: it answered a notice (as its link would), it was
not understood (recorded, shown, no effect), or no notice was open for that number."""


class WatchReply(Base):
    """A family's SMS reply to a notice, as the provider pushed it (Aliyun SmsUp, Tencent
    短信回复), stored once per provider key (providers retry)."""

    __tablename__ = "watch_reply"
    __table_args__ = (
        CheckConstraint(_in("outcome", WATCH_REPLY_OUTCOMES), name="watch_reply_outcome"),
        CheckConstraint(_in("understood", ("fine", "away")), name="watch_reply_understood"),
        UniqueConstraint("provider", "provider_key", name="watch_reply_once"),
        Index("watch_reply_household", "household_id", "received_at"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    provider: Mapped[str] = mapped_column(Text, nullable=False)
    provider_key: Mapped[str] = mapped_column(Text, nullable=False)
    phone: Mapped[str] = mapped_column(Text, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = _created()
    understood: Mapped[str | None] = mapped_column(Text)
    away_days: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(Text, nullable=False)
    notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("watch_notice.id", ondelete="SET NULL")
    )
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("household.id", ondelete="SET NULL")
    )


class WatchOutcome(Base):
    """A visit outcome or a family's answer, waiting for the sweep to feed the detector."""

    __tablename__ = "watch_outcome"
    __table_args__ = (
        CheckConstraint(_in("outcome", WATCH_OUTCOMES), name="watch_outcome_kind"),
        Index("watch_outcome_pending", "household_id", postgresql_where=text("applied_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("watch_enrolment.household_id", ondelete="CASCADE"), nullable=False
    )
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(Text, nullable=False)
    away_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


PLAN_JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")


class PlanJob(Base):
    """A propose job of the API (POST /api/plans/propose): its progress, cancel flag and
    result (the draft plans made); a job open when the API starts again is marked failed."""

    __tablename__ = "plan_job"
    __table_args__ = (
        CheckConstraint(_in("status", PLAN_JOB_STATUSES), name="plan_job_status"),
        Index("plan_job_open", "status"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12), nullable=False)
    """The community (12 digits) or street (9 digits) proposed for."""
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
    params: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="queued")
    stage: Mapped[str] = mapped_column(Text, nullable=False, server_default="queued")
    fraction: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
    result: Mapped[dict | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()
