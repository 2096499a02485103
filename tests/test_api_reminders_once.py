"""Reminders for tasks left open: one per interval per task, however often the sweep runs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from api.reminders import send_reminders
from gis.contract import TaskMessage
from gis.db import connect
from tests.api_world import World, api_settings


def _sweep(database_url: str, now: datetime, tmp_path: Path) -> int:
    with connect(database_url) as conn:
        return send_reminders(conn, now, api_settings(database_url, tmp_path))


def test_reminders_are_written_once_per_interval(
    database_url: str, world: World, tmp_path: Path
) -> None:
    with connect(database_url) as conn:
        now = conn.execute("SELECT now()").fetchone()[0]
        # a1 (urgent, dispatched to w_a1) has not moved for an hour; b1 moved just now.
        conn.execute(
            "UPDATE task SET updated_at = CASE WHEN id = %s THEN %s ELSE %s END",
            (world.tasks["a1"], now - timedelta(hours=1), now),
        )
    assert _sweep(database_url, now, tmp_path) == 1
    assert _sweep(database_url, now, tmp_path) == 0  # repeated run: nothing new
    assert _sweep(database_url, now + timedelta(minutes=5), tmp_path) == 0
    # Ten minutes (the urgent interval) later: a1 again, and b1 for the first time.
    assert _sweep(database_url, now + timedelta(minutes=11), tmp_path) == 2
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT target, payload FROM outbox WHERE payload->>'action' = 'reminder' ORDER BY id"
        ).fetchall()
        counts = dict(conn.execute("SELECT task_id, reminders FROM task_reminder").fetchall())
    assert [target for target, _ in rows] == [
        "wangge/v1/workers/w_a1/tasks",
        "wangge/v1/workers/w_a1/tasks",
        "wangge/v1/workers/w_b1/tasks",
    ]
    assert TaskMessage.model_validate_json(json.dumps(rows[0][1])).task_id == world.tasks["a1"]
    assert counts == {world.tasks["a1"]: 2, world.tasks["b1"]: 1}


def test_reminders_skip_tasks_without_assignee_or_waiting_on_the_desk(
    database_url: str, world: World, tmp_path: Path
) -> None:
    with connect(database_url) as conn:
        conn.execute("UPDATE task SET updated_at = now() - interval '2 days'")
        conn.execute("UPDATE task SET state = 'handled' WHERE id = %s", (world.tasks["b1"],))
    # a2 is filed without an assignee; b1 waits for the desk's evaluation.
    assert _sweep(database_url, datetime.now().astimezone(), tmp_path) == 1
