"""Reminders for tasks left open (ThingsBoard users' top request, done here).

A task waiting on its assignee (dispatched, accepted, in progress, reopened) that has not
moved for the reminder interval of its urgency gets a ``reminder`` task message to the
assignee's MQTT topic, through the outbox. ``task_reminder`` records the last reminder, so
the next one comes an interval later, however often the sweep runs, and a transaction-level
advisory lock keeps two API processes from sweeping at once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import psycopg
from psycopg_pool import ConnectionPool

from gis.settings import Settings
from gis.task_messages import queue_pushes
from gis.work_calendar import CoverageWatch, load_work_calendar

REMIND_STATES = ("dispatched", "accepted", "in_progress", "reopened")
_LOCK = "wangge.reminders"

log = logging.getLogger(__name__)


def send_reminders(conn: psycopg.Connection, now: datetime, settings: Settings) -> int:
    """Queue the reminders due at ``now``; returns how many. Commit is the caller's."""
    locked = conn.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", (_LOCK,)).fetchone()
    if not locked[0]:
        return 0
    due = conn.execute(
        """
        SELECT task.id, task.assignee_id FROM task
        LEFT JOIN task_reminder ON task_reminder.task_id = task.id
        WHERE task.state = ANY(%(states)s) AND task.assignee_id IS NOT NULL
          AND greatest(task.updated_at, task_reminder.last_reminded_at)
              <= %(now)s - CASE WHEN task.urgency = 'urgent' THEN %(urgent)s ELSE %(normal)s END
        ORDER BY task.id
        """,
        {
            "states": list(REMIND_STATES),
            "now": now,
            "urgent": timedelta(minutes=settings.reminder_urgent_minutes),
            "normal": timedelta(minutes=settings.reminder_normal_minutes),
        },
    ).fetchall()
    for task_id, assignee_id in due:
        queue_pushes(conn, [(task_id, assignee_id)], "reminder", settings.api_public_url)
        conn.execute(
            "INSERT INTO task_reminder (task_id, last_reminded_at) VALUES (%s, %s) "
            "ON CONFLICT (task_id) DO UPDATE SET last_reminded_at = EXCLUDED.last_reminded_at, "
            "reminders = task_reminder.reminders + 1",
            (task_id, now),
        )
    return len(due)


async def reminder_loop(pool: ConnectionPool, settings: Settings) -> None:
    """Sweep every ``api_reminder_check_s`` seconds until cancelled; warn daily when the
    working calendar that sets ordinary deadlines is about to run out."""
    calendar = CoverageWatch(load_work_calendar(settings.work_calendar_path), log)

    def sweep() -> int:
        with pool.connection() as conn:
            return send_reminders(conn, datetime.now().astimezone(), settings)

    while True:
        calendar.check(datetime.now().astimezone())
        await asyncio.sleep(settings.api_reminder_check_s)
        try:
            sent = await asyncio.to_thread(sweep)
        except Exception:  # noqa: BLE001 - one failed sweep must not stop the next
            log.exception("reminder sweep failed")
            continue
        if sent:
            log.info("queued %d task reminders", sent)
