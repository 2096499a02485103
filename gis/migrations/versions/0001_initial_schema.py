"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 21:19:10.886186
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRID_CHANGED_CHANNEL = "wangge_grid_changed"
GRID_NOTIFY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION wangge_notify_grid_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{GRID_CHANGED_CHANNEL}', TG_OP);
    RETURN NULL;
END;
$$
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("device_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("dead_letter_reason", "dead_letter", ["reason", "received_at"], unique=False)
    op.create_geospatial_table(
        "district",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("city_name", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("code ~ '^[0-9]{6}$'", name="district_code_format"),
        sa.CheckConstraint("ST_IsValid(geom)", name="district_geom_valid"),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_geospatial_index(
        "idx_district_geom",
        "district",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "street",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("code ~ '^[0-9]{9}000$'", name="street_code_format"),
        sa.CheckConstraint("geom IS NULL OR ST_IsValid(geom)", name="street_geom_valid"),
        sa.CheckConstraint("left(code, 6) = district_code", name="street_in_district"),
        sa.ForeignKeyConstraint(
            ["district_code"],
            ["district.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_geospatial_index(
        "idx_street_geom",
        "street",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "community",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("street_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), server_default="社区", nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("code ~ '^[0-9]{12}$'", name="community_code_format"),
        sa.CheckConstraint("kind IN ('社区', '村')", name="community_kind"),
        sa.CheckConstraint("ST_IsValid(geom)", name="community_geom_valid"),
        sa.CheckConstraint("left(code, 9) = left(street_code, 9)", name="community_in_street"),
        sa.ForeignKeyConstraint(
            ["street_code"],
            ["street.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_geospatial_index(
        "idx_community_geom",
        "community",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "building",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("floors", sa.Integer(), nullable=True),
        sa.Column("units", sa.Integer(), nullable=True),
        sa.Column("households", sa.Integer(), server_default="0", nullable=False),
        sa.Column("height_m", sa.Float(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name="building_geom_valid"),
        sa.CheckConstraint("floors IS NULL OR floors > 0", name="building_floors_positive"),
        sa.CheckConstraint("households >= 0", name="building_households_nonnegative"),
        sa.CheckConstraint("units IS NULL OR units > 0", name="building_units_positive"),
        sa.ForeignKeyConstraint(
            ["community_code"],
            ["community.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("building_community", "building", ["community_code"], unique=False)
    op.create_geospatial_index(
        "idx_building_geom",
        "building",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "grid",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("household_target", sa.Integer(), server_default="450", nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        postgresql.ExcludeConstraint(
            (sa.column("code"), "="),
            (sa.text("tstzrange(valid_from, valid_to, '[)')"), "&&"),
            using="gist",
            name="grid_one_version_at_a_time",
        ),
        sa.CheckConstraint("code ~ '^[0-9]{15}$'", name="grid_code_format"),
        sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="grid_geom_valid"),
        sa.CheckConstraint("household_target > 0", name="grid_target_positive"),
        sa.CheckConstraint("left(code, 12) = community_code", name="grid_in_community_code"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="grid_validity_order"),
        sa.ForeignKeyConstraint(
            ["community_code"],
            ["community.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("grid_community", "grid", ["community_code"], unique=False)
    op.create_index(
        "grid_current_code",
        "grid",
        ["code"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_geospatial_index(
        "idx_grid_geom", "grid", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_table(
        "worker",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("street_code", sa.String(length=12), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint("id ~ '^[A-Za-z0-9_-]{1,64}$'", name="worker_id_format"),
        sa.CheckConstraint(
            "role IN ('full_time', 'part_time', 'department', 'grid_head', 'cadre', 'duty_desk')",
            name="worker_role",
        ),
        sa.ForeignKeyConstraint(
            ["community_code"],
            ["community.code"],
        ),
        sa.ForeignKeyConstraint(
            ["street_code"],
            ["street.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "grid_assignment",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("grid_code ~ '^[0-9]{15}$'", name="grid_assignment_code_format"),
        sa.CheckConstraint(
            "role IN ('full_time', 'part_time', 'department', 'grid_head', 'cadre', 'duty_desk')",
            name="grid_assignment_role",
        ),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="assignment_order"),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["worker.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("grid_assignment_grid", "grid_assignment", ["grid_code", "role"], unique=False)
    op.create_index(
        op.f("ix_grid_assignment_worker_id"), "grid_assignment", ["worker_id"], unique=False
    )
    op.create_table(
        "household",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("building_id", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=16), nullable=False),
        sa.Column("members", sa.Integer(), server_default="1", nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("consent", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("family_contact_name", sa.Text(), nullable=True),
        sa.Column("family_contact_phone", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint("members >= 0", name="household_members_nonnegative"),
        sa.ForeignKeyConstraint(["building_id"], ["building.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("building_id", "unit", "room", name="household_address_unique"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("household_tags", "household", ["tags"], unique=False, postgresql_using="gin")
    op.create_index(op.f("ix_household_building_id"), "household", ["building_id"], unique=False)
    op.create_geospatial_table(
        "device",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("height_m", sa.Float(), nullable=True),
        sa.Column("range_m", sa.Float(), nullable=True),
        sa.Column("building_id", sa.BigInteger(), nullable=True),
        sa.Column("household_id", sa.BigInteger(), nullable=True),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("online", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint("id ~ '^[A-Za-z0-9_-]{1,64}$'", name="device_id_format"),
        sa.CheckConstraint(
            "kind IN ('camera', 'water_meter', 'electricity_meter', 'door')", name="device_kind"
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name="device_geom_valid"),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["building.id"],
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_device_geom",
        "device",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_device_building_id"), "device", ["building_id"], unique=False)
    op.create_index(op.f("ix_device_grid_code"), "device", ["grid_code"], unique=False)
    op.create_index(op.f("ix_device_household_id"), "device", ["household_id"], unique=False)
    op.create_geospatial_table(
        "incident",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("merge_key", sa.Text(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("uncertainty_m", sa.Float(), nullable=True),
        sa.Column("location_method", sa.Text(), nullable=True),
        sa.Column("household_id", sa.BigInteger(), nullable=True),
        sa.Column("device_ids", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("event_count", sa.Integer(), server_default="1", nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("severity IN ('urgent', 'normal')", name="incident_severity"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="incident_status"),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_incident_geom",
        "incident",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "incident_open_merge_key",
        "incident",
        ["merge_key"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(op.f("ix_incident_grid_code"), "incident", ["grid_code"], unique=False)
    op.create_table(
        "resident",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("id_number_masked", sa.String(length=18), nullable=True),
        sa.Column("id_number_hmac", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "id_number_masked IS NULL OR id_number_masked ~ '^[0-9]{3}\\*+[0-9Xx]{3,4}$'",
            name="resident_id_number_masked_only",
        ),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("id_number_hmac"),
    )
    op.create_index(op.f("ix_resident_household_id"), "resident", ["household_id"], unique=False)
    op.create_geospatial_table(
        "event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("location_method", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("bearing_deg", sa.Float(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("event_device_ts", "event", ["device_id", "ts"], unique=False)
    op.create_index("event_ts", "event", ["ts"], unique=False)
    op.create_geospatial_index(
        "idx_event_geom",
        "event",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_event_grid_code"), "event", ["grid_code"], unique=False)
    op.create_index(op.f("ix_event_incident_id"), "event", ["incident_id"], unique=False)
    op.create_table(
        "task",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("assignee_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.Text(), server_default="reported", nullable=False),
        sa.Column("urgency", sa.Text(), server_default="normal", nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("location_method", sa.Text(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_escalation_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('reported', 'filed', 'dispatched', 'accepted', 'in_progress', 'handled', 'evaluating', 'closed', 'returned', 'escalated', 'reopened', 'invalid', 'duplicate')",
            name="task_state",
        ),
        sa.CheckConstraint("urgency IN ('urgent', 'normal')", name="task_urgency"),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["worker.id"],
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_task_assignee_id"), "task", ["assignee_id"], unique=False)
    op.create_index(op.f("ix_task_incident_id"), "task", ["incident_id"], unique=False)
    op.create_index(
        "task_next_escalation",
        "task",
        ["next_escalation_at"],
        unique=False,
        postgresql_where=sa.text("next_escalation_at IS NOT NULL"),
    )
    op.create_index("task_state_grid", "task", ["state", "grid_code"], unique=False)
    op.create_table(
        "task_transition",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("from_state", sa.Text(), nullable=True),
        sa.Column("to_state", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_task_transition_task_id"), "task_transition", ["task_id"], unique=False
    )
    # Every change of the grid table tells listeners (the in-memory join caches) to refresh.
    op.execute(GRID_NOTIFY_FUNCTION)
    op.execute(
        "CREATE TRIGGER grid_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grid "
        "FOR EACH STATEMENT EXECUTE FUNCTION wangge_notify_grid_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS grid_changed ON grid")
    op.execute("DROP FUNCTION IF EXISTS wangge_notify_grid_changed()")
    op.drop_index(op.f("ix_task_transition_task_id"), table_name="task_transition")
    op.drop_table("task_transition")
    op.drop_index("task_state_grid", table_name="task")
    op.drop_index(
        "task_next_escalation",
        table_name="task",
        postgresql_where=sa.text("next_escalation_at IS NOT NULL"),
    )
    op.drop_index(op.f("ix_task_incident_id"), table_name="task")
    op.drop_index(op.f("ix_task_assignee_id"), table_name="task")
    op.drop_table("task")
    op.drop_index(op.f("ix_event_incident_id"), table_name="event")
    op.drop_index(op.f("ix_event_grid_code"), table_name="event")
    op.drop_geospatial_index(
        "idx_event_geom", table_name="event", postgresql_using="gist", column_name="geom"
    )
    op.drop_index("event_ts", table_name="event")
    op.drop_index("event_device_ts", table_name="event")
    op.drop_geospatial_table("event")
    op.drop_index(op.f("ix_resident_household_id"), table_name="resident")
    op.drop_table("resident")
    op.drop_index(op.f("ix_incident_grid_code"), table_name="incident")
    op.drop_index(
        "incident_open_merge_key",
        table_name="incident",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_geospatial_index(
        "idx_incident_geom", table_name="incident", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("incident")
    op.drop_index(op.f("ix_device_household_id"), table_name="device")
    op.drop_index(op.f("ix_device_grid_code"), table_name="device")
    op.drop_index(op.f("ix_device_building_id"), table_name="device")
    op.drop_geospatial_index(
        "idx_device_geom", table_name="device", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("device")
    op.drop_index(op.f("ix_household_building_id"), table_name="household")
    op.drop_index("household_tags", table_name="household", postgresql_using="gin")
    op.drop_table("household")
    op.drop_index(op.f("ix_grid_assignment_worker_id"), table_name="grid_assignment")
    op.drop_index("grid_assignment_grid", table_name="grid_assignment")
    op.drop_table("grid_assignment")
    op.drop_table("worker")
    op.drop_geospatial_index(
        "idx_grid_geom", table_name="grid", postgresql_using="gist", column_name="geom"
    )
    op.drop_index(
        "grid_current_code", table_name="grid", postgresql_where=sa.text("valid_to IS NULL")
    )
    op.drop_index("grid_community", table_name="grid")
    op.drop_geospatial_table("grid")
    op.drop_geospatial_index(
        "idx_building_geom", table_name="building", postgresql_using="gist", column_name="geom"
    )
    op.drop_index("building_community", table_name="building")
    op.drop_geospatial_table("building")
    op.drop_geospatial_index(
        "idx_community_geom", table_name="community", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("community")
    op.drop_geospatial_index(
        "idx_street_geom", table_name="street", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("street")
    op.drop_geospatial_index(
        "idx_district_geom", table_name="district", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("district")
    op.drop_index("dead_letter_reason", table_name="dead_letter")
    op.drop_table("dead_letter")
