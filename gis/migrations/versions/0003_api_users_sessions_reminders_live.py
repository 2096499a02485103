"""api users, sessions, task reminders; live NOTIFY triggers on task, incident and event

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 21:24:01.832412
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


LIVE_CHANNEL = "wangge_live"
"""The channel the API's single LISTEN connection fans out to Server-Sent Events clients."""

# Payloads stay far below NOTIFY's 8000-byte limit: codes, state and a truncated title.
TASK_NOTIFY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION wangge_notify_task() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    loc geometry;
    open_tasks integer;
    urgent_tasks integer;
BEGIN
    SELECT geom INTO loc FROM incident WHERE id = NEW.incident_id;
    IF NEW.grid_code IS NOT NULL THEN
        SELECT count(*), count(*) FILTER (WHERE urgency = 'urgent')
          INTO open_tasks, urgent_tasks
          FROM task
         WHERE grid_code = NEW.grid_code AND state NOT IN ('closed', 'invalid', 'duplicate');
    END IF;
    PERFORM pg_notify('{LIVE_CHANNEL}', json_build_object(
        'kind', 'task',
        'op', lower(TG_OP),
        'id', NEW.id,
        'grid_code', NEW.grid_code,
        'community_code', coalesce(NEW.community_code, left(NEW.grid_code, 12)),
        'state', NEW.state,
        'previous_state', CASE WHEN TG_OP = 'UPDATE' THEN OLD.state END,
        'urgency', NEW.urgency,
        'category', NEW.category,
        'title', left(NEW.title, 80),
        'assignee_id', NEW.assignee_id,
        'escalation_level', NEW.escalation_level,
        'due_at', NEW.due_at,
        'lon', ST_X(loc),
        'lat', ST_Y(loc),
        'grid_state', CASE WHEN NEW.grid_code IS NOT NULL THEN json_build_object(
            'code', NEW.grid_code, 'open_tasks', open_tasks, 'urgent_tasks', urgent_tasks) END
    )::text);
    RETURN NULL;
END;
$$
"""

INCIDENT_NOTIFY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION wangge_notify_incident() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{LIVE_CHANNEL}', json_build_object(
        'kind', 'incident',
        'op', lower(TG_OP),
        'id', NEW.id,
        'grid_code', NEW.grid_code,
        'community_code', coalesce(NEW.community_code, left(NEW.grid_code, 12)),
        'state', NEW.status,
        'type', NEW.type,
        'category', NEW.category,
        'urgency', NEW.severity,
        'event_count', NEW.event_count,
        'lon', ST_X(NEW.geom),
        'lat', ST_Y(NEW.geom)
    )::text);
    RETURN NULL;
END;
$$
"""

# Statement-level with a transition table: a bulk INSERT pays one trigger call, not one per row.
EVENT_NOTIFY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION wangge_notify_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{LIVE_CHANNEL}', json_build_object(
        'kind', 'event',
        'op', 'insert',
        'id', n.id,
        'grid_code', n.grid_code,
        'community_code', left(n.grid_code, 12),
        'type', n.type,
        'device_id', n.device_id,
        'ts', n.ts,
        'incident_id', n.incident_id,
        'lon', ST_X(n.geom),
        'lat', ST_Y(n.geom)
    )::text)
    FROM new_events AS n;
    RETURN NULL;
END;
$$
"""

LIVE_TRIGGERS = (
    "CREATE TRIGGER task_live AFTER INSERT OR UPDATE ON task "
    "FOR EACH ROW EXECUTE FUNCTION wangge_notify_task()",
    "CREATE TRIGGER incident_live AFTER INSERT OR UPDATE ON incident "
    "FOR EACH ROW EXECUTE FUNCTION wangge_notify_incident()",
    "CREATE TRIGGER event_live AFTER INSERT ON event REFERENCING NEW TABLE AS new_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION wangge_notify_events()",
)


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("scope_level", sa.Text(), nullable=True),
        sa.Column("scope_code", sa.String(length=15), nullable=True),
        sa.Column("worker_id", sa.String(length=64), nullable=True),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("locale", sa.Text(), server_default="zh-CN", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "coalesce(CASE scope_level"
            " WHEN 'district' THEN scope_code ~ '^[0-9]{6}$'"
            " WHEN 'street' THEN scope_code ~ '^[0-9]{9}000$'"
            " WHEN 'community' THEN scope_code ~ '^[0-9]{12}$'"
            " WHEN 'grid' THEN scope_code ~ '^[0-9]{15}$'"
            " ELSE scope_level IS NULL AND scope_code IS NULL END, false)",
            name="app_user_scope_code_matches_level",
        ),
        sa.CheckConstraint("locale IN ('zh-CN', 'en')", name="app_user_locale"),
        sa.CheckConstraint(
            "role <> 'cadre' OR coalesce(scope_level = 'community', false)",
            name="app_user_cadre_scoped",
        ),
        sa.CheckConstraint(
            "role <> 'operator' OR coalesce(scope_level IN ('district', 'street', 'community'), false)",
            name="app_user_operator_scoped",
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'operator', 'grid_worker', 'cadre', 'planner', 'department')",
            name="app_user_role",
        ),
        sa.CheckConstraint(
            "role NOT IN ('grid_worker', 'department') OR worker_id IS NOT NULL",
            name="app_user_worker_linked",
        ),
        sa.CheckConstraint("username ~ '^[A-Za-z0-9_.@-]{2,64}$'", name="app_user_username_format"),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["worker.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_index(op.f("ix_app_user_worker_id"), "app_user", ["worker_id"], unique=False)
    op.create_table(
        "app_session",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_sha256"),
    )
    op.create_index(op.f("ix_app_session_expires_at"), "app_session", ["expires_at"], unique=False)
    op.create_index(op.f("ix_app_session_user_id"), "app_session", ["user_id"], unique=False)
    op.create_table(
        "task_reminder",
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminders", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id"),
    )
    # Live stream: committed changes reach the API's LISTEN connection (see api/live.py).
    for function in (TASK_NOTIFY_FUNCTION, INCIDENT_NOTIFY_FUNCTION, EVENT_NOTIFY_FUNCTION):
        op.execute(function)
    for trigger in LIVE_TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    for table in ("event", "incident", "task"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_live ON {table}")
    for function in ("wangge_notify_events", "wangge_notify_incident", "wangge_notify_task"):
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("task_reminder")
    op.drop_index(op.f("ix_app_session_user_id"), table_name="app_session")
    op.drop_index(op.f("ix_app_session_expires_at"), table_name="app_session")
    op.drop_table("app_session")
    op.drop_index(op.f("ix_app_user_worker_id"), table_name="app_user")
    op.drop_table("app_user")
