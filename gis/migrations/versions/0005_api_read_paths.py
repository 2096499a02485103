"""api read paths: task list index and scope statistics; overdue counts and device online
state in the live stream

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 23:00:00.000000

* ``task_newest`` serves the task list (newest first) as an index scan that stops after
  one page, instead of sorting every task of the area.
* ``task_scope_code``: statistics on the scope expression ``coalesce(grid_code,
  community_code)`` (api/scope.py). Without them PostgreSQL guesses that a district
  operator's ``LIKE '150203%'`` keeps 0.5 % of the tasks, and prefers sorting all of them
  to walking ``task_newest``.
* The task trigger's ``grid_state`` gains ``overdue_tasks``, as ``/api/grids`` has it.
* ``device_live``: a device's online state CHANGE (not every heartbeat: the WHEN clause
  keeps last_seen updates silent) reaches the live map.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_CHANNEL = "wangge_live"

TASK_NOTIFY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION wangge_notify_task() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    loc geometry;
    open_tasks integer;
    urgent_tasks integer;
    overdue_tasks integer;
BEGIN
    SELECT geom INTO loc FROM incident WHERE id = NEW.incident_id;
    IF NEW.grid_code IS NOT NULL THEN
        SELECT count(*), count(*) FILTER (WHERE urgency = 'urgent'),
               count(*) FILTER (WHERE due_at < now())
          INTO open_tasks, urgent_tasks, overdue_tasks
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
            'code', NEW.grid_code, 'open_tasks', open_tasks, 'urgent_tasks', urgent_tasks,
            'overdue_tasks', overdue_tasks) END
    )::text);
    RETURN NULL;
END;
$$
"""

DEVICE_NOTIFY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION wangge_notify_device() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{LIVE_CHANNEL}', json_build_object(
        'kind', 'device',
        'op', 'update',
        'id', NEW.id,
        'grid_code', NEW.grid_code,
        'community_code', left(NEW.grid_code, 12),
        'type', NEW.kind,
        'online', NEW.online,
        'last_seen', NEW.last_seen,
        'lon', ST_X(NEW.geom),
        'lat', ST_Y(NEW.geom)
    )::text);
    RETURN NULL;
END;
$$
"""


def upgrade() -> None:
    op.execute("CREATE INDEX task_newest ON task (created_at DESC, id DESC)")
    op.execute(
        "CREATE STATISTICS task_scope_code ON (coalesce(grid_code, community_code)) FROM task"
    )
    op.execute("ANALYZE task")
    op.execute(TASK_NOTIFY_FUNCTION)
    op.execute(DEVICE_NOTIFY_FUNCTION)
    op.execute(
        "CREATE TRIGGER device_live AFTER UPDATE OF online ON device FOR EACH ROW "
        "WHEN (OLD.online IS DISTINCT FROM NEW.online) EXECUTE FUNCTION wangge_notify_device()"
    )


def _revision_0003():
    """Migration 0003's module (its file name is not an importable module name)."""
    path = next(Path(__file__).parent.glob("0003_*.py"))
    spec = importlib.util.spec_from_file_location("wangge_migration_0003", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS device_live ON device")
    op.execute("DROP FUNCTION IF EXISTS wangge_notify_device()")
    op.execute(_revision_0003().TASK_NOTIFY_FUNCTION)
    op.execute("DROP STATISTICS IF EXISTS task_scope_code")
    op.execute("DROP INDEX IF EXISTS task_newest")
